"""Who is enrolled where, in which cohort, who teaches each course, and how far each learner
has come in each lesson: the learning records that certificates, reports and lesson kinds read.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from academy.auth.models import User
from academy.courses.models import Course, Lesson
from academy.db import utcnow
from academy.extensions import db


class ProgressStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    DONE = "done"


class CourseTrainer(db.Model):  # type: ignore[name-defined,misc]
    """A trainer who teaches a course: they review its case work and follow its learners."""

    __tablename__ = "course_trainers"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    # Indexed on its own: the courses a trainer teaches (the key starts with the course).
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class CohortStatus(enum.StrEnum):
    OPEN = "open"  # takes new learners
    CLOSED = "closed"  # finished or full: its learners stay, no one new joins


class Cohort(db.Model):  # type: ignore[name-defined,misc]
    """One run of a course (a "generación" or "grupo"): its learners, its dates and the
    trainers who follow it. Closing stops new enrolments; archiving hides it from the default
    lists. Neither deletes anything: enrolments, progress and certificates keep their cohort."""

    __tablename__ = "cohorts"
    __table_args__ = (
        UniqueConstraint("course_id", "name"),
        CheckConstraint("status IN ('open', 'closed')", name="status_known"),
        CheckConstraint(
            "ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="dates_in_order"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(
        String(16), default=CohortStatus.OPEN.value, server_default=CohortStatus.OPEN.value
    )
    archived_at: Mapped[datetime | None]

    course: Mapped[Course] = relationship()
    trainers: Mapped[list[User]] = relationship(
        secondary="cohort_trainers", order_by="User.full_name", viewonly=True
    )

    @property
    def is_open(self) -> bool:
        return self.status == CohortStatus.OPEN

    @property
    def archived(self) -> bool:
        return self.archived_at is not None

    def __repr__(self) -> str:
        return f"<Cohort {self.id} course={self.course_id} {self.name!r} {self.status}>"


class CohortTrainer(db.Model):  # type: ignore[name-defined,misc]
    """A trainer (or admin) assigned to follow one cohort: they see its learners."""

    __tablename__ = "cohort_trainers"

    cohort_id: Mapped[int] = mapped_column(
        ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True
    )
    # Indexed on its own: the cohorts a trainer follows (the key starts with the cohort).
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class Enrolment(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Who enrolled the learner: None when they enrolled themselves.
    enrolled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Set once, when the last requirement is met; certificates rely on it. Never unset.
    completed_at: Mapped[datetime | None]
    # The lesson the learner was last on, for "Continuar".
    last_lesson_id: Mapped[int | None] = mapped_column(
        ForeignKey("lessons.id", ondelete="SET NULL")
    )
    last_seen_at: Mapped[datetime | None]
    cohort_id: Mapped[int | None] = mapped_column(
        ForeignKey("cohorts.id", ondelete="SET NULL"), index=True
    )

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    course: Mapped[Course] = relationship()
    last_lesson: Mapped[Lesson | None] = relationship()

    def __repr__(self) -> str:
        return f"<Enrolment user={self.user_id} course={self.course_id}>"


class LessonProgress(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "lesson_progress"
    __table_args__ = (
        UniqueConstraint("user_id", "lesson_id"),
        Index("ix_lesson_progress_user_id_course_id", "user_id", "course_id"),
        # The roster: everyone's completed lessons in one course.
        Index("ix_lesson_progress_course_id_status", "course_id", "status"),
        CheckConstraint("status IN ('in_progress', 'done')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    # Denormalised from the lesson: one indexed query fetches a learner's whole course.
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=ProgressStatus.IN_PROGRESS.value)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<LessonProgress user={self.user_id} lesson={self.lesson_id} {self.status}>"
