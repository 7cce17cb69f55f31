"""Course logic: import and export of the file format, revisions, publishing.

Nothing here commits: the request (or the CLI command) that calls these owns the transaction,
so an import that stops on a conflict has written nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import select

from academy import markdown
from academy.courses import content
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
from academy.db import utcnow
from academy.extensions import db
from academy.frontmatter import dump

# Database values back to the words of the files.
KIND_WORDS = {value: word for word, value in content.KINDS.items()}
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


def asset_paths(course: Course) -> set[str]:
    query = select(CourseAsset.path).where(CourseAsset.course_id == course.id)
    return set(db.session.scalars(query))


def assets_by_path(course: Course) -> dict[str, CourseAsset]:
    query = select(CourseAsset).where(CourseAsset.course_id == course.id)
    return {asset.path: asset for asset in db.session.scalars(query)}


@dataclass
class OutlineUnit:
    unit: Unit
    lessons: list[Lesson]


def outline(course: Course, *, drafts: bool = False) -> list[OutlineUnit]:
    """Units and lessons in order: what learners see, or everything for the editor."""
    result = []
    for unit in _live_units(course):
        lessons = [
            lesson
            for lesson in unit.lessons
            if lesson.retired_at is None and (drafts or lesson.published_revision_id is not None)
        ]
        if lessons or drafts:
            result.append(OutlineUnit(unit, lessons))
    return result


def neighbours(units: list[OutlineUnit], lesson: Lesson) -> tuple[Lesson | None, Lesson | None]:
    flat = [item for entry in units for item in entry.lessons]
    index = next((i for i, item in enumerate(flat) if item.id == lesson.id), None)
    if index is None:
        return None, None
    before = flat[index - 1] if index > 0 else None
    after = flat[index + 1] if index + 1 < len(flat) else None
    return before, after


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
    _apply_course_fields(course, source)
    report.assets = _import_assets(course, source, author_id)
    db.session.flush()

    units = {unit.slug: unit for unit in course.units}
    lessons = {lesson.slug: lesson for lesson in course_lessons(course)}
    slugs = {lesson.slug for lesson in source.lessons()}
    assets = {asset.path for asset in source.assets}
    seen_units = set()
    for unit_source in source.units:
        unit = units.get(unit_source.slug)
        if unit is None:
            unit = Unit(course=course, slug=unit_source.slug)
            db.session.add(unit)
        unit.title = unit_source.title
        unit.position = unit_source.position
        unit.summary_md = unit_source.summary_md
        unit.summary_html = markdown.render(unit_source.summary_md).html
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


def _apply_course_fields(course: Course, source: CourseSource) -> None:
    course.title = source.title
    course.summary = source.summary
    course.hours = source.hours
    course.language = source.language
    course.outcomes = source.outcomes
    course.enrolment = source.enrolment
    course.case_completion = source.case_completion
    course.certificate_template = source.certificate_template
    course.description_md = source.description_md
    course.description_html = markdown.render(source.description_md).html
    if course.status != CourseStatus.ARCHIVED:
        course.status = (CourseStatus.PUBLISHED if source.published else CourseStatus.DRAFT).value


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
    if latest is not None and latest.content_hash == digest:
        lesson.imported = latest
        if publish and lesson.published is None:
            lesson.published = latest
        return
    rendered = content.render_lesson(source.body_md, unit_slug, slugs, assets)
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
        width, height = image_size(data)
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


def image_size(data: bytes) -> tuple[int, int]:
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
    assets = assets_by_path(course)
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
        "tipo": KIND_WORDS[lesson.kind],
        "minutos": revision.minutes,
        "objetivos": list(revision.objectives),
    }
    if not lesson.required:
        meta["obligatoria"] = False
    if lesson.ref and lesson.kind == "quiz":
        meta["cuestionario"] = lesson.ref
    if revision.extra:
        meta["caso"] = revision.extra
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
    body_md = content.normalise_body(body_md.replace("\r\n", "\n"), 1)[0]
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
