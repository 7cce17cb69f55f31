"""The editor's course structure: courses, units and lessons created, changed, moved, retired
and moved through their statuses; slugs unique; what stops a lesson from being published.

Nothing here commits: the request (or the CLI command) that calls these owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from academy import markdown
from academy.courses import kinds
from academy.courses.lookups import (
    course_asset_paths,
    get_course,
    live_lessons,
    live_units,
    render_text,
    unretired_units,
)
from academy.courses.models import Course, CourseStatus, Lesson, LessonRevision, Unit
from academy.courses.revisions import render_for, save_draft
from academy.db import utcnow
from academy.extensions import db


class SlugTaken(Exception):
    """Another course, unit or lesson already uses the slug (found when writing it)."""


class CourseNotReady(Exception):
    """A course cannot be published before at least one of its lessons is."""


# Which status a course may move to from each status. Nothing is ever deleted: archiving hides
# a course from learners, and an archived course comes back as a draft.
STATUS_CHANGES: dict[str, frozenset[str]] = {
    CourseStatus.DRAFT: frozenset({CourseStatus.PUBLISHED, CourseStatus.ARCHIVED}),
    CourseStatus.PUBLISHED: frozenset({CourseStatus.DRAFT, CourseStatus.ARCHIVED}),
    CourseStatus.ARCHIVED: frozenset({CourseStatus.DRAFT}),
}


def course_slug_taken(slug: str) -> bool:
    return get_course(slug) is not None


def unit_slug_taken(course: Course, slug: str) -> bool:
    # Retired units keep their slug: reusing it would bring their history back by mistake.
    return any(unit.slug == slug for unit in course.units)


def lesson_slug_taken(course: Course, slug: str) -> bool:
    query = select(Lesson.id).where(Lesson.course_id == course.id, Lesson.slug == slug)
    return db.session.scalar(query) is not None


# What the editor shows of a revision in lists: never its text.
_REVISION_LABEL = (
    LessonRevision.id,
    LessonRevision.lesson_id,
    LessonRevision.number,
    LessonRevision.title,
)


def editor_outline(course: Course) -> tuple[list[tuple[Unit, list[Lesson]]], list[Lesson]]:
    """The live units with their live lessons, and the retired lessons (last retired first),
    for the editor's course page: each lesson with its revisions' numbers and titles only,
    in four queries however long the course."""
    units = db.session.scalars(
        select(Unit)
        .where(Unit.course_id == course.id, Unit.retired_at.is_(None))
        .order_by(Unit.position, Unit.id)
    ).all()
    lessons = db.session.scalars(
        select(Lesson)
        .where(Lesson.course_id == course.id)
        .options(
            selectinload(Lesson.revisions).load_only(*_REVISION_LABEL),
            selectinload(Lesson.published).load_only(*_REVISION_LABEL),
        )
        .order_by(Lesson.position, Lesson.id)
    ).all()
    by_unit: dict[int, list[Lesson]] = {unit.id: [] for unit in units}
    for lesson in lessons:
        if lesson.retired_at is None and lesson.unit_id in by_unit:
            by_unit[lesson.unit_id].append(lesson)
    retired = sorted(
        (lesson for lesson in lessons if lesson.retired_at is not None),
        key=lambda lesson: (lesson.retired_at, lesson.id),
        reverse=True,
    )
    return [(unit, by_unit[unit.id]) for unit in units], retired


def _insert(item: Course | Unit | Lesson) -> None:
    """Add and flush in a savepoint, so that a slug taken meanwhile leaves nothing behind."""
    try:
        with db.session.begin_nested():
            db.session.add(item)
    except IntegrityError as error:
        raise SlugTaken(item.slug) from error


def has_published_lesson(course: Course) -> bool:
    return any(
        lesson.retired_at is None and lesson.published_revision_id is not None
        for unit in unretired_units(course)
        for lesson in unit.lessons
    )


def create_course(*, slug: str, **fields: Any) -> Course:
    """A new draft course, with no units yet (``fields`` as for :func:`update_course`).

    Raises :class:`SlugTaken`.
    """
    course = Course(slug=slug, status=CourseStatus.DRAFT.value)
    update_course(course, **fields)
    _insert(course)
    return course


def update_course(
    course: Course,
    *,
    title: str,
    summary: str,
    description_md: str,
    hours: int,
    language: str,
    outcomes: list[str],
    enrolment: str,
    case_completion: str,
    certificate_template: str,
    assets: set[str] | None = None,
) -> None:
    """``assets``: the course's image paths, when they are not (yet) those in the database."""
    course.title = title
    course.summary = summary
    course.description_md = description_md
    if assets is None:
        assets = course_asset_paths(course.id)
    course.description_html = render_text(description_md, assets).html
    course.hours = hours
    course.language = language
    course.outcomes = list(outcomes)
    course.enrolment = enrolment
    course.case_completion = case_completion
    course.certificate_template = certificate_template


