"""``python -m academy``: the ``academy`` command, for a process started without the console
script on its PATH (``academy serve`` starts its worker this way)."""

from academy.cli import main

main()
