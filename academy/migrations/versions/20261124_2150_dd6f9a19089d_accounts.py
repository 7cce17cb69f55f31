"""Accounts: people, their roles, and what certificates print of them.

Revision ID: dd6f9a19089d
Revises:
Create Date: 2026-11-24 21:50:26.026428

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "dd6f9a19089d"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("full_name", sa.String(length=120), nullable=False),
        sa.Column("rut", sa.String(length=12), nullable=True),
        sa.Column("comuna_cut", sa.String(length=5), nullable=True),
        sa.Column("job_title", sa.String(length=120), nullable=True),
        sa.Column("locale", sa.String(length=5), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('learner', 'trainer', 'admin')", name=op.f("ck_users_role_known")
        ),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_users_email_lowercase")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("rut", name=op.f("uq_users_rut")),
    )


def downgrade():
    op.drop_table("users")
