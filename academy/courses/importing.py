"""Importing a course folder (:mod:`academy.courses.content` reads it) into the database: new
and changed lessons become revisions, retired ones are kept, and lessons edited in the web
editor since the last import stop it (:class:`ImportConflict`) before anything is written.

Nothing here commits: the request (or the CLI command) that calls these owns the transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from academy import audit
from academy.courses import content
from academy.courses.content import CourseSource, LessonSource
from academy.courses.images import image_size
from academy.courses.lookups import assets_by_path, course_lessons, get_course, render_text
from academy.courses.models import Course, CourseAsset, CourseStatus, Lesson, RevisionSource, Unit
from academy.courses.revisions import add_revision
from academy.courses.structure import update_course
from academy.db import utcnow
from academy.extensions import db


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
    course_id: int | None = None
    # Whether this import made the course published (it was new, a draft or unpublished).
    course_published: bool = False
    # Each lesson whose published revision this import changed: (id, slug, revision number).
    published_lessons: list[tuple[int, str, int]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.created
            or self.new_lessons
            or self.changed_lessons
            or self.retired_lessons
            or self.assets
        )


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
    was_published = course.status == CourseStatus.PUBLISHED.value
    assets = {asset.path for asset in source.assets}
    _apply_course_fields(course, source, publish, assets)
    report.assets = _import_assets(course, source, author_id)
    db.session.flush()
    report.course_id = course.id
    report.course_published = course.status == CourseStatus.PUBLISHED.value and not was_published

    units = {unit.slug: unit for unit in course.units}
    lessons = {lesson.slug: lesson for lesson in course_lessons(course)}
    published_before = {slug: lesson.published_revision_id for slug, lesson in lessons.items()}
    imported: list[Lesson] = []
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
            imported.append(lesson)
    now = utcnow()
    for unit in units.values():
        if unit.slug not in seen_units and unit.retired_at is None:
            unit.retired_at = now
    for lesson in lessons.values():
        if lesson.slug not in slugs and lesson.retired_at is None:
            lesson.retired_at = now
            report.retired_lessons.append(lesson.slug)
    db.session.flush()
    for lesson in imported:
        published = lesson.published
        if published is not None and published.id != published_before.get(lesson.slug):
            report.published_lessons.append((lesson.id, lesson.slug, published.number))
    return report


def record_import(report: ImportReport, *, actor: Any | None) -> None:
    """The audit log's events for what an import published, the same the editor records: the
    course made published (``course.published``) and each lesson whose published revision
    changed (``lesson.published`` with its revision), marked as coming from an import. ``actor``
    is the acting ``User``, or None on the command line (the log names the system user)."""
    if report.course_published:
        audit.record(
            audit.AuditAction.COURSE_PUBLISHED,
            actor=actor,
            target_type="course",
            target_id=report.course_id,
            target_label=report.course,
            via="import",
        )
    for lesson_id, slug, number in report.published_lessons:
        audit.record(
            audit.AuditAction.LESSON_PUBLISHED,
            actor=actor,
            target_type="lesson",
            target_id=lesson_id,
            target_label=f"{report.course}/{slug}",
            revision=number,
            via="import",
        )


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
