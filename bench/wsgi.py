"""WSGI entry points for the lesson-page benchmark (bench/bench_lesson_page.py).

- ``bench.wsgi:app``: the application, configured by ``ACADEMY_*`` variables as in production.
- ``bench.wsgi:bare``: a bare Flask app whose one route returns the lesson page's HTML, captured
  beforehand (``ACADEMY_BENCH_BARE_HTML``): the yardstick the real page is compared against.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask


def _bare() -> Flask:
    html = Path(os.environ["ACADEMY_BENCH_BARE_HTML"]).read_bytes()
    bare_app = Flask("bare")

    @bare_app.get("/cursos/<course>/lecciones/<lesson>")
    def page(course: str, lesson: str) -> tuple[bytes, int, dict[str, str]]:
        return html, 200, {"Content-Type": "text/html; charset=utf-8"}

    return bare_app


if os.environ.get("ACADEMY_BENCH_BARE_HTML"):
    bare = _bare()
else:
    from academy import create_app

    app = create_app()
