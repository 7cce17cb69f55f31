"""What learners may see of the content, written once: a published course, and in it a lesson
that is published, not retired, in a unit not retired. Every page and service that shows
learners a course or a lesson narrows its query with these helpers."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import abort
from sqlalchemy import BindParameter, ColumnElement, Select, select

from academy.courses.models import Course, CourseStatus, Lesson, Unit
from academy.extensions import db

S = TypeVar("S", bound=Select[Any])

# A lesson learners may see, in a course learners may see (the query joins Unit and Course).
LESSON_LIVE: tuple[ColumnElement[bool], ...] = (
    Lesson.retired_at.is_(None),
    Lesson.published_revision_id.is_not(None),
    Unit.retired_at.is_(None),
)
COURSE_PUBLISHED: ColumnElement[bool] = Course.status == CourseStatus.PUBLISHED.value


def where_visible(
    statement: S, course_slug: str | BindParameter[str], lesson_slug: str | BindParameter[str]
) -> S:
    """``statement`` (selecting from lessons) narrowed to the lesson learners may see."""
    return (
        statement.join(Course, Course.id == Lesson.course_id)
        .join(Unit, Unit.id == Lesson.unit_id)
        .where(Course.slug == course_slug, COURSE_PUBLISHED, Lesson.slug == lesson_slug)
        .where(*LESSON_LIVE)
    )


def visible_lesson(course_slug: str, lesson_slug: str) -> tuple[Course, Lesson] | None:
    """A lesson learners may see, with its course; None otherwise."""
    row = db.session.execute(
        where_visible(select(Course, Lesson).select_from(Lesson), course_slug, lesson_slug)
    ).first()
    return None if row is None else (row[0], row[1])


def published_course(slug: str) -> Course:
    """The course if learners may see it; 404 for drafts, archived and unknown courses."""
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None or not course.is_published:
        abort(404)
    return course


def published_lesson(course: Course, slug: str) -> Lesson:
    """The lesson of a published course if learners may see it; else 404."""
    lesson = db.session.scalar(
        select(Lesson)
        .join(Unit, Unit.id == Lesson.unit_id)
        .where(Lesson.course_id == course.id, Lesson.slug == slug, *LESSON_LIVE)
    )
    return lesson or abort(404)
