"""Trainers preview any quiz, or a quiz lesson, without recording anything."""

from __future__ import annotations

import random
import secrets
from fractions import Fraction
from typing import Any

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _

from academy.auth.permissions import can_edit_courses, require
from academy.courses.editing import course_or_404
from academy.errors import render_error
from academy.inputs import whole_number
from academy.quizzes import attempts, forms, services, storage
from academy.quizzes.blueprint import bp
from academy.quizzes.models import QuizRevision
from academy.quizzes.questions import ResponseError
from academy.quizzes.shown import (
    add_review,
    error_message,
    quiz_lesson_or_404,
    quiz_or_404,
    shown_questions,
)


@bp.route(
    "/editor/cursos/<slug>/lecciones/<lesson_slug>/cuestionario/vista-previa",
    methods=["GET", "POST"],
)
@require(can_edit_courses)
def preview_lesson(slug: str, lesson_slug: str) -> Any:
    """A quiz lesson as learners take it (its published revision), recording nothing."""
    course = course_or_404(slug)
    lesson = quiz_lesson_or_404(course, lesson_slug)
    row = services.get_quiz(lesson.ref) if lesson.ref else None
    revision = (row.published or row.latest) if row is not None else None
    if revision is None:
        return render_error(
            404,
            _("Esta lección no tiene un cuestionario con revisiones todavía."),
            back=url_for("editor.course", slug=course.slug, _anchor=f"leccion-{lesson.slug}"),
        )
    return run_preview(
        revision,
        heading=_("Vista previa de «%(title)s»", title=lesson.title),
        action=url_for("quizzes.preview_lesson", slug=course.slug, lesson_slug=lesson.slug),
        crumbs=[
            (_("Editor de cursos"), url_for("editor.index")),
            (course.title, url_for("editor.course", slug=course.slug)),
            (lesson.title, None),
        ],
    )


@bp.route("/editor/cuestionarios/<quiz_slug>/vista-previa", methods=["GET", "POST"])
@require(can_edit_courses)
def preview_quiz(quiz_slug: str) -> Any:
    """Any revision of a quiz (the latest by default), recording nothing."""
    row = quiz_or_404(quiz_slug)
    number = request.values.get("revision", type=whole_number)
    revision = (
        next((r for r in row.revisions if r.number == number), None)
        if number is not None
        else row.latest
    )
    if revision is None:
        abort(404)
    return run_preview(
        revision,
        heading=_(
            "Vista previa de «%(title)s», revisión %(n)s", title=revision.title, n=revision.number
        ),
        action=url_for("quizzes.preview_quiz", quiz_slug=row.slug, revision=revision.number),
        crumbs=[
            (_("Cuestionarios"), url_for("quizzes.index")),
            (revision.title, url_for("quizzes.edit", quiz_slug=row.slug)),
            (_("Vista previa"), None),
        ],
    )


MAX_SEED = 2**32


def run_preview(
    revision: QuizRevision, *, heading: str, action: str, crumbs: list[tuple[str, str | None]]
) -> Any:
    """Draw as for an attempt, show the questions; on submit grade in memory and review."""
    quiz = storage.load(revision)
    # Not a database number (checked against MAX_SEED below), so not whole_number.
    seed = request.form.get("semilla", type=int) if request.method == "POST" else None
    if request.method == "POST" and (seed is None or not 0 <= seed < MAX_SEED):
        abort(400)
    if seed is None:
        seed = secrets.randbelow(MAX_SEED)
    layout = attempts.draw_layout(quiz, random.Random(seed))  # noqa: S311 (a preview's draw)
    by_key = {q.key: q for q in quiz.questions}
    pairs = [(by_key[entry["key"]], entry["arrangement"]) for entry in layout]
    drawn = {question.key: question for question, _order in pairs}
    page = {
        "heading": heading,
        "action": action,
        "crumbs": crumbs,
        "quiz": quiz,
        "revision": revision,
        "seed": seed,
    }
    if request.method == "GET":
        shown = shown_questions(pairs, {})
        return render_template("quizzes/preview.html", questions=shown, graded=None, **page)
    raw, errors = forms.read_responses(request.form, drawn)
    responses: dict[str, Any] = {}
    for key, value in raw.items():
        question = drawn.get(key)
        if question is None:
            errors[key] = _("Esa pregunta no es parte de este intento.")
            continue
        try:
            responses[key] = question.parse_response(value)
        except ResponseError as error:
            errors[key] = str(error)
    states = {key: forms.state_from_form(q, request.form) for key, q in drawn.items()}
    if errors:
        messages = {key: error_message(reason) for key, reason in errors.items()}
        shown = shown_questions(pairs, states, messages)
        return render_template(
            "quizzes/preview.html", questions=shown, graded=None, errors=messages, **page
        ), 422
    scores, total, maximum = attempts.grade_responses(list(drawn.values()), responses)
    shown = shown_questions(pairs, states)
    add_review(shown, responses, scores, full=True)
    graded = {
        "score": total,
        "maximum": maximum,
        "percent": total * 100 / maximum if maximum else Fraction(0),
        "passed": quiz.settings.passed(total, maximum),
    }
    return render_template("quizzes/preview.html", questions=shown, graded=graded, **page)
