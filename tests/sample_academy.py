"""A small academy with real, committed data, for tests that work on a database of their own
(the backup round trip, the two-host deployment): the example course with its case lesson
(«caso-plaza») and its quiz lesson («cuestionario»), an admin and enrolled learners."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from academy.auth import services as accounts
from academy.auth.models import Role, User
from academy.courses.content import load_course
from academy.courses.services import get_course, import_course
from academy.extensions import db
from academy.progress.services import enrol
from tests.conftest import CONTENT_FIXTURE, PASSWORD, add_quiz_lesson

COURSE = "curso-ejemplo"
LESSON = f"/cursos/{COURSE}/lecciones/que-es-participar"
QUIZ = f"/cursos/{COURSE}/lecciones/cuestionario"
CASE = f"/cursos/{COURSE}/casos/caso-plaza/"
CASE_ANSWERS = {
    "respuesta-1": " ".join(["consultar"] * 30),
    "respuesta-2": " ".join(["convocar"] * 40),
}


def build_course(scratch: Path) -> None:
    """Import the example course, its case lesson and its quiz lesson, published; commits.
    Call inside an app context; ``scratch`` is an empty folder for the course's files."""
    root = scratch / COURSE
    shutil.copytree(CONTENT_FIXTURE / "courses" / COURSE, root)
    shutil.copy(CONTENT_FIXTURE / "casos/03-caso-plaza.md", root / "02-mecanismos/03-caso-plaza.md")
    source, problems = load_course(root)
    assert source is not None and not problems, problems
    import_course(source)
    add_quiz_lesson()
    db.session.commit()


def add_person(email: str, role: str = "learner", *, enrolled: bool = True) -> User:
    """An active account with the tests' password, enrolled in the course if asked; commits."""
    user = accounts.create_user(
        email=email,
        full_name=f"Persona {email.split('@')[0]}",
        comuna_cut="13101",
        password=PASSWORD,
        role=Role(role),
    )
    db.session.flush()
    if enrolled:
        enrol(user.id, get_course(COURSE))
    db.session.commit()
    return user


def correct_quiz_form(email: str) -> list[tuple[str, str]]:
    """The form fields that answer every question of ``email``'s open attempt correctly (as a
    browser sends them: see tests/test_quiz_views.form_for). Inside an app context."""
    from academy.quizzes import attempts
    from academy.quizzes.models import Attempt
    from tests.test_quiz_views import correct_answers, form_for

    user = accounts.find_by_email(email)
    assert user is not None
    found = db.session.scalars(
        select(Attempt).where(Attempt.user_id == user.id).order_by(Attempt.number.desc())
    ).first()
    assert found is not None, f"{email} has no attempt"
    pairs = attempts.questions_of(found)
    form = form_for(pairs, correct_answers(pairs))
    db.session.rollback()
    return list(form.items(multi=True))


def every_row(connection: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the models declare, and the schema revision, in a stable
    order: what a restored database must hold exactly as the original did."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        found = connection.execute(select(table).order_by(*order))
        rows[table.name] = [tuple(row) for row in found]
    rows["alembic_version"] = [
        tuple(row) for row in connection.exec_driver_sql("SELECT version_num FROM alembic_version")
    ]
    return rows
