"""Learners see published courses and revisions only; drafts and archives are unreachable."""

from __future__ import annotations

from sqlalchemy import select

from academy.courses import services
from academy.courses.models import CourseStatus, Lesson
from academy.extensions import db


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
