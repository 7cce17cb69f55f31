"""The audit log: one append-only audit_events table for every audited action.

Certificate events move into it (their actions renamed certificate.issued, certificate.revoked,
certificate.reissued, certificate.downloaded; the certificate is the target, by id and code),
and certificate_events, with its triggers, goes. Like certificate_events, audit_events refuses
UPDATE and DELETE with a trigger on both backends. The downgrade moves certificate events back
and drops the rest of the log.

Revision ID: c81f0a2d4e6b
Revises: b7d1e3f5a902
Create Date: 2026-12-04 23:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c81f0a2d4e6b"
down_revision = "b7d1e3f5a902"
branch_labels = None
depends_on = None

# The actions as this revision knows them (frozen here: the model's list may grow later).
ACTIONS = (
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


def _append_only(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger"
            " LANGUAGE plpgsql AS $$ BEGIN"
            f" RAISE EXCEPTION '{table} is append-only'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE"
            f" ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action}"
                f" ON {table} BEGIN"
                f" SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def _drop_append_only(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")


def upgrade():
    actions = ", ".join(f"'{action}'" for action in ACTIONS)
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("target_type", sa.String(length=40), nullable=True),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("target_label", sa.String(length=254), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.CheckConstraint(f"action IN ({actions})", name=op.f("ck_audit_events_action_known")),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_audit_events_actor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_events_occurred_at"), ["occurred_at"], unique=False
        )
        batch_op.create_index("ix_audit_events_target", ["target_type", "target_id"], unique=False)

    # The certificates' history, oldest first, so the new ids keep its order.
    op.execute(
        "INSERT INTO audit_events"
        " (occurred_at, action, actor_id, actor, target_type, target_id, target_label, detail)"
        " SELECT e.at, 'certificate.' || e.action, e.actor_id, e.actor, 'certificate',"
        "  e.certificate_id, c.code, e.detail"
        " FROM certificate_events AS e JOIN certificates AS c ON c.id = e.certificate_id"
        " ORDER BY e.id"
    )
    _append_only("audit_events")

    _drop_append_only("certificate_events")
    with op.batch_alter_table("certificate_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_events_certificate_id"))
    op.drop_table("certificate_events")


def downgrade():
    op.create_table(
        "certificate_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "action IN ('issued', 'revoked', 'reissued', 'downloaded')",
            name=op.f("ck_certificate_events_action_known"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_certificate_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_certificate_events_certificate_id_certificates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_events")),
    )
    with op.batch_alter_table("certificate_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certificate_events_certificate_id"), ["certificate_id"], unique=False
        )
    op.execute(
        "INSERT INTO certificate_events (certificate_id, action, actor_id, actor, at, detail)"
        " SELECT target_id, substr(action, length('certificate.') + 1), actor_id, actor,"
        "  occurred_at, detail"
        " FROM audit_events"
        " WHERE target_type = 'certificate' AND action LIKE 'certificate.%'"
        " ORDER BY id"
    )
    _append_only("certificate_events")

    _drop_append_only("audit_events")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_target")
        batch_op.drop_index(batch_op.f("ix_audit_events_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_audit_events_actor_id"))
        batch_op.drop_index(batch_op.f("ix_audit_events_action"))
    op.drop_table("audit_events")
