"""Quizzes: their revisions, learners' attempts and saved answers.

Revision ID: c4f55fa7ccb7
Revises: 245682015e1d
Create Date: 2026-11-24 22:44:41.433988

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c4f55fa7ccb7"
down_revision = "245682015e1d"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "quizzes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("published_revision_id", sa.Integer(), nullable=True),
        sa.Column("imported_revision_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quizzes")),
        sa.UniqueConstraint("slug", name=op.f("uq_quizzes_slug")),
    )
    op.create_table(
        "quiz_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("source_md", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_quiz_revisions_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["quiz_id"],
            ["quizzes.id"],
            name=op.f("fk_quiz_revisions_quiz_id_quizzes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_revisions")),
        sa.UniqueConstraint("quiz_id", "number", name=op.f("uq_quiz_revisions_quiz_id_number")),
    )
    with op.batch_alter_table("quiz_revisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quiz_revisions_quiz_id"), ["quiz_id"], unique=False)

    # quizzes and quiz_revisions point at each other: the quiz's two pointers come last.
    with op.batch_alter_table("quizzes", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_quizzes_imported_revision_id_quiz_revisions"),
            "quiz_revisions",
            ["imported_revision_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_quizzes_published_revision_id_quiz_revisions"),
            "quiz_revisions",
            ["published_revision_id"],
            ["id"],
            ondelete="SET NULL",
        )

    op.create_table(
        "quiz_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("layout", sa.JSON(), nullable=False),
        sa.Column("score", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("max_score", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("percent", sa.Numeric(precision=7, scale=3), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.CheckConstraint(
            "status IN ('in_progress', 'submitted', 'expired')",
            name=op.f("ck_quiz_attempts_status_known"),
        ),
        sa.CheckConstraint("number >= 1", name=op.f("ck_quiz_attempts_number_positive")),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lessons.id"],
            name=op.f("fk_quiz_attempts_lesson_id_lessons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["quiz_revisions.id"],
            name=op.f("fk_quiz_attempts_revision_id_quiz_revisions"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_quiz_attempts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_attempts")),
        sa.UniqueConstraint(
            "user_id", "lesson_id", "number", name=op.f("uq_quiz_attempts_user_id_lesson_id_number")
        ),
    )
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quiz_attempts_lesson_id"), ["lesson_id"], unique=False)
        batch_op.create_index(
            "uq_quiz_attempts_one_open",
            ["user_id", "lesson_id"],
            unique=True,
            sqlite_where=sa.text("status = 'in_progress'"),
            postgresql_where=sa.text("status = 'in_progress'"),
        )

    op.create_table(
        "quiz_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("question_key", sa.String(length=120), nullable=False),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("score", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["quiz_attempts.id"],
            name=op.f("fk_quiz_answers_attempt_id_quiz_attempts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_answers")),
        sa.UniqueConstraint(
            "attempt_id", "question_key", name=op.f("uq_quiz_answers_attempt_id_question_key")
        ),
    )
    with op.batch_alter_table("quiz_answers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quiz_answers_attempt_id"), ["attempt_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("quizzes", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_quizzes_published_revision_id_quiz_revisions"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_quizzes_imported_revision_id_quiz_revisions"), type_="foreignkey"
        )
    with op.batch_alter_table("quiz_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quiz_answers_attempt_id"))

    op.drop_table("quiz_answers")
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_quiz_attempts_one_open",
            sqlite_where=sa.text("status = 'in_progress'"),
            postgresql_where=sa.text("status = 'in_progress'"),
        )
        batch_op.drop_index(batch_op.f("ix_quiz_attempts_lesson_id"))

    op.drop_table("quiz_attempts")
    with op.batch_alter_table("quiz_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quiz_revisions_quiz_id"))

    op.drop_table("quiz_revisions")
    op.drop_table("quizzes")
