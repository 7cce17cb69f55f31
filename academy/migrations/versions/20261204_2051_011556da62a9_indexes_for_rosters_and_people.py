"""Indexes for what lists filter and sort on: the roster, a trainer's courses, people by name.

- lesson_progress (course_id, status): the roster reads one course's completed lessons; the
  table's other indexes start with the learner or the lesson.
- course_trainers (user_id): the courses a trainer teaches; the key starts with the course.
- users (full_name, id): people are listed by name a page at a time.

Plain CREATE INDEX on both databases: no table is rebuilt (see docs/decisions.md).

Revision ID: 011556da62a9
Revises: 286ed7211f14
Create Date: 2026-12-04 20:51:34

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "011556da62a9"
down_revision = "286ed7211f14"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_lesson_progress_course_id_status", "lesson_progress", ["course_id", "status"]
    )
    op.create_index("ix_course_trainers_user_id", "course_trainers", ["user_id"])
    op.create_index("ix_users_full_name_id", "users", ["full_name", "id"])


def downgrade():
    op.drop_index("ix_users_full_name_id", table_name="users")
    op.drop_index("ix_course_trainers_user_id", table_name="course_trainers")
    op.drop_index("ix_lesson_progress_course_id_status", table_name="lesson_progress")
