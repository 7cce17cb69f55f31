"""No RUT is NULL, never '': the column is unique, so a second blank RUT failed to save.

Revision ID: 5b1e0c7a9d3f
Revises: 81cb1423fded
Create Date: 2026-12-04 20:40:00

"""

from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5b1e0c7a9d3f"
down_revision = "81cb1423fded"
branch_labels = None
depends_on = None


def upgrade():
    users = sa.table("users", sa.column("rut", sa.String), sa.column("job_title", sa.String))
    for column in (users.c.rut, users.c.job_title):
        op.execute(users.update().where(sa.func.trim(column) == "").values({column.name: None}))
    with _table_rebuild_keeps_children(), op.batch_alter_table("users") as batch_op:
        batch_op.create_check_constraint("rut_not_blank", "rut IS NULL OR rut <> ''")


def downgrade():
    with _table_rebuild_keeps_children(), op.batch_alter_table("users") as batch_op:
        batch_op.drop_constraint("rut_not_blank", type_="check")


@contextmanager
def _table_rebuild_keeps_children():
    """SQLite adds a constraint by copying the table and dropping the old one; with foreign
    keys on, that drop deletes every row that cascades from a user (enrolments, progress...).
    The pragma is ignored inside a transaction, so it is set between two."""
    if op.get_bind().dialect.name != "sqlite":
        yield
        return
    _foreign_keys("OFF")
    try:
        yield
    finally:
        _foreign_keys("ON")


def _foreign_keys(state):
    with op.get_context().autocommit_block():
        driver = op.get_bind().connection.driver_connection
        # academy/db.py emits BEGIN even in autocommit mode; nothing ran in it yet.
        if driver.in_transaction:
            driver.execute("COMMIT")
        driver.execute(f"PRAGMA foreign_keys={state}")
        if driver.execute("PRAGMA foreign_keys").fetchone()[0] != (state == "ON"):
            raise RuntimeError(f"SQLite did not turn foreign keys {state}")
