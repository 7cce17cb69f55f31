"""Cases: submissions and reviews; cohorts and the trainers who teach each course.

Revision ID: 81cb1423fded
Revises: c4f55fa7ccb7
Create Date: 2026-11-24 22:49:16.298673

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "81cb1423fded"
down_revision = "c4f55fa7ccb7"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "cohorts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_cohorts_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohorts")),
        sa.UniqueConstraint("course_id", "name", name=op.f("uq_cohorts_course_id_name")),
    )
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cohorts_course_id"), ["course_id"], unique=False)

    op.create_table(
        "course_trainers",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_course_trainers_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_course_trainers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("course_id", "user_id", name=op.f("pk_course_trainers")),
    )
    op.create_table(
        "case_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("responses", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("review_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("levels", sa.JSON(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=True),
        sa.Column("criterion_feedback", sa.JSON(), nullable=False),
        sa.Column("comments", sa.Text(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'in_review', 'returned', 'approved')",
            name=op.f("ck_case_submissions_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lessons.id"],
            name=op.f("fk_case_submissions_lesson_id_lessons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["users.id"],
            name=op.f("fk_case_submissions_reviewer_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["lesson_revisions.id"],
            name=op.f("fk_case_submissions_revision_id_lesson_revisions"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_case_submissions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_submissions")),
        sa.UniqueConstraint(
            "user_id",
            "lesson_id",
            "number",
            name=op.f("uq_case_submissions_user_id_lesson_id_number"),
        ),
    )
    with op.batch_alter_table("case_submissions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_submissions_lesson_id"), ["lesson_id"], unique=False
        )
        batch_op.create_index(
            "ix_case_submissions_status_submitted_at", ["status", "submitted_at"], unique=False
        )
        batch_op.create_index(
            "uq_case_submissions_one_draft",
            ["user_id", "lesson_id"],
            unique=True,
            sqlite_where=sa.text("status = 'draft'"),
            postgresql_where=sa.text("status = 'draft'"),
        )

    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cohort_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_enrolments_cohort_id"), ["cohort_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_enrolments_cohort_id_cohorts"),
            "cohorts",
            ["cohort_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_enrolments_cohort_id_cohorts"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_enrolments_cohort_id"))
        batch_op.drop_column("cohort_id")

    with op.batch_alter_table("case_submissions", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_case_submissions_one_draft",
            sqlite_where=sa.text("status = 'draft'"),
            postgresql_where=sa.text("status = 'draft'"),
        )
        batch_op.drop_index("ix_case_submissions_status_submitted_at")
        batch_op.drop_index(batch_op.f("ix_case_submissions_lesson_id"))

    op.drop_table("case_submissions")
    op.drop_table("course_trainers")
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cohorts_course_id"))

    op.drop_table("cohorts")
