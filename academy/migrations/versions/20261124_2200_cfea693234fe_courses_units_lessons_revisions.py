"""Courses: units, lessons, lesson revisions and the images lessons show.

Revision ID: cfea693234fe
Revises: dd6f9a19089d
Create Date: 2026-11-24 22:00:31.532439

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "cfea693234fe"
down_revision = "dd6f9a19089d"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "courses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("description_md", sa.Text(), nullable=False),
        sa.Column("description_html", sa.Text(), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("outcomes", sa.JSON(), nullable=False),
        sa.Column("enrolment", sa.String(length=16), nullable=False),
        sa.Column("case_completion", sa.String(length=16), nullable=False),
        sa.Column("certificate_template", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "case_completion IN ('approval', 'submission')", name=op.f("ck_courses_case_known")
        ),
        sa.CheckConstraint(
            "enrolment IN ('open', 'invitation')", name=op.f("ck_courses_enrolment_known")
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'archived')", name=op.f("ck_courses_status_known")
        ),
        sa.CheckConstraint("hours > 0", name=op.f("ck_courses_hours_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
        sa.UniqueConstraint("slug", name=op.f("uq_courses_slug")),
    )
    op.create_table(
        "course_assets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("mime", sa.String(length=40), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_course_assets_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["users.id"],
            name=op.f("fk_course_assets_uploaded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_assets")),
        sa.UniqueConstraint("course_id", "path", name=op.f("uq_course_assets_course_id_path")),
    )
    with op.batch_alter_table("course_assets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_course_assets_course_id"), ["course_id"], unique=False)

    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary_md", sa.Text(), nullable=False),
        sa.Column("summary_html", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_units_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("course_id", "slug", name=op.f("uq_units_course_id_slug")),
    )
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_units_course_id"), ["course_id"], unique=False)

    op.create_table(
        "lessons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=120), nullable=True),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_revision_id", sa.Integer(), nullable=True),
        sa.Column("imported_revision_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('reading', 'quiz', 'case')", name=op.f("ck_lessons_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_lessons_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_lessons_unit_id_units"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lessons")),
        sa.UniqueConstraint("course_id", "slug", name=op.f("uq_lessons_course_id_slug")),
    )
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lessons_course_id"), ["course_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_lessons_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "lesson_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("objectives", sa.JSON(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("body_md", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("toc", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_lesson_revisions_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lessons.id"],
            name=op.f("fk_lesson_revisions_lesson_id_lessons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson_revisions")),
        sa.UniqueConstraint(
            "lesson_id", "number", name=op.f("uq_lesson_revisions_lesson_id_number")
        ),
    )
    with op.batch_alter_table("lesson_revisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lesson_revisions_lesson_id"), ["lesson_id"], unique=False
        )

    # lessons and lesson_revisions point at each other: the lesson's two pointers come last.
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_lessons_imported_revision_id_lesson_revisions"),
            "lesson_revisions",
            ["imported_revision_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_lessons_published_revision_id_lesson_revisions"),
            "lesson_revisions",
            ["published_revision_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_lessons_published_revision_id_lesson_revisions"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_lessons_imported_revision_id_lesson_revisions"), type_="foreignkey"
        )
    with op.batch_alter_table("lesson_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lesson_revisions_lesson_id"))

    op.drop_table("lesson_revisions")
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lessons_unit_id"))
        batch_op.drop_index(batch_op.f("ix_lessons_course_id"))

    op.drop_table("lessons")
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_units_course_id"))

    op.drop_table("units")
    with op.batch_alter_table("course_assets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_assets_course_id"))

    op.drop_table("course_assets")
    op.drop_table("courses")
