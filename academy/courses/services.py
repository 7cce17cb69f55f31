"""Course logic: import and export of the file format, revisions, publishing.

Nothing here commits: the request (or the CLI command) that calls these owns the transaction,
so an import that stops on a conflict has written nothing.
"""

from __future__ import annotations

import difflib
import enum
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from markupsafe import Markup
from PIL import Image, ImageCms, ImageOps
from sqlalchemy import Select, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload, undefer
from werkzeug.utils import secure_filename

from academy import markdown, svg
from academy.courses import content, kinds
from academy.courses.content import CourseSource, LessonSource
from academy.courses.models import (
    Course,
    CourseAsset,
    CourseStatus,
    Lesson,
    LessonRevision,
    RevisionSource,
    Unit,
)
from academy.db import Taken, unique_or_taken, utcnow
from academy.extensions import db
from academy.frontmatter import dump
from academy.text import unix_newlines

# Database values back to the words of the files.
ENROLMENT_WORDS = {value: word for word, value in content.ENROLMENT.items()}
CASE_WORDS = {value: word for word, value in content.CASE_COMPLETION.items()}


class ImportConflict(Exception):
    """Lessons edited in the web editor since the last import; nothing was imported."""

    def __init__(self, conflicts: list[str]) -> None:
        super().__init__("; ".join(conflicts))
        self.conflicts = conflicts


@dataclass
class ImportReport:
    course: str
    created: bool = False
    new_lessons: list[str] = field(default_factory=list)
    changed_lessons: list[str] = field(default_factory=list)
    retired_lessons: list[str] = field(default_factory=list)
    assets: int = 0

    @property
    def changed(self) -> bool:
        return bool(
            self.created
            or self.new_lessons
            or self.changed_lessons
            or self.retired_lessons
            or self.assets
        )


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


# Import ---------------------------------------------------------------------------------


def find_conflicts(source: CourseSource) -> list[str]:
    """Lessons whose newest revision came from the editor and differs from the file."""
    course = get_course(source.slug)
    if course is None:
        return []
    existing = {lesson.slug: lesson for lesson in course_lessons(course)}
    conflicts = []
    for lesson_source in source.lessons():
        lesson = existing.get(lesson_source.slug)
        if lesson is None or lesson.latest is None:
            continue
        latest = lesson.latest
        edited = lesson.imported_revision_id != latest.id
        if edited and latest.content_hash != lesson_source.content_hash():
            who = latest.author.full_name if latest.author else "?"
            conflicts.append(
                f"{lesson_source.file}: la lección «{lesson.slug}» se editó en la web "
                f"(revisión {latest.number}, {who}) después de la última importación"
            )
    return conflicts


def course_lessons(course: Course) -> list[Lesson]:
    return list(db.session.scalars(select(Lesson).where(Lesson.course_id == course.id)))


def import_course(
    source: CourseSource, *, force: bool = False, publish: bool = True, author_id: int | None = None
) -> ImportReport:
    """Upsert a checked course by slug. Raises :class:`ImportConflict` before writing."""
    if not force:
        conflicts = find_conflicts(source)
        if conflicts:
            raise ImportConflict(conflicts)
    report = ImportReport(source.slug)
    course = get_course(source.slug)
    if course is None:
        course = Course(slug=source.slug)
        db.session.add(course)
        report.created = True
    assets = {asset.path for asset in source.assets}
    _apply_course_fields(course, source, publish, assets)
    report.assets = _import_assets(course, source, author_id)
    db.session.flush()

    units = {unit.slug: unit for unit in course.units}
    lessons = {lesson.slug: lesson for lesson in course_lessons(course)}
    slugs = {lesson.slug for lesson in source.lessons()}
    seen_units = set()
    for unit_source in source.units:
        unit = units.get(unit_source.slug)
        if unit is None:
            unit = Unit(course=course, slug=unit_source.slug)
            db.session.add(unit)
        unit.title = unit_source.title
        unit.position = unit_source.position
        unit.summary_md = unit_source.summary_md
        unit.summary_html = render_text(unit_source.summary_md, assets, unit.slug).html
        unit.retired_at = None
        seen_units.add(unit.slug)
        for lesson_source in unit_source.lessons:
            lesson = lessons.get(lesson_source.slug)
            if lesson is None:
                lesson = Lesson(course=course, unit=unit, slug=lesson_source.slug)
                db.session.add(lesson)
                report.new_lessons.append(lesson_source.slug)
            elif _lesson_changed(lesson, lesson_source, unit):
                report.changed_lessons.append(lesson_source.slug)
            lesson.unit = unit
            lesson.position = lesson_source.position
            lesson.kind = lesson_source.kind
            lesson.ref = lesson_source.ref
            lesson.required = lesson_source.required
            lesson.retired_at = None
            _import_revision(lesson, lesson_source, unit.slug, slugs, assets, publish, author_id)
    now = utcnow()
    for unit in units.values():
        if unit.slug not in seen_units and unit.retired_at is None:
            unit.retired_at = now
    for lesson in lessons.values():
        if lesson.slug not in slugs and lesson.retired_at is None:
            lesson.retired_at = now
            report.retired_lessons.append(lesson.slug)
    db.session.flush()
    return report


