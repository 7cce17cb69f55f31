"""Fixtures shared by the whole suite.

- ``app``: one application per database backend for the whole session, migrated with Alembic.
  SQLite always; PostgreSQL too when ``ACADEMY_TEST_DATABASE_URL`` is set (as ``.ci/run`` does).
- ``db_session`` (automatic for every test that uses ``app``): each test runs inside a
  transaction that is rolled back at its end; the code under test commits to savepoints.
- ``client``, ``runner``, ``auth``, ``make_user``, ``mailbox``: the usual helpers.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade
from psycopg import sql
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import scoped_session, sessionmaker

from academy import create_app, register_lesson_kinds
from academy.auth import services as accounts
from academy.auth.models import Role, User
from academy.courses.content import load_course
from academy.courses.models import Course, Lesson
from academy.courses.services import get_course, import_course
from academy.extensions import db, limiter

PASSWORD = "una frase de prueba larga"
POSTGRES_URL = os.environ.get("ACADEMY_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def need(condition: bool, message: str) -> None:
    """A service a test needs (Redis, nginx, PostgreSQL): missing, it is a skip on a
    developer's machine and an error in CI (``CI`` set, as ``.ci/run`` does), where a skip
    would hide that the test never ran."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mailbox:
    """Messages received by the test SMTP server."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def last_to(self, address: str) -> EmailMessage:
        for message in reversed(self.messages):
            if message["To"] == address:
                return message
        raise AssertionError(f"no message was sent to {address}")


@pytest.fixture(scope="session", autouse=True)
def lesson_kinds() -> None:
    """The lesson kinds, registered as the factory does: some tests read content files
    without building an app."""
    register_lesson_kinds()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


SIGNING_KEYS = Path(__file__).parent / "fixtures/signing"


def test_config(database_url: str, smtp_port: int, **extra: Any) -> dict[str, Any]:
    return {
        "ENV": "testing",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "WTF_CSRF_ENABLED": False,
        # The test pair, not one generated into the checkout's instance/ folder.
        "CERTIFICATE_KEY": str(SIGNING_KEYS / "academia.key"),
        "CERTIFICATE_CERT": str(SIGNING_KEYS / "academia.crt"),
        **extra,
    }


@contextmanager
def separate_database(
    backend: str, suffix: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database of its own, for code that must commit for real (a live server, threads).

    SQLite: a new file. PostgreSQL: ``<test database>_<suffix>``, created and dropped here; a
    leftover is dropped without force, so that another run using it is not killed.
    """
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp(suffix)}/academy-{suffix}.db"
        return
    base = make_url(POSTGRES_URL).set(drivername="postgresql")
    own = f"{base.database}_{suffix}"
    name = sql.Identifier(own)
    admin = base.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        try:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(name))
        except psycopg.errors.ObjectInUse:
            pytest.fail(
                f"{own} is in use by another test run on the same database; give each "
                "concurrent run its own ACADEMY_TEST_DATABASE_URL.",
                pytrace=False,
            )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))
    try:
        yield base.set(database=own).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


test_config.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def race(*calls: Callable[[], Any], released_together: bool = False) -> list[Any]:
    """Run the calls in threads started together (and, when ``released_together``, held at a
    barrier until all are ready); re-raise in the test's thread what any of them raised."""
    barrier = threading.Barrier(len(calls)) if released_together else None
    results: list[Any] = [None] * len(calls)
    failures: list[BaseException] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        if barrier is not None:
            barrier.wait()
        try:
            results[index] = call()
        except BaseException as error:  # reported below, in the test's thread
            failures.append(error)

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread never finished"
    if failures:
        raise failures[0]
    return results


@pytest.fixture
def content_root(tmp_path: Path) -> Path:
    """A copy of the content fixture (courses and quizzes) that a test may edit."""
    root = tmp_path / "content"
    shutil.copytree(CONTENT_FIXTURE, root)
    return root


def append(path: Path, text: str) -> int:
    """Add ``text`` at the end of the file; the line it starts on."""
    before = path.read_text(encoding="utf-8").rstrip("\n") + "\n\n"
    path.write_text(before + text + "\n", encoding="utf-8")
    return before.count("\n") + 1


