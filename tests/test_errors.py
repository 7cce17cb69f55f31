"""Error pages: in the user's language, HTML or JSON, never a bare traceback."""

from __future__ import annotations

import pytest
from flask import abort

from academy import create_app
from tests.conftest import test_config


@pytest.fixture(scope="module")
def failing_app(tmp_path_factory, smtp_server):
    db_path = tmp_path_factory.mktemp("errors") / "e.db"
    app = create_app(test_config(f"sqlite:///{db_path}", smtp_server[1]))

    @app.get("/boom")
    def boom():
        raise RuntimeError("kaput")

    @app.get("/abort/<int:code>")
    def abort_with(code):
        abort(code)

    return app


@pytest.mark.parametrize(
    ("code", "spanish", "english"),
    [
        (400, "Solicitud no válida", "Invalid request"),
        (403, "Acceso no permitido", "Access not allowed"),
        (404, "Página no encontrada", "Page not found"),
        (413, "Envío demasiado grande", "Submission too large"),
        (429, "Demasiados intentos", "Too many attempts"),
    ],
)
def test_error_pages_in_both_languages(failing_app, code, spanish, english):
    client = failing_app.test_client()
    response = client.get(f"/abort/{code}")
    assert response.status_code == code
    assert spanish in response.text
    assert 'href="/"' in response.text  # a way back
    response = client.get(f"/abort/{code}", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert english in response.text


def test_server_error_page(failing_app):
    failing_app.config["PROPAGATE_EXCEPTIONS"] = False
    response = failing_app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Error del servidor" in response.text
    assert "kaput" not in response.text


def test_json_errors_for_clients_that_ask_for_json(failing_app):
    client = failing_app.test_client()
    response = client.get("/no-existe", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json["error"]["code"] == 404
    assert response.json["error"]["title"] == "Página no encontrada"
    failing_app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/boom", headers={"Accept": "application/json"})
    assert response.status_code == 500
    assert response.json["error"]["code"] == 500


def test_method_not_allowed_names_the_allowed_methods(client):
    response = client.delete("/entrar")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_oversized_request_is_a_clear_413(client):
    response = client.post("/entrar", data={"email": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    assert "supera el tamaño permitido" in response.text
