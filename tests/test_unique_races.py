"""Two saves of the same unique key at the same moment: the second gets a clear answer, never
a 500 (``academy.db.unique_or_taken``).

Each test lets the form's own check pass, then writes the other request's row before this
request writes its own: what happens when two requests check before either writes. The
request's answer is then the one it would give had the other request come first.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import insert, select

from academy.auth import services as accounts
from academy.auth.models import User
from academy.courses import editor
from academy.courses import images as courses
from academy.courses.models import CourseAsset, LessonRevision
from academy.extensions import db
from academy.quizzes import editor_views as quiz_views
from academy.quizzes import services as quizzes
from academy.quizzes.models import Quiz
from tests.test_editor import EDITOR, get_lesson, image_bytes, lesson_form, upload

pytestmark = pytest.mark.usefixtures("example_course")


def once(action):
    """``action`` the first time only (the check may run again to word the answer)."""
    done = []

    def run():
        if not done:
            done.append(True)
            action()

    return run


@pytest.fixture
def trainer(auth, make_user):
    return auth.as_role(make_user, "trainer")


def test_two_registrations_with_the_same_email(client, monkeypatch, query):
    create = accounts.create_user

    def someone_else_registers():
        create(email="ana@muni.cl", full_name="Ana Rojas", password="x" * 12)

    meanwhile = once(someone_else_registers)
    savepoint = db.session.begin_nested

    def begin_after_meanwhile() -> Any:
        meanwhile()  # written after this request's checks, before its own write
        return savepoint()

    monkeypatch.setattr(db.session, "begin_nested", begin_after_meanwhile)

    def create_after_meanwhile(**fields: Any) -> User:
        meanwhile()  # if no savepoint came first (code that does not use one)
        return create(**fields)

    monkeypatch.setattr(accounts, "create_user", create_after_meanwhile)
    response = client.post(
        "/registro",
        data={
            "full_name": "Ana María Rojas",
            "email": "ana@muni.cl",
            "comuna": "13101",
            "password": "una frase de prueba larga",
            "password_confirm": "una frase de prueba larga",
        },
    )
    # The answer registration gives any address that has an account: the form says so, or
    # (when registration does not tell who has an account) the usual "check your email".
    assert response.status_code in (302, 422), response.text
    if response.status_code == 422:
        assert "Ya existe una cuenta con ese correo" in response.text
        assert "Ana María Rojas" in response.text  # what was typed is still there
    names = query(
        lambda: list(db.session.scalars(select(User.full_name).where(User.email == "ana@muni.cl")))
    )
    # This request made no second account (the other one's row goes with the request's
    # transaction when it answers 422: in this test both requests share one connection).
    assert "Ana María Rojas" not in names and len(names) <= 1


@pytest.mark.parametrize("pending", [False, True], ids=["new", "pending"])
def test_a_rut_registered_meanwhile_is_not_told_on_the_form(
    client, make_user, monkeypatch, query, mailbox, pending
):
    if pending:  # the address already waits for its activation: the RUT is what changes
        make_user(email="ana@muni.cl", full_name="Ana Rojas", confirmed=False)
    create = accounts.create_user

    def someone_else_registers():
        create(email="otra@muni.cl", full_name="Otra Persona", password="x" * 12, rut="123456785")

    meanwhile = once(someone_else_registers)
    savepoint = db.session.begin_nested

    def begin_after_meanwhile() -> Any:
        meanwhile()  # written after this request's checks, before its own write
        return savepoint()

    monkeypatch.setattr(db.session, "begin_nested", begin_after_meanwhile)
    response = client.post(
        "/registro",
        data={
            "full_name": "Ana María Rojas",
            "email": "ana@muni.cl",
            "comuna": "13101",
            "rut": "12.345.678-5",
            "password": "una frase de prueba larga",
            "password_confirm": "una frase de prueba larga",
        },
    )
    # The answer any registration gets, and the mail that explains.
    assert response.status_code == 302, response.text
    assert response.headers["Location"] == "/entrar"
    message = mailbox.last_to("ana@muni.cl")
    assert message["Subject"] == "No pudimos crear tu cuenta en la Academia"
    assert "otra@muni.cl" not in message.get_content()
    assert "Otra Persona" not in message.get_content()
    rows = query(lambda: db.session.execute(select(User.email, User.full_name, User.rut)).all())
    # No second account with the RUT, and a pending account stays as it was.
    assert sorted(rows) == sorted(
        [("otra@muni.cl", "Otra Persona", "123456785")]
        + ([("ana@muni.cl", "Ana Rojas", None)] if pending else [])
    )


def test_two_saves_of_the_same_lesson(client, trainer, make_user, monkeypatch, query):
    other = make_user("trainer", full_name="Rosa Carrasco")
    checked = editor.newer_revision_saved

    def rosa_saves():
        # Written behind the ORM's back, as another process would: this request's lesson
        # still believes revision 1 is the latest.
        latest = db.session.execute(
            select(LessonRevision.__table__).where(
                LessonRevision.lesson_id == get_lesson("niveles").id
            )
        ).one()
        values = dict(latest._mapping) | {
            "number": latest.number + 1,
            "author_id": other.id,
            "content_hash": "de-rosa",
        }
        del values["id"]
        db.session.execute(insert(LessonRevision.__table__).values(**values))

    meanwhile = once(rosa_saves)

    def check_then_meanwhile(form: Any, latest: Any) -> bool:
        newer = checked(form, latest)
        meanwhile()
        return newer

    monkeypatch.setattr(editor, "newer_revision_saved", check_then_meanwhile)
    response = client.post(f"{EDITOR}/lecciones/niveles", data=lesson_form(base="1"))
    assert response.status_code == 409, response.text
    assert "Mientras editabas, Rosa Carrasco guardó la revisión 2." in response.text
    assert "Texto nuevo de la lección." in response.text  # the trainer's text is kept


def test_two_uploads_of_an_image_with_the_same_name(client, trainer, monkeypatch, query):
    found = courses.get_asset

    def someone_else_uploads(course: Any) -> None:
        db.session.execute(
            insert(CourseAsset.__table__).values(
                course_id=course.id, path="primeros-pasos/plano.png", mime="image/png",
                data=image_bytes("PNG", size=(10, 10)), sha256="otra", width=10, height=10,
                created_at=courses.utcnow(),
            )
        )  # fmt: skip

    uploads = []

    def look_then_meanwhile(course: Any, path: str, **kwargs: Any) -> Any:
        asset = found(course, path, **kwargs)
        if not uploads:
            uploads.append(True)
            someone_else_uploads(course)
        return asset

    monkeypatch.setattr(courses, "get_asset", look_then_meanwhile)
    response = upload(client, image_bytes("PNG", size=(30, 10)), "plano.png")
    assert response.status_code == 302, response.text
    page = client.get(response.headers["Location"]).text
    assert "Reemplazamos la imagen plano.png." in page
    stored = query(
        lambda: db.session.scalar(
            select(CourseAsset).where(CourseAsset.path == "primeros-pasos/plano.png")
        )
    )
    assert (stored.width, stored.height) == (30, 10)  # the later upload is the one kept


def test_two_trainers_create_the_same_quiz(app, client, trainer, make_user, monkeypatch, query):
    other = make_user("trainer", full_name="Rosa Carrasco")
    url = "/editor/cuestionarios/nuevo-cuestionario"
    source = quiz_views.NEW_QUIZ_TEMPLATE
    checked = quiz_views.newer_revision_saved

    def rosa_creates():
        row = Quiz(slug="nuevo-cuestionario")
        db.session.add(row)
        revision, problems = quizzes.save_draft(row, source, author_id=other.id)
        assert revision is not None, problems

    meanwhile = once(rosa_creates)

    def check_then_meanwhile(form: Any, latest: Any) -> bool:
        newer = checked(form, latest)
        meanwhile()
        return newer

    monkeypatch.setattr(quiz_views, "newer_revision_saved", check_then_meanwhile)
    response = client.post(url, data={"source": source, "base": "0", "note": "", "action": "save"})
    assert response.status_code == 409, response.text
    assert "Mientras editabas, Rosa Carrasco guardó la revisión 1." in response.text
