"""What the course editor and the quiz editor share: finding a course, unit, lesson or
revision by its slugs for an editor (any status; a 404 otherwise), and the names of where a
revision came from. Not a view module: each editor's views import it."""

from __future__ import annotations

from flask import abort
from flask_babel import lazy_gettext as _l

from academy.courses import lookups
from academy.courses.models import Course, Lesson, LessonRevision, RevisionSource, Unit

SOURCE_LABELS = {
    RevisionSource.IMPORT.value: _l("Importación de archivos"),
    RevisionSource.EDITOR.value: _l("Editor"),
    RevisionSource.RESTORE.value: _l("Restauración"),
}


# Everything is found through its course, so an id from elsewhere is a 404.


def course_or_404(slug: str) -> Course:
    return lookups.get_course(slug) or abort(404)


def unit_or_404(course: Course, unit_slug: str) -> Unit:
    unit = lookups.get_unit(course, unit_slug)
    if unit is None or unit.retired_at is not None:
        abort(404)
    return unit


def lesson_or_404(course: Course, lesson_slug: str, *, retired: bool = False) -> Lesson:
    lesson = lookups.get_lesson(course, lesson_slug)
    if lesson is None or (lesson.retired_at is not None and not retired):
        abort(404)
    return lesson


def revision_or_404(lesson: Lesson, number: int) -> LessonRevision:
    return lookups.get_revision(lesson, number) or abort(404)
