"""Admins manage roles and deactivate accounts, which keep their history."""

from __future__ import annotations

from academy.auth.models import User
from academy.extensions import db
from tests.conftest import PASSWORD


def details(person, **changes):
    """The edit form as the page fills it for ``person``, with ``changes``."""
    data = {
        "full_name": person.full_name,
        "email": person.email,
        "rut": person.rut or "",
        "comuna": person.comuna_cut,
        "job_title": person.job_title or "",
        "role": person.role,
        "active": "y" if person.active else "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def test_admin_lists_and_searches_people(client, auth, make_user):
    auth.as_role(make_user, "admin")
    make_user(full_name="Carolina Fuentes", email="cfuentes@muni.cl")
    make_user("trainer", full_name="Pedro Lagos")
    page = client.get("/admin/personas/?q=fuentes").text
    assert "Carolina Fuentes" in page
    assert "Pedro Lagos" not in page
    page = client.get("/admin/personas/?rol=trainer").text
    assert "Pedro Lagos" in page
    assert "Carolina Fuentes" not in page


def test_admin_changes_a_role(client, auth, make_user, query):
    auth.as_role(make_user, "admin")
    person = make_user()
    response = client.post(f"/admin/personas/{person.id}", data=details(person, role="trainer"))
    assert response.status_code == 302
    assert query(lambda: db.session.get(User, person.id)).role == "trainer"


def test_an_unknown_role_is_refused(client, auth, make_user, query):
    auth.as_role(make_user, "admin")
    person = make_user()
    response = client.post(f"/admin/personas/{person.id}", data=details(person, role="root"))
    assert response.status_code == 422
    assert query(lambda: db.session.get(User, person.id)).role == "learner"


def test_deactivation_signs_the_person_out_and_keeps_the_account(
    app, client, auth, make_user, query
):
    auth.as_role(make_user, "admin")
    person = make_user()
    their_browser = app.test_client()
    their_browser.post("/entrar", data={"email": person.email, "password": PASSWORD})
    assert their_browser.get("/perfil").status_code == 200

    client.post(f"/admin/personas/{person.id}", data=details(person, active=""))  # unchecked
    assert their_browser.get("/perfil").status_code == 302
    response = their_browser.post("/entrar", data={"email": person.email, "password": PASSWORD})
    assert "Tu cuenta está desactivada" in response.text
    kept = query(lambda: db.session.get(User, person.id))
    assert kept is not None and not kept.active

    client.post(f"/admin/personas/{person.id}", data=details(person, active="y"))
    assert (
        their_browser.post(
            "/entrar", data={"email": person.email, "password": PASSWORD}
        ).status_code
        == 302
    )


def test_the_last_admin_cannot_be_removed(client, auth, make_user, query):
    admin = auth.as_role(make_user, "admin")
    response = client.post(f"/admin/personas/{admin.id}", data=details(admin, role="learner"))
    assert response.status_code == 422
    assert "Debe quedar al menos una cuenta de administración activa" in response.text
    assert query(lambda: db.session.get(User, admin.id)).role == "admin"


def test_an_admin_cannot_deactivate_themselves(client, auth, make_user):
    admin = auth.as_role(make_user, "admin")
    make_user("admin")
    response = client.post(f"/admin/personas/{admin.id}", data=details(admin, active=""))
    assert response.status_code == 422
    assert "No puedes desactivar tu propia cuenta" in response.text


def test_admin_edits_a_persons_details(client, auth, make_user, query):
    auth.as_role(make_user, "admin")
    person = make_user(full_name="Ana Rojs")
    changes = details(
        person,
        full_name="Ana Rojas",
        email="Ana.Rojas@Muni.cl",
        rut="12.345.678-5",
        comuna="13120",
        job_title="Encargada",
    )
    assert client.post(f"/admin/personas/{person.id}", data=changes).status_code == 302
    saved = query(lambda: db.session.get(User, person.id))
    assert (saved.full_name, saved.email, saved.rut, saved.comuna_cut, saved.job_title) == (
        "Ana Rojas",
        "ana.rojas@muni.cl",
        "123456785",
        "13120",
        "Encargada",
    )


def test_edits_are_checked_and_a_refusal_saves_nothing(client, auth, make_user, query):
    admin = auth.as_role(make_user, "admin")
    other = make_user(email="otra@muni.cl", rut="111111111")
    person = make_user(full_name="Sin Cambios")
    for bad, message in [
        ({"email": "otra@muni.cl"}, "Ya existe una cuenta con ese correo"),
        ({"rut": "11.111.111-1"}, "Ese RUT ya está registrado en otra cuenta"),
        ({"rut": "12.345.678-9"}, "El RUT no es válido"),
        ({"comuna": "99999"}, "Elige tu comuna de la lista"),
        ({"full_name": " "}, "Este campo es obligatorio"),
    ]:
        response = client.post(f"/admin/personas/{person.id}", data=details(person, **bad))
        assert response.status_code == 422, bad
        assert message in response.text
    # The last admin's own details are not saved when the role change is refused.
    response = client.post(
        f"/admin/personas/{admin.id}", data=details(admin, full_name="Otro Nombre", role="learner")
    )
    assert response.status_code == 422
    assert query(lambda: db.session.get(User, admin.id)).full_name == admin.full_name
    assert query(lambda: db.session.get(User, other.id)).email == "otra@muni.cl"


def test_missing_person_is_a_404(client, auth, make_user):
    auth.as_role(make_user, "admin")
    assert client.get("/admin/personas/999999").status_code == 404


def test_admin_filters_by_rut_comuna_region_and_status(client, auth, make_user):
    auth.as_role(make_user, "admin")
    make_user(full_name="Ana Rojas", rut="123456785", comuna_cut="13120")  # Ñuñoa, RM
    make_user(full_name="Beto Díaz", comuna_cut="01101", active=False)  # Iquique, Tarapacá
    page = client.get("/admin/personas/?q=12.345.678-5").text
    assert "Ana Rojas" in page and "Beto Díaz" not in page
    page = client.get("/admin/personas/?comuna=13120").text
    assert "Ana Rojas" in page and "Beto Díaz" not in page
    page = client.get("/admin/personas/?region=01").text
    assert "Beto Díaz" in page and "Ana Rojas" not in page
    page = client.get("/admin/personas/?estado=desactivada").text
    assert "Beto Díaz" in page and "Ana Rojas" not in page
    # Values that are not among the choices are ignored, not an error.
    assert client.get("/admin/personas/?region=99&comuna=x&estado=y&rol=z").status_code == 200


def test_a_search_with_like_wildcards_matches_them_literally(client, auth, make_user):
    auth.as_role(make_user, "admin")
    make_user(full_name="Carla 100% Segura")
    make_user(full_name="Carla Otra")
    page = client.get("/admin/personas/?q=100%25").text
    assert "Carla 100% Segura" in page and "Carla Otra" not in page


def test_export_is_excel_ready_neutralised_filtered_and_audited(client, auth, make_user, query):
    from sqlalchemy import select

    from academy.audit import AuditAction, AuditEvent

    admin = auth.as_role(make_user, "admin")
    make_user(full_name='=HYPERLINK("http://malo")', comuna_cut="13120", job_title="@jefa")
    make_user(full_name="Fuera del filtro", comuna_cut="01101")
    response = client.get("/admin/personas/exportar.csv?comuna=13120")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.data
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == "correo,nombre,rut,comuna,cargo,region,rol,estado,creada,ultimo_ingreso"
    assert "'=HYPERLINK" in text and "'@jefa" in text and "Ñuñoa" in text
    assert "Fuera del filtro" not in text
    event = query(
        lambda: db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == AuditAction.DATA_EXPORTED.value)
        )
    )
    assert event.actor_id == admin.id and event.detail["filters"] == {"comuna": "13120"}


def test_an_export_imports_back_unchanged(app, client, auth, make_user):
    from academy.people import imports

    auth.as_role(make_user, "admin")
    make_user(full_name="Ana Rojas", rut="123456785", comuna_cut="13120", job_title="Jefa")
    make_user(full_name="-Beto Díaz", comuna_cut="01101", job_title="=Jefe")
    data = client.get("/admin/personas/exportar.csv").data
    with app.app_context():
        report = imports.check(data)
    assert report.ok
    assert {r.outcome for r in report.rows} == {imports.Outcome.UNCHANGED}
