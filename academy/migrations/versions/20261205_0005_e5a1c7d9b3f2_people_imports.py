"""People imports: an uploaded CSV kept between its dry run and its confirmation.

Revision ID: e5a1c7d9b3f2
Revises: c81f0a2d4e6b
Create Date: 2026-12-05 00:05:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e5a1c7d9b3f2"
down_revision = "c81f0a2d4e6b"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "people_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_count", sa.Integer(), nullable=True),
        sa.Column("updated_count", sa.Integer(), nullable=True),
        sa.Column("invite_user_ids", sa.JSON(), nullable=True),
        sa.Column("invited", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_people_imports_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people_imports")),
    )
    op.create_index(
        op.f("ix_people_imports_created_by_id"), "people_imports", ["created_by_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_people_imports_created_by_id"), table_name="people_imports")
    op.drop_table("people_imports")
