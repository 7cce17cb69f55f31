"""The learner's side of progress: enrolling, "Mis cursos" (with the case reviews not read
yet and the certificates in force), marking a reading done, resuming; and the admin's
enrolment page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from academy.auth.permissions import can_manage_people, require
from academy.cases import services as cases
from academy.certificates import services as certificates
from academy.courses.models import LessonKind
from academy.courses.visibility import published_course, published_lesson
from academy.errors import render_error
from academy.learning.forms import EnrolPeopleForm
from academy.pagination import paginate
from academy.progress import services

bp = Blueprint("progress", __name__, template_folder="templates")

ROSTER_PAGE_SIZE = 50


@bp.get("/mis-cursos")
@login_required
def my_courses() -> str:
    enrolments = [e for e in services.enrolments_of(current_user.id) if e.course.is_published]
    states = services.compute_all(current_user.id, enrolments)
    current, finished = [], []
    for enrolment in enrolments:
        state = states[enrolment.course_id]
        (finished if state.complete else current).append((enrolment, state))
    finished.sort(key=lambda pair: pair[0].completed_at, reverse=True)
    return render_template(
        "progress/my_courses.html",
        current=current,
        finished=finished,
        # Computed here, not in the template: templates run no queries.
        recent_reviews=cases.unseen_reviews(current_user.id),
        certificates=certificates.valid_of_learner(current_user.id),
    )


@bp.post("/cursos/<slug>/inscribirme")
@login_required
def enrol(slug: str) -> Response:
    course = published_course(slug)
    if services.get_enrolment(current_user.id, course.id) is None:
        if not services.can_self_enrol(course):
            abort(403)
        services.enrol(current_user.id, course)
        flash(_("Te inscribiste en «%(title)s». ¡Buen estudio!", title=course.title), "success")
    return redirect(url_for("progress.resume", slug=course.slug))


@bp.get("/cursos/<slug>/continuar")
@login_required
def resume(slug: str) -> Response:
    """Back to the lesson the learner was on, or the first one not yet done."""
    course = published_course(slug)
    enrolment = services.get_enrolment(current_user.id, course.id)
    if enrolment is None:
        return redirect(url_for("courses.course_page", slug=course.slug))
    state = services.compute(current_user.id, course.id, enrolment=enrolment)
    if not state.items:
        return redirect(url_for("courses.course_page", slug=course.slug))
    last = state.state_of(enrolment.last_lesson_id) if enrolment.last_lesson_id else None
    if last is not None and not last.done:
        target = last
    else:
        target = state.next_unfinished() or last or state.items[0]
    return redirect(url_for("courses.lesson_page", slug=course.slug, lesson_slug=target.item.slug))


@bp.post("/cursos/<slug>/lecciones/<lesson_slug>/completar")
@login_required
def complete(slug: str, lesson_slug: str) -> Any:
    course = published_course(slug)
    lesson = published_lesson(course, lesson_slug)
    enrolment = services.get_enrolment(current_user.id, course.id)
    if enrolment is None:
        return render_template("courses/not_enrolled.html", course=course), 403
    if lesson.kind != LessonKind.READING:
        # Quizzes and cases complete by their own rules, never by this button.
        return render_error(
            400,
            _("Esta lección se completa con su actividad (cuestionario o caso), no marcándola."),
            back=url_for("courses.lesson_page", slug=course.slug, lesson_slug=lesson.slug),
        )
    was_complete = enrolment.completed_at is not None
    state = services.mark_done(enrolment, lesson.id)
    if state.complete and not was_complete:
        flash(
            _("¡Felicitaciones! Completaste el curso «%(title)s».", title=course.title), "success"
        )
    else:
        flash(_("Lección marcada como completada."), "success")
    if request.form.get("next") == "siguiente":
        following = state.next_unfinished()
        if following is not None:
            return redirect(
                url_for("courses.lesson_page", slug=course.slug, lesson_slug=following.item.slug)
            )
    return redirect(url_for("courses.lesson_page", slug=course.slug, lesson_slug=lesson.slug))


@bp.route("/admin/cursos/<slug>/inscripciones", methods=["GET", "POST"])
@require(can_manage_people)
def enrolments(slug: str) -> Any:
    """Admins enrol people (any course, open or by invitation) and follow their progress."""
    course = services.get_course_for_admin(slug) or abort(404)
    form = EnrolPeopleForm()
    if form.validate_on_submit():
        unknown = services.unknown_emails(form.addresses())
        if unknown:
            # All or nothing: a half-applied list is harder to fix than a refused one.
            form.emails.errors.append(
                _(
                    "Estas direcciones no tienen cuenta: %(emails)s. No inscribimos a nadie; "
                    "corrige la lista y vuelve a enviarla.",
                    emails=", ".join(unknown),
                )
            )
            return _enrolments_page(course, form), 422
        count = services.enrol_by_email(course, form.addresses(), by=current_user.id)
        flash(
            ngettext("Inscribimos a %(num)d persona.", "Inscribimos a %(num)d personas.", count),
            "success",
        )
        return redirect(url_for("progress.enrolments", slug=course.slug))
    return _enrolments_page(course, form), 422 if form.is_submitted() else 200


def _enrolments_page(course: Any, form: EnrolPeopleForm) -> str:
    page = paginate(services.roster(course), per_page=ROSTER_PAGE_SIZE)
    rows = services.roster_rows(course, page.items)
    return render_template(
        "progress/enrolments.html", course=course, form=form, rows=rows, page=page
    )
