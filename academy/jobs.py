"""Background jobs: one Huey queue, configured by the application, consumed by ``academy worker``.

Work too long for a request (a course's certificates at once) or that must follow a commit
without slowing the answer (issuing on completion) is a job. The queue is kept outside the
web process, so a job outlives a restart:

- ``ACADEMY_QUEUE_URL`` unset: Huey's SQLite store in ``instance/queue.db``, for one host
  (``make serve`` runs a consumer beside the web server).
- ``ACADEMY_QUEUE_URL=redis://host:6379/0``: Redis, required when several hosts serve: each
  host's web process enqueues there and ``academy worker`` on any of them consumes.
- ``sqlite:////absolute/path.db``: a SQLite store elsewhere (the tests' real consumer).
- Tests run jobs at once, in the caller (Huey's immediate mode, ``ACADEMY_QUEUE_IMMEDIATE``).

A job runs in an application context of its own, and does its own transactions
(``academy.db.transaction``): it must be safe to run twice, because a worker killed half-way
leaves it to be run again (the certificate batches resume where they stopped).

Jobs are enqueued after the commit that asks for them (``academy.db.after_commit``), never
inside the transaction: the worker would otherwise look for rows not yet committed.
"""

from __future__ import annotations

import functools
import logging
import signal
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from flask import Flask, current_app, has_app_context
from flask.cli import with_appcontext
from huey import Huey
from huey.consumer import Consumer as HueyConsumer
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage
from redis.exceptions import RedisError

from academy.config import ConfigError
from academy.db import after_commit

QUEUE_NAME = "academy"
EXTENSION = "academy_queue"
QUEUE_FILE = "queue.db"
SCHEMES = ("redis", "rediss", "sqlite")
# What enqueueing raises when the queue's store cannot be reached (Redis down, the SQLite file
# locked or unwritable): a caller that can do without the job catches these.
UNREACHABLE = (RedisError, sqlite3.Error, OSError)


@dataclass
class QueueSettings:
    """One application's queue: where it is, whether jobs run at once, its open store."""

    immediate: bool
    storage_class: type[Any]
    storage_kwargs: dict[str, Any] = field(default_factory=dict)
    store: Any = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class Queue(Huey):  # type: ignore[misc]  # huey has no type hints
    """Huey whose store each application chooses (``init_app``), opened on first use: creating
    the application touches no file and no server, and two applications in one process (the
    tests) each keep their own. Outside any application context (the consumer's threads) it is
    the last application configured, the worker's own."""

    def __init__(self) -> None:
        self._fallback = QueueSettings(immediate=True, storage_class=MemoryStorage)
        self.flask_app: Flask | None = None
        # Set by this process's consumer (see stopping()).
        self.stop_flag: Any = None
        # Results are never read: a job's effect is in the database.
        super().__init__(QUEUE_NAME, results=False, immediate=True)

    def settings(self) -> QueueSettings:
        app = current_app._get_current_object() if has_app_context() else self.flask_app
        if app is None or EXTENSION not in app.extensions:
            return self._fallback
        return app.extensions[EXTENSION]  # type: ignore[no-any-return]

    # Huey reads and writes these two attributes; here they belong to the application.
    @property
    def _immediate(self) -> bool:
        return self.settings().immediate

    @_immediate.setter
    def _immediate(self, value: bool) -> None:
        self.settings().immediate = value

    @property
    def storage(self) -> Any:
        settings = self.settings()
        with settings.lock:
            if settings.store is None:
                settings.store = self.create_storage()
            return settings.store

    @storage.setter
    def storage(self, value: Any) -> None:
        self.settings().store = value

    def create_storage(self) -> Any:
        settings = self.settings()
        if settings.immediate:
            return MemoryStorage(self.name)
        if settings.storage_class is SqliteStorage:
            Path(settings.storage_kwargs["filename"]).parent.mkdir(parents=True, exist_ok=True)
        return settings.storage_class(self.name, **settings.storage_kwargs)


queue = Queue()


