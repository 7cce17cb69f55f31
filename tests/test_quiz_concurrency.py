"""Two "start" or two "submit" requests at the same moment: one attempt, one grading; an
answer saved while the attempt is handed in: graded or refused, never lost.

These run real threads against a real, committed database of their own (the ``app`` fixture's
per-test transaction would hide one thread's writes from the other): a SQLite file, and
``<test database>_quiz`` on PostgreSQL when ``ACADEMY_TEST_DATABASE_URL`` is set.

What holds them: a partial unique index allows one attempt in progress per learner and lesson
(the loser of a race resumes the winner's attempt), and grading claims the attempt with a
conditional UPDATE. PostgreSQL makes the second request wait for the first one's row or index
entry. SQLite lets one writer at a time: every request's transaction takes the write lock when
it begins (``academy.db``), so the second request waits, then reads the first one's result.
Each race is repeated for several learners, so that the requests really overlap.
"""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from academy.auth import services as accounts
from academy.auth.models import Role
from academy.courses.services import get_course
from academy.extensions import db
from academy.progress.models import LessonProgress
from academy.progress.services import enrol
from academy.quizzes import attempts
from academy.quizzes.models import Attempt
from academy.quizzes.questions import Question, SingleChoice
from tests.conftest import (
    BACKENDS,
    PASSWORD,
    Mailbox,
    add_quiz_lesson,
    app_with_example_course,
    race,
)

# The requests of each race leave a barrier together, to make the collisions likely.
race_together = functools.partial(race, released_together=True)

START = "/cursos/curso-ejemplo/lecciones/cuestionario/intentos"
ROUNDS = 6


@pytest.fixture(scope="module", params=BACKENDS)
def racing_app(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    smtp_server: tuple[Mailbox, int],
) -> Iterator[Flask]:
    with app_with_example_course(
        request.param, "quiz", tmp_path_factory, smtp_server[1], then=add_quiz_lesson
    ) as app:
        yield app


counter = iter(range(1, 1_000_000))


def signed_in_twice(app: Flask) -> tuple[int, FlaskClient, FlaskClient]:
    """An enrolled learner with two browsers (two sessions), both signed in."""
    n = next(counter)
    with app.app_context():
        user = accounts.create_user(
            email=f"carrera{n}@muni.cl",
            full_name=f"Persona {n}",
            comuna_cut="13101",
            password=PASSWORD,
            role=Role.LEARNER,
        )
        db.session.flush()
        enrol(user.id, get_course("curso-ejemplo"))
        db.session.commit()
        user_id = user.id
    clients = []
    for _ in range(2):
        client = app.test_client()
        response = client.post(
            "/entrar", data={"email": f"carrera{n}@muni.cl", "password": PASSWORD}
        )
        assert response.status_code == 302
        clients.append(client)
    return user_id, clients[0], clients[1]


def attempts_of(app: Flask, user_id: int) -> list[Attempt]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(Attempt).where(Attempt.user_id == user_id).order_by(Attempt.number)
            )
        )


def answered_attempt(
    app: Flask, user_id: int, client: FlaskClient, leave_out: type[Question] | None = None
) -> tuple[int, Decimal, list[Question]]:
    """Start the learner's attempt and save right answers to its questions, but for the first
    one of type ``leave_out``; its id, maximum score and questions."""
    assert client.post(START).status_code == 303
    with app.app_context():
        attempt = db.session.scalar(select(Attempt).where(Attempt.user_id == user_id))
        questions = [question for question, _order in attempts.questions_of(attempt)]
        skipped = next((q for q in questions if leave_out and isinstance(q, leave_out)), None)
        answers = {q.key: _raw(q.correct_response()) for q in questions if q is not skipped}
        attempts.save_answers(attempt, answers)
        db.session.commit()
        return attempt.id, attempt.max_score, questions


def test_two_starts_at_once_make_one_attempt(racing_app: Flask) -> None:
    for _ in range(ROUNDS):
        user_id, one, other = signed_in_twice(racing_app)
        responses = race_together(lambda c=one: c.post(START), lambda c=other: c.post(START))
        assert [r.status_code for r in responses] == [303, 303], [r.text for r in responses]
        assert {r.headers["Location"] for r in responses} == {START + "/1"}
        made = attempts_of(racing_app, user_id)
        assert [(a.number, a.status) for a in made] == [(1, "in_progress")]


def test_two_submits_at_once_grade_once(racing_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    graded: Counter[int] = Counter()
    lock = threading.Lock()
    record = attempts._record_progress

    def counting(attempt: Attempt, *rest: Any) -> None:
        # Grading calls this only after winning the claim on the attempt.
        with lock:
            graded[attempt.id] += 1
        record(attempt, *rest)

    monkeypatch.setattr(attempts, "_record_progress", counting)
    for _ in range(ROUNDS):
        user_id, one, other = signed_in_twice(racing_app)
        attempt_id, _maximum, _questions = answered_attempt(racing_app, user_id, one)
        url = START + "/1/entregar"
        responses = race_together(lambda c=one, u=url: c.post(u), lambda c=other, u=url: c.post(u))
        assert [r.status_code for r in responses] == [303, 303], [r.text for r in responses]
        assert graded[attempt_id] == 1
        pages = [client.get(START + "/1").text for client in (one, other)]
        assert sum("Entregamos tu intento." in page for page in pages) == 1
        assert sum("Este intento ya estaba entregado." in page for page in pages) == 1
        made = attempts_of(racing_app, user_id)
        assert [(a.number, a.status, a.passed) for a in made] == [(1, "submitted", True)]
        with racing_app.app_context():
            marks = db.session.scalar(
                select(func.count(LessonProgress.id)).where(
                    LessonProgress.user_id == user_id, LessonProgress.status == "done"
                )
            )
        assert marks == 1


def _raw(response: Any) -> Any:
    """A correct response as the form would send it (save_answers validates it again)."""
    if isinstance(response, dict):
        return response
    return response if isinstance(response, list) else [response]


def test_an_answer_saved_while_handing_in_is_graded_or_refused(racing_app: Flask) -> None:
    """Autosave and «Entregar» at once: the answer is saved and graded, or refused (409).

    Never saved and left out of the grade: the views lock the attempt before saving or
    grading (PostgreSQL), and SQLite lets one writer at a time.
    """
    for _ in range(ROUNDS):
        user_id, one, other = signed_in_twice(racing_app)
        attempt_id, maximum, questions = answered_attempt(
            racing_app, user_id, one, leave_out=SingleChoice
        )
        late = next(q for q in questions if isinstance(q, SingleChoice))
        points = attempts.to_decimal(late.points)
        form = {"shown": late.key, f"q:{late.key}": late.correct_response()}
        save, submit = race_together(
            lambda c=one, f=form: c.post(START + "/1/autoguardado", data=f),
            lambda c=other: c.post(START + "/1/entregar"),
        )
        assert submit.status_code == 303
        assert save.status_code in (200, 409), save.text
        with racing_app.app_context():
            graded = db.session.get(Attempt, attempt_id)
            assert graded is not None and graded.status == "submitted"
            scores = {a.question_key: a.score for a in graded.answers}
        if save.status_code == 200:  # saved first: it counts
            assert scores[late.key] == points
            assert graded.score == maximum
        else:  # handed in first: refused, and not saved
            assert late.key not in scores
            assert graded.score == maximum - points
        assert None not in scores.values()
