"""The one place that commits: only what a request wrote, and nothing it did not."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.orm import Session

from academy.auth.models import User
from academy.db import end_reading, has_writes
from academy.extensions import db


@pytest.fixture
def session(app, make_user):
    user = make_user()
    with app.app_context():
        session = db.session()
        session.execute(select(User.id)).all()
        yield session, user.id


def test_reads_alone_have_nothing_to_commit(session):
    session, _user_id = session
    assert session.in_transaction()
    assert not has_writes(session)


def test_pending_orm_changes_count(session):
    session, user_id = session
    session.get(User, user_id).job_title = "Encargada de participación"
    assert has_writes(session)


def test_a_page_that_has_read_everything_ends_its_transaction(session):
    """end_reading: a read-only transaction ends (on SQLite it holds the write lock every
    other request waits for); what was loaded stays readable."""
    session, user_id = session
    user = session.get(User, user_id)
    end_reading()
    assert not session.in_transaction()
    assert user.email  # loaded, still there


def test_ending_the_reading_keeps_a_transaction_that_wrote(session):
    session, user_id = session
    session.execute(update(User).where(User.id == user_id).values(job_title="Director"))
    end_reading()
    assert session.in_transaction()
    assert has_writes(session)


def test_statements_that_write_count(session):
    session, user_id = session
    session.execute(update(User).where(User.id == user_id).values(job_title="Director"))
    assert has_writes(session)


def test_raw_sql_on_the_connection_counts(session):
    session, user_id = session
    session.connection().execute(
        text("UPDATE users SET job_title = 'x' WHERE id = :id"), {"id": user_id}
    )
    assert has_writes(session)


def test_a_savepoint_passes_its_writes_on_when_released_not_when_rolled_back(session):
    session, user_id = session
    change = update(User).where(User.id == user_id).values(job_title="x")
    nested = session.begin_nested()
    session.execute(change)
    nested.rollback()
    assert not has_writes(session)
    with session.begin_nested():
        session.execute(change)
    assert has_writes(session)


@pytest.fixture
def commits():
    seen: list[Session] = []

    def record(session: Session) -> None:
        seen.append(session)

    event.listen(Session, "after_commit", record)
    yield seen
    event.remove(Session, "after_commit", record)


def test_only_requests_that_write_are_committed(client, auth, make_user, query, commits):
    user = auth.as_role(make_user, "learner")
    commits.clear()
    assert client.get("/mis-cursos").status_code == 200  # loads the user, writes nothing
    assert commits == []
    client.post("/idioma", data={"language": "en"})  # writes the user's language
    assert len(commits) == 1
    assert query(lambda: db.session.get(User, user.id)).locale == "en"