@contextmanager
def app_with_example_course(
    backend: str,
    suffix: str,
    tmp_path_factory: pytest.TempPathFactory,
    smtp_port: int,
    then: Callable[[], object] | None = None,
) -> Iterator[Flask]:
    """An application on a database of its own holding the example course (``then`` adds to it
    in the same transaction), for tests whose threads must commit for real: the races."""
    with separate_database(backend, suffix, tmp_path_factory) as url:
        app = create_app(test_config(url, smtp_port, RATELIMIT_ENABLED=False))
        with app.app_context():
            upgrade()
            source, problems = load_course(CONTENT_FIXTURE / "courses/curso-ejemplo")
            assert source is not None and not problems, problems
            import_course(source)
            if then is not None:
                then()
            db.session.commit()
        try:
            yield app
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def database_url_for(backend: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db')}/academy-test.db"
    return POSTGRES_URL


@pytest.fixture(scope="session", params=BACKENDS)
def app(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    smtp_server: tuple[Mailbox, int],
) -> Iterator[Flask]:
    url = database_url_for(request.param, tmp_path_factory)
    application = create_app(test_config(url, smtp_server[1]))
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.session.remove()
        db.drop_all()
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def db_session(request: pytest.FixtureRequest) -> Iterator[None]:
    """Roll back everything a test wrote; skipped for tests that do not use the app."""
    if "app" not in request.fixturenames:
        yield
        return
    application: Flask = request.getfixturevalue("app")
    with application.app_context():
        connection = db.engine.connect()
    transaction = connection.begin()
    original = db.session
    factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    db.session = scoped_session(factory, scopefunc=original.registry.scopefunc)  # type: ignore[attr-defined]
    limiter.reset()
    try:
        yield
    finally:
        # Each app context removed its own session when it ended.
        db.session = original
        transaction.rollback()
        connection.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def mailbox(smtp_server: tuple[Mailbox, int]) -> Mailbox:
    smtp_server[0].messages.clear()
    return smtp_server[0]


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    """Create an account and return it (detached, attributes loaded)."""
    counter = iter(range(1, 1_000_000))

    def factory(role: str = "learner", password: str = PASSWORD, **fields: Any) -> User:
        n = next(counter)
        fields.setdefault("email", f"{role}{n}@muni.cl")
        fields.setdefault("full_name", f"Persona {role.capitalize()} {n}")
        fields.setdefault("comuna_cut", "13101")
        active = fields.pop("active", True)
        with app.app_context():
            user = accounts.create_user(password=password, role=Role(role), **fields)
            user.active = active
            db.session.commit()
            return user

    return factory


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, email: str, password: str = PASSWORD, **extra: Any) -> Any:
        return self.client.post("/entrar", data={"email": email, "password": password, **extra})

    def logout(self) -> Any:
        return self.client.post("/salir")

    def as_role(self, make_user: Callable[..., User], role: str) -> User:
        user = make_user(role)
        response = self.login(user.email)
        assert response.status_code == 302, response.text
        return user


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def query(app: Flask) -> Callable[[Callable[[], Any]], Any]:
    """Run ``fn`` inside an app context, to read what the code under test saved."""

    def run(fn: Callable[[], Any]) -> Any:
        with app.app_context():
            return fn()

    return run


CONTENT_FIXTURE = Path(__file__).parent / "fixtures/content"


@pytest.fixture
def example_course(app: Flask) -> Course:
    """The example course of tests/fixtures, imported and published."""
    with app.app_context():
        source, problems = load_course(CONTENT_FIXTURE / "courses/curso-ejemplo")
        assert source is not None and not problems, problems
        import_course(source)
        db.session.commit()
        course = get_course("curso-ejemplo")
        assert course is not None
        return course


@pytest.fixture
def case_course(app: Flask, example_course: Course, tmp_path: Any) -> Course:
    """The example course with the case lesson «caso-plaza» added to its second unit."""
    root = tmp_path / "curso-ejemplo"
    shutil.copytree(CONTENT_FIXTURE / "courses/curso-ejemplo", root)
    shutil.copy(CONTENT_FIXTURE / "casos/03-caso-plaza.md", root / "02-mecanismos/03-caso-plaza.md")
    with app.app_context():
        source, problems = load_course(root)
        assert source is not None and not problems, problems
        import_course(source)
        db.session.commit()
        course = get_course("curso-ejemplo")
        assert course is not None
        return course


