"""The audit log: each audited action writes one event in its own transaction, the table
refuses changes on both backends, the migration brings certificate history in, and admins
read and filter it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from academy import audit, create_app
from academy.audit import AppendOnlyError, AuditAction, AuditEvent
from academy.audit.views import ACTION_LABELS
from academy.auth.models import User
from academy.courses.models import Course
from academy.extensions import db
from academy.progress import services as progress
from academy.quizzes import services as quizzes
from tests.conftest import BACKENDS, PASSWORD, separate_database, test_config
from tests.test_editor import lesson_form

AUDIT = "/admin/auditoria/"
EDITOR = "/editor/cursos/curso-ejemplo"


def events(query, action: str | None = None) -> list[AuditEvent]:
    def read() -> list[AuditEvent]:
        statement = select(AuditEvent).order_by(AuditEvent.id)
        if action is not None:
            statement = statement.where(AuditEvent.action == action)
        found = list(db.session.scalars(statement))
        db.session.expunge_all()
        return found

    return query(read)


@pytest.fixture
def admin(auth, make_user) -> User:
    return auth.as_role(make_user, "admin")


# Recording -----------------------------------------------------------------------------------


def test_an_event_commits_or_rolls_back_with_the_work_it_records(app, make_user, example_course):
    learner = make_user("learner")
    with app.app_context():
        course = db.session.get(Course, example_course.id)
        progress.enrol(learner.id, course)
        db.session.rollback()
        assert db.session.scalars(select(AuditEvent)).all() == []
        assert progress.get_enrolment(learner.id, course.id) is None

        enrolment = progress.enrol(learner.id, course)
        db.session.commit()
        (event,) = db.session.scalars(select(AuditEvent)).all()
        assert (event.action, event.actor_id, event.target_type) == (
            "enrolment.created",
            learner.id,
            "enrolment",
        )
        assert (event.target_id, event.target_label) == (enrolment.id, learner.email)
        assert event.detail == {"course": "curso-ejemplo"}
        assert event.occurred_at.tzinfo is not None and event.ip is None
        # Enrolling again changes nothing, so records nothing.
        progress.enrol(learner.id, course)
        db.session.commit()
        assert len(db.session.scalars(select(AuditEvent)).all()) == 1


def test_unknown_actions_and_secrets_in_the_detail_are_refused(app):
    with app.app_context():
        with pytest.raises(ValueError):
            audit.record("person.deleted", actor=None)
        with pytest.raises(ValueError):
            audit.record(AuditAction.SIGN_IN_FAILED, actor=None, password="secreto")
        with pytest.raises(ValueError):
            audit.record(AuditAction.DATA_EXPORTED, actor=None, rows="x" * 3000)
        assert not db.session.new
        # The database has the last word on actions too.
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.execute(
                text(
                    "INSERT INTO audit_events (occurred_at, action, actor, detail)"
                    " VALUES (CURRENT_TIMESTAMP, 'person.deleted', 'x', '{}')"
                )
            )


def test_events_are_append_only_in_the_mapper_and_the_database(app):
    with app.app_context():
        audit.record(AuditAction.PEOPLE_IMPORTED, actor=None, rows=3)
        db.session.commit()
        event = db.session.scalars(select(AuditEvent)).one()
        event.actor = "alguien más"
        with pytest.raises(AppendOnlyError):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.scalars(select(AuditEvent)).one())
        with pytest.raises(AppendOnlyError):
            db.session.flush()
        db.session.rollback()
        for statement in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"):
            with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
                db.session.execute(text(statement))
        (kept,) = db.session.scalars(select(AuditEvent.actor)).all()
        assert kept.startswith("cli:")


# Wired actions -------------------------------------------------------------------------------


def test_a_failed_sign_in_is_kept_with_the_email_and_address_never_the_password(
    client, make_user, query
):
    person = make_user("learner")
    inactive = make_user("learner", active=False)
    wrong = client.post("/entrar", data={"email": person.email, "password": "adivinanza-123"})
    assert wrong.status_code == 401
    unknown = client.post("/entrar", data={"email": "Nadie@Muni.cl", "password": "x" * 12})
    assert unknown.status_code == 401
    assert (
        client.post("/entrar", data={"email": inactive.email, "password": PASSWORD}).status_code
        == 401
    )
    assert (
        client.post("/entrar", data={"email": person.email, "password": PASSWORD}).status_code
        == 302
    )
    found = events(query)
    assert [(e.action, e.actor_id, e.actor, e.target_label, e.detail) for e in found] == [
        ("auth.sign_in_failed", None, "anónimo", person.email, {"reason": "bad-credentials"}),
        ("auth.sign_in_failed", None, "anónimo", "nadie@muni.cl", {"reason": "bad-credentials"}),
        ("auth.sign_in_failed", None, "anónimo", inactive.email, {"reason": "inactive"}),
    ]
    assert [e.target_id for e in found] == [None, None, inactive.id]
    assert {e.ip for e in found} == {"127.0.0.1"}
    stored = query(lambda: db.session.execute(text("SELECT * FROM audit_events")).all())
    assert "adivinanza" not in repr(stored) and PASSWORD not in repr(stored)


def test_role_and_status_changes_are_recorded_and_a_refused_change_is_not(
    client, admin, make_user, query
):
    person = make_user("learner")
    url = f"/admin/personas/{person.id}"
    assert client.post(url, data={"role": "trainer", "active": "y"}).status_code == 302
    assert client.post(url, data={"role": "trainer"}).status_code == 302  # unchecked: inactive
    assert client.post(url, data={"role": "trainer", "active": "y"}).status_code == 302
    assert client.post(url, data={"role": "trainer", "active": "y"}).status_code == 302  # same
    # The last admin cannot demote themself: refused, and nothing recorded.
    refused = client.post(f"/admin/personas/{admin.id}", data={"role": "learner", "active": "y"})
    assert refused.status_code == 422
    found = events(query)
    assert [(e.action, e.actor_id, e.target_id, e.detail) for e in found] == [
        ("person.role_changed", admin.id, person.id, {"before": "learner", "after": "trainer"}),
        ("person.deactivated", admin.id, person.id, {}),
        ("person.reactivated", admin.id, person.id, {}),
    ]
    assert {e.actor for e in found} == {admin.email}


@pytest.mark.usefixtures("example_course")
def test_enrolments_by_the_learner_and_by_an_admin(app, client, auth, make_user, query):
    learner = auth.as_role(make_user, "learner")
    with app.app_context():
        progress.get_course_for_admin("curso-ejemplo").enrolment = "open"
        db.session.commit()
    assert client.post("/cursos/curso-ejemplo/inscribirme").status_code == 302
    assert client.post("/cursos/curso-ejemplo/inscribirme").status_code == 302
    auth.logout()
    admin = auth.as_role(make_user, "admin")
    other = make_user("learner")
    response = client.post(
        "/admin/cursos/curso-ejemplo/inscripciones", data={"emails": f"{other.email}"}
    )
    assert response.status_code == 302, response.text
    found = events(query, "enrolment.created")
    assert [(e.actor_id, e.target_label) for e in found] == [
        (learner.id, learner.email),
        (admin.id, other.email),
    ]


@pytest.mark.usefixtures("example_course")
def test_publishing_a_course_and_a_lesson_is_recorded(client, auth, make_user, query):
    trainer = auth.as_role(make_user, "trainer")
    client.post(f"{EDITOR}/estado", data={"status": "draft"})
    assert events(query) == []  # only publication is audited
    client.post(f"{EDITOR}/estado", data={"status": "published"})
    assert client.post(f"{EDITOR}/lecciones/niveles", data=lesson_form()).status_code == 302
    client.post(f"{EDITOR}/lecciones/niveles/publicar", data={"revision": "2"})
    found = events(query)
    assert [(e.action, e.actor_id, e.target_label, e.detail) for e in found] == [
        ("course.published", trainer.id, "curso-ejemplo", {}),
        ("lesson.published", trainer.id, "curso-ejemplo/niveles", {"revision": 2}),
    ]


def test_what_a_content_import_publishes_is_recorded_as_the_editor_does_and_shown(
    runner, client, admin, query
):
    folder = Path(__file__).parent / "fixtures/content/courses/curso-ejemplo"
    result = runner.invoke(args=["content", "import", str(folder)])
    assert result.exit_code == 0, result.output
    found = events(query)
    assert [(e.action, e.actor_id, e.target_label, e.detail) for e in found] == [
        ("course.published", None, "curso-ejemplo", {"via": "import"}),
        ("lesson.published", None, "curso-ejemplo/que-es-participar",
         {"revision": 1, "via": "import"}),
        ("lesson.published", None, "curso-ejemplo/niveles", {"revision": 1, "via": "import"}),
        ("lesson.published", None, "curso-ejemplo/consejo", {"revision": 1, "via": "import"}),
    ]  # fmt: skip
    assert all(e.actor.startswith("cli:") and e.ip is None for e in found)
    page = client.get(AUDIT, query_string={"accion": "lesson.published"}).text
    assert rows_of(page) == 3 and "Lección publicada" in page
    assert "<dt>Origen</dt><dd>importación de archivos</dd>" in page


@pytest.mark.usefixtures("example_quiz")
def test_publishing_a_quiz_revision_is_recorded_and_shown(client, auth, make_user, query):
    trainer = auth.as_role(make_user, "trainer")
    quiz = "/editor/cuestionarios/ejemplo"
    source = query(lambda: quizzes.get_quiz("ejemplo").latest.source_md)
    saved = client.post(
        quiz,
        data={"source": source.replace("aprobacion: 60", "aprobacion: 70"), "base": "1",
              "action": "save"},
    )  # fmt: skip
    assert saved.status_code == 303
    assert events(query) == []  # importing the quiz and saving a draft publish nothing
    for number in ("2", "2", "1"):  # the second is already published: refused, not recorded
        assert client.post(f"{quiz}/publicar", data={"revision": number}).status_code == 303
    quiz_id = query(lambda: quizzes.get_quiz("ejemplo").id)
    found = events(query)
    assert [
        (e.action, e.actor_id, e.target_type, e.target_id, e.target_label, e.detail) for e in found
    ] == [
        ("quiz.published", trainer.id, "quiz", quiz_id, "ejemplo", {"revision": 2}),
        ("quiz.published", trainer.id, "quiz", quiz_id, "ejemplo", {"revision": 1}),
    ]
    auth.logout()
    auth.as_role(make_user, "admin")
    page = client.get(AUDIT, query_string={"accion": "quiz.published"}).text
    assert rows_of(page) == 2 and "Cuestionario publicado" in page
    assert "<dt>Revisión</dt><dd>2</dd>" in page


@pytest.mark.usefixtures("example_quiz")
def test_an_export_of_quiz_attempts_is_recorded(client, auth, make_user, query):
    trainer = auth.as_role(make_user, "trainer")
    response = client.get(f"{EDITOR}/lecciones/cuestionario/cuestionario/intentos.csv")
    assert response.status_code == 200
    response.close()
    (event,) = events(query)
    assert (event.action, event.actor_id, event.target_type) == (
        "data.exported",
        trainer.id,
        "export",
    )
    assert event.target_label == "curso-ejemplo-cuestionario-intentos.csv"
    assert event.detail["report"] == "quiz_attempts"


def test_an_account_created_from_the_command_line_is_recorded(runner, query):
    result = runner.invoke(
        args=["users", "create", "--email", "relatora@muni.cl", "--name", "Rosa Vidal",
              "--role", "trainer", "--generate-password"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (event,) = events(query)
    assert (event.action, event.actor_id, event.target_label, event.detail) == (
        "person.created",
        None,
        "relatora@muni.cl",
        {"role": "trainer"},
    )
    assert event.actor.startswith("cli:")
    assert "Contraseña" not in repr(event.detail)


# The admin page ------------------------------------------------------------------------------


def add_event(
    app, action: AuditAction, when: datetime, actor: str, target: str, **detail: object
) -> None:
    with app.app_context():
        db.session.add(
            AuditEvent(
                action=action.value,
                occurred_at=when,
                actor=actor,
                target_label=target,
                detail=detail,
            )
        )
        db.session.commit()


def rows_of(page: str) -> int:
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    return body.count("<tr>")


def test_admins_filter_by_person_action_and_dates_newest_first(app, client, admin):
    # Times in UTC; the page's dates are the academy's (America/Santiago, UTC-3 in December).
    add_event(
        app,
        AuditAction.SIGN_IN_FAILED,
        datetime(2026, 12, 1, 12, tzinfo=UTC),
        "anónimo",
        "ana@muni.cl",
        reason="bad-credentials",
    )
    add_event(
        app,
        AuditAction.ROLE_CHANGED,
        datetime(2026, 12, 2, 12, tzinfo=UTC),
        "jefa@muni.cl",
        "beto@muni.cl",
        before="learner",
        after="trainer",
    )
    add_event(
        app,
        AuditAction.DATA_EXPORTED,
        datetime(2026, 12, 3, 2, tzinfo=UTC),
        "jefa@muni.cl",
        "personas.csv",
        filters={"rol": "learner"},
    )
    page = client.get(AUDIT)
    assert page.status_code == 200
    assert "Registro de auditoría" in page.text and 'href="/admin/auditoria/"' in page.text
    body = page.text
    assert body.index("personas.csv") < body.index("beto@muni.cl") < body.index("ana@muni.cl")
    assert "Exportación de datos personales" in body and "Cambio de rol" in body
    # The detail in Spanish: its keys, a refused sign-in's reason, a role's name.
    assert "<dt>Motivo</dt><dd>correo o contraseña incorrectos</dd>" in body
    assert "<dt>Después</dt><dd>Relator o relatora</dd>" in body
    assert "<dt>Filtros</dt><dd>rol: Participante</dd>" in body

    by_person = client.get(AUDIT, query_string={"persona": "JEFA"}).text
    assert rows_of(by_person) == 2 and "ana@muni.cl" not in by_person
    assert rows_of(client.get(AUDIT, query_string={"persona": "ana@"}).text) == 1  # a target
    assert rows_of(client.get(AUDIT, query_string={"persona": "%"}).text) == 1  # no wildcard
    by_action = client.get(AUDIT, query_string={"accion": "person.role_changed"}).text
    assert rows_of(by_action) == 1 and "beto@muni.cl" in by_action
    # 02:00 UTC on 3 December is 23:00 on 2 December in Santiago.
    by_date = client.get(AUDIT, query_string={"desde": "2026-12-02", "hasta": "2026-12-02"}).text
    assert rows_of(by_date) == 2 and "ana@muni.cl" not in by_date
    since = client.get(AUDIT, query_string={"desde": "2026-12-03"}).text
    assert "No hay eventos que coincidan" in since


def test_every_action_has_a_spanish_label():
    assert set(ACTION_LABELS) == set(AuditAction)


def test_bad_filters_are_named_in_spanish_not_a_500(client, admin):
    for args, message in (
        ({"desde": "ayer"}, "«Desde» no es una fecha"),
        ({"hasta": "2026-13-45"}, "«Hasta» no es una fecha"),
        ({"desde": "2026-12-05", "hasta": "2026-12-01"}, "posterior"),
        ({"accion": "nada"}, "Esa acción no existe"),
    ):
        response = client.get(AUDIT, query_string=args)
        assert response.status_code == 400 and message in response.text, args


def test_the_log_comes_in_pages(app, client, admin):
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with app.app_context():
        for n in range(55):
            db.session.add(
                AuditEvent(
                    action="data.exported",
                    occurred_at=start + timedelta(minutes=n),
                    actor="jefa@muni.cl",
                    target_label=f"export-{n:02d}.csv",
                    detail={},
                )
            )
        db.session.commit()
    first = client.get(AUDIT, query_string={"accion": "data.exported"}).text
    assert rows_of(first) == 50 and "export-54.csv" in first and "export-04.csv" not in first
    assert "pagina=2" in first and "accion=data.exported" in first
    second = client.get(AUDIT, query_string={"accion": "data.exported", "pagina": 2}).text
    assert rows_of(second) == 5 and "export-04.csv" in second


@pytest.mark.parametrize("role", ["learner", "trainer"])
def test_only_admins_read_the_log(client, auth, make_user, role):
    auth.as_role(make_user, role)
    assert client.get(AUDIT).status_code == 403
    assert 'href="/admin/auditoria/"' not in client.get("/").text


# The migration -------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_migration_moves_certificate_events_and_goes_back(
    backend, smtp_server, tmp_path_factory
):
    with separate_database(backend, "auditmove", tmp_path_factory) as url:
        application = create_app(test_config(url, smtp_server[1]))
        with application.app_context():
            upgrade(revision="b7d1e3f5a902")
            # Timestamps as each backend's DateTime stores them (SQLite: UTC text, no zone).
            zone = "" if backend == "sqlite" else "+00"
            values = {
                "pdf": b"%PDF",
                "issued": f"2026-01-03 10:00:00.000000{zone}",
                "downloaded": f"2026-01-04 10:00:00.000000{zone}",
                "detail": '{"code": "ABCD1234"}',
            }
            for statement in (
                "INSERT INTO users (id, email, password_hash, full_name, role, active,"
                " session_version, created_at) VALUES"
                " (1, 'jefa@muni.cl', 'x', 'Jefa', 'admin', true, 1, '2026-01-01'),"
                " (2, 'ana@muni.cl', 'x', 'Ana', 'learner', true, 1, '2026-01-01')",
                "INSERT INTO courses (id, slug, title, summary, description_md, description_html,"
                " hours, language, outcomes, enrolment, case_completion, certificate_template,"
                " status, created_at, updated_at) VALUES (1, 'c', 'C', '', '', '', 1, 'es', '[]',"
                " 'open', 'approval', 'default', 'draft', '2026-01-01', '2026-01-01')",
                "INSERT INTO certificates (id, code, token, user_id, course_id, course_version,"
                " course_revisions, template, full_name, course_title, hours, completed_at,"
                " issued_at, status, pdf, pdf_sha256) VALUES (1, 'ABCD1234', 'tok', 2, 1, 'v',"
                " '{}', 'default', 'Ana', 'C', 1, '2026-01-02', '2026-01-03', 'valid', :pdf,"
                " 'sha')",
                "INSERT INTO certificate_events (certificate_id, action, actor_id, actor, at,"
                " detail) VALUES"
                " (1, 'issued', NULL, 'cli:root', :issued, :detail),"
                " (1, 'downloaded', 1, 'jefa@muni.cl', :downloaded, '{}')",
            ):
                db.session.execute(text(statement), values)
            db.session.commit()

            upgrade()
            moved = db.session.execute(
                text(
                    "SELECT action, actor_id, actor, target_type, target_id, target_label,"
                    " occurred_at FROM audit_events ORDER BY id"
                )
            ).all()
            assert [tuple(row[:6]) for row in moved] == [
                ("certificate.issued", None, "cli:root", "certificate", 1, "ABCD1234"),
                ("certificate.downloaded", 1, "jefa@muni.cl", "certificate", 1, "ABCD1234"),
            ]
            first = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).first()
            assert first.detail == {"code": "ABCD1234"}
            assert first.occurred_at == datetime(2026, 1, 3, 10, tzinfo=UTC)
            assert "certificate_events" not in db.inspect(db.engine).get_table_names()
            with pytest.raises(DBAPIError, match="append-only"):
                db.session.execute(text("DELETE FROM audit_events"))
            db.session.rollback()

            downgrade(revision="b7d1e3f5a902")
            back = db.session.execute(
                text("SELECT certificate_id, action, actor FROM certificate_events ORDER BY id")
            ).all()
            assert [tuple(row) for row in back] == [
                (1, "issued", "cli:root"),
                (1, "downloaded", "jefa@muni.cl"),
            ]
            assert "audit_events" not in db.inspect(db.engine).get_table_names()
            with pytest.raises(DBAPIError, match="append-only"):
                db.session.execute(text("DELETE FROM certificate_events"))
            db.session.rollback()
            upgrade()
            assert db.session.scalar(text("SELECT count(*) FROM audit_events")) == 2
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_migration_for_quiz_publication_widens_the_actions_and_keeps_the_log(
    backend, smtp_server, tmp_path_factory
):
    before, after = "f3c9a1e7b5d4", "f2be9251d39c"
    insert = (
        "INSERT INTO audit_events (occurred_at, action, actor, target_label, detail)"
        " VALUES ('2026-01-02', :action, 'rita@muni.cl', 'ejemplo', '{}')"
    )
    with separate_database(backend, "auditquiz", tmp_path_factory) as url:
        application = create_app(test_config(url, smtp_server[1]))
        with application.app_context():
            upgrade(revision=before)
            db.session.execute(text(insert), {"action": "lesson.published"})
            db.session.commit()
            with pytest.raises(IntegrityError):
                db.session.execute(text(insert), {"action": "quiz.published"})
            db.session.rollback()

            upgrade(revision=after)
            db.session.execute(text(insert), {"action": "quiz.published"})
            db.session.commit()
            actions = db.session.scalars(text("SELECT action FROM audit_events ORDER BY id"))
            assert list(actions) == ["lesson.published", "quiz.published"]
            indexes = {i["name"] for i in db.inspect(db.engine).get_indexes("audit_events")}
            assert "ix_audit_events_target" in indexes and "ix_audit_events_action" in indexes
            # Still append-only, still refusing actions it does not know.
            for statement in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"):
                with pytest.raises(DBAPIError, match="append-only"):
                    db.session.execute(text(statement))
                db.session.rollback()
            with pytest.raises(IntegrityError):
                db.session.execute(text(insert), {"action": "quiz.deleted"})
            db.session.rollback()

            # Down with a quiz publication recorded: the event and the wider list stay.
            downgrade(revision=before)
            assert db.session.scalar(text("SELECT count(*) FROM audit_events")) == 2
            db.session.execute(text(insert), {"action": "quiz.published"})
            db.session.rollback()
            with pytest.raises(DBAPIError, match="append-only"):
                db.session.execute(text("DELETE FROM audit_events"))
            db.session.rollback()
            db.session.remove()
            db.engine.dispose()
