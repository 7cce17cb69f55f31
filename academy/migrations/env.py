"""Alembic environment: the app's engine and metadata, one transaction per migration run."""

import logging

from alembic import context
from flask import current_app

log = logging.getLogger("alembic.env")
migrate_ext = current_app.extensions["migrate"]
target_metadata = migrate_ext.db.metadata


def _skip_empty_autogenerate(context, revision, directives):
    autogenerate = getattr(context.config.cmd_opts, "autogenerate", False)
    if autogenerate and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        log.info("No changes in schema detected.")


def _render_item(type_, obj, autogen_context):
    # Our TypeDecorators only convert values in Python; the tables hold the plain type.
    if type_ == "type" and hasattr(obj, "impl"):
        return "sa." + repr(obj.impl)
    return False


def run_migrations_offline() -> None:
    context.configure(
        url=migrate_ext.db.engine.url.render_as_string(hide_password=False),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    options = dict(migrate_ext.configure_args)
    options.setdefault("process_revision_directives", _skip_empty_autogenerate)
    options.setdefault("render_item", _render_item)
    with migrate_ext.db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, **options)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
