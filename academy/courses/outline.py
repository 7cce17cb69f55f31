"""A course's published outline, kept per version of the course's units and lessons.

Every learner of a course sees the same outline: its published, live lessons in order, each
with its title, kind and unit. Reading it is a join over the course's lessons, units and
published revisions, a row per lesson (200 in a long course), on every lesson page and for
every course in «Mis cursos». So the outline is kept, in each process, per course and
``courses.outline_version``: a random number that the transaction changing a unit or lesson
of the course also replaces (:func:`_count_outline_changes`, on every flush). Random, not a
counter, so that a version never names two outlines: a counter would count to the same
number again after a rollback, or in a database restored from a backup, or in another
database the same process serves (the test suite's). A page reads the
course's row anyway; its version says whether the kept outline is still the one in the
database, on this host and every other, and a learner's own state is never kept here.

Everything that changes units or lessons goes through the ORM, which bumps the version. A
write that bypasses it (a Core ``UPDATE`` of ``lessons`` or ``units``, a script) must bump
``courses.outline_version`` itself, or the processes keep serving the outline they have.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, cached_property
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Select, bindparam, event, select, update
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.util import identity_key

from academy.courses.kinds import OutlineItem
from academy.courses.models import Course, Lesson, LessonRevision, Unit, new_outline_version
from academy.extensions import db

_KEPT = "academy_outlines"
_LIMIT = 512  # outlines kept per application before starting afresh

_courses, _lessons = Course.__table__, Lesson.__table__
_units, _revisions = Unit.__table__, LessonRevision.__table__

# The outline's columns, in OutlineItem's order, and what makes a lesson visible to learners.
COLUMNS = (
    _lessons.c.id,
    _lessons.c.slug,
    _lessons.c.kind,
    _lessons.c.required,
    _revisions.c.title,
    _revisions.c.minutes,
    _units.c.id,
    _units.c.title,
)
LIVE = (_lessons.c.retired_at.is_(None), _units.c.retired_at.is_(None))


@dataclass(frozen=True)
class Outline:
    """The published outline of one course at one version, the same for every learner."""

    course_id: int
    version: int
    items: tuple[OutlineItem, ...]
    # Each lesson's published revision (id, created at): what its text is kept by.
    revisions: tuple[tuple[int, datetime], ...]
    positions: dict[str, int] = field(init=False)  # lesson slug → index in items

    def __post_init__(self) -> None:
        positions = {item.slug: index for index, item in enumerate(self.items)}
        object.__setattr__(self, "positions", positions)

    @cached_property
    def required(self) -> frozenset[int]:
        """The ids of the required lessons: a course is complete when all of them are done."""
        return frozenset(item.lesson_id for item in self.items if item.required)

    @cached_property
    def required_positions(self) -> tuple[int, ...]:
        """The indexes in items of the required lessons."""
        return tuple(index for index, item in enumerate(self.items) if item.required)

    @cached_property
    def by_kind(self) -> dict[str, tuple[OutlineItem, ...]]:
        """The lessons of each kind, in order (each kind is asked for its states once)."""
        return by_kind(self.items)

    @cached_property
    def unit_numbers(self) -> tuple[int, ...]:
        """Each lesson's unit number (1 for the first unit shown), by index in items."""
        numbers, unit_id, number = [], None, 0
        for item in self.items:
            if item.unit_id != unit_id:
                unit_id, number = item.unit_id, number + 1
            numbers.append(number)
        return tuple(numbers)


def by_kind(items: Iterable[OutlineItem]) -> dict[str, tuple[OutlineItem, ...]]:
    """Lessons grouped by kind, in order."""
    grouped: dict[str, list[OutlineItem]] = {}
    for item in items:
        grouped.setdefault(item.kind, []).append(item)
    return {kind: tuple(items) for kind, items in grouped.items()}


def published(course_id: int, version: int) -> Outline:
    """The course's outline at ``version`` (as just read from its row), kept or read now.

    On a miss the outline is read with the version it belongs to, in one statement, and kept
    under that version: if another transaction changed the course since its row was read,
    what is kept is the newer outline under the newer version, never a mix.
    """
    return published_outlines([(course_id, version)])[course_id]


