"""Courses whose certificates expire: a validity period in months (legal retraining cycles).

Revision ID: b7d1e3f5a902
Revises: ad3939465090
Create Date: 2026-12-04 22:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b7d1e3f5a902"
down_revision = "ad3939465090"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN, not batch mode: on SQLite batch mode copies and drops the courses
    # table, and dropping it would cascade to every enrolment.
    op.add_column("courses", sa.Column("certificate_validity_months", sa.Integer(), nullable=True))


def downgrade():
    # ALTER TABLE DROP COLUMN (SQLite 3.35+): no copy of the table, no cascade.
    op.drop_column("courses", "certificate_validity_months")
