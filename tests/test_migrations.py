"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

import re
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from academy.extensions import db

VERSIONS = Path(__file__).resolve().parents[1] / "academy/migrations/versions"


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], "run `academy db migrate -m '...'` and review the new migration"


def test_migration_files_are_dated():
    names = [p.name for p in VERSIONS.glob("*.py")]
    assert names
    for name in names:
        assert re.match(r"^\d{8}_\d{4}_[0-9a-f]+_\w+\.py$", name), name
