"""Admins manage roles and deactivate accounts, which keep their history."""

from __future__ import annotations

from academy.auth.models import User
from academy.extensions import db
from tests.conftest import PASSWORD


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
    response = client.post(f"/admin/personas/{person.id}", data={"role": "trainer", "active": "y"})
    assert response.status_code == 302
    assert query(lambda: db.session.get(User, person.id)).role == "trainer"


def test_an_unknown_role_is_refused(client, auth, make_user, query):
    auth.as_role(make_user, "admin")
    person = make_user()
    response = client.post(f"/admin/personas/{person.id}", data={"role": "root", "active": "y"})
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

    client.post(f"/admin/personas/{person.id}", data={"role": "learner"})  # unchecked = inactive
    assert their_browser.get("/perfil").status_code == 302
    response = their_browser.post("/entrar", data={"email": person.email, "password": PASSWORD})
    assert "Tu cuenta está desactivada" in response.text
    kept = query(lambda: db.session.get(User, person.id))
    assert kept is not None and not kept.active

    client.post(f"/admin/personas/{person.id}", data={"role": "learner", "active": "y"})
    assert (
        their_browser.post(
            "/entrar", data={"email": person.email, "password": PASSWORD}
        ).status_code
        == 302
    )


def test_the_last_admin_cannot_be_removed(client, auth, make_user, query):
    admin = auth.as_role(make_user, "admin")
    response = client.post(f"/admin/personas/{admin.id}", data={"role": "learner", "active": "y"})
    assert response.status_code == 422
    assert "Debe quedar al menos una cuenta de administración activa" in response.text
    assert query(lambda: db.session.get(User, admin.id)).role == "admin"


def test_an_admin_cannot_deactivate_themselves(client, auth, make_user):
    admin = auth.as_role(make_user, "admin")
    make_user("admin")
    response = client.post(f"/admin/personas/{admin.id}", data={"role": "admin"})
    assert response.status_code == 422
    assert "No puedes desactivar tu propia cuenta" in response.text


def test_missing_person_is_a_404(client, auth, make_user):
    auth.as_role(make_user, "admin")
    assert client.get("/admin/personas/999999").status_code == 404
