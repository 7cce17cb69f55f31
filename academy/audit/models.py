"""The audit log: one append-only record of who did what, when, and to what.

Failed sign-ins, role and status changes, imports, publications, enrolments, certificate issue,
revocation, re-issue and download, and exports of personal data each add one row here, through
:func:`record`, in the same transaction as the work they describe: the row is committed with
that work or rolled back with it. Rows are never changed or deleted: the mapper refuses, and so
does a trigger in the database (PostgreSQL and SQLite), so no code path can rewrite history.
"""

from __future__ import annotations

import enum
import getpass
import json
from datetime import datetime
from typing import Any

from flask import has_request_context, request
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from academy.db import utcnow
from academy.extensions import db


class AuditAction(enum.StrEnum):
    """Every action the log knows; the database's check constraint lists the same values (a
    new one needs a migration that widens it)."""

    SIGN_IN_FAILED = "auth.sign_in_failed"
    PERSON_CREATED = "person.created"
    ROLE_CHANGED = "person.role_changed"
    PERSON_DEACTIVATED = "person.deactivated"
    PERSON_REACTIVATED = "person.reactivated"
    PEOPLE_IMPORTED = "people.imported"
    COURSE_PUBLISHED = "course.published"
    LESSON_PUBLISHED = "lesson.published"
    QUIZ_PUBLISHED = "quiz.published"
    ENROLLED = "enrolment.created"
    COHORT_CREATED = "cohort.created"
    COHORT_RENAMED = "cohort.renamed"
    COHORT_CLOSED = "cohort.closed"
    COHORT_REOPENED = "cohort.reopened"
    COHORT_ARCHIVED = "cohort.archived"
    COHORT_RESTORED = "cohort.restored"
    COHORT_TRAINER_ADDED = "cohort.trainer_added"
    COHORT_TRAINER_REMOVED = "cohort.trainer_removed"
    # A learner put in a cohort (their course enrolment, if new, is ENROLLED as well).
    COHORT_JOINED = "cohort.joined"
    CERTIFICATE_ISSUED = "certificate.issued"
    CERTIFICATE_REVOKED = "certificate.revoked"
    CERTIFICATE_REISSUED = "certificate.reissued"
    CERTIFICATE_DOWNLOADED = "certificate.downloaded"
    DATA_EXPORTED = "data.exported"


ACTIONS_SQL = ", ".join(f"'{action.value}'" for action in AuditAction)

# Who acted, when no account did: the command line names the system user (see actor_label).
ANONYMOUS = "anónimo"
# What detail may hold: a few small facts, never a secret. Keys that look like one are refused.
MAX_DETAIL_BYTES = 2000
_SECRET_WORDS = ("password", "contrasena", "contraseña", "token", "secret")


class AuditEvent(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "audit_events"
    __table_args__ = (
        CheckConstraint(f"action IN ({ACTIONS_SQL})", name="action_known"),
        Index("ix_audit_events_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    # The account that acted; None for an anonymous visitor, the command line or the academy
    # itself, named in ``actor``.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Who, as a readable name kept even if the account later changes: an email, "cli:<user>",
    # "automático" or "anónimo".
    actor: Mapped[str] = mapped_column(String(254))
    # On what: a kind ("user", "course", "certificate", "enrolment", "export"...), its id when it
    # has one, and a readable label (an email, a course slug, a certificate code, a file name).
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[int | None]
    target_label: Mapped[str | None] = mapped_column(String(254))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The address the request came from; None outside a request.
    ip: Mapped[str | None] = mapped_column(String(45))

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action} by={self.actor!r} on={self.target_label!r}>"


class AppendOnlyError(RuntimeError):
    """An attempt to change or delete an audit event."""


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _events_are_append_only(_mapper: Any, _connection: Any, target: AuditEvent) -> None:
    raise AppendOnlyError(f"audit event {target.id} cannot be changed or deleted")


def actor_label(user: Any | None, label: str | None = None) -> str:
    """How the log names who acted: the account's email, else the given label, else
    ``anónimo`` in a request and ``cli:<system user>`` on the command line."""
    if user is not None:
        return str(user.email)
    if label:
        return label
    if has_request_context():
        return ANONYMOUS
    return f"cli:{getpass.getuser()}"


def _check_detail(detail: dict[str, Any]) -> None:
    for key in detail:
        if any(word in key.lower() for word in _SECRET_WORDS):
            raise ValueError(f"audit detail must not hold secrets: {key!r}")
    if len(json.dumps(detail, ensure_ascii=False, default=str)) > MAX_DETAIL_BYTES:
        raise ValueError("audit detail is too large: keep a few facts, not documents")


def record(
    action: AuditAction | str,
    *,
    actor: Any | None,
    actor_name: str | None = None,
    target_type: str | None = None,
    target_id: int | None = None,
    target_label: str | None = None,
    **detail: Any,
) -> AuditEvent:
    """Add one event to the current session: it commits with the work it records, or is
    rolled back with it. ``actor`` is the acting ``User`` or None (``actor_name`` then says who:
    "automático" for the academy itself); the request's address is kept when there is one.
    ``detail`` holds a few small facts, never a password or a token."""
    action = AuditAction(action)
    _check_detail(detail)
    event_ = AuditEvent(
        action=action.value,
        actor_id=actor.id if actor is not None else None,
        actor=actor_label(actor, actor_name)[:254],
        target_type=target_type,
        target_id=target_id,
        target_label=target_label[:254] if target_label is not None else None,
        detail=detail,
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event_)
    return event_
