"""Case work: learners' submissions and trainers' reviews.

Every submission is kept. A draft becomes "submitted" when the learner hands it in, "in
review" when a trainer opens it, then "approved" or "returned"; revising a returned case starts
a new submission (the next number) with the same text, so the history reads in order. Reviews
carry a version number: a trainer's save only applies if nobody saved in between.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from academy.auth.models import User
from academy.courses.models import Lesson, LessonRevision
from academy.db import utcnow
from academy.extensions import db


class SubmissionStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    RETURNED = "returned"
    APPROVED = "approved"


class CaseSubmission(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "case_submissions"
    __table_args__ = (
        UniqueConstraint("user_id", "lesson_id", "number"),
        Index(
            "uq_case_submissions_one_draft",
            "user_id",
            "lesson_id",
            unique=True,
            sqlite_where=text("status = 'draft'"),
            postgresql_where=text("status = 'draft'"),
        ),
        Index("ix_case_submissions_status_submitted_at", "status", "submitted_at"),
        CheckConstraint(
            "status IN ('draft', 'submitted', 'in_review', 'returned', 'approved')",
            name="status_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    # The lesson revision whose prompts and rubric this submission answers.
    revision_id: Mapped[int] = mapped_column(ForeignKey("lesson_revisions.id"))
    number: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default=SubmissionStatus.DRAFT.value)
    # {"1": "text of the answer to prompt 1", ...}
    responses: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    review_started_at: Mapped[datetime | None]
    reviewed_at: Mapped[datetime | None]
    # {"1": level index chosen for criterion 1, ...}, points as they added up, feedback.
    levels: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    points: Mapped[int | None]
    criterion_feedback: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    comments: Mapped[str] = mapped_column(Text, default="")
    # When the learner first saw the review (for the dashboard's "new review" notice).
    seen_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
    lesson: Mapped[Lesson] = relationship()
    revision: Mapped[LessonRevision] = relationship()

    def __repr__(self) -> str:
        return f"<CaseSubmission {self.id} user={self.user_id} #{self.number} {self.status}>"

    @property
    def editable(self) -> bool:
        return self.status == SubmissionStatus.DRAFT

    def response(self, index: int) -> str:
        return self.responses.get(str(index), "")
