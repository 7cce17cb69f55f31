"""``academy serve``: the application under gunicorn, started from Python (no shell).

Threads by default, one process: on SQLite every transaction takes the database's write lock
(``academy.db``), so more processes would only queue on it, and one process keeps the
``memory://`` rate-limit counters whole. With PostgreSQL and Redis, raise ``--workers``.
"""

from __future__ import annotations

from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from gunicorn.app.base import BaseApplication


class Server(BaseApplication):  # type: ignore[misc]  # gunicorn has no type hints
    """gunicorn serving an application already created (and its configuration checked)."""

    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Dirección en que escuchar.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Procesos."
)
@click.option(
    "--threads",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Hilos por proceso.",
)
@with_appcontext
def serve_command(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the academy with gunicorn (``academy run`` is Flask's development server)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if workers > 1 and app.config["RATELIMIT_STORAGE_URI"].startswith("memory:"):
        click.echo(
            "academy: con varios procesos, los límites de intentos de ingreso se cuentan por "
            "proceso; usa ACADEMY_RATELIMIT_STORAGE_URI=redis://… para contarlos juntos.",
            err=True,
        )
    Server(
        app,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "accesslog": "-",
            "errorlog": "-",
            # Workers fork after the app is created: start-up opens no database connection,
            # so none is shared between processes.
            "preload_app": True,
            # The control socket (gunicornc) defaults to one path per user: a second server,
            # or the tests', would take it over.
            "control_socket_disable": True,
        },
    ).run()
