"""The declarative base, and the one place that commits or rolls back.

Views and services add to ``db.session``; they never commit. A request that ends with a status
below 400 is committed after the view returns, if it wrote anything; anything else, or an
exception, is rolled back. CLI commands use :func:`transaction`.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, current_app
from sqlalchemy import Engine, String, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from academy.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


# SQLite under concurrent requests (several gunicorn threads, or workers, on one file).
# - WAL journal: readers never wait for the writer, nor the writer for readers.
# - A busy timeout: a transaction that needs the write lock waits for it (longer than any page
#   takes, shorter than gunicorn's 30-second worker timeout) instead of failing at once.
# - The ORM's transactions (every request, every CLI command) begin with BEGIN IMMEDIATE, which
#   takes the write lock up front. A transaction that began with a plain BEGIN reads a snapshot,
#   and if another one commits a write before it writes, SQLite refuses its write ("database is
#   locked", at once, whatever the timeout): the request fails. Taking the lock first makes
#   the second request wait, then read what the first one wrote. The price is that requests
#   run one at a time on SQLite; production runs on PostgreSQL (see config.check).
# Other connections (migrations, reflection, the tests' outer transaction) begin with a plain
# BEGIN: they must not block readers, and nothing else writes while they run.
# pysqlite's own transaction handling is off (isolation_level None) so that these BEGINs, and
# SAVEPOINT, are ours; see SQLAlchemy's "Serializable isolation / Savepoints / Transactional
# DDL" recipe for pysqlite.
SQLITE_BUSY_TIMEOUT_MS = 15_000
# connection.info: the BEGIN to emit before the transaction's first statement, once it is known
# whether a Session opened the transaction.
_PENDING_BEGIN = "academy_pending_begin"


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


# Whether each open transaction of a connection has written anything: a stack of flags in
# ``connection.info``, one for the transaction and one more for each savepoint inside it.
_WRITES = "academy_writes"
# Statements that change nothing a commit would keep; any other counts as a write.
_READ_ONLY = re.compile(r"\s*(SELECT|BEGIN|SAVEPOINT|RELEASE|ROLLBACK|PRAGMA)\b", re.IGNORECASE)


@event.listens_for(Engine, "begin")
def _on_begin(connection: Any) -> None:
    connection.info[_WRITES] = [False]
    if connection.dialect.name == "sqlite":
        connection.info[_PENDING_BEGIN] = "BEGIN"


@event.listens_for(Session, "after_begin")
def _sessions_take_the_write_lock(session: Any, _transaction: Any, connection: Any) -> None:
    # Only when the session began the connection's transaction itself: one it joins (with a
    # savepoint, as the tests' fixture does) keeps the BEGIN its owner chose.
    if connection.info.get(_PENDING_BEGIN) and not connection.in_nested_transaction():
        connection.info[_PENDING_BEGIN] = "BEGIN IMMEDIATE"


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _on_end(connection: Any) -> None:
    connection.info.pop(_PENDING_BEGIN, None)  # a transaction that ran no statement


@event.listens_for(Engine, "savepoint")
def _on_savepoint(connection: Any, _name: str) -> None:
    connection.info.setdefault(_WRITES, [True]).append(False)


@event.listens_for(Engine, "release_savepoint")
def _on_release_savepoint(connection: Any, _name: str, _context: Any) -> None:
    writes = connection.info.get(_WRITES)
    if writes and len(writes) > 1:  # what the savepoint wrote is now its parent's
        wrote = writes.pop()
        writes[-1] = writes[-1] or wrote


@event.listens_for(Engine, "rollback_savepoint")
def _on_rollback_savepoint(connection: Any, _name: str, _context: Any) -> None:
    writes = connection.info.get(_WRITES)
    if writes and len(writes) > 1:  # what the savepoint wrote is gone
        writes.pop()


@event.listens_for(Engine, "before_cursor_execute")
def _note_writes(connection: Any, cursor: Any, statement: str, *_args: Any) -> None:
    # Every statement passes here, the ORM's flushes and raw SQL alike.
    begin = connection.info.pop(_PENDING_BEGIN, None)
    if begin is not None:
        cursor.execute(begin)
    if not _READ_ONLY.match(statement):
        connection.info.setdefault(_WRITES, [True])[-1] = True


def has_writes(session: Any) -> bool:
    """Whether the session's transaction wrote anything, or has ORM changes still to write."""
    if session.new or session.dirty or session.deleted:
        return True
    if not session.in_transaction():
        return False
    writes = session.connection().info.get(_WRITES)
    return not writes or writes[-1]  # unknown counts as written


