"""Mail leaves only after the transaction that wanted it commits, and is never lost.

:func:`queue` writes the message to ``outgoing_mail`` in the caller's transaction. If the
transaction rolls back, the row goes with it and nothing is sent. Once it commits, a job
(:func:`send`, on the Huey queue of ``academy.jobs``) sends the message: the request does not
wait for the SMTP exchange, and a message is never sent for work that was not saved. Each
message is claimed before it is sent (``queued`` → ``sending``), so two processes never both
send it; a failure to send is recorded on the row (``failed``, the error, how many tries) and
the worker's :func:`retry_mail` (``academy mail retry``) tries again every five minutes, as it
does for a message whose job could not be enqueued (the queue unreachable) and for one left
``sending`` by a process that died in the middle (for longer than :data:`STALE`). Once sent,
the body is dropped: it may hold a password-reset link, and only the record that it went is
needed. The rows are the record; the queue only says when to send.
"""

from __future__ import annotations

import enum
import smtplib
from collections.abc import Sequence
from datetime import datetime, timedelta
from email import message_from_string, policy
from email.message import EmailMessage

import click
from flask import current_app
from flask.cli import with_appcontext
from huey import crontab
from sqlalchemy import CheckConstraint, Select, String, Text, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from academy import mail
from academy.db import after_commit, utcnow
from academy.extensions import db
from academy.jobs import UNREACHABLE, job, periodic_job

# A row left "sending" this long belongs to a process that died while sending it.
STALE = timedelta(minutes=10)
MAX_ATTEMPTS = 10


class MailStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutgoingMail(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "outgoing_mail"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(998))
    # The whole message as sent (RFC 5322); emptied once sent.
    message: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=MailStatus.QUEUED.value, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<OutgoingMail {self.id} to={self.recipient} {self.status}>"


def queue(message: EmailMessage, *, send_after_commit: bool = True) -> int:
    """Send ``message`` once the current transaction commits (a job does); never if it rolls
    back. Its row's id.

    Nobody waits for the sending, so nobody is told if it fails: the row keeps the error and
    the worker tries again. ``send_after_commit=False`` leaves the sending to the caller (a job
    that sends a whole import's invitations after each of its commits).
    """
    row = OutgoingMail(
        recipient=str(message["To"]),
        subject=str(message["Subject"]),
        message=message.as_string(),
        status=MailStatus.QUEUED.value,
    )
    db.session.add(row)
    db.session.flush()
    row_id = row.id
    if send_after_commit:
        after_commit(lambda: _enqueue(row_id))
    return row_id


def _enqueue(row_id: int) -> None:
    """Hand the row to the worker; if the queue cannot be reached, the row waits for
    :func:`retry_mail` (what was committed stands, and the request answers as usual)."""
    try:
        send(row_id)
    except UNREACHABLE as error:
        current_app.logger.warning(
            "could not enqueue mail %s (the next mail retry sends it): %s", row_id, error
        )


# The jobs (academy/jobs.py): declared here, beside the work they do; every process that can
# queue mail imports this module, the worker included (through the CLI).


@job()
def send(row_id: int) -> None:
    """Send one queued message. Not retried by the queue: a failure is on the row, for
    :func:`retry_mail`."""
    deliver([row_id])


@periodic_job(crontab(minute="*/5"))
def retry_mail() -> None:
    """Send the mail that could not be sent (``academy mail retry``, every five minutes)."""
    retry()


def deliver(ids: Sequence[int], *, now: datetime | None = None) -> tuple[list[int], list[int]]:
    """Send the messages of these rows that nobody else is sending; the ids sent and failed.

    Call it outside any transaction that has writes to keep: it commits after each step.
    """
    sent, failed = [], []
    for row_id in ids:
        text = _claim(row_id, now or utcnow())
        if text is None:
            continue  # sent already, being sent by another process, or rolled back
        try:
            mail.send(message_from_string(text, policy=policy.default))  # type: ignore[arg-type]
        except (OSError, smtplib.SMTPException) as error:
            current_app.logger.warning("could not send mail %s: %s", row_id, error)
            _finish(row_id, MailStatus.FAILED, error=f"{type(error).__name__}: {error}"[:2000])
            failed.append(row_id)
        else:
            _finish(row_id, MailStatus.SENT)
            sent.append(row_id)
    return sent, failed


def _claim(row_id: int, now: datetime) -> str | None:
    """Mark the row as being sent (only if it is waiting) and return its message, committed."""
    table = OutgoingMail.__table__
    claimed = db.session.execute(
        update(table)
        .where(table.c.id == row_id, _waiting(now))
        .values(
            status=MailStatus.SENDING.value,
            attempts=table.c.attempts + 1,
            last_attempt_at=now,
        )
    )
    text = None
    if claimed.rowcount == 1:  # type: ignore[attr-defined]
        text = db.session.scalar(select(table.c.message).where(table.c.id == row_id))
    db.session.commit()
    return text


def _finish(row_id: int, status: MailStatus, *, error: str | None = None) -> None:
    table = OutgoingMail.__table__
    values: dict[str, object] = {"status": status.value, "error": error}
    if status is MailStatus.SENT:
        values |= {"sent_at": utcnow(), "message": None}
    db.session.execute(update(table).where(table.c.id == row_id).values(**values))
    db.session.commit()


def _waiting(now: datetime) -> object:
    """Rows to send: queued, failed with tries left, or left "sending" by a dead process."""
    table = OutgoingMail.__table__
    return or_(
        table.c.status == MailStatus.QUEUED.value,
        (table.c.status == MailStatus.FAILED.value) & (table.c.attempts < MAX_ATTEMPTS),
        (table.c.status == MailStatus.SENDING.value) & (table.c.last_attempt_at < now - STALE),
    )


def unsent(now: datetime | None = None) -> Select[tuple[OutgoingMail]]:
    """The messages an admin should know about, newest first: failed (tries left or not),
    and queued or being sent for longer than :data:`STALE`."""
    late = (now or utcnow()) - STALE
    return (
        select(OutgoingMail)
        .where(
            or_(
                OutgoingMail.status == MailStatus.FAILED.value,
                (OutgoingMail.status == MailStatus.QUEUED.value) & (OutgoingMail.created_at < late),
                (OutgoingMail.status == MailStatus.SENDING.value)
                & (OutgoingMail.last_attempt_at < late),
            )
        )
        .order_by(OutgoingMail.created_at.desc(), OutgoingMail.id.desc())
    )


def retry(now: datetime | None = None) -> tuple[int, int]:
    """Send every message still waiting; (sent, failed)."""
    now = now or utcnow()
    ids = list(
        db.session.scalars(select(OutgoingMail.id).where(_waiting(now)).order_by(OutgoingMail.id))
    )
    db.session.commit()
    sent, failed = deliver(ids, now=now)
    return len(sent), len(failed)


@click.group("mail")
def mail_group() -> None:
    """Outgoing mail."""


@mail_group.command("retry")
@with_appcontext
def retry_command() -> None:
    """Send the messages that could not be sent (run it every few minutes, e.g. from cron)."""
    sent, failed = retry()
    click.echo(f"Enviados: {sent}. Sin enviar: {failed}.")
    if failed:
        raise SystemExit(1)
