"""The quiz editor: trainers edit the quiz file with a preview, revisions and publishing."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from academy.auth.permissions import can_edit_courses, require
from academy.courses.content import SLUG_RE
from academy.courses.models import Course, Lesson, LessonKind
from academy.db import Taken, unique_or_taken
from academy.errors import render_error
from academy.extensions import db
from academy.forms import newer_revision_saved, not_saved_message, problem_text
from academy.inputs import whole_number
from academy.quizzes import forms, services
from academy.quizzes.blueprint import bp
from academy.quizzes.models import Quiz
from academy.quizzes.reader import parse_quiz
from academy.quizzes.shown import quiz_or_404

NEW_QUIZ_TEMPLATE = """---
titulo: Nuevo cuestionario
aprobacion: 60
intentos: 3
---

Instrucciones para quienes responden (opcional).

## Primera pregunta
tipo: unica

- [x] La respuesta correcta
- [ ] Otra opción
"""


def lessons_using(slug: str) -> list[tuple[Course, Lesson]]:
    rows = db.session.execute(
        select(Course, Lesson)
        .join(Lesson, Lesson.course_id == Course.id)
        .where(Lesson.kind == LessonKind.QUIZ.value, Lesson.ref == slug)
        .order_by(Course.title, Lesson.slug)
    )
    return [(course, lesson) for course, lesson in rows]


@bp.get("/editor/cuestionarios/")
@require(can_edit_courses)
def index() -> str:
    return render_template("quizzes/index.html", quizzes=services.listing())


@bp.route("/editor/cuestionarios/<quiz_slug>", methods=["GET", "POST"])
@require(can_edit_courses)
def edit(quiz_slug: str) -> Any:
    """The quiz file in a text box: preview, problems by line, save as a draft revision.

    A slug without a quiz yet (a quiz lesson pointing at a quiz nobody wrote) starts one.
    """
    if not SLUG_RE.match(quiz_slug) or len(quiz_slug) > 120:
        abort(404)
    row = services.get_quiz(quiz_slug)
    latest = row.latest if row is not None else None
    form = forms.QuizSourceForm()
    if not form.is_submitted():
        form.source.data = latest.source_md if latest else NEW_QUIZ_TEMPLATE
        form.base.data = str(latest.number) if latest else "0"
    status = 200
    text = form.source.data or ""
    parsed, problems = (
        parse_quiz(text, f"{quiz_slug}.md", slug=quiz_slug)
        if len(text) <= forms.MAX_SOURCE_CHARS
        else (None, [])
    )
    if form.is_submitted():
        valid = form.validate()
        saving = request.form.get("action") == "save"
        if saving and valid and parsed is not None and not problems:
            if not newer_revision_saved(form, latest):
                try:
                    with unique_or_taken():
                        return save_quiz(quiz_slug, row, text, form.note.data or "")
                except Taken:
                    # Someone created this quiz, or saved a revision, since the check above:
                    # the same answer as when they came first; the text stays in the form.
                    if row is not None:
                        db.session.expire(row)
                    row = services.get_quiz(quiz_slug)
                    newer_revision_saved(form, row.latest if row is not None else None)
            status = 409
        elif saving and problems:
            form.form_errors.append(not_saved_message(len(problems)))
            status = 422
        elif not valid or parsed is None:
            status = 422
    return render_template(
        "quizzes/edit.html",
        slug=quiz_slug,
        row=row,
        latest=latest,
        form=form,
        parsed=parsed,
        problems=[problem_text(problem) for problem in problems],
        count=parsed.question_count if parsed else 0,
        lessons=lessons_using(quiz_slug),
    ), status


def save_quiz(slug: str, row: Quiz | None, text: str, note: str) -> Any:
    if row is None:
        row = Quiz(slug=slug)
        db.session.add(row)
    before = row.latest
    revision, problems = services.save_draft(row, text, author_id=int(current_user.id), note=note)
    if revision is None:  # the text was checked just before; this is only a safety net
        return render_error(422, " ".join(problem_text(p) for p in problems))
    if revision is before:
        flash(_("No había cambios que guardar."), "info")
    else:
        flash(
            _(
                "Guardamos el borrador: revisión %(n)s. Los participantes siguen viendo la versión "
                "publicada hasta que publiques esta.",
                n=revision.number,
            ),
            "success",
        )
    return redirect(url_for("quizzes.edit", quiz_slug=slug), 303)


@bp.post("/editor/cuestionarios/<quiz_slug>/publicar")
@require(can_edit_courses)
def publish(quiz_slug: str) -> Response:
    row = quiz_or_404(quiz_slug)
    number = request.form.get("revision", type=whole_number)
    revision = next((r for r in row.revisions if r.number == number), None)
    back = url_for("quizzes.edit", quiz_slug=row.slug)
    if request.form.get("volver") == "revisiones":
        back = url_for("quizzes.revisions", quiz_slug=row.slug)
    if revision is None:
        flash(_("Esa revisión no existe. Elige una del historial."), "error")
        return redirect(back, 303)
    if row.published_revision_id == revision.id:
        flash(_("La revisión %(n)s ya es la publicada.", n=revision.number), "info")
        return redirect(back, 303)
    services.publish(row, revision, by=current_user._get_current_object())  # type: ignore[attr-defined]
    flash(
        _(
            "Publicamos la revisión %(n)s. Los intentos nuevos la usan; los que están en curso "
            "siguen con la suya.",
            n=revision.number,
        ),
        "success",
    )
    return redirect(back, 303)


@bp.get("/editor/cuestionarios/<quiz_slug>/revisiones")
@require(can_edit_courses)
def revisions(quiz_slug: str) -> str:
    row = quiz_or_404(quiz_slug)
    return render_template(
        "quizzes/revisions.html", row=row, revisions=list(reversed(row.revisions))
    )


@bp.get("/editor/cuestionarios/<quiz_slug>/revisiones/<int:number>")
@require(can_edit_courses)
def revision(quiz_slug: str, number: int) -> str:
    row = quiz_or_404(quiz_slug)
    shown = next((r for r in row.revisions if r.number == number), None) or abort(404)
    return render_template("quizzes/revision.html", row=row, revision=shown)
