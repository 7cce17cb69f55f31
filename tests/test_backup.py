"""``academy backup DIR`` and its restore: a consistent online copy of the embedded SQLite
database (taken while another connection is in the middle of a write) and of the instance
files another host would need; restored into an empty instance folder, every row is back.

To cover more kinds of data (certificates, say), make them in :func:`use_the_academy` and add
their model to ``AT_LEAST``: the comparison of every table already includes theirs.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from academy import create_app
from academy.auth.models import User
from academy.cases.models import CaseSubmission
from academy.certificates.signing import development_pair
from academy.extensions import db
from academy.quizzes.models import Attempt
from tests.conftest import POSTGRES_URL, AuthActions, Mailbox, separate_database, test_config
from tests.sample_academy import (
    CASE,
    CASE_ANSWERS,
    QUIZ,
    add_person,
    build_course,
    correct_quiz_form,
    every_row,
)

LEARNERS = ["ana@muni.cl", "beto@muni.cl", "carla@muni.cl"]
# At least this many rows of each kind, so that "every row is back" is not vacuous.
AT_LEAST = {User: 4, Attempt: 3, CaseSubmission: 2}


def signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    response = AuthActions(client).login(email)
    assert response.status_code == 302, response.text
    return client


def use_the_academy(app: Flask, scratch: Path) -> None:
    """Learners who handed in a quiz and a case, and one halfway through both."""
    with app.app_context():
        build_course(scratch)
        add_person("admin@muni.cl", "admin", enrolled=False)
        for email in LEARNERS:
            add_person(email)
    for email in LEARNERS:
        client = signed_in(app, email)
        assert client.post(QUIZ + "/intentos").status_code == 303
        with app.app_context():
            form = correct_quiz_form(email)
        finished = email != LEARNERS[-1]
        action = [("action", "submit" if finished else "save")]
        data = MultiDict(form + action)
        assert client.post(QUIZ + "/intentos/1", data=data).status_code == 303
        if finished:
            assert client.post(QUIZ + "/intentos/1/entregar").status_code == 303
        response = client.post(CASE, data={**CASE_ANSWERS, "accion": "guardar"})
        assert response.status_code == 302, response.text
        if finished:
            page = client.get(CASE + "enviar").text
            version = page.split('name="version" value="', 1)[1].split('"', 1)[0]
            assert client.post(CASE + "enviar", data={"version": version}).status_code == 302


def rows_of(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    with app.app_context(), db.engine.connect() as connection:
        rows = every_row(connection)
        for model, least in AT_LEAST.items():
            assert len(rows[model.__tablename__]) >= least, model.__tablename__
        return rows


def instance_app(folder: Path, smtp_port: int) -> Flask:
    """An app whose instance folder is ``folder``: its SQLite file, secret and config.py."""
    return create_app(
        test_config("sqlite:///academy.db", smtp_port, INSTANCE_PATH=str(folder), SECRET_KEY=None)
    )


def close(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_sqlite_backup_restored_into_an_empty_folder_has_everything(
    tmp_path: Path, smtp_server: tuple[Mailbox, int]
) -> None:
    host = tmp_path / "host"
    host.mkdir()
    (host / "config.py").write_text('CERTIFICATE_ISSUER = "Academia del respaldo"\n')
    original = instance_app(host, smtp_server[1])
    key, certificate = development_pair(host, "Academia del respaldo")
    with original.app_context():
        from flask_migrate import upgrade

        upgrade()
    use_the_academy(original, tmp_path / "content")
    before = rows_of(original)

    # Another connection is in the middle of a write: the backup neither waits for it nor
    # copies what it has not committed.
    writer = sqlite3.connect(host / "academy.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE users SET full_name = 'Sin confirmar'")
    try:
        result = original.test_cli_runner().invoke(args=["backup", str(tmp_path / "backups")])
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert result.exit_code == 0, result.output
    (folder,) = (tmp_path / "backups").iterdir()
    assert str(folder) in result.output
    manifest = json.loads((folder / "backup.json").read_text())
    assert manifest["files"] == [
        "academy.db", "config.py", "secret_key", "certificados/academia.key",
        "certificados/academia.crt",
    ]  # fmt: skip
    assert manifest["schema_revision"] == before["alembic_version"][0][0]
    assert sorted(path.name for path in folder.iterdir()) == [
        "academy.db", "backup.json", "certificados", "config.py", "secret_key"
    ]  # fmt: skip
    for name in manifest["files"]:  # it holds the secret key: its owner's eyes only
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700

    # Restore, as docs/operations.md says: the files into an empty instance folder.
    empty = tmp_path / "other-host"
    empty.mkdir()
    (empty / "certificados").mkdir()
    for name in manifest["files"]:
        shutil.copy2(folder / name, empty / name)
    restored = instance_app(empty, smtp_server[1])
    try:
        assert restored.config["SECRET_KEY"] == original.config["SECRET_KEY"]
        assert restored.config["CERTIFICATE_ISSUER"] == "Academia del respaldo"
        # Certificates go on being signed with the same key.
        again = empty / "certificados"
        assert (again / "academia.key").read_bytes() == key.read_bytes()
        assert (again / "academia.crt").read_bytes() == certificate.read_bytes()
        after = rows_of(restored)
        assert after == before
        assert not any("Sin confirmar" in str(row) for row in after["users"])
        # The restored academy serves: a learner signs in and finds the course.
        page = signed_in(restored, LEARNERS[0]).get("/mis-cursos")
        assert page.status_code == 200 and "curso-ejemplo" in page.text
    finally:
        close(original)
        close(restored)


def test_backup_refuses_postgresql_and_prints_the_pg_dump_steps(tmp_path: Path) -> None:
    app = create_app(test_config("postgresql://academia@db.example.cl:5433/academia", 25))
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "copias")])
    assert result.exit_code == 1
    assert "pg_dump -h db.example.cl -p 5433 -U academia --format=custom" in result.output
    assert "pg_restore -h db.example.cl -p 5433 -U academia --no-owner" in result.output
    assert not (tmp_path / "copias").exists()


@pytest.mark.skipif(not POSTGRES_URL, reason="needs ACADEMY_TEST_DATABASE_URL (PostgreSQL)")
def test_a_postgresql_dump_restored_with_pg_restore_has_everything(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    smtp_server: tuple[Mailbox, int],
) -> None:
    """The steps docs/operations.md gives: pg_dump --format=custom, then pg_restore into an
    empty database."""
    pg_dump, pg_restore = shutil.which("pg_dump"), shutil.which("pg_restore")
    if not pg_dump or not pg_restore:
        pytest.fail("pg_dump and pg_restore are missing: install postgresql-client", False)
    with (
        separate_database("postgresql", "backup", tmp_path_factory) as url,
        separate_database("postgresql", "restored", tmp_path_factory) as empty_url,
    ):
        original = create_app(test_config(url, smtp_server[1]))
        with original.app_context():
            from flask_migrate import upgrade

            upgrade()
        use_the_academy(original, tmp_path / "content")
        before = rows_of(original)
        dump = tmp_path / "academy.dump"
        subprocess.run([pg_dump, "--format=custom", f"--file={dump}", "--dbname", url], check=True)
        subprocess.run(
            [pg_restore, "--no-owner", "--exit-on-error", "--dbname", empty_url, str(dump)],
            check=True,
        )
        restored = create_app(test_config(empty_url, smtp_server[1]))
        try:
            assert rows_of(restored) == before
        finally:
            close(original)
            close(restored)
