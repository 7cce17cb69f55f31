"""Forgot password: a single-use, time-limited link delivered by real SMTP."""

from __future__ import annotations

import re
from types import SimpleNamespace

from itsdangerous import URLSafeTimedSerializer

from academy.auth import services
from tests.conftest import PASSWORD

NEW_PASSWORD = "la nueva frase secreta"


def reset_link(mailbox, email: str) -> str:
    body = mailbox.last_to(email).get_content()
    match = re.search(r"http://127\.0\.0\.1:5000(/recuperar/\S+)", body)
    assert match, body
    return match.group(1)


def request_link(client, mailbox, email: str) -> str:
    response = client.post("/recuperar", data={"email": email})
    assert response.status_code == 302
    return reset_link(mailbox, email)


def test_reset_by_email_link(client, auth, make_user, mailbox):
    user = make_user(full_name="Ana Tapia")
    path = request_link(client, mailbox, user.email)
    message = mailbox.last_to(user.email)
    assert message["Subject"] == "Restablece tu contraseña"
    assert "Hola, Ana Tapia" in message.get_content()

    assert client.get(path).status_code == 200
    response = client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert auth.login(user.email, PASSWORD).status_code == 401
    assert auth.login(user.email, NEW_PASSWORD).status_code == 302


def test_a_used_link_cannot_be_used_again(client, make_user, mailbox):
    user = make_user()
    path = request_link(client, mailbox, user.email)
    client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    again = client.get(path)
    assert again.status_code == 400
    assert "Este enlace ya se usó" in again.text
    response = client.post(path, data={"password": "tercera frase", "password_confirm": "x"})
    assert response.status_code == 400


def test_an_expired_link_says_so(app, client, make_user, mailbox):
    user = make_user()
    path = request_link(client, mailbox, user.email)
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    try:
        response = client.get(path)
    finally:
        app.config["PASSWORD_RESET_MAX_AGE"] = 7200
    assert response.status_code == 400
    assert "El enlace venció" in response.text


def test_a_forged_or_damaged_link_is_refused(app, client, make_user):
    user = make_user()
    forged = URLSafeTimedSerializer("another-secret", salt=services.RESET_SALT).dumps(
        {"u": user.id, "f": "x"}
    )
    for token in (forged, "nonsense", "a" * 300):
        response = client.get(f"/recuperar/{token}")
        assert response.status_code == 400
        assert "El enlace no es válido" in response.text


def test_unknown_and_known_emails_get_the_same_answer(client, make_user, mailbox):
    user = make_user()
    known = client.post("/recuperar", data={"email": user.email}, follow_redirects=True)
    unknown = client.post("/recuperar", data={"email": "nadie@muni.cl"}, follow_redirects=True)
    assert known.text.replace(user.email, "") == unknown.text.replace("nadie@muni.cl", "")
    assert [m["To"] for m in mailbox.messages] == [user.email]


def test_no_mail_for_a_deactivated_account(client, make_user, mailbox):
    user = make_user(active=False)
    client.post("/recuperar", data={"email": user.email})
    assert mailbox.messages == []


def test_weak_new_password_is_refused_and_link_stays_valid(client, make_user, mailbox):
    user = make_user()
    path = request_link(client, mailbox, user.email)
    response = client.post(path, data={"password": "corta", "password_confirm": "corta"})
    assert response.status_code == 422
    assert "al menos 10 caracteres" in response.text
    assert client.get(path).status_code == 200


def test_message_ids_carry_the_senders_domain(app, monkeypatch):
    from academy.mail import build_message

    sender = "Academia <no-responder@academia.subdere.cl>"
    monkeypatch.setitem(app.config, "MAIL_DEFAULT_SENDER", sender)
    with app.test_request_context():
        ana = SimpleNamespace(full_name="Ana")
        message = build_message(
            "a@muni.cl", "Prueba", "reset_password", user=ana, link="x", hours=2
        )
    assert message["Message-ID"].endswith("@academia.subdere.cl>")
