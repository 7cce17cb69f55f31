"""Mail leaves only after the transaction that wanted it commits, and a failure to send is
recorded and retried (academy/outbox.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from huey.storage import MemoryStorage
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import select

from academy import jobs, mail, outbox
from academy.db import run_after_commit, utcnow
from academy.extensions import db
from academy.outbox import OutgoingMail
from tests.test_cases import (
    assign,
    open_for_review,
    review_form,
    signed_in,
    submission_of,
    submit,
)


@pytest.fixture
def trainer(make_user, query, case_course):
    user = make_user("trainer", full_name="Rosa Carrasco")
    assign(query, case_course, user)
    return user


def rows(query):
    return query(lambda: list(db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id))))


def review(app, client, learner, trainer, query, **options):
    submit(client)
    reviewer = signed_in(app, trainer)
    submission = open_for_review(reviewer, query, learner)
    return reviewer.post(
        f"/revision/{submission.id}", data=review_form(submission, "aprobar"), **options
    )


def test_the_review_email_leaves_after_the_review_is_committed(
    app, client, learner, trainer, query, mailbox, monkeypatch
):
    seen = []
    send = mail.send

    def spy(message):
        # Nothing of the request is left uncommitted, and no transaction (no lock) is open.
        seen.append(db.session().in_transaction())
        send(message)

    monkeypatch.setattr(mail, "send", spy)
    assert review(app, client, learner, trainer, query).status_code == 302
    assert seen == [False]
    assert "Un relator aprobó tu caso" in mailbox.last_to(learner.email).get_content()
    (row,) = rows(query)
    assert (row.recipient, row.status, row.attempts) == (learner.email, "sent", 1)
    assert row.sent_at is not None
    assert row.message is None  # sent: the body (it may hold a reset link) is not kept


def test_no_mail_when_the_transaction_rolls_back(
    app, client, learner, trainer, query, mailbox, monkeypatch
):
    submit(client)
    reviewer = signed_in(app, trainer)
    submission = open_for_review(reviewer, query, learner)

    def commit_fails():
        raise RuntimeError("the database went away at commit")

    monkeypatch.setattr(db.session, "commit", commit_fails)
    with pytest.raises(RuntimeError):
        reviewer.post(f"/revision/{submission.id}", data=review_form(submission, "aprobar"))
    monkeypatch.undo()
    assert mailbox.messages == []
    assert rows(query) == []


def test_a_mail_queued_then_rolled_back_is_never_sent(app, mailbox):
    with app.test_request_context():
        outbox.queue(mail.build_message("nadie@muni.cl", "Asunto", "reset_password", user=None,
                                        link="http://x", hours=2))  # fmt: skip
        db.session.rollback()
        db.session.commit()  # a later transaction of the same session commits
        run_after_commit()
        assert db.session.scalars(select(OutgoingMail)).all() == []
    assert mailbox.messages == []


def test_a_send_failure_is_recorded_and_retried(
    app, client, learner, trainer, query, mailbox, monkeypatch, runner
):
    def broken(message):
        raise ConnectionRefusedError("no SMTP")

    monkeypatch.setattr(mail, "send", broken)
    response = review(app, client, learner, trainer, query, follow_redirects=True)
    assert response.status_code == 200
    # Sent by a job, so the trainer is not told (nor told that it went): the review is saved.
    assert "Aprobaste el caso" in response.text
    assert submission_of(query, learner).status == "approved"
    (row,) = rows(query)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.error == "ConnectionRefusedError: no SMTP"
    assert row.message  # kept for the retry

    failed = runner.invoke(args=["mail", "retry"])
    assert failed.exit_code == 1 and "Sin enviar: 1" in failed.output
    assert rows(query)[0].attempts == 2

    monkeypatch.undo()
    result = runner.invoke(args=["mail", "retry"])
    assert result.exit_code == 0, result.output
    assert "Enviados: 1. Sin enviar: 0." in result.output
    assert "Un relator aprobó tu caso" in mailbox.last_to(learner.email).get_content()
    (row,) = rows(query)
    assert (row.status, row.attempts, row.error, row.message) == ("sent", 3, None, None)
    # Sent once: another retry finds nothing to send.
    assert "Enviados: 0. Sin enviar: 0." in runner.invoke(args=["mail", "retry"]).output
    assert len([m for m in mailbox.messages if m["To"] == learner.email]) == 1


def a_queue_in_another_process(app, monkeypatch, store):
    """The queue as outside the tests: jobs wait in ``store`` for a worker."""
    settings = app.extensions[jobs.EXTENSION]
    monkeypatch.setattr(settings, "immediate", False)
    monkeypatch.setattr(settings, "store", store)


def test_the_request_leaves_the_sending_to_the_worker(
    app, client, learner, trainer, query, mailbox, monkeypatch
):
    a_queue_in_another_process(app, monkeypatch, MemoryStorage(jobs.QUEUE_NAME))
    assert review(app, client, learner, trainer, query).status_code == 302
    assert mailbox.messages == []
    (row,) = rows(query)
    assert (row.status, row.attempts) == ("queued", 0)

    def work():
        assert len(jobs.queue) == 1
        jobs.queue.execute(jobs.queue.dequeue())  # as the worker runs it

    query(work)
    assert "Un relator aprobó tu caso" in mailbox.last_to(learner.email).get_content()
    (row,) = rows(query)
    assert (row.status, row.attempts, row.message) == ("sent", 1, None)


class Unreachable(MemoryStorage):
    def enqueue(self, data, priority=None):
        raise RedisConnectionError("Error 111 connecting to colas.interno:6379")


def test_an_unreachable_queue_leaves_the_mail_for_the_retry(
    app, client, learner, trainer, query, mailbox, monkeypatch, runner, caplog
):
    a_queue_in_another_process(app, monkeypatch, Unreachable(jobs.QUEUE_NAME))
    response = review(app, client, learner, trainer, query, follow_redirects=True)
    assert response.status_code == 200 and "Aprobaste el caso" in response.text
    assert submission_of(query, learner).status == "approved"
    assert "could not enqueue mail" in caplog.text and "colas.interno" in caplog.text
    assert mailbox.messages == []
    (row,) = rows(query)
    assert (row.status, row.attempts) == ("queued", 0)

    result = runner.invoke(args=["mail", "retry"])
    assert "Enviados: 1. Sin enviar: 0." in result.output
    assert "Un relator aprobó tu caso" in mailbox.last_to(learner.email).get_content()


def test_the_worker_retries_mail_every_five_minutes():
    def due(minute):
        return {type(t) for t in jobs.queue.read_periodic(datetime(2026, 12, 6, 1, minute))}

    assert outbox.retry_mail.task_class in due(5)
    assert outbox.retry_mail.task_class not in due(6)


def test_retry_takes_over_a_send_that_died_and_gives_up_after_the_last_try(app, query, mailbox):
    def setup():
        message = mail.build_message("a@muni.cl", "Asunto", "reset_password", user=None,
                                     link="http://x", hours=2)  # fmt: skip
        long_ago = utcnow() - outbox.STALE - timedelta(minutes=1)
        text = message.as_string()
        db.session.add_all([
            OutgoingMail(recipient="a@muni.cl", subject="muerto", message=text,
                         status="sending", attempts=1, last_attempt_at=long_ago),
            OutgoingMail(recipient="a@muni.cl", subject="enviándose", message=text,
                         status="sending", attempts=1, last_attempt_at=utcnow()),
            OutgoingMail(recipient="a@muni.cl", subject="sin remedio", message=text,
                         status="failed", attempts=outbox.MAX_ATTEMPTS),
        ])  # fmt: skip
        db.session.commit()
        return outbox.retry()

    assert query(setup) == (1, 0)
    assert {r.subject: r.status for r in rows(query)} == {
        "muerto": "sent",
        "enviándose": "sending",
        "sin remedio": "failed",
    }
    assert len(mailbox.messages) == 1


def test_console_mail_shows_links_whole_and_text_decoded(app, capsys):
    """Under ``make serve`` mail is printed: the activation link must be openable as printed."""
    from email.message import EmailMessage

    from academy import mail

    link = "http://127.0.0.1:5000/registro/confirmar/" + "t0k3n_" * 20 + "?x=1"
    message = EmailMessage()
    message["To"] = "camila@muni.cl"
    message["Subject"] = "Activa tu cuenta en la Academia"
    message.set_content(f"Hola, Camila:\n\nActiva tu cuenta aquí: {link}\nParticipación ñandú\n")
    with app.app_context():
        app.config["MAIL_BACKEND"] = "console"
        try:
            mail.send(message)
        finally:
            app.config["MAIL_BACKEND"] = "smtp"
    printed = capsys.readouterr().out
    assert link in printed
    assert "Participación ñandú" in printed and "=3D" not in printed
    assert "Subject: Activa tu cuenta en la Academia" in printed
