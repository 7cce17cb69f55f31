"""``academy backup DIR``: a consistent copy of what a host would need to serve again.

With the embedded SQLite database that is the database, copied with SQLite's online backup API
through a connection (a file copy taken while a request writes may be torn; the API copies a
consistent snapshot while the site keeps serving), and what the instance folder holds beside
it: ``config.py`` (the instance's settings), ``secret_key`` (the generated secret: without
it every session and every emailed link signed before the backup stops working) and the
generated certificate signing pair in ``certificados/``. The backup therefore holds secrets and
is written readable by its owner only.

Not copied: the ``-wal`` and ``-shm`` files (the snapshot already contains what they held),
``queue.db`` (jobs waiting: a restored host must not run them twice; certificate batches resume
from their state in the database), other files an operator keeps in the folder, the code and
the virtual environment (reinstalled from the release). PostgreSQL is backed up with its own
tools: the command prints the steps.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import text
from sqlalchemy.engine import make_url

from academy.certificates import signing
from academy.extensions import db

DATABASE_FILE = "academy.db"
# What the instance folder holds that another host needs, copied when present: its settings,
# the generated secret key, and the generated certificate signing pair (certificates already
# issued carry its signature; a restored host must go on signing with the same key).
INSTANCE_FILES = (
    "config.py",
    "secret_key",
    f"{signing.DEVELOPMENT_DIR}/{signing.KEY_FILE}",
    f"{signing.DEVELOPMENT_DIR}/{signing.CERT_FILE}",
)
MANIFEST = "backup.json"


def backup_sqlite(target: Path) -> list[str]:
    """Write the database and the instance files into ``target`` (a new folder); their names."""
    target.mkdir(mode=0o700, parents=True)
    database = target / DATABASE_FILE
    with db.engine.connect() as connection:
        source = connection.connection.dbapi_connection
        assert isinstance(source, sqlite3.Connection)
        destination = sqlite3.connect(database)
        try:
            source.backup(destination)
            (verdict,) = destination.execute("PRAGMA integrity_check").fetchone()
            destination.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            destination.close()
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        connection.rollback()
    if verdict != "ok":
        raise click.ClickException(f"the copy fails SQLite's integrity check: {verdict}")
    database.chmod(0o600)
    written = [DATABASE_FILE]
    instance = Path(current_app.instance_path)
    for name in INSTANCE_FILES:
        if (instance / name).is_file():
            (target / name).parent.mkdir(mode=0o700, exist_ok=True)
            shutil.copyfile(instance / name, target / name)
            (target / name).chmod(0o600)
            written.append(name)
    manifest = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "schema_revision": revision,
        "files": written,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return written


def postgresql_steps(url: str, folder: Path) -> str:
    """The pg_dump / pg_restore commands for this database (its password left out)."""
    parsed = make_url(url)
    options = " ".join(
        option
        for option in (
            f"-h {parsed.host}" if parsed.host else "",
            f"-p {parsed.port}" if parsed.port else "",
            f"-U {parsed.username}" if parsed.username else "",
        )
        if option
    )
    dump = folder / f"{parsed.database}-$(date -u +%Y%m%d-%H%M%S).dump"
    return (
        "academy: the database is PostgreSQL; back it up with its own tools "
        "(docs/operations.md, «Backups»):\n"
        f"  pg_dump {options} --format=custom --file={dump} {parsed.database}\n"
        "and restore into an empty database created for it:\n"
        f"  pg_restore {options} --no-owner --exit-on-error --dbname=NEW_DATABASE FILE.dump\n"
        "The secret key and the settings live in the service's environment file: keep a copy "
        "of it with the backups, as secret as they are."
    )


@click.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(directory: Path) -> None:
    """Back up the SQLite database and the instance files into DIRECTORY/academy-<time>/."""
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("sqlite"):
        click.echo(postgresql_steps(url, directory), err=True)
        sys.exit(1)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    target = directory / f"academy-{stamp}"
    if target.exists():
        raise click.ClickException(f"{target} already exists; run it again in a second.")
    directory.mkdir(parents=True, exist_ok=True)
    try:
        files = backup_sqlite(target)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)  # never leave half a backup that looks whole
        raise
    click.echo(f"Copia en {target}: {', '.join(files)}.")
