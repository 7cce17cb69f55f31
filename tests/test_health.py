"""``/salud``, the load balancer's health check: 200 while the stores this host needs answer,
503 naming the one that does not; and the settings that let several hosts run side by side
(``ACADEMY_HOST_NAME``, ``ACADEMY_INSTANCE_PATH``)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade

from academy import create_app
from academy.config import ConfigError
from academy.extensions import db
from tests.conftest import free_port, need, test_config

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_is_running() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def require_redis() -> None:
    """Redis on 127.0.0.1:6379 (.ci/run starts it)."""
    need(redis_is_running(), "Redis is not answering on 127.0.0.1:6379 (start redis-server)")


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Any]:
    """An app of its own with some settings changed; its connections closed at the end."""
    made: list[Flask] = []

    def factory(database_url: str | None = None, **extra: Any) -> Flask:
        url = database_url or f"sqlite:///{tmp_path}/salud.db"
        application = create_app(test_config(url, free_port(), **extra))
        made.append(application)
        return application

    yield factory
    for application in made:
        with application.app_context():
            db.engine.dispose()


def health(application: Flask) -> Any:
    response = application.test_client().get("/salud")
    assert response.headers["Cache-Control"] == "no-store"
    return response


def test_healthy_host_answers_200_with_the_database_status(client):
    response = client.get("/salud")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}
    assert "X-Academy-Host" not in response.headers


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_database_that_does_not_answer_makes_it_503(make_app, tmp_path, backend):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path}/no-such-folder/academy.db"
    else:
        url = f"postgresql://postgres@127.0.0.1:{free_port()}/academy"
    response = health(make_app(url))
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "error"}


def test_the_rate_limit_redis_is_checked_when_configured(make_app):
    require_redis()
    response = health(make_app(RATELIMIT_STORAGE_URI=REDIS_URL))
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "ratelimit": "ok"}


def test_a_rate_limit_redis_that_does_not_answer_makes_it_503(make_app):
    down = f"redis://127.0.0.1:{free_port()}/0"
    response = health(make_app(RATELIMIT_STORAGE_URI=down))
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "ok", "ratelimit": "error"}


def test_a_job_queue_on_redis_is_checked(make_app):
    require_redis()
    response = health(make_app(QUEUE_URL="redis://127.0.0.1:6379/1", QUEUE_IMMEDIATE=False))
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "queue": "ok"}


def test_a_job_queue_redis_that_does_not_answer_makes_it_503(make_app):
    down = f"redis://127.0.0.1:{free_port()}/1"
    response = health(make_app(QUEUE_URL=down, QUEUE_IMMEDIATE=False))
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "ok", "queue": "error"}


def test_while_redis_is_down_sign_ins_are_still_limited_per_process(make_app):
    down = f"redis://127.0.0.1:{free_port()}/0"
    application = make_app(RATELIMIT_STORAGE_URI=down, LOGIN_LIMIT_PER_ACCOUNT="2 per minute")
    with application.app_context():
        upgrade()
    client = application.test_client()
    wrong = {"email": "nadie@muni.cl", "password": "no es la contraseña"}
    assert [client.post("/entrar", data=wrong).status_code for _ in range(3)] == [401, 401, 429]
    assert health(application).status_code == 503


def test_a_named_host_says_so_on_every_answer(make_app):
    client = make_app(HOST_NAME="web2").test_client()
    assert client.get("/salud").headers["X-Academy-Host"] == "web2"
    assert client.get("/entrar").headers["X-Academy-Host"] == "web2"
    assert client.get("/no-existe").headers["X-Academy-Host"] == "web2"


def test_each_host_can_have_its_own_instance_folder(tmp_path, monkeypatch):
    folder = tmp_path / "host-1"
    monkeypatch.setenv("ACADEMY_INSTANCE_PATH", str(folder))
    application = create_app(
        {"ENV": "testing", "DATABASE_URL": "sqlite:///academy.db", "SECRET_KEY": None}
    )
    assert application.instance_path == str(folder)
    # The development secret and a relative SQLite path both live there.
    assert (folder / "secret_key").read_text().strip() == application.config["SECRET_KEY"]
    with application.app_context():
        assert db.engine.url.database == str(folder / "academy.db")
        db.engine.dispose()


def test_a_relative_instance_folder_is_refused(monkeypatch):
    monkeypatch.setenv("ACADEMY_INSTANCE_PATH", "instance-2")
    with pytest.raises(ConfigError, match="ACADEMY_INSTANCE_PATH must be an absolute path"):
        create_app({"ENV": "testing"})
