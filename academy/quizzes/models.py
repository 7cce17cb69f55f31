"""Quizzes in the database: their revisions, and learners' attempts and answers.

A quiz revision stores the quiz file (canonical Markdown) and the parsed quiz as data, with
its Markdown already rendered, so that no request renders Markdown. An attempt fixes, when it
starts, the revision, the questions drawn and the order of questions and options; answers are
saved one row per question as the learner goes; grading happens once, atomically, on submit
(or when the time limit has passed).
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from academy.db import utcnow
from academy.extensions import db


class AttemptStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"  # by the learner
    EXPIRED = "expired"  # graded as it stood when the time ran out


class Quiz(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "quizzes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    published_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("quiz_revisions.id", use_alter=True, ondelete="SET NULL")
    )
    imported_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("quiz_revisions.id", use_alter=True, ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    revisions: Mapped[list[QuizRevision]] = relationship(
        back_populates="quiz",
        order_by="QuizRevision.number",
        foreign_keys="QuizRevision.quiz_id",
        cascade="all, delete-orphan",
    )
    published: Mapped[QuizRevision | None] = relationship(
        foreign_keys=[published_revision_id], post_update=True
    )
    imported: Mapped[QuizRevision | None] = relationship(
        foreign_keys=[imported_revision_id], post_update=True
    )

    def __repr__(self) -> str:
        return f"<Quiz {self.slug}>"

    @property
    def latest(self) -> QuizRevision | None:
        return self.revisions[-1] if self.revisions else None


class QuizRevision(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "quiz_revisions"
    __table_args__ = (UniqueConstraint("quiz_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    # The quiz file, canonical form (what export writes).
    source_md: Mapped[str] = mapped_column(Text)
    # The parsed quiz with every Markdown text rendered (academy.quizzes.storage). Deferred:
    # it is large and read only when the per-process cache does not have the quiz yet.
    data: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16), default="editor")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    quiz: Mapped[Quiz] = relationship(back_populates="revisions", foreign_keys=[quiz_id])
    author: Mapped[Any] = relationship("User")


class Attempt(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "quiz_attempts"
    __table_args__ = (
        UniqueConstraint("user_id", "lesson_id", "number"),
        # At most one attempt in progress per learner and quiz lesson, whatever the timing of
        # two "start" requests: the database refuses the second.
        Index(
            "uq_quiz_attempts_one_open",
            "user_id",
            "lesson_id",
            unique=True,
            sqlite_where=text("status = 'in_progress'"),
            postgresql_where=text("status = 'in_progress'"),
        ),
        CheckConstraint("status IN ('in_progress', 'submitted', 'expired')", name="status_known"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("quiz_revisions.id"))
    number: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default=AttemptStatus.IN_PROGRESS.value)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # [{"key": question key, "arrangement": {...}}, ...] in the order shown.
    layout: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    score: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    max_score: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    percent: Mapped[Decimal | None] = mapped_column(Numeric(7, 3))
    passed: Mapped[bool | None]

    revision: Mapped[QuizRevision] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="attempt", cascade="all, delete-orphan", order_by="Answer.id"
    )

    def __repr__(self) -> str:
        return f"<Attempt {self.id} user={self.user_id} #{self.number} {self.status}>"

    @property
    def is_open(self) -> bool:
        return self.status == AttemptStatus.IN_PROGRESS


class Answer(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "quiz_answers"
    __table_args__ = (UniqueConstraint("attempt_id", "question_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("quiz_attempts.id", ondelete="CASCADE"), index=True
    )
    question_key: Mapped[str] = mapped_column(String(120))
    response: Mapped[Any] = mapped_column(JSON, nullable=True)
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)
    score: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))

    attempt: Mapped[Attempt] = relationship(back_populates="answers")