def _lesson_changed(lesson: Lesson, source: LessonSource, unit: Unit) -> bool:
    latest = lesson.latest
    return (
        latest is None
        or latest.content_hash != source.content_hash()
        or lesson.unit_id != unit.id
        or lesson.position != source.position
        or lesson.retired_at is not None
    )


def _apply_course_fields(
    course: Course, source: CourseSource, publish: bool, assets: set[str]
) -> None:
    update_course(
        course,
        assets=assets,
        title=source.title,
        summary=source.summary,
        description_md=source.description_md,
        hours=source.hours,
        language=source.language,
        outcomes=source.outcomes,
        enrolment=source.enrolment,
        case_completion=source.case_completion,
        certificate_template=source.certificate_template,
    )
    if course.status == CourseStatus.ARCHIVED:
        return
    if not source.published:
        course.status = CourseStatus.DRAFT.value
    elif publish:
        course.status = CourseStatus.PUBLISHED.value
    else:
        # A draft import publishes nothing: not its lessons, nor a course that was not yet.
        course.status = course.status or CourseStatus.DRAFT.value


def _import_revision(
    lesson: Lesson,
    source: LessonSource,
    unit_slug: str,
    slugs: set[str],
    assets: set[str],
    publish: bool,
    author_id: int | None,
) -> None:
    digest = source.content_hash()
    latest = lesson.latest
    rendered = content.render_lesson(source.body_md, unit_slug, slugs, assets)
    if latest is not None and latest.content_hash == digest:
        # The same text: a new revision only when the platform now shows it differently (a
        # newer Markdown pipeline, such as tables that scroll in their own box), because a
        # stored revision's HTML never changes.
        if latest.body_html == rendered.html:
            lesson.imported = latest
            if publish and lesson.published is None:
                lesson.published = latest
            return
        note = "la misma lección, con la forma actual de mostrarla"
    else:
        note = ""
    revision = add_revision(
        lesson,
        title=source.title,
        minutes=source.minutes,
        objectives=source.objectives,
        extra=source.extra,
        body_md=source.body_md,
        rendered=rendered,
        source=RevisionSource.IMPORT,
        author_id=author_id,
        digest=digest,
        note=note,
    )
    lesson.imported = revision
    if publish:
        lesson.published = revision


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


def _import_assets(course: Course, source: CourseSource, author_id: int | None) -> int:
    existing = assets_by_path(course) if course.id else {}
    count = 0
    for asset_source in source.assets:
        data = asset_source.file.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        asset = existing.get(asset_source.path)
        if asset is not None and asset.sha256 == digest:
            continue
        width, height = image_size(data, asset_source.mime)
        if asset is None:
            asset = CourseAsset(course=course, path=asset_source.path)
            db.session.add(asset)
        asset.mime = asset_source.mime
        asset.data = data
        asset.sha256 = digest
        asset.width, asset.height = width, height
        asset.uploaded_by_id = author_id
        count += 1
    return count


