"""The audit log knows quiz publication (quiz.published), as it knows course and lesson
publication.

Revision ID: f2be9251d39c
Revises: f3c9a1e7b5d4
Create Date: 2026-12-05 00:47:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f2be9251d39c"
down_revision = "f3c9a1e7b5d4"
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
ACTIONS_AFTER = (*ACTIONS_BEFORE, "quiz.published")


def _audit_actions(actions: tuple[str, ...]) -> None:
    """Widen (or narrow) the audit log's list of known actions."""
    listed = ", ".join(f"'{action}'" for action in actions)
    if op.get_bind().dialect.name == "postgresql":
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
    _audit_actions(ACTIONS_AFTER)


def downgrade():
    # The log is append-only, even for a downgrade: quiz publications stay, and the narrower
    # list of actions comes back only when none was recorded.
    recorded = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM audit_events WHERE action = 'quiz.published'")
    )
    if not recorded:
        _audit_actions(ACTIONS_BEFORE)
