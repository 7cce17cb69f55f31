"""Lesson revisions: adding one (from an import or the editor), drafts, publishing, restoring
an old one, and reading a revision's text (cached per process: revisions never change).

Nothing here commits: the request (or the CLI command) that calls these owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from markupsafe import Markup
from sqlalchemy import Select, bindparam, select

from academy import markdown
from academy.courses import content
from academy.courses.lookups import asset_paths, lesson_slugs
from academy.courses.models import Lesson, LessonRevision, RevisionSource
from academy.extensions import db
from academy.text import unix_newlines


@dataclass(frozen=True, slots=True)
class RevisionText:
    """What learners read of a lesson revision."""

    id: int
    title: str
    minutes: int
    objectives: tuple[str, ...]
    body_html: str


REVISION_CACHE_SIZE = 256


def lesson_body(revision: LessonRevision | RevisionText) -> Markup:
    """The lesson's HTML as stored when it was saved: no request ever renders Markdown."""
    return Markup(revision.body_html)  # noqa: S704 (sanitised by academy.markdown on save)


def revision_text(revision_id: int, created_at: datetime) -> RevisionText:
    """A revision's text, kept per process: a revision never changes once written.

    Every learner of a lesson reads the same published revision, so after the first request
    a process serves its HTML without fetching it again (at most REVISION_CACHE_SIZE
    revisions are kept). ``created_at``, as read with the lesson, is part of the key: should
    the database ever hand out an id again (SQLite reuses the highest rowid after a rollback),
    the other revision is never mistaken for the cached one.
    """
    return _cached_revision_text(revision_id, created_at)


@lru_cache(maxsize=REVISION_CACHE_SIZE)
def _cached_revision_text(revision_id: int, created_at: datetime) -> RevisionText:
    row = db.session.execute(_revision_statement(), {"id": revision_id}).one()
    if row.created_at != created_at:
        raise LookupError(f"revision {revision_id} is not the one created at {created_at}")
    return RevisionText(row.id, row.title, row.minutes, tuple(row.objectives), row.body_html)


@cache
def _revision_statement() -> Select[Any]:
    revisions = LessonRevision.__table__
    return select(
        revisions.c.id,
        revisions.c.title,
        revisions.c.minutes,
        revisions.c.objectives,
        revisions.c.body_html,
        revisions.c.created_at,
    ).where(revisions.c.id == bindparam("id"))


def add_revision(
    lesson: Lesson,
    *,
    title: str,
    minutes: int,
    objectives: list[str],
    extra: dict[str, Any],
    body_md: str,
    rendered: markdown.Rendered,
    source: RevisionSource,
    author_id: int | None,
    digest: str | None = None,
    note: str = "",
) -> LessonRevision:
    number = (lesson.latest.number if lesson.latest else 0) + 1
    revision = LessonRevision(
        number=number,
        title=title,
        minutes=minutes,
        objectives=objectives,
        extra=extra,
        body_md=body_md,
        body_html=rendered.html,
        toc=[_toc_dict(entry) for entry in rendered.toc],
        content_hash=digest
        or content.content_hash(
            kind=lesson.kind,
            ref=lesson.ref,
            required=lesson.required,
            title=title,
            minutes=minutes,
            objectives=objectives,
            extra=extra,
            body_md=body_md,
        ),
        source=source.value,
        author_id=author_id,
        note=note,
    )
    lesson.revisions.append(revision)
    db.session.flush()
    return revision


def _toc_dict(entry: markdown.TocEntry) -> dict[str, Any]:
    return {
        "level": entry.level,
        "id": entry.id,
        "title": entry.title,
        "children": [_toc_dict(child) for child in entry.children],
    }


def render_for(lesson: Lesson, body_md: str) -> markdown.Rendered:
    """Render Markdown as it would be saved for ``lesson`` (links and images resolved)."""
    course = lesson.course
    return content.render_lesson(
        body_md, lesson.unit.slug, lesson_slugs(course), asset_paths(course)
    )


def save_draft(
    lesson: Lesson,
    *,
    trainer_id: int,
    title: str,
    minutes: int,
    objectives: list[str],
    body_md: str,
    extra: dict[str, Any] | None = None,
    note: str = "",
) -> LessonRevision:
    """A new draft revision (or the latest one, if nothing changed). Learners see no change."""
    body_md = content.normalise_body(unix_newlines(body_md), 1)[0]
    extra = extra if extra is not None else (lesson.latest.extra if lesson.latest else {})
    digest = content.content_hash(
        kind=lesson.kind,
        ref=lesson.ref,
        required=lesson.required,
        title=title,
        minutes=minutes,
        objectives=objectives,
        extra=extra,
        body_md=body_md,
    )
    if lesson.latest is not None and lesson.latest.content_hash == digest:
        return lesson.latest
    return add_revision(
        lesson,
        title=title,
        minutes=minutes,
        objectives=objectives,
        extra=extra,
        body_md=body_md,
        rendered=render_for(lesson, body_md),
        source=RevisionSource.EDITOR,
        author_id=trainer_id,
        digest=digest,
        note=note,
    )


def publish(lesson: Lesson, revision: LessonRevision | None = None) -> LessonRevision:
    """Make ``revision`` (the latest by default) what learners see."""
    chosen = revision or lesson.latest
    if chosen is None or chosen.lesson_id != lesson.id:
        raise ValueError("revision does not belong to this lesson")
    lesson.published = chosen
    return chosen


def restore(lesson: Lesson, revision: LessonRevision, *, trainer_id: int) -> LessonRevision:
    """Copy an old revision forward as the newest draft; history is never rewritten."""
    if revision.lesson_id != lesson.id:
        raise ValueError("revision does not belong to this lesson")
    restored = add_revision(
        lesson,
        title=revision.title,
        minutes=revision.minutes,
        objectives=list(revision.objectives),
        extra=dict(revision.extra),
        body_md=revision.body_md,
        rendered=render_for(lesson, revision.body_md),
        source=RevisionSource.RESTORE,
        author_id=trainer_id,
        note=f"restaurada desde la revisión {revision.number}",
    )
    return restored
