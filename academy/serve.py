"""``academy serve``: the application under gunicorn, started from Python (no shell).

Threads by default, one process: on SQLite every transaction takes the database's write lock
(``academy.db``), so more processes would only queue on it, and one process keeps the
``memory://`` rate-limit counters whole. With PostgreSQL and Redis, raise ``--workers``.

Background jobs (academy/jobs.py) are consumed by a separate process that this command starts
before gunicorn and stops after it (never threads inside the web process): one command serves
everything on one host. ``--no-worker`` when ``academy worker`` runs on its own (several hosts,
or a service manager that supervises each).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from gunicorn.app.base import BaseApplication

from academy import jobs

# How long the worker may take to stop when the server stops: a batch stops between two
# certificates (a second or so), other jobs are short.
WORKER_STOP_TIMEOUT = 20


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
@click.option(
    "--keep-alive",
    default=2,
    show_default=True,
    type=click.IntRange(1, 3600),
    help="Segundos que una conexión inactiva sigue abierta (detrás de nginx: más que su "
    "keepalive_timeout).",
)
@click.option(
    "--no-worker",
    is_flag=True,
    help="No iniciar el proceso de trabajos en segundo plano (si corre «academy worker»).",
)
@with_appcontext
def serve_command(
    host: str, port: int, workers: int, threads: int, keep_alive: int, no_worker: bool
) -> None:
    """Serve the academy with gunicorn (``academy run`` is Flask's development server), and a
    consumer of the background jobs beside it."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    consumer = None if no_worker or jobs.queue.immediate else start_consumer()
    arbiter = os.getpid()
    try:
        _serve(app, host, port, workers, threads, keep_alive)
    finally:
        # gunicorn's workers are forks of this process and unwind through here as they exit:
        # only the arbiter, whose child the consumer is, stops it.
        if consumer is not None and os.getpid() == arbiter:
            stop_consumer(consumer)


def start_consumer() -> subprocess.Popen[bytes]:
    """``academy worker`` in a process of its own (``python -m academy``, no shell)."""
    # Its own session: Ctrl-C in the terminal reaches the server, which then stops the worker
    # itself, once (a second SIGINT would interrupt the job it is finishing). It starts deaf
    # to SIGINT and SIGTERM (the mask is inherited) until its consumer handles them, so a stop
    # while it loads waits, then stops it cleanly.
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, jobs.STOP_SIGNALS)
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "academy", "worker", "--workers", "1"],
            start_new_session=True,
        )
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    click.echo(f"academy: trabajos en segundo plano en el proceso {process.pid}.", err=True)
    return process


def stop_consumer(process: subprocess.Popen[bytes]) -> None:
    """Let the worker finish its running job (SIGINT), then end it if it does not."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(WORKER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _serve(
    app: Flask, host: str, port: int, workers: int, threads: int, keep_alive: int = 2
) -> None:
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
            # Behind a load balancer that keeps idle connections (nginx's upstream keepalive),
            # a host must keep them longer than it does: else the balancer may send a request
            # on a connection the host is closing, and the visitor gets a 502.
            "keepalive": keep_alive,
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
