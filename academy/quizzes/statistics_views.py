"""Trainers read per-question statistics of a quiz lesson and export its attempts as CSV."""

from __future__ import annotations

from flask import Response, render_template, stream_with_context
from flask_babel import format_datetime
from flask_login import current_user

from academy import audit
from academy.auth.permissions import can_edit_courses, require
from academy.courses.editing import course_or_404
from academy.quizzes import reports
from academy.quizzes.blueprint import bp
from academy.quizzes.shown import quiz_lesson_or_404


@bp.get("/editor/cursos/<slug>/lecciones/<lesson_slug>/cuestionario/estadisticas")
@require(can_edit_courses)
def statistics(slug: str, lesson_slug: str) -> str:
    course = course_or_404(slug)
    lesson = quiz_lesson_or_404(course, lesson_slug)
    stats = reports.quiz_statistics(lesson, reports.reference_quiz(lesson))
    return render_template(
        "quizzes/statistics.html",
        course=course,
        lesson=lesson,
        stats=stats,
        min_attempts=reports.MIN_ATTEMPTS,
    )


@bp.get("/editor/cursos/<slug>/lecciones/<lesson_slug>/cuestionario/intentos.csv")
@require(can_edit_courses)
def export_attempts(slug: str, lesson_slug: str) -> Response:
    course = course_or_404(slug)
    lesson = quiz_lesson_or_404(course, lesson_slug)
    # A trainer who follows cohorts of the course (and does not teach it) gets their learners.
    rows = reports.attempt_rows(
        course,
        lesson,
        lambda value: format_datetime(value, "yyyy-MM-dd HH:mm:ss"),
        viewer=current_user._get_current_object(),  # type: ignore[attr-defined]
    )
    filename = f"{course.slug}-{lesson.slug}-intentos.csv"
    # Learners' names and answers: an export of personal data. The event commits when the view
    # returns, before the first row streams.
    audit.record(
        audit.AuditAction.DATA_EXPORTED,
        actor=current_user._get_current_object(),  # type: ignore[attr-defined]
        target_type="export",
        target_label=filename,
        report="quiz_attempts",
        course=course.slug,
        lesson=lesson.slug,
    )
    # Streamed as it is read: the request (its session, its locale) lasts until the last row.
    chunks = (chunk.encode("utf-8") for chunk in reports.csv_chunks(rows))
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.cache_control.no_store = True
    return response
