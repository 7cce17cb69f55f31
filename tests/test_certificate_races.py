"""Two admins issuing the same learner's certificate at once get one certificate between them.

Real threads, each with its own connection, on a committed database of their own (as in
tests/test_integrity_races.py). Both transactions are made to check "no valid certificate yet"
before either writes: the enrolment's row lock (or SQLite's single writer) makes the second
wait for the first, which gives up waiting at the barrier after ``HOLD`` seconds and commits;
the second then finds the certificate and refuses. Were the lock missing, the partial unique
index would refuse the second insert; either way the answer is one certificate and one clear
refusal. Nothing here measures time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from academy.auth import services as accounts
from academy.auth.models import Role
from academy.certificates import services
from academy.certificates.models import Certificate
from academy.courses.services import get_course
from academy.db import utcnow
from academy.extensions import db
from academy.progress import services as progress
from tests.conftest import BACKENDS, PASSWORD, Mailbox, app_with_example_course, race
from tests.test_integrity_races import meet


@pytest.fixture(scope="module", params=BACKENDS)
def racing_app(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    smtp_server: tuple[Mailbox, int],
) -> Iterator[Flask]:
    with app_with_example_course(request.param, "certs", tmp_path_factory, smtp_server[1]) as app:
        yield app


def test_two_admins_issuing_at_once_issue_one_certificate(
    racing_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    with racing_app.app_context():
        user = accounts.create_user(
            email="egresada@muni.cl", full_name="Egresada Uno", comuna_cut="13101",
            password=PASSWORD, role=Role.LEARNER,
        )  # fmt: skip
        course = get_course("curso-ejemplo")
        assert course is not None
        progress.enrol(user.id, course).completed_at = utcnow()
        db.session.commit()
        user_id, course_id = user.id, course.id

    barrier = threading.Barrier(2)
    checked = services.valid_certificate

    def check_then_wait(*args: object) -> Certificate | None:
        found = checked(*args)  # type: ignore[arg-type]
        meet(barrier)
        return found

    monkeypatch.setattr(services, "valid_certificate", check_then_wait)

    def issue() -> str:
        with racing_app.app_context():
            try:
                course = get_course("curso-ejemplo")
                assert course is not None
                services.issue(course, user_id, by=services.Actor(None))
                db.session.commit()
                return "issued"
            except services.AlreadyIssued:
                db.session.rollback()
                return "refused"

    assert sorted(race(issue, issue)) == ["issued", "refused"]
    with racing_app.app_context():
        count = db.session.scalar(
            select(func.count()).where(
                Certificate.user_id == user_id, Certificate.course_id == course_id
            )
        )
        assert count == 1
