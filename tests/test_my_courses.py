"""«Mis cursos»: each course's card is kept per course, language and mount point and filled in
with the learner's own values (percent, lessons left, Comenzar or Continuar); the progress it
shows is the one :func:`academy.progress.services.compute` works out."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import select, update

from academy.courses.models import Course, Lesson
from academy.db import utcnow
from academy.extensions import db
from academy.progress import services as progress
from academy.progress.models import Enrolment, LessonProgress
from tests.conftest import PASSWORD
from tests.test_progress import complete
from tests.test_queries import add_courses, page_cost
from tests.test_quiz_views import correct_answers, finished_attempt, lesson_row

MY_COURSES = "/mis-cursos"


def cards(page: str) -> list[str]:
    return re.findall(r'<section class="panel course-card">.*?</section>', page, re.S)


def course_id(app: Flask, slug: str = "curso-ejemplo") -> int:
    with app.app_context():
        return db.session.scalar(select(Course.id).where(Course.slug == slug))


def test_a_card_shows_the_learners_progress_with_its_labels_and_links(app, client, learner):
    number = course_id(app)
    [card] = cards(client.get(MY_COURSES).text)
    assert f'<label for="progress-{number}">Avance: 0 %</label>' in card
    assert f'<progress id="progress-{number}" max="100" value="0">0 %</progress>' in card
    assert "<p>Te faltan 2 lecciones obligatorias.</p>" in card
    assert (
        '<a class="button" href="/cursos/curso-ejemplo/continuar">Comenzar'
        '<span class="visually-hidden"> Curso de ejemplo</span></a>'
    ) in card
    assert (
        '<a href="/cursos/curso-ejemplo/#left-title">Ver lo que te falta'
        '<span class="visually-hidden"> en Curso de ejemplo</span></a>'
    ) in card
    complete(client, "que-es-participar")
    [card] = cards(client.get(MY_COURSES).text)
    assert 'value="50">50 %</progress>' in card
    assert "<p>Te falta 1 lección obligatoria.</p>" in card
    assert ">Continuar<span" in card


def test_two_learners_of_a_course_each_see_their_own_progress(app, client, learner, make_user):
    complete(client, "que-es-participar")
    assert client.get(MY_COURSES).status_code == 200  # the card is kept
    other = make_user("learner")
    with app.app_context():
        progress.enrol(other.id, db.session.get(Course, course_id(app)))
        db.session.commit()
    other_client = app.test_client()
    other_client.post("/entrar", data={"email": other.email, "password": PASSWORD})
    [theirs] = cards(other_client.get(MY_COURSES).text)
    assert 'value="0">0 %</progress>' in theirs
    assert "Te faltan 2 lecciones obligatorias." in theirs
    assert ">Comenzar<span" in theirs
    [mine] = cards(client.get(MY_COURSES).text)
    assert 'value="50">50 %</progress>' in mine
    assert ">Continuar<span" in mine


def test_a_renamed_course_shows_its_new_title(app, client, learner):
    assert "Curso de ejemplo" in client.get(MY_COURSES).text
    with app.app_context():
        db.session.execute(
            update(Course).where(Course.slug == "curso-ejemplo").values(title="Curso renombrado")
        )
        db.session.commit()
    [card] = cards(client.get(MY_COURSES).text)
    assert "Curso renombrado" in card
    assert "Curso de ejemplo" not in card


def test_the_card_in_another_language_is_its_own(client, learner):
    assert "Ver lo que te falta" in client.get(MY_COURSES).text
    client.post("/idioma", data={"language": "en", "next": MY_COURSES})
    [card] = cards(client.get(MY_COURSES).text)
    assert "Ver lo que te falta" not in card
    assert "Comenzar" not in card
    assert "Te faltan" not in card


def test_the_cards_links_follow_the_mount_point(client, learner):
    assert "/cursos/curso-ejemplo/continuar" in client.get(MY_COURSES).text
    page = client.get(MY_COURSES, base_url="http://localhost/academia").text
    [card] = cards(page)
    assert 'href="/academia/cursos/curso-ejemplo/continuar"' in card
    assert 'href="/academia/cursos/curso-ejemplo/#left-title"' in card


def test_the_progress_shown_is_computes_with_quiz_and_case_lessons(
    app, client, learner, tmp_path, query
):
    """Courses with a required quiz and a required case: their kinds decide those lessons'
    states (a passed quiz counts), and a reading mark on them counts for nothing."""
    add_courses(app, tmp_path, ["curso-a", "curso-b"], enrol_id=learner.id)
    complete(client, "que-es-participar")
    client.post("/cursos/curso-a/lecciones/niveles/completar")

    def forge_quiz_marks() -> None:
        for quiz in db.session.scalars(select(Lesson).where(Lesson.slug == "cuestionario")):
            db.session.add(
                LessonProgress(
                    user_id=learner.id, lesson_id=quiz.id, course_id=quiz.course_id,
                    status="done", completed_at=utcnow(),
                )
            )  # fmt: skip
        db.session.commit()

    query(forge_quiz_marks)
    # The quiz lesson the helper takes: one of the two courses'.
    passed_in = query(lambda: lesson_row().course.slug)
    finished_attempt(query, learner.id, correct_answers, when=utcnow())
    expected_done = {
        "curso-ejemplo": 1,
        "curso-a": 1 + (passed_in == "curso-a"),
        "curso-b": int(passed_in == "curso-b"),
    }
    with app.app_context():
        shown = progress.enrolled_courses(learner.id)
        assert {course.slug: course.required - course.left for course in shown} == expected_done
        for course in shown:
            state = progress.compute(learner.id, course.id)
            assert (course.required, course.left) == (len(state.required), len(state.left))
            assert course.percent == state.percent
            assert course.completed_at is None
    page = client.get(MY_COURSES).text
    for course in shown:
        assert f'id="progress-{course.id}" max="100" value="{course.percent}"' in page


def test_finished_courses_are_listed_with_their_date_and_drafts_are_not(app, client, learner):
    for slug in ("que-es-participar", "niveles"):
        complete(client, slug)
    page = client.get(MY_COURSES).text
    assert cards(page) == []
    finished = page.split('<ul class="finished">')[1].split("</ul>")[0]
    assert '<a href="/cursos/curso-ejemplo/">Curso de ejemplo</a>' in finished
    assert "terminado el" in finished
    with app.app_context():
        db.session.execute(update(Course).values(status="draft"))
        db.session.commit()
    page = client.get(MY_COURSES).text
    assert "Curso de ejemplo" not in page
    assert "Todavía no estás inscrito o inscrita en ningún curso." in page


def finished_list(page: str) -> str:
    return page.split('<ul class="finished">')[1].split("</ul>")[0]


def test_a_finished_course_shows_its_day_in_the_readers_time_zone_and_language(
    app, client, learner
):
    for slug in ("que-es-participar", "niveles"):
        complete(client, slug)
    with app.app_context():
        # 02:00 UTC on 1 March is still 28 February in Santiago (UTC-3).
        db.session.execute(
            update(Enrolment).values(completed_at=datetime(2026, 3, 1, 2, 0, tzinfo=UTC))
        )
        db.session.commit()
    item = finished_list(client.get(MY_COURSES).text)
    assert "— terminado el 28 de febrero de 2026</li>" in item
    with app.app_context():
        db.session.execute(
            update(Enrolment).values(completed_at=datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
        )
        db.session.commit()
    assert "— terminado el 2 de marzo de 2026</li>" in finished_list(client.get(MY_COURSES).text)
    client.post("/idioma", data={"language": "en", "next": MY_COURSES})
    item = finished_list(client.get(MY_COURSES).text)
    assert "— completed on March 2, 2026</li>" in item
    assert "Descargar" not in item


def test_finished_courses_cost_no_statement_more(app, client, learner, tmp_path, count_statements):
    """With current and finished courses alike: the same statements as for one course (the
    finished ones' outlines and marks are not read)."""
    add_courses(app, tmp_path, ["curso-a"], enrol_id=learner.id)
    one, page = page_cost(client, count_statements, MY_COURSES)
    assert len(cards(page)) == 2
    add_courses(app, tmp_path, ["curso-b", "curso-c", "curso-d"], enrol_id=learner.id)
    with app.app_context():
        db.session.execute(
            update(Enrolment)
            .where(
                Enrolment.course_id.in_(
                    select(Course.id).where(Course.slug.in_(["curso-b", "curso-c"]))
                )
            )
            .values(completed_at=utcnow())
        )
        db.session.commit()
    many, page = page_cost(client, count_statements, MY_COURSES)
    assert len(cards(page)) == 3
    assert finished_list(page).count("<li>") == 2
    assert many == one
