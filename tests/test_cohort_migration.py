"""The migration that makes cohorts runs of a course keeps every enrolment in its cohort."""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from academy import create_app
from academy.extensions import db
from tests.conftest import BACKENDS, separate_database, test_config

BEFORE = "e5a1c7d9b3f2"
COHORTS = "f3c9a1e7b5d4"


@pytest.mark.parametrize("backend", BACKENDS)
def test_cohorts_gain_dates_status_and_trainers_and_keep_their_learners(
    backend, smtp_server, tmp_path_factory
):
    with separate_database(backend, "cohortrun", tmp_path_factory) as url:
        application = create_app(test_config(url, smtp_server[1]))
        with application.app_context():
            upgrade(revision=BEFORE)
            for statement in (
                "INSERT INTO users (id, email, password_hash, full_name, role, active,"
                " session_version, created_at) VALUES"
                " (1, 'a@muni.cl', 'x', 'Ana', 'learner', true, 1, '2026-01-01'),"
                " (2, 'r@muni.cl', 'x', 'Rita', 'trainer', true, 1, '2026-01-01')",
                "INSERT INTO courses (id, slug, title, summary, description_md, description_html,"
                " hours, language, outcomes, enrolment, case_completion, certificate_template,"
                " status, created_at, updated_at) VALUES (1, 'c', 'C', '', '', '', 1, 'es', '[]',"
                " 'open', 'approval', 'default', 'draft', '2026-01-01', '2026-01-01')",
                "INSERT INTO cohorts (id, course_id, name, created_at) VALUES"
                " (1, 1, 'Marzo', '2026-01-01')",
                "INSERT INTO enrolments (id, user_id, course_id, enrolled_at, cohort_id) VALUES"
                " (1, 1, 1, '2026-01-01', 1)",
                "INSERT INTO audit_events (occurred_at, action, actor, detail) VALUES"
                " ('2026-01-01', 'enrolment.created', 'a@muni.cl', '{}')",
            ):
                db.session.execute(text(statement))
            db.session.commit()

            upgrade(revision=COHORTS)
            assert db.session.scalar(text("SELECT cohort_id FROM enrolments")) == 1
            row = db.session.execute(
                text("SELECT name, status, starts_on, ends_on, archived_at FROM cohorts")
            ).one()
            assert tuple(row) == ("Marzo", "open", None, None, None)
            assert db.session.scalar(text("SELECT count(*) FROM audit_events")) == 1
            db.session.execute(
                text(
                    "INSERT INTO cohort_trainers (cohort_id, user_id, added_at)"
                    " VALUES (1, 2, '2026-01-02')"
                )
            )
            db.session.execute(
                text(
                    "INSERT INTO audit_events (occurred_at, action, actor, detail) VALUES"
                    " ('2026-01-02', 'cohort.trainer_added', 'x@muni.cl', '{}')"
                )
            )
            db.session.commit()
            # The widened log is still append-only, and still refuses unknown actions.
            with pytest.raises(DBAPIError):
                db.session.execute(text("DELETE FROM audit_events"))
            db.session.rollback()
            with pytest.raises(IntegrityError):
                db.session.execute(
                    text(
                        "INSERT INTO audit_events (occurred_at, action, actor, detail) VALUES"
                        " ('2026-01-02', 'cohort.deleted', 'x@muni.cl', '{}')"
                    )
                )
            db.session.rollback()

            # Down again: the columns and the link table go, the learners stay in the cohort,
            # and the log keeps the cohort event it recorded.
            downgrade(revision=BEFORE)
            assert db.session.scalar(text("SELECT cohort_id FROM enrolments")) == 1
            assert db.session.scalar(text("SELECT count(*) FROM audit_events")) == 2
            db.session.remove()
            db.engine.dispose()
