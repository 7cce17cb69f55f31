"""Self-registered accounts wait for the owner of the address to confirm it.

Registration answers the same whether or not an address has an account, so it can no longer
sign the person in at once. Accounts that exist already count as confirmed.

Revision ID: 7c2d4e9f1a6b
Revises: 011556da62a9
Create Date: 2026-12-04 21:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7c2d4e9f1a6b"
down_revision = "011556da62a9"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE on both databases: a batch rebuild of users on SQLite would cascade.
    op.add_column("users", sa.Column("email_confirmed_at", sa.DateTime(timezone=True)))
    users = sa.table(
        "users",
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("email_confirmed_at", sa.DateTime(timezone=True)),
    )
    op.execute(users.update().values(email_confirmed_at=users.c.created_at))


def downgrade():
    op.drop_column("users", "email_confirmed_at")  # SQLite 3.35 and later drop in place
