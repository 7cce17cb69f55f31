"""Mail leaves only after the transaction that wanted it commits, and a failure to send is
recorded and retried (academy/outbox.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from academy import mail, outbox
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
    assert "todavía no pudimos enviar el correo" in response.text
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
