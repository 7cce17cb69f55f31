"""Cohorts as runs of a course: dates, open or closed, archived; the trainers who follow each;
and the audit actions for them.

Revision ID: f3c9a1e7b5d4
Revises: e5a1c7d9b3f2
Create Date: 2026-12-05 00:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f3c9a1e7b5d4"
down_revision = "e5a1c7d9b3f2"
branch_labels = None
depends_on = None

# The audit actions before and after this revision (frozen here: the model's list may grow).
ACTIONS_BEFORE = (
    "auth.sign_in_failed",
    "person.created",
    "person.role_changed",
    "person.deactivated",
    "person.reactivated",
    "people.imported",
    "course.published",
    "lesson.published",
    "enrolment.created",
    "certificate.issued",
    "certificate.revoked",
    "certificate.reissued",
    "certificate.downloaded",
    "data.exported",
)
ACTIONS_AFTER = (
    *ACTIONS_BEFORE,
    "cohort.created",
    "cohort.renamed",
    "cohort.closed",
    "cohort.reopened",
    "cohort.archived",
    "cohort.restored",
    "cohort.trainer_added",
    "cohort.trainer_removed",
    "cohort.joined",
)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _audit_actions(actions: tuple[str, ...]) -> None:
    """Widen (or narrow) the audit log's list of known actions."""
    listed = ", ".join(f"'{action}'" for action in actions)
    if _postgresql():
        op.drop_constraint(op.f("ck_audit_events_action_known"), "audit_events", type_="check")
        op.create_check_constraint(
            op.f("ck_audit_events_action_known"), "audit_events", f"action IN ({listed})"
        )
        return
    # SQLite cannot alter a CHECK constraint: the table is copied with the new one. Nothing
    # references audit_events, so the copy loses nothing, but its append-only triggers go with
    # the old table and are made again.
    for action in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS audit_events_no_{action}")
    with op.batch_alter_table("audit_events", recreate="always") as batch_op:
        batch_op.drop_constraint(op.f("ck_audit_events_action_known"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_audit_events_action_known"), f"action IN ({listed})"
        )
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_events_no_{action.lower()} BEFORE {action}"
            " ON audit_events BEGIN"
            " SELECT RAISE(ABORT, 'audit_events is append-only'); END"
        )


def upgrade():
    # Plain ADD COLUMN, never batch mode on cohorts: on SQLite batch mode copies and drops the
    # table, and dropping it would set every enrolment's (and certificate batch's) cohort to
    # NULL. For the same reason SQLite gets no table CHECK constraints here (the services keep
    # status and dates valid there); PostgreSQL gets them.
    op.add_column("cohorts", sa.Column("starts_on", sa.Date(), nullable=True))
    op.add_column("cohorts", sa.Column("ends_on", sa.Date(), nullable=True))
    op.add_column(
        "cohorts",
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
    )
    op.add_column("cohorts", sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    if _postgresql():
        op.create_check_constraint(
            op.f("ck_cohorts_status_known"), "cohorts", "status IN ('open', 'closed')"
        )
        op.create_check_constraint(
            op.f("ck_cohorts_dates_in_order"),
            "cohorts",
            "ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on",
        )

    op.create_table(
        "cohort_trainers",
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_cohort_trainers_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_cohort_trainers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("cohort_id", "user_id", name=op.f("pk_cohort_trainers")),
    )
    op.create_index(
        op.f("ix_cohort_trainers_user_id"), "cohort_trainers", ["user_id"], unique=False
    )
    _audit_actions(ACTIONS_AFTER)


def downgrade():
    # The log is append-only, even for a downgrade: cohort events stay, and the narrower list
    # of actions comes back only when none was recorded.
    recorded = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM audit_events WHERE action LIKE 'cohort.%'")
    )
    if not recorded:
        _audit_actions(ACTIONS_BEFORE)
    op.drop_index(op.f("ix_cohort_trainers_user_id"), table_name="cohort_trainers")
    op.drop_table("cohort_trainers")
    if _postgresql():
        op.drop_constraint(op.f("ck_cohorts_dates_in_order"), "cohorts", type_="check")
        op.drop_constraint(op.f("ck_cohorts_status_known"), "cohorts", type_="check")
    # ALTER TABLE DROP COLUMN (SQLite 3.35+): no copy of the table, no cascade.
    op.drop_column("cohorts", "archived_at")
    op.drop_column("cohorts", "status")
    op.drop_column("cohorts", "ends_on")
    op.drop_column("cohorts", "starts_on")
