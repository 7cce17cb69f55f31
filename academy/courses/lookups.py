"""Finding a course's parts: the course by slug, its live units and lessons, its asset paths,
and the Markdown of descriptions and unit introductions rendered against them. Shared by the
editor, import and export, and the pages above."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import undefer

from academy import markdown
from academy.courses import content
from academy.courses.models import Course, CourseAsset, Lesson, LessonRevision, Unit
from academy.extensions import db

# A certificate template is a folder holding this file; ``default`` ships with the academy.
CERTIFICATE_ENTRY = "certificate.html"
DEFAULT_CERTIFICATE = "default"
CERTIFICATE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")


def certificate_templates_dir() -> Path:
    """Where the academy looks for certificate templates: ``CERTIFICATE_TEMPLATES_DIR``, else
    ``certificates/`` in the content directory."""
    configured = current_app.config.get("CERTIFICATE_TEMPLATES_DIR")
    if configured:
        return Path(configured)
    return Path(current_app.config["CONTENT_DIR"]) / "certificates"


def certificate_templates() -> list[str]:
    """The templates courses may name (and admins may preview): ``default`` and every folder of
    the templates directory that holds a ``certificate.html``, in order."""
    root = certificate_templates_dir()
    found = {DEFAULT_CERTIFICATE}
    if root.is_dir():
        found |= {
            folder.name
            for folder in root.iterdir()
            if CERTIFICATE_NAME.match(folder.name) and (folder / CERTIFICATE_ENTRY).is_file()
        }
    return sorted(found)


def get_course(slug: str) -> Course | None:
    return db.session.scalar(select(Course).where(Course.slug == slug))


def lesson_slugs(course: Course) -> set[str]:
    return {
        lesson.slug for unit in course.units for lesson in unit.lessons if lesson.retired_at is None
    }


def quiz_refs(course: Course) -> set[str]:
    """The quizzes the course's live quiz lessons use."""
    return {
        lesson.ref
        for lesson in course_lessons(course)
        if lesson.ref and lesson.retired_at is None  # only quiz lessons have a reference
    }


def asset_paths(course: Course) -> set[str]:
    return course_asset_paths(course.id)


def assets_by_path(course: Course, *, with_data: bool = False) -> dict[str, CourseAsset]:
    """The course's images by path; their bytes only ``with_data`` (else read when used)."""
    query = select(CourseAsset).where(CourseAsset.course_id == course.id)
    if with_data:
        query = query.options(undefer(CourseAsset.data))
    return {asset.path: asset for asset in db.session.scalars(query)}


def course_lessons(course: Course) -> list[Lesson]:
    return list(db.session.scalars(select(Lesson).where(Lesson.course_id == course.id)))


def unretired_units(course: Course) -> Iterable[Unit]:
    return (unit for unit in course.units if unit.retired_at is None)


def all_courses() -> list[Course]:
    """Every course, archived ones last."""
    courses = db.session.scalars(select(Course))
    return sorted(courses, key=lambda course: (course.is_archived, course.title.casefold()))


def get_unit(course: Course, slug: str) -> Unit | None:
    return db.session.scalar(select(Unit).where(Unit.course_id == course.id, Unit.slug == slug))


def get_lesson(course: Course, slug: str) -> Lesson | None:
    return db.session.scalar(
        select(Lesson).where(Lesson.course_id == course.id, Lesson.slug == slug)
    )


def get_revision(lesson: Lesson, number: int) -> LessonRevision | None:
    return db.session.scalar(
        select(LessonRevision).where(
            LessonRevision.lesson_id == lesson.id, LessonRevision.number == number
        )
    )


def live_units(course: Course) -> list[Unit]:
    return sorted(unretired_units(course), key=lambda unit: (unit.position, unit.id))


def live_lessons(unit: Unit) -> list[Lesson]:
    lessons = (lesson for lesson in unit.lessons if lesson.retired_at is None)
    return sorted(lessons, key=lambda lesson: (lesson.position, lesson.id))


def unit_intros(course_id: int, unit_id: int | None = None) -> dict[int, str]:
    """The stored HTML of the live units' introductions (``unidad.md`` bodies) that are not
    empty, by unit id: every unit of the course, or only ``unit_id``. One query."""
    query = select(Unit.id, Unit.summary_html).where(
        Unit.course_id == course_id, Unit.retired_at.is_(None), Unit.summary_html != ""
    )
    if unit_id is not None:
        query = query.where(Unit.id == unit_id)
    return {row.id: row.summary_html for row in db.session.execute(query)}


def render_text(
    text: str, assets: set[str] | frozenset[str] = frozenset(), unit_slug: str | None = None
) -> markdown.Rendered:
    """A course description (``unit_slug`` None) or a unit introduction, whose images can only
    be the course's own files (``assets``, their paths): see :func:`content.render_intro`."""
    return content.render_intro(text, set(assets), unit_slug)


def course_asset_paths(course_id: int | None) -> set[str]:
    if course_id is None:
        return set()
    query = select(CourseAsset.path).where(CourseAsset.course_id == course_id)
    return set(db.session.scalars(query))