def settings(app: Flask) -> tuple[str, bool]:
    """``QUEUE_URL`` checked (ConfigError if unusable) and whether jobs run at once."""
    url = str(app.config.get("QUEUE_URL") or "").strip()
    if url:
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES:
            raise ConfigError(
                "ACADEMY_QUEUE_URL must start with redis://, rediss:// or sqlite:/// "
                f"(or be unset for instance/{QUEUE_FILE}): got {url!r}."
            )
        if parts.scheme == "sqlite" and not url.startswith("sqlite:////"):
            raise ConfigError(
                "ACADEMY_QUEUE_URL with sqlite needs an absolute path, as in "
                f"sqlite:////srv/academy/queue.db: got {url!r}."
            )
        if parts.scheme.startswith("redis") and not parts.hostname:
            raise ConfigError(f"ACADEMY_QUEUE_URL names no Redis host: got {url!r}.")
    immediate = app.config.get("QUEUE_IMMEDIATE")
    if immediate is None:
        immediate = bool(app.config.get("TESTING"))
    if not isinstance(immediate, bool):
        raise ConfigError(f"ACADEMY_QUEUE_IMMEDIATE must be true or false: got {immediate!r}.")
    return url, immediate


def init_app(app: Flask) -> None:
    url, immediate = settings(app)
    if url.startswith(("redis://", "rediss://")):
        chosen = QueueSettings(immediate, RedisStorage, {"url": url})
    else:
        default = str(Path(app.instance_path) / QUEUE_FILE)
        path = url.removeprefix("sqlite:///") if url else default
        chosen = QueueSettings(immediate, SqliteStorage, {"filename": path})
    app.extensions[EXTENSION] = chosen
    queue.flask_app = app


def _in_app_context(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``func`` in an application context: the caller's (immediate mode), else one of its
    own, whose database session ends with it."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            return func(*args, **kwargs)
        if queue.flask_app is None:
            raise RuntimeError("the job queue was not configured: create the app first")
        with queue.flask_app.app_context():
            return func(*args, **kwargs)

    return run


def job(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """Declare a job: ``@job()`` then ``the_job(args)`` enqueues it (or runs it, immediate)."""

    def decorator(func: Callable[..., Any]) -> Any:
        return queue.task(**options)(_in_app_context(func))

    return decorator


def periodic_job(schedule: Callable[..., bool]) -> Callable[[Callable[..., Any]], Any]:
    """Declare a job the worker runs on a ``huey.crontab`` schedule."""

    def decorator(func: Callable[..., Any]) -> Any:
        return queue.periodic_task(schedule)(_in_app_context(func))

    return decorator


def enqueue_after_commit(task: Any, *args: Any) -> None:
    """Enqueue ``task(*args)`` once the current transaction commits; never if it rolls back."""
    after_commit(lambda: task(*args))


# The worker ---------------------------------------------------------------------------------


STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class Consumer(HueyConsumer):  # type: ignore[misc]
    """Huey's consumer, deaf to SIGINT and SIGTERM until its own handlers are in place: a stop
    asked for while it starts waits for them, then stops it cleanly (no traceback of an
    interrupted import, no job cut in half)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        queue.stop_flag = self.stop_flag

    def _set_signal_handlers(self) -> None:
        super()._set_signal_handlers()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def stopping() -> bool:
    """Whether this process's consumer was asked to stop: a long job (a batch) stops at its
    next step and enqueues itself again, instead of holding the stop until it ends."""
    flag = queue.stop_flag
    return flag is not None and flag.is_set()


def block_stop_signals() -> None:
    """Hold SIGINT and SIGTERM until the consumer handles them (threads started meanwhile
    inherit the mask, so only the main thread ever receives them)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)


def run_consumer(workers: int) -> None:
    """Consume the queue until SIGINT (finish the running jobs) or SIGTERM (stop now)."""
    if queue.immediate:
        raise click.ClickException(
            "ACADEMY_QUEUE_IMMEDIATE está activo: los trabajos se ejecutan al encolarlos y no "
            "hay cola que atender."
        )
    block_stop_signals()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    Consumer(queue, workers=workers, worker_type="thread").run()


@click.command("worker")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 32), help="Hilos.")
@with_appcontext
def worker_command(workers: int) -> None:
    """Run background jobs (mail, certificate batches, automatic certificates, invitations)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"academy worker: cola {describe(app)}, {workers} hilos. Ctrl-C para detener.")
    run_consumer(workers)


def describe(app: Flask) -> str:
    """Where the queue is, for a person (no password)."""
    chosen: QueueSettings = app.extensions[EXTENSION]
    if chosen.storage_class is RedisStorage:
        parts = urlsplit(chosen.storage_kwargs["url"])
        return f"Redis {parts.hostname}:{parts.port or 6379}"
    return f"SQLite {chosen.storage_kwargs['filename']}"
