"""Learners see published courses and revisions only; drafts and archives are unreachable."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import Engine, event, select, update

from academy.courses import services
from academy.courses.models import CourseStatus, Lesson, LessonRevision
from academy.db import utcnow
from academy.extensions import db
from academy.learning import catalogue as views


def test_course_page_lists_units_and_lessons(client, example_course):
    page = client.get("/cursos/curso-ejemplo/").text
    assert "Curso de ejemplo" in page
    assert "Primeros pasos" in page
    assert "¿Qué es participar?" in page
    assert "Reconocer los niveles de participación." in page


def test_lesson_page_shows_the_published_revision(client, learner):
    page = client.get("/cursos/curso-ejemplo/lecciones/que-es-participar").text
    assert "Informar, consultar, involucrar" in page
    assert 'src="../recursos/primeros-pasos/niveles.png"' in page
    assert "Siguiente: Los niveles de participación" in page


def test_drafts_stay_invisible_until_published(app, client, make_user, learner):
    trainer = make_user("trainer")
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "niveles"))
        services.save_draft(lesson, trainer_id=trainer.id, title="Borrador nuevo", minutes=5,
                            objectives=[], body_md="Texto del **borrador**.")  # fmt: skip
        db.session.commit()
    page = client.get("/cursos/curso-ejemplo/lecciones/niveles").text
    assert "Borrador nuevo" not in page
    assert "Los niveles de participación" in page
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "niveles"))
        services.publish(lesson)
        db.session.commit()
    assert (
        "Texto del <strong>borrador</strong>"
        in client.get("/cursos/curso-ejemplo/lecciones/niveles").text
    )


def test_draft_and_archived_courses_are_unreachable(app, client, learner):
    for status in (CourseStatus.DRAFT, CourseStatus.ARCHIVED):
        with app.app_context():
            services.get_course("curso-ejemplo").status = status.value
            db.session.commit()
        for path in (
            "/cursos/curso-ejemplo/",
            "/cursos/curso-ejemplo/lecciones/niveles",
            "/cursos/curso-ejemplo/recursos/primeros-pasos/niveles.png",
        ):
            response = client.get(path)
            assert response.status_code == 404, path
            assert "Volver al inicio" in response.text


def test_unknown_lessons_and_assets_are_404(client, learner):
    assert client.get("/cursos/curso-ejemplo/lecciones/no-existe").status_code == 404
    assert client.get("/cursos/no-existe/").status_code == 404
    assert client.get("/cursos/curso-ejemplo/recursos/x/y.png").status_code == 404


def test_assets_are_cacheable(client, example_course):
    response = client.get("/cursos/curso-ejemplo/recursos/primeros-pasos/niveles.png")
    assert response.mimetype == "image/png"
    # Kept, but checked each time: the editor may replace an image under the same name.
    assert response.cache_control.no_cache and response.cache_control.public
    etag = response.headers["ETag"]
    again = client.get(
        "/cursos/curso-ejemplo/recursos/primeros-pasos/niveles.png",
        headers={"If-None-Match": etag},
    )
    assert again.status_code == 304


def test_serving_a_lesson_never_renders_markdown(client, learner, monkeypatch):

    def forbidden(*args, **kwargs):
        raise AssertionError("Markdown rendered during a request")

    monkeypatch.setattr("academy.markdown.render", forbidden)
    monkeypatch.setattr("academy.markdown.Markdown", forbidden)
    for slug in ("que-es-participar", "niveles", "consejo"):
        assert client.get(f"/cursos/curso-ejemplo/lecciones/{slug}").status_code == 200
    assert client.get("/cursos/curso-ejemplo/").status_code == 200


# The lesson player's reads: what every page view costs -------------------------------------


@pytest.fixture
def statements():
    """Every SQL statement run while the test runs, in order."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement.lstrip())

    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)


def writes(statements):
    return [s for s in statements if re.match(r"(INSERT|UPDATE|DELETE)\b", s, re.IGNORECASE)]


LESSON = "/cursos/curso-ejemplo/lecciones/{}"


def test_a_first_visit_is_recorded_and_a_revisit_only_reads(client, learner, statements):
    assert client.get(LESSON.format("niveles")).status_code == 200
    tables = [re.match(r"\w+ (?:INTO )?\w+", s).group() for s in writes(statements)]
    assert tables == ["INSERT INTO lesson_progress", "UPDATE enrolments"]
    statements.clear()
    assert client.get(LESSON.format("niveles")).status_code == 200
    assert writes(statements) == []
    selects = [s for s in statements if s.upper().startswith("SELECT")]
    # The signed-in user, then the course's outline with the learner's enrolment and marks; the
    # lesson's text comes from the revision cache.
    assert len(selects) == 2, selects


def test_learners_reading_the_same_lesson_share_its_text(
    app, client, auth, learner, make_user, statements
):
    client.get(LESSON.format("niveles"))
    other = auth.as_role(make_user, "learner")
    with app.app_context():
        from academy.progress.services import enrol

        enrol(other.id, services.get_course("curso-ejemplo"))
        db.session.commit()
    statements.clear()
    page = client.get(LESSON.format("niveles")).text
    assert "Elegir el nivel adecuado para una decisión." in page
    assert not [s for s in statements if "body_html" in s]


def test_the_revision_cache_never_serves_another_revisions_text(app, example_course):
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "niveles"))
        revision_id, created_at = lesson.published.id, lesson.published.created_at
        first = services.revision_text(revision_id, created_at)
        assert first.body_html == lesson.published.body_html
        # Another revision under the same id, as SQLite hands out after a rollback.
        later = created_at + timedelta(seconds=1)
        db.session.execute(
            update(LessonRevision.__table__)
            .where(LessonRevision.__table__.c.id == revision_id)
            .values(body_html="<p>Otra revisión</p>", created_at=later)
        )
        assert services.revision_text(revision_id, later).body_html == "<p>Otra revisión</p>"
        assert services.revision_text(revision_id, created_at) is first  # its own text still
        with pytest.raises(LookupError):
            services.revision_text(revision_id, later + timedelta(seconds=1))


def test_the_revision_cache_is_bounded():
    assert services._cached_revision_text.cache_info().maxsize == services.REVISION_CACHE_SIZE


def test_publishing_shows_the_new_revision_at_once(app, client, make_user, learner):
    assert "Informar, consultar, involucrar" in client.get(LESSON.format("que-es-participar")).text
    trainer = make_user("trainer")
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "que-es-participar"))
        services.save_draft(lesson, trainer_id=trainer.id, title="Otro título", minutes=7,
                            objectives=["Otro objetivo."], body_md="Texto **nuevo**.")  # fmt: skip
        services.publish(lesson)
        db.session.commit()
    page = client.get(LESSON.format("que-es-participar")).text
    assert "<h1>Otro título</h1>" in page
    assert "Otro objetivo." in page
    assert "Texto <strong>nuevo</strong>" in page
    assert "Informar, consultar, involucrar" not in page


def test_lesson_links_are_those_url_for_builds(app):
    with app.test_request_context():
        url = views.lesson_urls("curso-ejemplo")
        for slug in ("niveles", "a b", "ñandú", "x/y", "50%", "?#"):
            expected = url_for("courses.lesson_page", slug="curso-ejemplo", lesson_slug=slug)
            assert url(slug) == expected


def test_a_lesson_in_a_retired_unit_is_unreachable(app, client, learner):
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "consejo"))
        lesson.unit.retired_at = utcnow()
        db.session.commit()
    assert client.get(LESSON.format("consejo")).status_code == 404
    assert client.get(LESSON.format("niveles")).status_code == 200
