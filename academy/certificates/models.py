"""Issued certificates (their history is in the audit log, academy/audit).

A certificate keeps everything it printed (name, RUT, comuna, course title, hours, dates) and
the PDF itself with its SHA-256: later changes to the learner's profile or to the course never
change a certificate already issued. Nothing is deleted: revoking or re-issuing changes the
status, and the database allows at most one valid certificate per learner and course.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from academy.auth.models import User
from academy.courses.models import Course
from academy.db import utcnow
from academy.extensions import db


class CertificateStatus(enum.StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"


class Certificate(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "certificates"
    __table_args__ = (
        # At most one certificate in force per learner and course; revoked and superseded
        # ones stay, as history, beside it.
        Index(
            "uq_certificates_one_valid",
            "user_id",
            "course_id",
            unique=True,
            sqlite_where=text("status = 'valid'"),
            postgresql_where=text("status = 'valid'"),
        ),
        CheckConstraint("status IN ('valid', 'revoked', 'superseded')", name="status_known"),
        CheckConstraint(
            "(status = 'revoked') = (revoked_at IS NOT NULL)", name="revoked_has_a_date"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # What people type: the normalised code, without dashes (academy/certificates/codes.py).
    code: Mapped[str] = mapped_column(String(16), unique=True)
    # What the QR code's link carries: long and random, never typed.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    # The course as it was: a digest of its lessons' published revisions, and those revisions
    # by lesson slug ({"niveles": 3, ...}).
    course_version: Mapped[str] = mapped_column(String(64))
    course_revisions: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    template: Mapped[str] = mapped_column(String(80))
    # As printed.
    full_name: Mapped[str] = mapped_column(String(120))
    # Indexed: anyone may look a person's certificates up by RUT on the public page.
    rut: Mapped[str | None] = mapped_column(String(12), index=True)
    comuna: Mapped[str | None] = mapped_column(String(120))
    region: Mapped[str | None] = mapped_column(String(120))
    course_title: Mapped[str] = mapped_column(String(200))
    hours: Mapped[int]
    completed_at: Mapped[datetime]
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    # None when issued from the command line.
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=CertificateStatus.VALID.value)
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    # Rendered once, at issue, and served as stored ever after.
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    # Indexed: an uploaded file is recognised by its hash (verification by upload).
    pdf_sha256: Mapped[str] = mapped_column(String(64), index=True)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    course: Mapped[Course] = relationship()
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])
    superseded_by: Mapped[Certificate | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<Certificate {self.code} {self.status} user={self.user_id} c={self.course_id}>"

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or utcnow())


class BatchStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"


class CertificateBatch(db.Model):  # type: ignore[name-defined,misc]
    """Certificates for a list of learners confirmed by an admin, issued by a background job.

    The job issues one learner per transaction and moves ``position`` in that same
    transaction: a worker killed half-way leaves the batch where its last commit put it, and
    the next run goes on from there (academy/certificates/batches.py).
    """

    __tablename__ = "certificate_batches"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"))
    # None when started from the command line.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The learners the admin confirmed, in order; the next one to issue is at ``position``.
    user_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default=BatchStatus.QUEUED.value)
    issued: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    # [{"user_id": 3, "name": "...", "message": "..."}] for each learner that failed.
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # When the job last committed a step: a running batch silent for long lost its worker.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    course: Mapped[Course] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def total(self) -> int:
        return len(self.user_ids)

    @property
    def percent(self) -> int:
        return 100 if not self.total else self.position * 100 // self.total
