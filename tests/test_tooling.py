"""The tools ``make test`` runs look at what they should: ruff lints every module of the
package (its excludes name the content folders at the root, not ``academy/courses``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_lints_every_module_of_the_package() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--show-files", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    linted = {Path(line.strip()).resolve() for line in listed.splitlines() if line.strip()}
    modules = {path.resolve() for path in (ROOT / "academy").rglob("*.py")}
    missed = sorted(str(path.relative_to(ROOT)) for path in modules - linted)
    assert not missed, f"ruff skips {len(missed)} modules, e.g. {missed[:5]}"
    assert any("academy/courses/" in str(path) for path in linted)
    assert any("academy/quizzes/" in str(path) for path in linted)