def published_outlines(versions: Iterable[tuple[int, int]]) -> dict[int, Outline]:
    """:func:`published` for several courses ((course id, version) pairs), the missing ones
    read in one statement."""
    kept: dict[tuple[int, int], Outline] = current_app.extensions[_KEPT]
    found: dict[int, Outline] = {}
    missing = []
    for course_id, version in versions:
        outline = kept.get((course_id, version))
        if outline is None:
            missing.append(course_id)
        else:
            found[course_id] = outline
    if missing:
        if len(kept) + len(missing) > _LIMIT:
            kept.clear()
        for outline in _load_many(missing):
            kept[(outline.course_id, outline.version)] = outline
            found[outline.course_id] = outline
    return found


def load(course_id: int) -> Outline:
    """The course's outline as the database has it now (not kept)."""
    return _load_many([course_id])[0]


def _load_many(course_ids: list[int]) -> list[Outline]:
    rows: dict[int, list[Any]] = {course_id: [] for course_id in course_ids}
    versions = dict(
        db.session.execute(
            select(_courses.c.id, _courses.c.outline_version).where(_courses.c.id.in_(course_ids))
        ).all()
    )
    for row in db.session.execute(_outlines_statement(), {"course_ids": course_ids}):
        rows[row.course_id].append(row)
    outlines = []
    for course_id in course_ids:
        course_rows = rows[course_id]
        # Each row carries the version it was read at: rows and version from one snapshot.
        version = course_rows[0].outline_version if course_rows else versions.get(course_id, 0)
        outlines.append(
            Outline(
                course_id,
                version,
                tuple(OutlineItem(*row[:8]) for row in course_rows),
                tuple((row.revision_id, row.revision_created_at) for row in course_rows),
            )
        )
    return outlines


@cache
def _outlines_statement() -> Select[Any]:
    return (
        select(
            *COLUMNS,
            _revisions.c.id.label("revision_id"),
            _revisions.c.created_at.label("revision_created_at"),
            _lessons.c.course_id,
            _courses.c.outline_version,
        )
        .select_from(_lessons)
        .join(_courses, _courses.c.id == _lessons.c.course_id)
        .join(_units, _units.c.id == _lessons.c.unit_id)
        .join(_revisions, _revisions.c.id == _lessons.c.published_revision_id)
        .where(_lessons.c.course_id.in_(bindparam("course_ids", expanding=True)), *LIVE)
        .order_by(_lessons.c.course_id, _units.c.position, _lessons.c.position)
    )


def _count_outline_changes(session: Session, flush_context: UOWTransaction) -> None:
    """Give a new ``outline_version`` to every course whose units or lessons this flush
    added, changed or deleted, in the same transaction (so the version and the outline it
    stands for always commit, or roll back, together)."""
    changed: set[int] = set()
    for instance in session.new | session.deleted:
        if isinstance(instance, Lesson | Unit):
            changed.add(instance.course_id)
    for instance in session.dirty:
        if isinstance(instance, Lesson | Unit) and session.is_modified(
            instance, include_collections=False
        ):
            changed.add(instance.course_id)
    changed.discard(None)  # type: ignore[arg-type]  # a lesson flushed without its course
    if not changed:
        return
    for course_id in sorted(changed):  # in order: two transactions lock courses alike
        session.execute(
            update(_courses)
            .where(_courses.c.id == course_id)
            .values(outline_version=new_outline_version())
        )
        course = session.identity_map.get(identity_key(Course, course_id))
        if course is not None:  # its row just changed under it
            session.expire(course, ["outline_version", "updated_at"])


def init_app(app: Flask) -> None:
    """Keep the application's outlines, and count outline changes in every session."""
    app.extensions[_KEPT] = {}
    if not event.contains(Session, "after_flush", _count_outline_changes):
        event.listen(Session, "after_flush", _count_outline_changes)
