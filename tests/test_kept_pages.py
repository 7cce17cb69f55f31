"""What is kept between requests (the outline per version, the lesson page as a frame) is
never stale and never one learner's: every change to a course's units and lessons gives it a
new outline version in the same transaction, and each learner's own values are filled in."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from academy import create_app, fragments
from academy.courses import outline, services
from academy.courses.models import Course, Lesson, Unit
from academy.extensions import db
from academy.progress import services as progress
from tests.conftest import PASSWORD

LESSON = "/cursos/curso-ejemplo/lecciones/que-es-participar"


def version(app: Flask, course_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(Course.outline_version).where(Course.id == course_id))


def lesson(slug: str) -> Lesson:
    found = db.session.scalar(select(Lesson).where(Lesson.slug == slug))
    assert found is not None
    return found


def outline_titles(page: str) -> list[str]:
    return re.findall(
        r'<li class="course-outline-item[^"]*"><a href="[^"]*"[^>]*>([^<]*)</a>', page
    )


def test_every_change_to_units_and_lessons_gives_a_new_version(app, example_course, make_user):
    trainer = make_user("trainer")
    seen = {version(app, example_course.id)}

    def changed(change) -> None:
        with app.app_context():
            change()
            db.session.commit()
        now = version(app, example_course.id)
        assert now not in seen, change
        seen.add(now)

    changed(lambda: services.move_lesson(lesson("niveles"), -1))
    changed(lambda: services.retire_lesson(lesson("niveles")))
    changed(
        lambda: setattr(db.session.get(Unit, lesson("que-es-participar").unit_id), "title", "Otra")
    )

    def edit_and_publish() -> None:
        services.save_draft(lesson("que-es-participar"), trainer_id=trainer.id,
                            title="Nuevo título", minutes=5, objectives=[],
                            body_md="Texto.")  # fmt: skip
        services.publish(lesson("que-es-participar"))

    changed(edit_and_publish)


def test_a_change_to_the_course_alone_keeps_the_version(app, example_course):
    before = version(app, example_course.id)
    with app.app_context():
        db.session.get(Course, example_course.id).summary = "Otro resumen."
        db.session.commit()
    assert version(app, example_course.id) == before


def test_the_lesson_page_shows_a_change_at_once(app, client, learner):
    assert "Los niveles de participación" in outline_titles(client.get(LESSON).text)
    with app.app_context():
        services.retire_lesson(lesson("niveles"))
        db.session.commit()
    assert "Los niveles de participación" not in outline_titles(client.get(LESSON).text)


def test_a_rolled_back_change_leaves_the_kept_outline_right(app, client, learner, example_course):
    before = outline_titles(client.get(LESSON).text)
    with app.app_context():
        services.retire_lesson(lesson("niveles"))
        db.session.flush()
        # Read inside the transaction: the outline without the lesson, under its new version.
        changed = progress.course_outline(example_course.id)
        assert "niveles" not in changed.positions
        db.session.rollback()
    assert outline_titles(client.get(LESSON).text) == before
    with app.app_context():
        assert "niveles" in progress.course_outline(example_course.id).positions


def test_another_process_sees_a_change_made_by_one(app, client, learner, example_course):
    """Two hosts: each keeps its own outlines; the version in the course's row tells the
    other one that its copy is old."""
    client.get(LESSON)  # this process keeps the outline
    other: Flask = create_app(app.config.copy())
    with other.app_context():
        services.retire_lesson(lesson("niveles"))
        db.session.commit()
    assert "Los niveles de participación" not in outline_titles(client.get(LESSON).text)


def test_each_learner_sees_their_own_states_and_token(app, client, learner, make_user, auth):
    client.post("/cursos/curso-ejemplo/lecciones/que-es-participar/completar")
    mine = client.get(LESSON).text
    assert "Completaste esta lección." in mine
    assert 'class="course-outline-item state-done"' in mine

    other_client = app.test_client()
    other = make_user("learner")
    with app.app_context():
        progress.enrol(other.id, db.session.get(Course, learner_course_id(app)))
        db.session.commit()
    other_client.post("/entrar", data={"email": other.email, "password": PASSWORD})
    theirs = other_client.get(LESSON).text
    assert "Completaste esta lección." not in theirs
    assert "Marcar como completada" in theirs
    assert 'class="course-outline-item state-done"' not in theirs
    tokens = {re.findall(r'name="csrf_token" value="([^"]+)"', page)[0] for page in (mine, theirs)}
    assert len(tokens) == 2


def learner_course_id(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(Course.id).where(Course.slug == "curso-ejemplo"))


def test_flashed_messages_and_progress_are_the_requests_own(app, client, learner):
    first = client.get(LESSON).text
    assert 'class="flash' not in first
    assert 'value="0"' in first  # the progress bar
    answer = client.post("/cursos/curso-ejemplo/lecciones/que-es-participar/completar",
                         data={"next": "siguiente"})  # fmt: skip
    after = client.get(answer.headers["Location"]).text
    assert 'class="flash' in after
    assert 'value="0"' not in after
    assert 'class="flash' not in client.get(LESSON).text  # shown once


def test_the_page_in_another_language_is_its_own_frame(app, client, learner):
    assert "Contenido del curso" in client.get(LESSON).text
    client.post("/idioma", data={"language": "en", "next": LESSON})
    page = client.get(LESSON).text
    assert "Course contents" in page
    assert "Contenido del curso" not in page


def test_kept_frames_stay_within_their_budget():
    frames = fragments._Frames(budget=100)
    for n in range(10):
        frames.put(n, fragments.Frame(("x" * 30,), ()))
    assert frames.used <= 100
    assert frames.get(9) is not None and frames.get(0) is None


def test_a_frame_puts_each_value_where_its_hole_is():
    html = f"<p>{fragments.hole('a')} y {fragments.hole('b')}, {fragments.hole('a')}</p>"
    frame = fragments.Frame.split(html)
    assert frame.holes == ("a", "b", "a")
    assert frame.fill({"a": "1", "b": "&lt;2&gt;"}) == "<p>1 y &lt;2&gt;, 1</p>"


def test_the_outline_is_kept_per_version(app, example_course):
    with app.app_context():
        first = progress.course_outline(example_course.id)
        assert progress.course_outline(example_course.id) is first
        assert outline.load(example_course.id) == first


def test_a_page_cannot_write_a_hole_of_its_own():
    """Holes end with a word drawn when the process starts: a lesson's text that looks like
    one stays text (a trainer cannot make every learner's page fail, or show their token)."""
    html = f"<p>academyHole-csrf-Q7v2 academyHole-csrf-{'0' * 16} {fragments.hole('csrf')}</p>"
    frame = fragments.Frame.split(html)
    assert frame.holes == ("csrf",)
    assert frame.fill({"csrf": "T"}).endswith(f"-{'0' * 16} T</p>")
