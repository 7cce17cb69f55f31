"""Courses that issue certificates automatically say since when (certificate_automatic_since):
the periodic sweep that issues the certificates whose job the queue lost looks only at
completions since then, never at learners who completed before the admin turned it on.

Courses already automatic count from the upgrade: earlier completions stay the admin's to
certify (the course's list of eligible learners shows them).

Revision ID: b7d2e4f8a1c3
Revises: a4c8e2f6b1d3
Create Date: 2026-12-06 01:40:00

"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b7d2e4f8a1c3"
down_revision = "a4c8e2f6b1d3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ALTER TABLE ADD/DROP COLUMN (SQLite 3.35+): no copy of the table, no cascade.
    op.add_column(
        "courses",
        sa.Column("certificate_automatic_since", sa.DateTime(timezone=True), nullable=True),
    )
    courses = sa.table(
        "courses",
        sa.column("certificate_automatic", sa.Boolean()),
        sa.column("certificate_automatic_since", sa.DateTime(timezone=True)),
    )
    op.execute(
        courses.update()
        .where(courses.c.certificate_automatic.is_(True))
        .values(certificate_automatic_since=datetime.now(UTC))
    )


def downgrade() -> None:
    op.drop_column("courses", "certificate_automatic_since")
