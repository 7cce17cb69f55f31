"""Courses name the state of their outline (outline_version, a random number replaced by
every change to their units and lessons), so that the outline that every learner of a course
sees alike can be kept per version, on every host.

Revision ID: a4c8e2f6b1d3
Revises: f2be9251d39c
Create Date: 2026-12-05 22:15:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a4c8e2f6b1d3"
down_revision = "f2be9251d39c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ALTER TABLE ADD/DROP COLUMN (SQLite 3.35+): no copy of the table, no cascade.
    op.add_column(
        "courses",
        sa.Column("outline_version", sa.BigInteger(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("courses", "outline_version")
