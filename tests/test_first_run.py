"""The first run: the account ``academy init`` creates can sign in, and every form and command
that takes an email address accepts the same ones (``academy.auth.emails``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from academy.auth import services
from academy.auth.models import User
from academy.extensions import db
from tests.conftest import PASSWORD


@pytest.fixture
def no_bundled_content(app: Flask, tmp_path: Path) -> Iterator[None]:
    """init without the bundled course (imported elsewhere): only the admin matters here."""
    before = app.config["CONTENT_DIR"]
    app.config["CONTENT_DIR"] = str(tmp_path)
    yield
    app.config["CONTENT_DIR"] = before


def printed(output: str, label: str) -> str:
    found = re.search(rf"{label}:\s+(\S+)", output)
    assert found, output
    return found.group(1)


@pytest.mark.usefixtures("no_bundled_content")
def test_the_admin_init_prints_signs_in_with_what_it_printed(runner, client, query):
    result = runner.invoke(args=["init"])
    assert result.exit_code == 0, result.output
    email, password = printed(result.output, "correo"), printed(result.output, "contraseña")
    assert email == "admin@academia.localhost"

    response = client.post("/entrar", data={"email": email, "password": password})
    assert response.status_code == 302, response.text
    assert client.get("/perfil").status_code == 200
    assert query(lambda: services.find_by_email(email)).role == "admin"


@pytest.mark.usefixtures("no_bundled_content")
def test_init_refuses_an_admin_email_no_form_would_accept(runner, query):
    for address in ("admin", "admin@academia.invalid", "admin@academia.test"):
        result = runner.invoke(args=["init", "--admin-email", address])
        assert result.exit_code != 0, result.output
        assert "--admin-email" in result.output
    assert query(lambda: db.session.scalar(select(func.count(User.id)))) == 0


ACCEPTED = ["ana@muni.cl", "Ana@Academia.Localhost", "relatora@sede.academia.localhost"]
REFUSED = ["ana", "ana@localhost", "ana@muni.invalid", "ana@muni.test", "ana@muni.local"]


@pytest.mark.parametrize("address", ACCEPTED + REFUSED)
def test_forms_and_commands_accept_the_same_addresses(address, runner, client):
    accepted = address in ACCEPTED
    refusal = "Escribe un correo válido"
    created = runner.invoke(
        args=["users", "create", "--email", address, "--name", "Ana Soto", "--generate-password"]
    )
    assert (created.exit_code == 0) is accepted, created.output

    registered = client.post(
        "/registro",
        data={
            "email": address,
            "full_name": "Ana Soto",
            "comuna": "13101",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    assert (refusal in registered.text) is not accepted

    password = printed(created.output, "Contraseña") if accepted else PASSWORD
    signed_in = client.post("/entrar", data={"email": address, "password": password})
    if accepted:  # as typed, whatever its case: the form normalises it as the command did
        assert signed_in.status_code == 302, signed_in.text
    else:
        assert refusal in signed_in.text
