"""The synthetic academy of bench/generate.py: small, on the suite's databases, checked against
the product's own rules (completion, grading, rubrics) and pages.

One academy per backend, generated once into a database of its own and committed (the checks
only read it); the seed test generates into the suite's rolled-back database."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import func, select
from stdnum.cl import rut as rut_number

from academy import comunas, create_app
from academy.auth.models import User
from academy.cases.definition import from_data
from academy.cases.models import CaseSubmission
from academy.cases.services import check_responses
from academy.certificates.models import Certificate
from academy.courses.models import Lesson
from academy.extensions import db
from academy.progress import services as progress
from academy.progress.models import Cohort, CohortTrainer, Enrolment
from academy.quizzes import attempts
from academy.quizzes.models import Attempt
from bench.generate import PASSWORD, Summary, generate
from tests.conftest import BACKENDS, Mailbox, separate_database, test_config

LEARNERS = 200
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


@pytest.fixture(scope="module", params=BACKENDS)
def academy(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    smtp_server: tuple[Mailbox, int],
) -> Iterator[tuple[Flask, Summary]]:
    """An application on a generated academy of 200 learners and a course of 30 lessons."""
    with separate_database(request.param, "generate", tmp_path_factory) as url:
        application = create_app(test_config(url, smtp_server[1], RATELIMIT_ENABLED=False))
        with application.app_context():
            upgrade()
            summary = generate(LEARNERS, seed=3, lessons_course=30, now=NOW, log=lambda _l: None)
            db.session.commit()
        try:
            yield application, summary
        finally:
            with application.app_context():
                db.session.remove()
                db.engine.dispose()


def snapshot() -> list[tuple[Any, ...]]:
    """Who the learners are and how far each came: what a seed must reproduce."""
    return [
        tuple(row)
        for row in db.session.execute(
            select(User.email, User.full_name, User.rut, User.comuna_cut, Enrolment.completed_at)
            .outerjoin(Enrolment, Enrolment.user_id == User.id)
            .order_by(User.email, Enrolment.course_id)
        )
    ]


def count(model: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_counts_match_the_summary_and_people_are_valid(academy: tuple[Flask, Summary]) -> None:
    app, summary = academy
    with app.app_context():
        for name, expected in summary.counts.items():
            assert count(db.metadata.tables[name]) == expected, name
        learners = db.session.scalars(select(User).where(User.role == "learner")).all()
        assert len(learners) == LEARNERS
        assert all(rut_number.is_valid(u.rut) for u in learners)
        assert len({u.rut for u in learners}) == LEARNERS
        assert any(ch in "áéíóúñÁÉÍÓÚÑ" for u in learners for ch in u.full_name)
        assert all(u.email_confirmed_at is not None for u in learners)
        # Spread over the country, by population: many regions, the capital's region first.
        regions = Counter(comunas.get(u.comuna_cut).region_code for u in learners)  # type: ignore[union-attr]
        assert len(regions) >= 8
        assert regions.most_common(1)[0][0] == "13"
        assert "12202" not in {u.comuna_cut for u in learners}  # Antártica has no municipality
        # Cohorts, each with a trainer who teaches the course.
        assert count(Cohort) == len(summary.cohort_trainers) >= 2
        trainers = set(db.session.scalars(select(User.id).where(User.role == "trainer")))
        assert set(summary.cohort_trainers.values()) <= trainers
        rows = db.session.execute(select(CohortTrainer.cohort_id, CohortTrainer.user_id))
        assert {cohort: trainer for cohort, trainer in rows} == summary.cohort_trainers
        # Cohort learners were enrolled by the admin once their cohort had started.
        late = db.session.scalar(
            select(func.count())
            .select_from(Enrolment)
            .join(Cohort, Cohort.id == Enrolment.cohort_id)
            .where(func.date(Enrolment.enrolled_at) < Cohort.starts_on)
        )
        assert late == 0


def test_progress_agrees_with_the_products_own_rules(academy: tuple[Flask, Summary]) -> None:
    app, summary = academy
    with app.app_context():
        enrolments = db.session.scalars(
            select(Enrolment).where(Enrolment.course_id == summary.course_id)
        ).all()
        stages = Counter()
        for enrolment in enrolments:
            state = progress.compute(enrolment.user_id, enrolment.course_id, enrolment=enrolment)
            marks = progress.progress_rows(enrolment.user_id, enrolment.course_id)
            # Completion recorded exactly when every required lesson is done.
            assert (enrolment.completed_at is not None) == (not state.left), enrolment.user_id
            # Each lesson kind's own state (passed quiz, approved case) matches its progress row.
            for requirement in state.items:
                assert requirement.done == (marks.get(requirement.item.lesson_id) == "done")
            stages["completed" if state.complete else "started" if marks else "not started"] += 1
        assert min(stages.values()) >= 10, stages
        # Every certificate belongs to a learner who completed the course, as of that date.
        certificates = db.session.execute(
            select(Certificate, Enrolment.completed_at).join(
                Enrolment,
                (Enrolment.user_id == Certificate.user_id)
                & (Enrolment.course_id == Certificate.course_id),
            )
        ).all()
        assert certificates
        assert len(certificates) == count(Certificate)
        for certificate, completed_at in certificates:
            assert completed_at is not None and certificate.completed_at == completed_at
            assert certificate.issued_at >= completed_at
        assert len({c.code for c, _at in certificates}) == len(certificates)


def test_attempts_and_reviews_are_graded_as_the_product_grades(
    academy: tuple[Flask, Summary],
) -> None:
    app, _summary = academy
    with app.app_context():
        graded = db.session.scalars(select(Attempt).where(Attempt.status == "submitted")).all()
        assert graded and any(a.passed for a in graded) and any(not a.passed for a in graded)
        for attempt in graded:
            questions = [question for question, _order in attempts.questions_of(attempt)]
            _scores, total, maximum = attempts.grade_responses(
                questions, attempts.responses_of(attempt)
            )
            assert attempt.score == attempts.to_decimal(total)
            assert attempt.max_score == attempts.to_decimal(maximum)
            assert attempt.passed == attempts.quiz_of(attempt).settings.passed(total, maximum)
        assert db.session.scalar(select(func.count()).where(Attempt.status == "in_progress"))
        submissions = db.session.scalars(select(CaseSubmission)).all()
        statuses = Counter(s.status for s in submissions)
        assert statuses["approved"] and statuses["submitted"] and statuses["returned"], statuses
        waiting_days = {(NOW - s.submitted_at).days for s in submissions if s.status == "submitted"}
        assert len(waiting_days) >= 3  # pending review for varying times
        for submission in submissions:
            definition = from_data(submission.revision.extra)
            if submission.status != "draft":
                assert not check_responses(definition, submission.responses, final=True)
            if submission.status in ("approved", "returned"):
                points = sum(
                    criterion.levels[submission.levels[str(n)]].points
                    for n, criterion in enumerate(definition.criteria, start=1)
                )
                assert submission.points == points


def test_a_seed_gives_the_same_academy(app: Flask) -> None:
    with app.app_context():
        generate(60, seed=7, now=NOW, log=lambda _l: None)
        first = snapshot()
        db.session.rollback()
        generate(60, seed=7, now=NOW, log=lambda _l: None)
        assert snapshot() == first


def test_it_refuses_a_database_that_has_people(academy: tuple[Flask, Summary]) -> None:
    app, _summary = academy
    with app.app_context(), pytest.raises(RuntimeError, match="empty"):
        generate(10, seed=1)


def sign_in(client: FlaskClient, email: str) -> None:
    response = client.post("/entrar", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.text


@pytest.mark.parametrize("stage", ["not_started", "part_way", "completed", "certified"])
def test_generated_learners_sign_in_and_see_their_pages(
    academy: tuple[Flask, Summary], stage: str
) -> None:
    app, summary = academy
    client = app.test_client()
    email = summary.sample_learners[stage]
    sign_in(client, email)
    page = client.get("/mis-cursos")
    assert page.status_code == 200
    assert "Participación ciudadana en la gestión municipal" in page.text
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        assert user is not None
        enrolment = progress.get_enrolment(user.id, summary.course_id)
        assert enrolment is not None
        lesson = db.session.get(Lesson, enrolment.last_lesson_id or 0)
    if lesson is not None and lesson.kind == "reading":
        reading = client.get(f"/cursos/{summary.course_slug}/lecciones/{lesson.slug}")
        assert reading.status_code == 200


def test_the_long_course_and_the_trainers_queue_render(academy: tuple[Flask, Summary]) -> None:
    app, summary = academy
    client = app.test_client()
    assert summary.lessons_course_slug == "curso-lecciones-30"
    with app.app_context():
        row = db.session.execute(
            select(User.email, Lesson.slug)
            .join(Enrolment, Enrolment.user_id == User.id)
            .join(Lesson, Lesson.id == Enrolment.last_lesson_id)
            .where(Lesson.course.has(slug=summary.lessons_course_slug))
        ).first()
    assert row is not None
    sign_in(client, row.email)
    page = client.get(f"/cursos/{summary.lessons_course_slug}/lecciones/{row.slug}")
    assert page.status_code == 200
    client.post("/salir")
    sign_in(client, summary.trainer_emails[0])
    assert client.get("/revision/").status_code == 200