def image_size(data: bytes, mime: str) -> tuple[int, int]:
    if mime == content.SVG_MIME:
        checked = svg.check_svg(data)
        return checked.width, checked.height
    with Image.open(BytesIO(data)) as image:
        return image.size


# Export ---------------------------------------------------------------------------------


def export_course(course: Course, target: Path) -> Path:
    """Write the course in the file format under ``target/<slug>/`` (the latest revisions)."""
    root = target / course.slug
    root.mkdir(parents=True, exist_ok=True)
    meta = {
        "titulo": course.title,
        "resumen": course.summary,
        "horas": course.hours,
        "idioma": course.language,
        "resultados": list(course.outcomes),
        "inscripcion": ENROLMENT_WORDS[course.enrolment],
        "casos_se_completan": CASE_WORDS[course.case_completion],
        "certificado": course.certificate_template,
        "publicado": course.status == CourseStatus.PUBLISHED,
    }
    _write(root / content.COURSE_FILE, dump(meta, course.description_md))
    assets = assets_by_path(course, with_data=True)
    for unit in _live_units(course):
        folder = root / f"{unit.position:02d}-{unit.slug}"
        folder.mkdir(exist_ok=True)
        _write(folder / content.UNIT_FILE, dump({"titulo": unit.title}, unit.summary_md))
        for lesson in unit.lessons:
            if lesson.retired_at is not None or lesson.latest is None:
                continue
            _write(folder / f"{lesson.position:02d}-{lesson.slug}.md", lesson_file(lesson))
        for path, asset in assets.items():
            unit_slug, _sep, name = path.partition("/")
            if unit_slug == unit.slug:
                (folder / name).write_bytes(asset.data)
    return root


def _live_units(course: Course) -> Iterable[Unit]:
    return (unit for unit in course.units if unit.retired_at is None)


def lesson_file(lesson: Lesson) -> str:
    revision = lesson.latest
    assert revision is not None
    meta: dict[str, Any] = {
        "titulo": revision.title,
        "tipo": kinds.get(lesson.kind).word,
        "minutos": revision.minutes,
        "objetivos": list(revision.objectives),
    }
    if not lesson.required:
        meta["obligatoria"] = False
    meta.update(kinds.get(lesson.kind).write(lesson.ref, revision.extra))
    return dump(meta, revision.body_md)


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="\n")


# Editing ---------------------------------------------------------------------------------


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


# Course structure (the editor) -----------------------------------------------------------


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


def all_courses() -> list[Course]:
    """Every course, archived ones last."""
    courses = db.session.scalars(select(Course))
    return sorted(courses, key=lambda course: (course.is_archived, course.title.casefold()))


def course_slug_taken(slug: str) -> bool:
    return get_course(slug) is not None


def unit_slug_taken(course: Course, slug: str) -> bool:
    # Retired units keep their slug: reusing it would bring their history back by mistake.
    return any(unit.slug == slug for unit in course.units)


def lesson_slug_taken(course: Course, slug: str) -> bool:
    query = select(Lesson.id).where(Lesson.course_id == course.id, Lesson.slug == slug)
    return db.session.scalar(query) is not None


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
    return sorted(_live_units(course), key=lambda unit: (unit.position, unit.id))


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
        for unit in _live_units(course)
        for lesson in unit.lessons
    )


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


# Revision history --------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "context", "added" or "removed"
    old: int | None  # line number in the older text
    new: int | None  # line number in the newer text
    text: str


@dataclass(frozen=True)
class FieldChange:
    name: str  # "title", "minutes" or "objectives"
    old: Any
    new: Any


@dataclass(frozen=True)
class RevisionDiff:
    old: LessonRevision
    new: LessonRevision
    fields: list[FieldChange]
    hunks: list[list[DiffLine]]
    case_hunks: list[list[DiffLine]]  # a case's prompts and rubric, as the editor shows them

    @property
    def same(self) -> bool:
        return not self.fields and not self.hunks and not self.case_hunks


