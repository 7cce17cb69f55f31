"""``academy serve``: gunicorn, several threads, and requests at the same moment; and the
SQLite settings that make it safe.

The server runs in a process of its own on a database of its own (a SQLite file; on PostgreSQL
``<test database>_serve``), as ``make serve`` runs it. Lesson pages write the learner's progress
as they are read; opened at once, with lessons marked done and the language changed at the same
moment, every request gets its page: none fails with "database is locked" (SQLite lets one
writer at a time; ``academy.db`` makes each transaction take the write lock up front).
"""

from __future__ import annotations

import http.cookiejar
import os
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from academy import create_app
from academy.auth import services as accounts
from academy.auth.models import Role
from academy.courses.content import load_course
from academy.courses.services import get_course, import_course
from academy.extensions import db
from academy.progress.services import enrol
from tests.conftest import (
    BACKENDS,
    CONTENT_FIXTURE,
    PASSWORD,
    Mailbox,
    free_port,
    separate_database,
    test_config,
)

LESSONS = ["que-es-participar", "niveles", "consejo"]
LEARNERS = 3
ROUNDS = 4


class Browser:
    """One signed-in visitor: its own cookies, so its own session."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
        )

    def request(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, data=body, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the answer itself (302, 303) is what the test looks at


def wait_until_serving(server: subprocess.Popen[bytes], base: str) -> None:
    for _ in range(300):
        if server.poll() is not None:
            raise AssertionError(f"academy serve stopped: {server.communicate()[0].decode()}")
        try:
            with urllib.request.urlopen(base + "/salud", timeout=5) as response:  # noqa: S310 (our http URL)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("academy serve did not answer /salud")


@pytest.fixture(scope="module", params=BACKENDS)
def served(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    smtp_server: tuple[Mailbox, int],
) -> Iterator[tuple[str, list[str]]]:
    """The base URL of ``academy serve`` and the emails of enrolled learners."""
    with separate_database(request.param, "serve", tmp_path_factory) as url:
        config = test_config(url, smtp_server[1], RATELIMIT_ENABLED=False)
        app = create_app(config)
        emails = [f"servida{n}@muni.cl" for n in range(LEARNERS)]
        with app.app_context():
            upgrade()
            source, problems = load_course(CONTENT_FIXTURE / "courses/curso-ejemplo")
            assert source is not None and not problems, problems
            import_course(source)
            for n, email in enumerate(emails):
                user = accounts.create_user(
                    email=email,
                    full_name=f"Persona Servida {n}",
                    comuna_cut="13101",
                    password=PASSWORD,
                    role=Role.LEARNER,
                )
                db.session.flush()
                enrol(user.id, get_course("curso-ejemplo"))
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        port = free_port()
        environment = {
            **os.environ,
            **{f"ACADEMY_{key}": str(value) for key, value in config.items()},
            "ACADEMY_WTF_CSRF_ENABLED": "false",
            "ACADEMY_RATELIMIT_ENABLED": "false",
        }
        academy = Path(sys.executable).with_name("academy")
        server = subprocess.Popen(
            [str(academy), "serve", "--port", str(port), "--threads", "4"],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_serving(server, base)
            yield base, emails
        finally:
            server.terminate()
            output = server.communicate(timeout=30)[0].decode()
        assert "Starting gunicorn" in output, output


def at_once(*calls: Callable[[], tuple[int, str]]) -> list[tuple[int, str]]:
    """Run the calls in threads released together."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], tuple[int, str]]) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except Exception as error:  # reported as a result, in the test's thread
            results[index] = (0, repr(error))

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_gunicorn_answers_simultaneous_reads_and_writes(served: tuple[str, list[str]]) -> None:
    base, emails = served
    visitors: list[tuple[Browser, Browser]] = []
    for email in emails:
        pair = (Browser(base), Browser(base))  # two tabs of two browsers, one learner
        for visitor in pair:
            status, body = visitor.request("/entrar", {"email": email, "password": PASSWORD})
            assert status == 302, body
        visitors.append(pair)
    lesson = "/cursos/curso-ejemplo/lecciones/"
    for round_ in range(ROUNDS):
        calls: list[Callable[[], tuple[int, str]]] = []
        paths: list[str] = []
        for one, other in visitors:
            for slug in LESSONS:
                calls.append(lambda b=one, s=slug: b.request(lesson + s))
                calls.append(lambda b=other, s=slug: b.request(lesson + s))
                paths += [lesson + slug] * 2
            done = LESSONS[round_ % len(LESSONS)]
            calls.append(lambda b=other, s=done: b.request(lesson + s + "/completar", {}))
            language = "en" if round_ % 2 else "es"
            calls.append(lambda b=one, v=language: b.request("/idioma", {"language": v}))
            paths += [lesson + done + "/completar", "/idioma"]
        results = at_once(*calls)
        failed = [
            (path, status, body[:200])
            for path, (status, body) in zip(paths, results, strict=True)
            if not 200 <= status < 400
        ]
        assert not failed, f"{len(failed)} of {len(results)} requests failed: {failed[:3]}"


def test_on_sqlite_a_session_takes_the_write_lock_when_it_begins(
    tmp_path: Path, smtp_server: tuple[Mailbox, int]
) -> None:
    """Requests and CLI commands (sessions) begin IMMEDIATE; plain connections (migrations,
    the tests' outer transaction) begin deferred, so that they never hold readers up."""
    path = tmp_path / "lock.db"
    app = create_app(test_config(f"sqlite:///{path}", smtp_server[1]))
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with app.app_context():
            db.session.execute(text("SELECT 1"))
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                other.execute("BEGIN IMMEDIATE")
            db.session.rollback()
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
                assert connection.in_transaction()
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
            assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            db.engine.dispose()
    finally:
        other.close()
