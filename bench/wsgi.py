"""WSGI entry points for the lesson-page benchmark (bench/bench_lesson_page.py).

- ``bench.wsgi:app()``: the application, configured by ``ACADEMY_*`` variables as in production,
  plus one bare route, ``/bench/bare``, that returns the lesson page's HTML captured beforehand
  (``ACADEMY_BENCH_BARE_HTML``) and does nothing else. It is a route of the deployed app, so
  every request to it goes through the same middleware as the lesson page: session cookie,
  Flask-Login, CSRF, rate limiter, security headers, the commit hook. ``/bench/signed-in``
  is the same route behind ``@login_required``: the learner is loaded from the database, as on
  every signed-in page, and nothing else is done.
- ``bench.wsgi:bare()``: a separate, minimal Flask app whose one route returns the same HTML:
  the floor set by gunicorn, Flask and the network alone.
- ``/bench/submit-floor`` (in ``bench.wsgi:app()``, for bench/bench_quiz_submit.py): what every
  signed-in form POST of the app costs before doing anything of its own: the session, the
  signed-in learner loaded from the database, a flashed message and a 303 redirect. Handing in
  a quiz is that plus grading; this route is the floor under it.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response, flash, redirect
from flask_login import login_required

BARE_PATH = "/bench/bare"
SIGNED_IN_PATH = "/bench/signed-in"
FLOOR_PATH = "/bench/submit-floor"
HEADERS = {"Content-Type": "text/html; charset=utf-8"}


def _html() -> bytes:
    return Path(os.environ["ACADEMY_BENCH_BARE_HTML"]).read_bytes()


def bare() -> Flask:
    html = _html()
    bare_app = Flask("bare")

    @bare_app.get("/cursos/<course>/lecciones/<lesson>")
    def page(course: str, lesson: str) -> tuple[bytes, int, dict[str, str]]:
        return html, 200, HEADERS

    return bare_app


def app() -> Flask:
    from academy import create_app

    application = create_app()

    @application.post(FLOOR_PATH)
    @login_required
    def bench_floor() -> Response:
        flash("Entregamos tu intento.", "success")
        return redirect(FLOOR_PATH, 303)

    if os.environ.get("ACADEMY_BENCH_BARE_HTML"):
        html = _html()

        @application.get(BARE_PATH)
        def bench_bare() -> tuple[bytes, int, dict[str, str]]:
            return html, 200, HEADERS

        @application.get(SIGNED_IN_PATH)
        @login_required
        def bench_signed_in() -> tuple[bytes, int, dict[str, str]]:
            return html, 200, HEADERS

    return application
