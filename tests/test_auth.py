"""Registration, sign-in, sign-out and the profile, with the bad input each must survive."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from academy.auth import services as accounts
from academy.auth.models import User
from academy.extensions import db
from tests.conftest import PASSWORD

VALID = {
    "full_name": "María José Pérez Soto",
    "email": "MJ.Perez@Muni.cl ",
    "comuna": "05101",
    "job_title": "Encargada de participación",
    "rut": "",
    "password": PASSWORD,
    "password_confirm": PASSWORD,
}


def register(client, **changes):
    return client.post("/registro", data={**VALID, **changes})


def activation_link(mailbox, email: str) -> str:
    body = mailbox.last_to(email).get_content()
    match = re.search(r"http://127\.0\.0\.1:5000(/registro/activar/\S+)", body)
    assert match, body
    return match.group(1)


def test_register_then_activate_from_the_email(client, query, mailbox):
    response = register(client, rut="12.345.678-5")
    assert response.status_code == 302
    assert response.headers["Location"] == "/entrar"
    user = query(lambda: db.session.scalar(select(User).where(User.email == "mj.perez@muni.cl")))
    assert user.role == "learner"
    assert user.full_name == "María José Pérez Soto"
    assert user.rut == "123456785"  # stored compact
    assert user.rut_display == "12.345.678-5"  # shown formatted
    assert user.comuna_cut == "05101"
    assert user.password_hash.startswith("scrypt:")
    assert user.email_confirmed_at is None
    assert "Hola, María José Pérez Soto" not in client.get("/").text  # not signed in yet

    link = activation_link(mailbox, "mj.perez@muni.cl")
    assert "la cuenta de mj.perez@muni.cl" in client.get(link).text
    wrong = client.post(link, data={"password": "no es la que elegí"})
    assert wrong.status_code == 422
    assert "La contraseña no es la que elegiste" in wrong.text
    assert client.post(link, data={"password": PASSWORD}).status_code == 302
    assert "Hola, María José Pérez Soto" in client.get("/").text
    assert query(lambda: db.session.get(User, user.id)).email_confirmed_at is not None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"email": "no-es-un-correo"}, "Escribe un correo válido"),
        ({"rut": "12.345.678-9"}, "El RUT no es válido"),
        ({"rut": "abc"}, "El RUT no es válido"),
        ({"comuna": "99999"}, "Elige tu comuna de la lista"),
        ({"comuna": ""}, "Elige tu comuna de la lista"),
        ({"password": "corta", "password_confirm": "corta"}, "al menos 10 caracteres"),
        (
            {"password": "contraseña123", "password_confirm": "contraseña123"},
            "demasiado fácil de adivinar",
        ),
        ({"password": "aaaaaaaaaaaa", "password_confirm": "aaaaaaaaaaaa"}, "demasiado fácil"),
        ({"password_confirm": "otra frase distinta"}, "Las contraseñas no coinciden"),
        ({"full_name": "x" * 121}, "Escribe entre 3 y 120 caracteres"),
        ({"full_name": "  "}, "Este campo es obligatorio"),
        ({"email": "a" * 250 + "@muni.cl"}, "El correo es demasiado largo"),
        ({"job_title": "y" * 500}, "Escribe entre"),
        ({"password": "p" * 129 + "xyz", "password_confirm": "p" * 129 + "xyz"}, "128"),
    ],
)
def test_register_rejects_bad_input_beside_the_field(client, query, changes, message):
    response = register(client, **changes)
    assert response.status_code == 422
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert query(lambda: db.session.scalar(select(db.func.count(User.id)))) == 0


def _page(response):
    return re.sub(r'value="[^"]{40,}"', "", response.text)  # the CSRF token differs


def _count_users(query):
    return query(lambda: db.session.scalar(select(db.func.count(User.id))))


def test_registration_does_not_say_whether_a_rut_has_an_account(
    app, make_user, query, mailbox, monkeypatch
):
    other = make_user(email="otra.persona@muni.cl", full_name="Dueña del RUT", rut="123456785")
    hashed = []
    spend = accounts.spend_hashing_time
    monkeypatch.setattr(accounts, "spend_hashing_time", lambda p: hashed.append(p) or spend(p))
    taken = app.test_client().post(
        "/registro", data={**VALID, "rut": "12.345.678-5"}, follow_redirects=True
    )
    assert _count_users(query) == 1  # no account made: the RUT stays with its account
    assert hashed == [PASSWORD]  # as long as making the account would have taken
    free = app.test_client().post(
        "/registro",
        data={**VALID, "email": "libre@muni.cl", "rut": "5.126.663-3"},
        follow_redirects=True,
    )
    assert taken.status_code == free.status_code == 200
    assert [r.status_code for r in taken.history] == [r.status_code for r in free.history]
    assert taken.request.path == free.request.path == "/entrar"
    assert _page(taken).replace("mj.perez@muni.cl", "libre@muni.cl") == _page(free)
    assert "Te enviamos un correo a mj.perez@muni.cl" in taken.text
    assert "RUT" not in taken.text

    # The address typed hears why, with the ways back in, and nothing of the other account.
    message = mailbox.last_to("mj.perez@muni.cl")
    assert message["Subject"] == "No pudimos crear tu cuenta en la Academia"
    body = message.get_content()
    assert "ya está asociado a otra cuenta" in body
    assert "/entrar" in body and "/recuperar" in body and "escribe a la academia" in body
    for secret in ("otra.persona", "Dueña del RUT", "12.345.678-5", "123456785"):
        assert secret not in body
    assert [m["To"] for m in mailbox.messages].count("mj.perez@muni.cl") == 1
    assert not [m for m in mailbox.messages if m["To"] == other.email]  # its owner: no mail
    saved = query(lambda: db.session.get(User, other.id))
    assert (saved.email, saved.rut, saved.full_name) == (other.email, "123456785", "Dueña del RUT")


def test_an_address_with_an_account_gets_one_mail_whatever_the_rut(app, make_user, mailbox):
    make_user(email="otra@muni.cl", rut="123456785")
    make_user(email="mj.perez@muni.cl")
    response = app.test_client().post("/registro", data={**VALID, "rut": "12.345.678-5"})
    assert response.status_code == 302
    assert [m["Subject"] for m in mailbox.messages] == [
        "Alguien intentó crear una cuenta con tu correo"
    ]
    assert mailbox.messages[0]["To"] == "mj.perez@muni.cl"


def test_a_pending_account_keeps_its_rut_or_is_left_alone(client, make_user, query, mailbox):
    register(client, rut="12.345.678-5")
    # Registering again before activating, with the same RUT: the account's own, not taken.
    again = register(client, rut="12.345.678-5", full_name="María José Pérez")
    assert again.status_code == 302
    user = query(lambda: db.session.scalar(select(User).where(User.email == "mj.perez@muni.cl")))
    assert (user.full_name, user.rut) == ("María José Pérez", "123456785")
    assert "/registro/activar/" in mailbox.last_to("mj.perez@muni.cl").get_content()
    # With another account's RUT: the pending account stays as it was, and the mail says why.
    make_user(email="otra@muni.cl", rut="51266633")
    third = register(client, rut="5.126.663-3", full_name="Otro Nombre")
    assert third.status_code == 302
    assert mailbox.last_to("mj.perez@muni.cl")["Subject"] == (
        "No pudimos crear tu cuenta en la Academia"
    )
    saved = query(lambda: db.session.get(User, user.id))
    assert (saved.full_name, saved.rut) == ("María José Pérez", "123456785")
    assert _count_users(query) == 2


def test_registration_does_not_say_whether_an_email_has_an_account(app, make_user, query, mailbox):
    owner = make_user(email="mj.perez@muni.cl", full_name="Dueña del Correo")
    taken = app.test_client().post("/registro", data=VALID, follow_redirects=True)
    free = app.test_client().post(
        "/registro", data={**VALID, "email": "libre@muni.cl"}, follow_redirects=True
    )
    assert taken.status_code == free.status_code == 200
    assert taken.request.path == free.request.path == "/entrar"

    def page(response):
        return re.sub(r'value="[^"]{40,}"', "", response.text)  # the CSRF token differs

    assert page(taken).replace("mj.perez@muni.cl", "libre@muni.cl") == page(free)
    assert "Te enviamos un correo a mj.perez@muni.cl" in taken.text
    # The owner hears of it by email, with a way back in; their account is untouched.
    message = mailbox.last_to("mj.perez@muni.cl")
    assert message["Subject"] == "Alguien intentó crear una cuenta con tu correo"
    assert "/recuperar/" in message.get_content()
    saved = query(lambda: db.session.get(User, owner.id))
    assert (saved.full_name, saved.password_hash) == ("Dueña del Correo", owner.password_hash)
    assert saved.check_password(PASSWORD)


def test_registering_again_before_activating_replaces_the_pending_account(client, query, mailbox):
    register(client)
    first = activation_link(mailbox, "mj.perez@muni.cl")
    register(
        client,
        full_name="María José Pérez",
        password="otra frase nueva y larga",
        password_confirm="otra frase nueva y larga",
    )
    second = activation_link(mailbox, "mj.perez@muni.cl")
    assert query(lambda: db.session.scalar(select(db.func.count(User.id)))) == 1
    assert client.get(first).status_code == 400  # spent: the password it was for changed
    assert client.post(second, data={"password": "otra frase nueva y larga"}).status_code == 302
    assert "Hola, María José Pérez." in client.get("/").text


def test_an_account_not_yet_activated_cannot_sign_in(client, auth, query, mailbox):
    register(client)
    mailbox.messages.clear()
    response = auth.login("mj.perez@muni.cl")
    assert response.status_code == 302
    assert "Tu cuenta todavía no está activa" in client.get("/entrar").text
    assert "Cerrar sesión" not in client.get("/").text
    activation_link(mailbox, "mj.perez@muni.cl")  # a fresh link, mailed again


def test_a_password_reset_activates_the_account(client, auth, query, mailbox):
    # Whoever registered an address first cannot lock its owner out: the reset proves the
    # mailbox, and sets a password only its owner knows.
    register(client)
    client.post("/recuperar", data={"email": "mj.perez@muni.cl"})
    body = mailbox.last_to("mj.perez@muni.cl").get_content()
    path = re.search(r"http://127\.0\.0\.1:5000(/recuperar/\S+)", body).group(1)
    new = "la frase de la dueña real"
    client.post(path, data={"password": new, "password_confirm": new})
    assert auth.login("mj.perez@muni.cl", new).headers["Location"] == "/mis-cursos"


def test_registration_can_be_closed(app, client):
    app.config["REGISTRATION_OPEN"] = False
    try:
        assert client.get("/registro").status_code == 404
        assert "Crear cuenta" not in client.get("/entrar").text
    finally:
        app.config["REGISTRATION_OPEN"] = True


def test_login_and_logout(client, auth, make_user):
    user = make_user()
    response = auth.login(user.email.upper())
    assert response.status_code == 302
    assert response.headers["Location"] == "/mis-cursos"
    assert "Cerrar sesión" in client.get("/").text
    assert auth.logout().status_code == 302
    assert "Iniciar sesión" in client.get("/").text


def test_login_with_a_wrong_password_says_so_without_naming_the_cause(client, auth, make_user):
    user = make_user()
    wrong = auth.login(user.email, "no es esta")
    unknown = auth.login("nadie@muni.cl", "no es esta")
    assert wrong.status_code == unknown.status_code == 401
    assert "El correo o la contraseña no son correctos" in wrong.text
    assert "El correo o la contraseña no son correctos" in unknown.text


def test_a_deactivated_account_cannot_sign_in(client, auth, make_user):
    user = make_user(active=False)
    response = auth.login(user.email)
    assert response.status_code == 401
    assert "Tu cuenta está desactivada" in response.text


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/perfil", "/perfil"),
        ("/perfil?x=1", "/perfil?x=1"),
        ("https://evil.example/", "/mis-cursos"),
        ("//evil.example/", "/mis-cursos"),
        ("/\\evil.example", "/mis-cursos"),
        ("javascript:alert(1)", "/mis-cursos"),
        ("perfil", "/mis-cursos"),
    ],
)
def test_next_only_redirects_to_local_paths(client, make_user, target, expected):
    user = make_user()
    response = client.post(
        "/entrar", query_string={"next": target}, data={"email": user.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == expected


def test_protected_pages_send_anonymous_visitors_to_login(client):
    response = client.get("/perfil")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/entrar?next=")


def test_remember_me_sets_a_lasting_httponly_cookie(client, auth, make_user):
    user = make_user()
    auth.login(user.email, remember="y")
    cookie = client.get_cookie("academy_remember")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.expires is not None


def test_profile_update(client, auth, make_user, query):
    user = auth.as_role(make_user, "learner")
    response = client.post(
        "/perfil",
        data={
            "full_name": "Juan Andrés Rojas",
            "email": "juan.rojas@muni.cl",
            "comuna": "08101",
            "job_title": "Director de Dideco",
            "rut": "5.126.663-3",
            "locale": "en",
            "current_password": PASSWORD,
        },
    )
    assert response.status_code == 302
    saved = query(lambda: db.session.get(User, user.id))
    assert (saved.full_name, saved.email, saved.comuna_cut) == (
        "Juan Andrés Rojas",
        "juan.rojas@muni.cl",
        "08101",
    )
    assert saved.rut == "51266633"
    assert saved.locale == "en"
    page = client.get("/perfil").text
    assert "5.126.663-3" in page
    assert "My profile" in page  # the chosen language applies at once


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "Para cambiar tu correo, escribe tu contraseña actual."),
        ("no es la contraseña", "La contraseña actual no es correcta."),
    ],
)
def test_changing_the_email_needs_the_current_password(
    client, auth, make_user, query, password, message
):
    user = auth.as_role(make_user, "learner")
    data = {"full_name": "X Y Z", "comuna": "13101", "locale": "es"}
    response = client.post(
        "/perfil", data={**data, "email": "nueva@evil.example", "current_password": password}
    )
    assert response.status_code == 422
    assert message in response.text
    assert query(lambda: db.session.get(User, user.id)).email == user.email
    # Everything but the email saves without it.
    assert client.post("/perfil", data={**data, "email": user.email}).status_code == 302
    assert query(lambda: db.session.get(User, user.id)).full_name == "X Y Z"


def test_profile_rejects_someone_elses_email(client, auth, make_user, query):
    other = make_user()
    user = auth.as_role(make_user, "learner")
    response = client.post(
        "/perfil",
        data={"full_name": "X Y Z", "email": other.email, "comuna": "13101", "locale": "es"},
    )
    assert response.status_code == 422
    assert "Ya existe una cuenta con ese correo" in response.text
    assert query(lambda: db.session.get(User, user.id)).email == user.email


def test_profile_says_a_rut_is_someone_elses(client, auth, make_user, query):
    make_user(rut="123456785")
    user = auth.as_role(make_user, "learner")
    data = {"full_name": "X Y Z", "email": user.email, "comuna": "13101", "locale": "es"}
    response = client.post("/perfil", data={**data, "rut": "12.345.678-5"})
    assert response.status_code == 422
    assert "Ese RUT ya está registrado en otra cuenta" in response.text
    assert 'value="12.345.678-5"' in response.text  # what was typed is still there
    bad = client.post("/perfil", data={**data, "rut": "12.345.678-9"})
    assert bad.status_code == 422 and "El RUT no es válido" in bad.text
    assert query(lambda: db.session.get(User, user.id)).rut is None


def test_changing_the_password_ends_other_sessions(app, client, auth, make_user):
    user = auth.as_role(make_user, "learner")
    other_device = app.test_client()
    assert (
        other_device.post("/entrar", data={"email": user.email, "password": PASSWORD}).status_code
        == 302
    )
    assert other_device.get("/perfil").status_code == 200

    new_password = "otra frase larga y segura"
    response = client.post(
        "/perfil/contrasena",
        data={
            "current_password": PASSWORD,
            "password": new_password,
            "password_confirm": new_password,
        },
    )
    assert response.status_code == 302
    assert client.get("/perfil").status_code == 200  # this session goes on
    assert other_device.get("/perfil").status_code == 302  # the other one ended
    assert auth.logout().status_code == 302
    assert auth.login(user.email, new_password).status_code == 302


def test_changing_the_password_needs_the_current_one(client, auth, make_user):
    auth.as_role(make_user, "learner")
    response = client.post(
        "/perfil/contrasena",
        data={
            "current_password": "equivocada",
            "password": "otra frase larga y segura",
            "password_confirm": "otra frase larga y segura",
        },
    )
    assert response.status_code == 422
    assert "La contraseña actual no es correcta" in response.text


def test_several_people_register_without_a_rut(app, query):
    # A blank RUT used to be stored as '' in a unique column: the second one was a 500.
    for n, blank in enumerate(["", "   ", None]):
        data = {**VALID, "email": f"sin.rut{n}@muni.cl"}
        if blank is None:
            del data["rut"]
        else:
            data["rut"] = blank
        response = app.test_client().post("/registro", data=data)
        assert response.status_code == 302, response.text
    ruts = query(lambda: db.session.scalars(select(User.rut).where(User.email.like("sin.rut%"))))
    assert list(ruts) == [None, None, None]


def test_profiles_save_without_a_rut(app, make_user, query):
    users = [make_user(), make_user()]
    for user in users:
        client = app.test_client()
        client.post("/entrar", data={"email": user.email, "password": PASSWORD})
        response = client.post(
            "/perfil",
            data={
                "full_name": user.full_name,
                "email": user.email,
                "comuna": "13101",
                "rut": " ",
                "job_title": "",
                "locale": "es",
                "current_password": PASSWORD,
            },
        )
        assert response.status_code == 302, response.text
    for user in users:
        saved = query(lambda user=user: db.session.get(User, user.id))
        assert (saved.rut, saved.job_title) == (None, None)


def test_a_blank_rut_is_null_whoever_writes_it(app, query):
    with app.app_context():
        user = accounts.create_user(
            email="cli@muni.cl", full_name="Desde la consola", password=PASSWORD, rut=""
        )
        assert user.rut is None
        # The database refuses '' too, for writers that bypass the model.
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.execute(text("UPDATE users SET rut = '' WHERE id = :id"), {"id": user.id})
