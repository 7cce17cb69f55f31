"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from academy import create_app
from academy.extensions import db
from tests.conftest import BACKENDS, separate_database, test_config

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


@pytest.mark.parametrize("backend", BACKENDS)
def test_blank_ruts_become_null_and_nothing_else_is_lost(backend, smtp_server, tmp_path_factory):
    # SQLite adds the constraint by rebuilding the users table: with foreign keys on, that
    # used to delete every enrolment of every user.
    with separate_database(backend, "rutnull", tmp_path_factory) as url:
        application = create_app(test_config(url, smtp_server[1]))
        with application.app_context():
            upgrade(revision="81cb1423fded")
            for statement in (
                "INSERT INTO users (id, email, password_hash, full_name, rut, job_title, role,"
                " active, session_version, created_at) VALUES"
                " (1, 'a@muni.cl', 'x', 'Ana', '', ' ', 'learner', true, 1, '2026-01-01'),"
                " (2, 'b@muni.cl', 'x', 'Bea', '123456785', 'Dideco', 'learner', true, 1,"
                " '2026-01-01')",
                "INSERT INTO courses (id, slug, title, summary, description_md, description_html,"
                " hours, language, outcomes, enrolment, case_completion, certificate_template,"
                " status, created_at, updated_at) VALUES (1, 'c', 'C', '', '', '', 1, 'es', '[]',"
                " 'open', 'approval', 'default', 'draft', '2026-01-01', '2026-01-01')",
                "INSERT INTO enrolments (id, user_id, course_id, enrolled_at) VALUES"
                " (1, 1, 1, '2026-01-01'), (2, 2, 1, '2026-01-01')",
            ):
                db.session.execute(text(statement))
            db.session.commit()
            upgrade()
            users = db.session.execute(text("SELECT rut, job_title FROM users ORDER BY id"))
            assert [tuple(row) for row in users] == [(None, None), ("123456785", "Dideco")]
            assert db.session.scalar(text("SELECT count(*) FROM enrolments")) == 2
            with pytest.raises(IntegrityError):
                db.session.execute(text("UPDATE users SET rut = '' WHERE id = 1"))
            db.session.rollback()
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_courses_already_automatic_count_from_the_upgrade(backend, smtp_server, tmp_path_factory):
    # The sweep of missed certificates looks only at completions since certificate_automatic_since.
    with separate_database(backend, "autosince", tmp_path_factory) as url:
        application = create_app(test_config(url, smtp_server[1]))
        with application.app_context():
            upgrade(revision="a4c8e2f6b1d3")
            db.session.execute(
                text(
                    "INSERT INTO courses (id, slug, title, summary, description_md,"
                    " description_html, hours, language, outcomes, enrolment, case_completion,"
                    " certificate_template, certificate_automatic, status, created_at, updated_at)"
                    " VALUES (1, 'a', 'A', '', '', '', 1, 'es', '[]', 'open', 'approval',"
                    " 'default', true, 'draft', '2026-01-01', '2026-01-01'),"
                    " (2, 'm', 'M', '', '', '', 1, 'es', '[]', 'open', 'approval',"
                    " 'default', false, 'draft', '2026-01-01', '2026-01-01')"
                )
            )
            db.session.commit()
            upgrade()
            since = db.session.execute(
                text("SELECT id, certificate_automatic_since FROM courses ORDER BY id")
            ).all()
            assert since[0][1] is not None and since[1][1] is None
            db.session.remove()
            db.engine.dispose()