def diff_revisions(old: LessonRevision, new: LessonRevision, context: int = 3) -> RevisionDiff:
    """What changed from ``old`` to ``new``: the fields, and the Markdown (and a case's prompts
    and rubric) line by line."""
    kind = kinds.get(old.lesson.kind)
    fields = [
        FieldChange(name, getattr(old, name), getattr(new, name))
        for name in ("title", "minutes", "objectives")
        if getattr(old, name) != getattr(new, name)
    ]
    return RevisionDiff(
        old,
        new,
        fields,
        diff_lines(old.body_md, new.body_md, context),
        diff_lines(kind.text(old.extra), kind.text(new.extra), context),
    )


def diff_lines(old: str, new: str, context: int = 3) -> list[list[DiffLine]]:
    """Groups of changed lines with ``context`` unchanged lines around them."""
    if old == new:
        return []
    before, after = old.split("\n"), new.split("\n")
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    hunks = []
    for group in matcher.get_grouped_opcodes(context):
        lines = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [
                    DiffLine("context", i + 1, j + 1, before[i])
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                ]
                continue
            lines += [DiffLine("removed", i + 1, None, before[i]) for i in range(i1, i2)]
            lines += [DiffLine("added", None, j + 1, after[j]) for j in range(j1, j2)]
        hunks.append(lines)
    return hunks


# Images ----------------------------------------------------------------------------------

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
IMAGE_FORMATS = {
    "PNG": ("image/png", (".png",)),
    "JPEG": ("image/jpeg", (".jpg", ".jpeg")),
    "WEBP": ("image/webp", (".webp",)),
}

# Pixel modes kept as they are; anything else (palette, CMYK, …) is converted to RGB or RGBA.
WRITABLE_MODES = {
    "JPEG": ("L", "RGB"),
    "PNG": ("1", "L", "LA", "I", "I;16", "RGB", "RGBA"),
    "WEBP": ("RGB", "RGBA"),
}


SVG_SUFFIXES = (".svg",)


class ImageProblem(enum.Enum):
    TOO_LARGE = "too_large"
    NOT_AN_IMAGE = "not_an_image"
    TOO_MANY_PIXELS = "too_many_pixels"
    UNSAFE_SVG = "unsafe_svg"


class ImageRejected(Exception):
    """``details``: for an SVG, each problem found in it, as ``línea N: message``."""

    def __init__(self, problem: ImageProblem, details: tuple[str, ...] = ()) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.details = details


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    format: str
    mime: str
    width: int
    height: int