def end_reading() -> None:
    """End the request's transaction now if it has written nothing: for a page that has read
    everything it shows and has only its HTML left to put together.

    On SQLite a transaction holds the database's write lock from its first statement to its
    end (BEGIN IMMEDIATE, above), and every other request waits for it, sleeping a
    millisecond or more each time it finds the lock taken (SQLite's busy handler). Ending it
    before the page is assembled, rather than when the request is torn down, lets the next
    request in sooner. What the page loaded stays usable, detached from the session: nothing
    may be loaded lazily afterwards (a new statement would simply begin a new transaction).
    """
    session = db.session()
    if not has_writes(session):
        session.close()


# Work that must happen only once the transaction has committed (sending mail, see
# academy/outbox.py): callbacks kept in ``session.info``, moved to the second list when the
# session commits and dropped when it rolls back; the request or command runs them after its
# commit (run_after_commit), outside any transaction.
_ON_COMMIT = "academy_on_commit"
_COMMITTED = "academy_committed"


def after_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` once the current transaction commits; never if it rolls back."""
    db.session.info.setdefault(_ON_COMMIT, []).append(callback)


@event.listens_for(Session, "after_commit")
def _committed(session: Any) -> None:
    session.info.setdefault(_COMMITTED, []).extend(session.info.pop(_ON_COMMIT, []))


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Any, previous: Any) -> None:
    if not previous.nested:  # a savepoint's rollback leaves its transaction's work in place
        session.info.pop(_ON_COMMIT, None)


def run_after_commit() -> None:
    """Run the callbacks of the transactions committed so far. A failing one is logged and
    does not stop the others: what they follow is already committed."""
    session = db.session()
    while callbacks := session.info.pop(_COMMITTED, None):
        for callback in callbacks:
            try:
                callback()
            except Exception:
                current_app.logger.exception("after-commit work failed")
                session.rollback()


def init_app(app: Flask) -> None:
    @app.after_request
    def _commit_or_rollback(response: Response) -> Response:
        if response.status_code >= 400:
            db.session.rollback()
        elif has_writes(db.session()):
            db.session.commit()
            run_after_commit()
        # Else nothing to keep: closing the request's session ends its read-only transaction,
        # without the cost of a commit.
        return response

    @app.teardown_request
    def _rollback_on_error(error: BaseException | None) -> None:
        if error is not None:
            db.session.rollback()


@contextmanager
def transaction() -> Iterator[None]:
    """Commit what the block did, or roll it back if it raised (for CLI commands)."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    run_after_commit()


def upsert(
    table: Any,
    values: dict[str, Any],
    *,
    conflict: list[str],
    update: dict[str, Any] | None = None,
) -> Any:
    """``INSERT … ON CONFLICT`` on PostgreSQL and SQLite alike: do nothing, or ``update``.

    Used where two requests may write the same row at once (two tabs marking one lesson):
    the database, not a read-then-write in Python, decides who wins.
    """
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values(**values)
    if update:
        statement = statement.on_conflict_do_update(index_elements=conflict, set_=update)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=conflict)
    return db.session.execute(statement)


class id_list(FunctionElement[str]):
    """The ids in a column, joined by commas ("12,15,16"; NULL for none): an aggregate, for
    a list read in the same row as what it belongs to (parse it with :func:`parse_ids`).

    SQLAlchemy's ``func.aggregate_strings`` does this too, but renders its separator at
    every execution; here it is part of the statement, cached with it.
    """

    type = String()
    inherit_cache = True


@compiles(id_list)
def _id_list_sqlite(element: id_list, compiler: Any, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


@compiles(id_list, "postgresql")
def _id_list_postgresql(element: id_list, compiler: Any, **kw: Any) -> str:
    return f"string_agg(CAST({compiler.process(element.clauses, **kw)} AS TEXT), ',')"


def parse_ids(joined: str | None) -> list[int]:
    """The ids an :class:`id_list` joined."""
    return list(map(int, joined.split(","))) if joined else []


class Taken(Exception):
    """Another transaction wrote the same unique key first (two saves at the same moment)."""


@contextmanager
def unique_or_taken() -> Iterator[None]:
    """Write the block's changes in a savepoint; a unique key taken meanwhile raises
    :class:`Taken`, and the transaction goes on as it was before the block.

    Forms check that a slug, an email or a revision number is free before saving, but two
    requests can both check before either writes: the database's unique constraint is what
    decides, and the loser gets a clear answer (a form error, a retry) instead of a 500.
    """
    try:
        with db.session.begin_nested():
            yield
            db.session.flush()
    except IntegrityError as error:
        if not _unique_violation(error):
            raise
        raise Taken(str(error.orig)) from error


def _unique_violation(error: Any) -> bool:
    original = error.orig
    if getattr(original, "sqlstate", None) == "23505":  # PostgreSQL: unique_violation
        return True
    return isinstance(original, sqlite3.IntegrityError) and "UNIQUE constraint failed" in str(
        original
    )
