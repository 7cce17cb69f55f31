"""Races that must not corrupt the records: a course finished by two requests at once, two
admins demoting each other at once.

Like tests/test_quiz_concurrency.py, these run real threads, each with its own connection,
against a committed database of their own (``<test database>_integrity`` on PostgreSQL, a file
on SQLite). Each test forces the bad interleaving: both transactions do their first step, then
wait for each other at a barrier before their second. When the code serialises them (a row
lock, or SQLite's single writer) the second cannot reach the barrier until the first commits,
so the first gives up waiting after ``HOLD`` seconds and goes on; that is the fixed behaviour,
and nothing here measures time.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from academy.auth import services as accounts
from academy.auth.models import Role, User
from academy.courses.models import Lesson
from academy.courses.services import get_course
from academy.extensions import db
from academy.progress import services as progress
from academy.progress.models import LessonProgress
from tests.conftest import (
    BACKENDS,
    PASSWORD,
    Mailbox,
    app_with_example_course,
    race,
)

HOLD = 3  # seconds a thread waits at the barrier for the other before going on alone
REQUIRED = ("que-es-participar", "niveles")  # the example course's two required lessons


@pytest.fixture(scope="module", params=BACKENDS)
def racing_app(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    smtp_server: tuple[Mailbox, int],
) -> Iterator[Flask]:
    with app_with_example_course(
        request.param, "integrity", tmp_path_factory, smtp_server[1]
    ) as app:
        yield app


counter = iter(range(1, 1_000_000))


def new_user(app: Flask, role: Role = Role.LEARNER) -> int:
    n = next(counter)
    with app.app_context():
        user = accounts.create_user(
            email=f"{role.value}{n}@muni.cl",
            full_name=f"Persona {n}",
            comuna_cut="13101",
            password=PASSWORD,
            role=role,
        )
        db.session.commit()
        return user.id


def meet(barrier: threading.Barrier) -> None:
    """Wait for the other thread; go on alone if it cannot come (it waits for our lock)."""
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait(timeout=HOLD)


# Item 6: the last two requirements finished at once --------------------------------------


def test_a_course_finished_by_two_transactions_at_once_is_recorded(
    racing_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each transaction marks one of the two last lessons; both marks are written before
    either checks completion. Without a lock, each sees only its own mark on PostgreSQL and
    neither records the completion."""
    barrier = threading.Barrier(2)
    written = progress.upsert

    def upsert_then_wait(table: Any, *args: Any, **kwargs: Any) -> Any:
        result = written(table, *args, **kwargs)
        if table is LessonProgress.__table__:
            meet(barrier)
        return result

    monkeypatch.setattr(progress, "upsert", upsert_then_wait)
    user_id = new_user(racing_app)
    with racing_app.app_context():
        course = get_course("curso-ejemplo")
        assert course is not None
        progress.enrol(user_id, course)
        lessons = dict(
            db.session.execute(
                select(Lesson.slug, Lesson.id).where(
                    Lesson.course_id == course.id, Lesson.slug.in_(REQUIRED)
                )
            ).all()
        )
        db.session.commit()
        course_id = course.id

    def finish(slug: str) -> bool:
        with racing_app.app_context():
            enrolment = progress.get_enrolment(user_id, course_id)
            assert enrolment is not None
            state = progress.mark_done(enrolment, lessons[slug])
            db.session.commit()
            return state.complete

    saw_it = race(*(lambda s=slug: finish(s) for slug in REQUIRED))
    assert saw_it.count(True) == 1  # the second to commit saw both marks
    with racing_app.app_context():
        enrolment = progress.get_enrolment(user_id, course_id)
        assert enrolment is not None and enrolment.completed_at is not None
        assert progress.compute(user_id, course_id).complete


# Item 9: two admins demoting each other at once -------------------------------------------


def signed_in(app: Flask, user_id: int) -> FlaskClient:
    with app.app_context():
        email = db.session.get(User, user_id).email  # type: ignore[union-attr]
    client = app.test_client()
    response = client.post("/entrar", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.text
    return client


def active_admins(app: Flask) -> set[int]:
    with app.app_context():
        return set(db.session.scalars(select(User.id).where(User.role == "admin", User.active)))


def test_two_admins_demoting_each_other_leave_one_admin(racing_app: Flask) -> None:
    """Both requests count the admins before either writes; then both write."""
    # Earlier tests' admins are demoted first, so that these two are the only ones.
    with racing_app.app_context():
        for user in db.session.scalars(select(User).where(User.role == "admin")):
            user.role = "learner"
        db.session.commit()
    one, other = new_user(racing_app, Role.ADMIN), new_user(racing_app, Role.ADMIN)
    clients = signed_in(racing_app, one), signed_in(racing_app, other)
    barrier = threading.Barrier(2)

    def before_write(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE USERS"):
            meet(barrier)

    with racing_app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before_write)
    try:
        demote = {"role": "learner", "active": "y"}
        responses = race(
            lambda: clients[0].post(f"/admin/personas/{other}", data=demote),
            lambda: clients[1].post(f"/admin/personas/{one}", data=demote),
        )
    finally:
        event.remove(engine, "before_cursor_execute", before_write)
    # The first demotion is saved; the second is refused. On PostgreSQL the second request
    # got past its permission check, then waits for the lock and counts one admin (422).
    # SQLite runs the write requests one at a time, so the second one starts after the first
    # committed, and its admin is no admin any more (403).
    codes = sorted(r.status_code for r in responses)
    assert codes in ([302, 403], [302, 422]), [r.text for r in responses]
    if codes == [302, 422]:
        refused = next(r for r in responses if r.status_code == 422)
        assert "Debe quedar al menos una cuenta de administración activa" in refused.text
    assert len(active_admins(racing_app)) == 1
