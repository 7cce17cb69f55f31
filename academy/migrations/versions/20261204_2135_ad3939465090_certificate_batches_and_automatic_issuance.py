"""Certificate batches issued in the background, and courses that issue automatically.

Revision ID: ad3939465090
Revises: 9e4b7c1d2a55
Create Date: 2026-12-04 21:35:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "ad3939465090"
down_revision = "9e4b7c1d2a55"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "certificate_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_ids", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done')",
            name=op.f("ck_certificate_batches_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_certificate_batches_cohort_id_cohorts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_certificate_batches_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_certificate_batches_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_batches")),
    )
    with op.batch_alter_table("certificate_batches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certificate_batches_course_id"), ["course_id"], unique=False
        )

    # A plain ADD COLUMN, not batch mode: on SQLite batch mode copies and drops the courses
    # table, and dropping it would cascade to every enrolment.
    op.add_column(
        "courses",
        sa.Column("certificate_automatic", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade():
    # ALTER TABLE DROP COLUMN (SQLite 3.35+): no copy of the table, no cascade.
    op.drop_column("courses", "certificate_automatic")

    with op.batch_alter_table("certificate_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_batches_course_id"))

    op.drop_table("certificate_batches")