def clean_image(data: bytes) -> CleanImage:
    """Decode a PNG, JPEG or WebP and encode it again in the same format, without metadata.

    The file's own bytes decide what it is, never its name or the browser's word. EXIF
    orientation is applied first, so photos stay upright once the EXIF block is gone; colours
    are converted to sRGB when the file carries another profile. Raises :class:`ImageRejected`.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageRejected(ImageProblem.TOO_LARGE)
    try:
        with content.open_image(BytesIO(data), formats=list(IMAGE_FORMATS)) as image:
            image_format = str(image.format)
            image.load()
            upright = ImageOps.exif_transpose(image)
            icc_profile = image.info.get("icc_profile")
            transparent = "transparency" in image.info
    except content.TooManyPixels as error:
        raise ImageRejected(ImageProblem.TOO_MANY_PIXELS) from error
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageRejected(ImageProblem.NOT_AN_IMAGE) from error
    try:
        pixels = _to_srgb(_plain_mode(upright, image_format, transparent), icc_profile)
        # A new image from the raw pixels: no EXIF, XMP, comment, text chunk or profile is left.
        clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
        out = BytesIO()
        if image_format == "JPEG":
            clean.save(out, "JPEG", quality=90, optimize=True)
        elif image_format == "PNG":
            clean.save(out, "PNG", optimize=True)
        else:
            clean.save(out, "WEBP", quality=90, method=4)
    except (OSError, ValueError) as error:  # a pixel format Pillow cannot convert or write
        raise ImageRejected(ImageProblem.NOT_AN_IMAGE) from error
    return CleanImage(
        out.getvalue(), image_format, IMAGE_FORMATS[image_format][0], clean.width, clean.height
    )


def clean_svg(data: bytes) -> CleanImage:
    """An SVG drawing, kept as written once :func:`academy.svg.check_svg` passes it.

    Raises :class:`ImageRejected` with every problem found, each with its line.
    """
    checked = svg.check_svg(data)
    if not checked.ok:
        details = tuple(
            f"línea {p.line}: {p.message}" if p.line else p.message for p in checked.problems
        )
        raise ImageRejected(ImageProblem.UNSAFE_SVG, details)
    return CleanImage(data, "SVG", content.SVG_MIME, checked.width, checked.height)


def _plain_mode(image: Image.Image, image_format: str, transparent: bool) -> Image.Image:
    """A mode every format can write: palettes and CMYK become RGB (or RGBA)."""
    alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and transparent)
    if image.mode in WRITABLE_MODES[image_format]:
        return image
    return image.convert("RGBA" if alpha and image_format != "JPEG" else "RGB")


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    if not icc_profile or image.mode not in ("RGB", "RGBA"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(BytesIO(icc_profile))
        converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"))
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # an unreadable profile: keep the pixels as they are
    return converted if converted is not None else image


def image_file_name(filename: str, image_format: str) -> str:
    """A safe, lower-case file name whose extension tells the real format."""
    stem, extension = os.path.splitext(filename.replace("\\", "/"))
    stem = secure_filename(stem).lower().strip("._-")[:80] or "imagen"
    suffixes = SVG_SUFFIXES if image_format == "SVG" else IMAGE_FORMATS[image_format][1]
    return stem + (extension.lower() if extension.lower() in suffixes else suffixes[0])


def unit_assets(course: Course, unit: Unit) -> list[CourseAsset]:
    query = (
        select(CourseAsset)
        .where(CourseAsset.course_id == course.id, CourseAsset.path.startswith(f"{unit.slug}/"))
        .order_by(CourseAsset.path)
    )
    return list(db.session.scalars(query))


def get_asset(course: Course, path: str, *, with_data: bool = False) -> CourseAsset | None:
    query = select(CourseAsset).where(CourseAsset.course_id == course.id, CourseAsset.path == path)
    if with_data:
        query = query.options(undefer(CourseAsset.data))
    return db.session.scalar(query)


def store_image(
    course: Course, unit: Unit, *, filename: str, data: bytes, uploaded_by_id: int
) -> tuple[CourseAsset, bool]:
    """Clean and keep an uploaded image beside ``unit``'s lessons; True if it replaced one.

    Raises :class:`ImageRejected`.
    """
    image = clean_svg(data) if svg.looks_like_svg(data, filename) else clean_image(data)
    path = f"{unit.slug}/{image_file_name(filename, image.format)}"
    asset = get_asset(course, path)
    if asset is None:
        try:
            with unique_or_taken():
                asset = CourseAsset(course_id=course.id, path=path)
                _fill_asset(asset, image, uploaded_by_id)
                db.session.add(asset)
            return asset, False
        except Taken:
            # Uploaded under the same name by someone else at the same moment: this upload
            # replaces it, as it would have a moment later.
            asset = get_asset(course, path)
            assert asset is not None
    _fill_asset(asset, image, uploaded_by_id)
    db.session.flush()
    return asset, True


def _fill_asset(asset: CourseAsset, image: CleanImage, uploaded_by_id: int) -> None:
    asset.mime = image.mime
    asset.data = image.data
    asset.sha256 = hashlib.sha256(image.data).hexdigest()
    asset.width, asset.height = image.width, image.height
    asset.uploaded_by_id = uploaded_by_id
    asset.created_at = utcnow()


def image_markdown(alt: str, name: str) -> str:
    """The Markdown that shows image ``name`` from a lesson of the same unit."""
    alt = " ".join(alt.split())
    for char in ("\\", "[", "]"):
        alt = alt.replace(char, "\\" + char)
    return f"![{alt}]({name})"
