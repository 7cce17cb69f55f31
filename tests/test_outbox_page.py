"""The admins' page of mail that could not be sent (academy/people/outbox_views.py)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from huey.storage import MemoryStorage
from sqlalchemy import select

from academy import jobs, mail, outbox
from academy.db import utcnow
from academy.extensions import db
from academy.outbox import OutgoingMail
from tests.conftest import PASSWORD
from tests.test_outbox import Unreachable, a_queue_in_another_process

PAGE = "/admin/correo-no-enviado/"
RETRY = "/admin/correo-no-enviado/reintentar"
BODY = "http://academia.test/recuperar/token-secreto"


@pytest.fixture
def letters(app, query):
    """One message in each state: failed, waiting too long, waiting a moment, sent."""

    def setup():
        text = mail.build_message(
            "a@muni.cl", "Asunto", "reset_password", user=None, link=BODY, hours=2
        ).as_string()
        long_ago = utcnow() - outbox.STALE - timedelta(minutes=1)
        db.session.add_all([
            OutgoingMail(recipient="fallo@muni.cl", subject="Recupera tu contraseña",
                         message=text, status="failed", attempts=3, last_attempt_at=long_ago,
                         error="ConnectionRefusedError: no SMTP",
                         created_at=long_ago - timedelta(minutes=5)),
            OutgoingMail(recipient="atrasado@muni.cl", subject="Bienvenida", message=text,
                         status="queued", created_at=long_ago),
            OutgoingMail(recipient="reciente@muni.cl", subject="Recién", message=text,
                         status="queued"),
            OutgoingMail(recipient="enviado@muni.cl", subject="Ya salió", message=None,
                         status="sent", attempts=1, last_attempt_at=long_ago,
                         sent_at=long_ago, created_at=long_ago),
        ])  # fmt: skip
        db.session.commit()

    query(setup)


def statuses(query):
    rows = query(lambda: db.session.scalars(select(OutgoingMail)).all())
    return {row.recipient: row.status for row in rows}


@pytest.mark.usefixtures("letters")
def test_the_page_lists_failed_and_late_mail_without_bodies(client, auth, make_user):
    auth.as_role(make_user, "admin")
    response = client.get(PAGE)
    assert response.status_code == 200
    text = response.text
    assert "Correo no enviado" in text and "Reintentar ahora" in text
    assert "fallo@muni.cl" in text and "Recupera tu contraseña" in text
    assert "No se pudo enviar" in text and "ConnectionRefusedError: no SMTP" in text
    assert "atrasado@muni.cl" in text and "En espera" in text
    assert "reciente@muni.cl" not in text  # waiting only a moment
    assert "enviado@muni.cl" not in text
    assert BODY not in text and "token-secreto" not in text
    assert "2 correos" in text
    # Newest first: the late one was written after the failed one.
    assert text.index("atrasado@muni.cl") < text.index("fallo@muni.cl")
    assert 'href="/admin/correo-no-enviado/"' in text  # in the admin menu


def test_an_empty_list_says_so(client, auth, make_user):
    auth.as_role(make_user, "admin")
    assert "no hay nada pendiente" in client.get(PAGE).text


@pytest.mark.usefixtures("letters")
def test_retry_now_sends_the_waiting_mail(client, auth, make_user, query, mailbox):
    auth.as_role(make_user, "admin")
    response = client.post(RETRY, follow_redirects=True)
    assert response.status_code == 200
    assert "Pedimos reintentar el envío del correo pendiente" in response.text
    assert statuses(query) == {
        "fallo@muni.cl": "sent",
        "atrasado@muni.cl": "sent",
        "reciente@muni.cl": "sent",
        "enviado@muni.cl": "sent",
    }
    assert "no hay nada pendiente" in response.text


@pytest.mark.usefixtures("letters")
def test_retry_now_is_left_to_the_worker(app, client, auth, make_user, monkeypatch, query):
    auth.as_role(make_user, "admin")
    a_queue_in_another_process(app, monkeypatch, MemoryStorage(jobs.QUEUE_NAME))
    assert client.post(RETRY).status_code == 303
    assert statuses(query)["fallo@muni.cl"] == "failed"  # nothing sent in the request
    assert query(lambda: len(jobs.queue)) == 1


def test_retry_now_with_the_queue_down_says_so(app, client, auth, make_user, monkeypatch):
    auth.as_role(make_user, "admin")
    a_queue_in_another_process(app, monkeypatch, Unreachable(jobs.QUEUE_NAME))
    response = client.post(RETRY, follow_redirects=True)
    assert response.status_code == 200
    assert "No pudimos pedir el reintento ahora" in response.text


@pytest.mark.usefixtures("letters")
def test_retry_now_needs_the_csrf_token(app, make_user, query, mailbox):
    admin = make_user("admin")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = app.test_client()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                          client.get("/entrar").text).group(1)  # fmt: skip
        client.post("/entrar", data={"email": admin.email, "password": PASSWORD,
                                     "csrf_token": token})  # fmt: skip
        assert client.post(RETRY).status_code == 400
        assert statuses(query)["fallo@muni.cl"] == "failed"
        page = client.get(PAGE).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        assert client.post(RETRY, data={"csrf_token": token}).status_code == 303
        assert statuses(query)["fallo@muni.cl"] == "sent"
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


@pytest.mark.parametrize("role", ["learner", "trainer"])
def test_only_admins_see_it(client, auth, make_user, role):
    auth.as_role(make_user, role)
    assert client.get(PAGE).status_code == 403
    assert client.post(RETRY).status_code == 403
    assert "Correo no enviado" not in client.get("/").text