@pytest.fixture
def case_lesson(app: Flask, case_course: Course) -> Lesson:
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "caso-plaza"))
        assert lesson is not None and lesson.kind == "case"
        return lesson


QUIZ_FIXTURE = CONTENT_FIXTURE / "quizzes/ejemplo.md"
QUIZ_LESSON = "cuestionario"


@functools.cache
def example_quiz_source() -> Any:
    """tests/fixtures/content/quizzes/ejemplo.md, parsed once (a parsed quiz is immutable)."""
    from academy.quizzes.format import load_quiz

    quiz, problems = load_quiz(QUIZ_FIXTURE)
    assert quiz is not None and not problems, problems
    return quiz


def add_quiz_lesson(
    slug: str = QUIZ_LESSON,
    quiz_slug: str = "ejemplo",
    *,
    import_quiz: bool = True,
    course_slug: str = "curso-ejemplo",
) -> Any:
    """The example quiz, imported and published, and a quiz lesson of the example course (or
    ``course_slug``) that uses it, at the end of its last unit. Call inside an app context;
    commits nothing."""
    from academy.courses.models import Lesson, LessonKind, RevisionSource
    from academy.courses.services import add_revision
    from academy.markdown import render
    from academy.quizzes import services as quizzes

    if import_quiz:
        quizzes.import_quiz(example_quiz_source())
    course = get_course(course_slug)
    assert course is not None
    lesson = Lesson(
        course=course,
        unit=course.units[-1],
        slug=slug,
        position=99,
        kind=LessonKind.QUIZ.value,
        required=True,
        ref=quiz_slug,
    )
    db.session.add(lesson)
    body = "Antes de seguir, comprueba lo que aprendiste."
    lesson.published = add_revision(
        lesson, title="Cuestionario de la unidad", minutes=20, objectives=[], extra={},
        body_md=body, rendered=render(body), source=RevisionSource.EDITOR, author_id=None,
    )  # fmt: skip
    return lesson


@pytest.fixture
def example_quiz(app: Flask, example_course: Course) -> str:
    """The example quiz and its lesson ("cuestionario") in the example course; the quiz slug."""
    with app.app_context():
        add_quiz_lesson()
        db.session.commit()
    return "ejemplo"


@pytest.fixture
def learner(
    app: Flask, auth: AuthActions, make_user: Callable[..., User], example_course: Course
) -> User:
    """A signed-in learner enrolled in the example course."""
    from academy.progress.services import enrol

    user = auth.as_role(make_user, "learner")
    with app.app_context():
        enrol(user.id, db.session.get(Course, example_course.id))
        db.session.commit()
    return user


# Counting SQL statements ----------------------------------------------------------------------

_NOT_COUNTED = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "PRAGMA", "COMMIT")
_WRITES = ("INSERT", "UPDATE", "DELETE")


@dataclass
class Statements:
    """The SQL statements a block ran (the test's savepoints and transactions left out), and
    those run while Flask rendered a template, which should run none."""

    all: list[str] = field(default_factory=list)
    in_templates: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.all)

    @property
    def writes(self) -> list[str]:
        return [s for s in self.all if s.lstrip().upper().startswith(_WRITES)]


@pytest.fixture
def count_statements(app: Flask) -> Callable[[], Any]:
    """``with count_statements() as seen:`` records, in ``seen``, every SQL statement the block
    runs on the app's engine (SQLAlchemy's ``before_cursor_execute``); ``len(seen)`` is their
    number and ``seen.in_templates`` those run from inside ``render_template``."""
    from flask import before_render_template, template_rendered
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine

    @contextmanager
    def counting() -> Iterator[Statements]:
        seen = Statements()
        rendering = [0]

        def on_execute(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
            if statement.lstrip().upper().startswith(_NOT_COUNTED):
                return
            seen.all.append(statement)
            if rendering[0]:
                seen.in_templates.append(statement)

        def started(*_args: Any, **_extra: Any) -> None:
            rendering[0] += 1

        def finished(*_args: Any, **_extra: Any) -> None:
            rendering[0] -= 1

        event.listen(engine, "before_cursor_execute", on_execute)
        before_render_template.connect(started, app)
        template_rendered.connect(finished, app)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", on_execute)
            before_render_template.disconnect(started, app)
            template_rendered.disconnect(finished, app)

    return counting