def set_course_status(course: Course, status: str) -> bool:
    """Move the course to ``status``; False when that change is not allowed from here.

    Raises :class:`CourseNotReady` when publishing a course whose lessons are all unpublished.
    """
    if status not in STATUS_CHANGES.get(course.status, frozenset()):
        return False
    if status == CourseStatus.PUBLISHED and not has_published_lesson(course):
        raise CourseNotReady(course.slug)
    course.status = status
    return True


def create_unit(course: Course, *, slug: str, title: str, summary_md: str) -> Unit:
    """A new unit at the end of the course. Raises :class:`SlugTaken`."""
    unit = Unit(course_id=course.id, slug=slug, position=len(live_units(course)) + 1)
    update_unit(unit, title=title, summary_md=summary_md)
    _insert(unit)
    db.session.expire(course, ["units"])
    return unit


def update_unit(unit: Unit, *, title: str, summary_md: str) -> None:
    unit.title = title
    unit.summary_md = summary_md
    assets = course_asset_paths(unit.course_id)
    unit.summary_html = render_text(summary_md, assets, unit.slug).html


def _move(items: list[Any], item: Any, step: int) -> bool:
    """Swap ``item`` with its neighbour and number the list 1..n again."""
    index = items.index(item)
    target = index + step
    if not 0 <= target < len(items):
        return False
    items[index], items[target] = items[target], items[index]
    _renumber(items)
    return True


def _renumber(items: Iterable[Unit | Lesson]) -> None:
    for position, entry in enumerate(items, start=1):
        entry.position = position


def move_unit(unit: Unit, step: int) -> bool:
    """One place up (-1) or down (+1); False when it is already first or last."""
    return _move(live_units(unit.course), unit, step)


def move_lesson(lesson: Lesson, step: int) -> bool:
    """One place up (-1) or down (+1) within its unit; False when already first or last."""
    return _move(live_lessons(lesson.unit), lesson, step)


def create_lesson(
    unit: Unit,
    *,
    slug: str,
    kind: str,
    title: str,
    minutes: int,
    objectives: list[str],
    trainer_id: int,
    ref: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Lesson:
    """A new lesson at the end of ``unit``, with an empty first draft (and ``extra``, a case's
    prompts and rubric). Raises :class:`SlugTaken`."""
    lesson = Lesson(
        course_id=unit.course_id,
        unit_id=unit.id,
        slug=slug,
        kind=kind,
        ref=ref,
        position=len(live_lessons(unit)) + 1,
    )
    _insert(lesson)
    db.session.expire(unit, ["lessons"])
    save_draft(
        lesson,
        trainer_id=trainer_id,
        title=title,
        minutes=minutes,
        objectives=objectives,
        body_md="",
        extra=extra or {},
    )
    return lesson


def retire_lesson(lesson: Lesson) -> None:
    """Take the lesson out of the course. Nothing is deleted: revisions and progress stay."""
    if lesson.retired_at is not None:
        return
    lesson.retired_at = utcnow()
    _renumber(live_lessons(lesson.unit))


def publish_problems(lesson: Lesson) -> tuple[markdown.Problem, ...]:
    """What stops the latest revision from going to learners (nothing, usually)."""
    latest = lesson.latest
    if latest is None:
        return (markdown.Problem(None, "la lección no tiene ninguna revisión"),)
    kind = kinds.get(lesson.kind)
    if kind.no_text and not latest.body_md.strip():
        return (markdown.Problem(None, kind.no_text),)
    problems = kind.check(latest.extra)
    if problems:
        return tuple(markdown.Problem(None, problem) for problem in problems)
    return render_for(lesson, latest.body_md).problems
