"""Courses, their units and lessons, and every revision of every lesson.

Slugs come from file names and never change with a title, so learners' progress (keyed by
lesson) survives renames, reordering and re-imports. A lesson's text lives only in its
revisions: the editor and the importer add revisions, publishing points the lesson at one.
"""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from academy.db import utcnow
from academy.extensions import db


class CourseStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class EnrolmentPolicy(enum.StrEnum):
    """Who may enrol learners in a course (its ``enrolment`` column); the enrolments themselves
    are ``academy.progress.models.Enrolment``."""

    OPEN = "open"  # learners enrol themselves
    INVITATION = "invitation"  # an admin or a cohort enrols them


class CaseCompletion(enum.StrEnum):
    APPROVAL = "approval"
    SUBMISSION = "submission"


class LessonKind(enum.StrEnum):
    READING = "reading"
    QUIZ = "quiz"
    CASE = "case"


class RevisionSource(enum.StrEnum):
    IMPORT = "import"
    EDITOR = "editor"
    RESTORE = "restore"


def new_outline_version() -> int:
    """A fresh ``Course.outline_version``: random, so that a version never names two states
    of an outline, even across a rolled-back transaction or a database restored from a
    backup (a counter would count to the same number again)."""
    return secrets.randbits(62)


class Course(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "courses"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'archived')", name="status_known"),
        CheckConstraint("enrolment IN ('open', 'invitation')", name="enrolment_known"),
        CheckConstraint("case_completion IN ('approval', 'submission')", name="case_known"),
        CheckConstraint("hours > 0", name="hours_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    description_md: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    hours: Mapped[int] = mapped_column(default=1)
    language: Mapped[str] = mapped_column(String(5), default="es")
    outcomes: Mapped[list[str]] = mapped_column(JSON, default=list)
    enrolment: Mapped[str] = mapped_column(String(16), default=EnrolmentPolicy.OPEN.value)
    case_completion: Mapped[str] = mapped_column(String(16), default=CaseCompletion.APPROVAL.value)
    certificate_template: Mapped[str] = mapped_column(String(80), default="default")
    # Issue the certificate, in the background, as soon as a learner completes the course
    # (set by admins on the course's certificates page).
    certificate_automatic: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Since when it does (None while it does not): completions before then are the admin's to
    # certify by hand, and the sweep that issues what the queue lost (certificates/batches.py,
    # issue_missed) looks only at completions since.
    certificate_automatic_since: Mapped[datetime | None]
    # Months a certificate stays valid after the learner completed the course (a legal
    # retraining cycle); None: it never expires. Set by admins on the certificates page.
    certificate_validity_months: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(16), default=CourseStatus.DRAFT.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Names the state of the course's units and lessons: a random number, replaced in the
    # transaction that changes any of them (academy.courses.outline); the published outline
    # is kept per version.
    outline_version: Mapped[int] = mapped_column(
        BigInteger, default=new_outline_version, server_default="0"
    )

    units: Mapped[list[Unit]] = relationship(
        back_populates="course", order_by="Unit.position", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Course {self.slug}>"

    @property
    def is_published(self) -> bool:
        return self.status == CourseStatus.PUBLISHED

    @property
    def is_archived(self) -> bool:
        return self.status == CourseStatus.ARCHIVED


class Unit(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("course_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    summary_md: Mapped[str] = mapped_column(Text, default="")
    summary_html: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    retired_at: Mapped[datetime | None]

    course: Mapped[Course] = relationship(back_populates="units")
    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="unit", order_by="Lesson.position", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Unit {self.slug}>"


class Lesson(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "lessons"
    __table_args__ = (
        UniqueConstraint("course_id", "slug"),
        CheckConstraint("kind IN ('reading', 'quiz', 'case')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Kept beside unit_id so that a lesson slug is unique in its course and survives moves.
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(16), default=LessonKind.READING.value)
    # For quiz lessons the quiz's slug; for case lessons the case's slug.
    ref: Mapped[str | None] = mapped_column(String(120))
    required: Mapped[bool] = mapped_column(default=True)
    # Set when the lesson left the course files or was removed in the editor; progress stays.
    retired_at: Mapped[datetime | None]
    published_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("lesson_revisions.id", use_alter=True, ondelete="SET NULL")
    )
    # The revision the last import wrote: an edit made after it is a conflict for the next one.
    imported_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("lesson_revisions.id", use_alter=True, ondelete="SET NULL")
    )

    unit: Mapped[Unit] = relationship(back_populates="lessons")
    course: Mapped[Course] = relationship()
    revisions: Mapped[list[LessonRevision]] = relationship(
        back_populates="lesson",
        order_by="LessonRevision.number",
        foreign_keys="LessonRevision.lesson_id",
        cascade="all, delete-orphan",
    )
    published: Mapped[LessonRevision | None] = relationship(
        foreign_keys=[published_revision_id], post_update=True
    )
    imported: Mapped[LessonRevision | None] = relationship(
        foreign_keys=[imported_revision_id], post_update=True
    )

    def __repr__(self) -> str:
        return f"<Lesson {self.slug}>"

    @property
    def latest(self) -> LessonRevision | None:
        return self.revisions[-1] if self.revisions else None

    @property
    def title(self) -> str:
        revision = self.latest
        return revision.title if revision else self.slug

    @property
    def has_unpublished_changes(self) -> bool:
        return self.latest is not None and self.latest is not self.published


class LessonRevision(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "lesson_revisions"
    __table_args__ = (UniqueConstraint("lesson_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    minutes: Mapped[int] = mapped_column(default=5)
    objectives: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Kind-specific definition (a case's prompts and rubric), as parsed from the file.
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    body_md: Mapped[str] = mapped_column(Text)
    # Rendered and sanitised once, when the revision is saved; requests never render Markdown.
    body_html: Mapped[str] = mapped_column(Text)
    toc: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    content_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16), default=RevisionSource.EDITOR.value)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lesson: Mapped[Lesson] = relationship(back_populates="revisions", foreign_keys=[lesson_id])
    author: Mapped[Any] = relationship("User")

    def __repr__(self) -> str:
        return f"<LessonRevision {self.lesson_id}#{self.number}>"


class CourseAsset(db.Model):  # type: ignore[name-defined,misc]
    """An image used by lessons, kept in the database so app hosts share no files."""

    __tablename__ = "course_assets"
    __table_args__ = (UniqueConstraint("course_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    # "<unit slug>/<file name>": where the file lives beside its lessons.
    path: Mapped[str] = mapped_column(String(200))
    mime: Mapped[str] = mapped_column(String(40))
    # Deferred: lists of images never read their bytes; what serves or writes an image asks
    # for them (``undefer``).
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int]
    height: Mapped[int]
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[Course] = relationship()
