"""The learner's side of progress: enrolling, "Mis cursos" (with the case reviews not read
yet and the certificates in force), marking a reading done, resuming; and the admin's
enrolment page."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import cached_property, lru_cache, partial
from operator import attrgetter
from typing import Any, NamedTuple

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, get_locale, get_translations, ngettext, to_user_timezone
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from academy import fragments
from academy.auth.permissions import can_manage_people, require
from academy.cases import services as cases
from academy.certificates import services as certificates
from academy.certificates.models import Certificate
from academy.courses.models import LessonKind
from academy.courses.visibility import published_course, published_lesson
from academy.errors import render_error
from academy.i18n import current_language, gettext
from academy.learning.forms import EnrolPeopleForm
from academy.pagination import paginate
from academy.progress import services

bp = Blueprint("progress", __name__, template_folder="templates")

ROSTER_PAGE_SIZE = 50


@bp.get("/mis-cursos")
@login_required
def my_courses() -> str:
    """The learner's courses: a card for each one not finished yet, then the finished ones.

    Each card is the same for everyone enrolled in the course but for three values of the
    learner's (percent, lessons left, Comenzar or Continuar): it is kept as a frame
    (:mod:`academy.fragments`) per course and filled in per request, so that a learner with
    thirty courses costs little more than one with a single course. A finished course's item
    likewise, with the learner's completion date and certificate filled in.
    """
    courses = services.enrolled_courses(current_user.id)
    current = [course for course in courses if course.completed_at is None]
    finished = [course for course in courses if course.completed_at is not None]
    finished.sort(key=attrgetter("completed_at"), reverse=True)
    return render_template(
        "progress/my_courses.html",
        current=_course_cards(current),
        finished=_finished_items(finished, certificates.valid_of_learner(current_user.id)),
        # Computed here, not in the template: templates run no queries.
        recent_reviews=cases.unseen_reviews(current_user.id),
    )


class _CardProgress(NamedTuple):
    percent: Markup


def _course_cards(courses: list[services.EnrolledCourse]) -> list[Markup]:
    """Each course's card (``progress/_course_card.html``) with the learner's values put in.

    A card's frame is kept under everything it shows that is not a hole: the course's id,
    slug and title, the language and the mount point (its links). Each text filled in is
    translated once per page (the learner's courses share a few).
    """
    language, script_root = current_language(), request.script_root
    texts = _CardTexts()
    cards = []
    for course in courses:
        key = ("my-courses-card", language, script_root, course.id, course.slug, course.title)
        frame = fragments.kept(key, partial(_card_frame, course))
        percent = course.percent
        cards.append(
            frame.fill(
                {
                    "percent": str(percent),
                    "left": texts.left(course.left),
                    "action": texts.continue_ if percent else texts.start,
                }
            )
        )
    return cards


class _CardTexts:
    """The cards' translated texts, each made once per page and escaped."""

    def __init__(self) -> None:
        self.lefts: dict[int, str] = {0: ""}

    @cached_property
    def start(self) -> str:
        return escape(gettext("Comenzar"))

    @cached_property
    def continue_(self) -> str:
        return escape(gettext("Continuar"))

    @cached_property
    def catalog(self) -> Any:
        return get_translations()

    def left(self, count: int) -> str:
        """The «Te faltan N lecciones obligatorias.» text (nothing when none is left)."""
        text = self.lefts.get(count)
        if text is None:
            text = self.lefts[count] = escape(
                self.catalog.ungettext(
                    "Te falta %(num)d lección obligatoria.",
                    "Te faltan %(num)d lecciones obligatorias.",
                    count,
                )
                % {"num": count}
            )
        return text


def _card_frame(course: services.EnrolledCourse) -> str:
    return render_template(
        "progress/_course_card.html",
        course=course,
        progress=_CardProgress(fragments.hole("percent")),
        left=fragments.hole("left"),
        action=fragments.hole("action"),
    )


def _finished_items(
    courses: list[services.EnrolledCourse], in_force: Mapping[int, Certificate]
) -> list[Markup]:
    """Each finished course's list item (``progress/_finished_course.html``), kept as a frame
    per course, language, mount point and whether the learner has a certificate of it in
    force, with the completion date and the certificate's address filled in."""
    language, script_root = current_language(), request.script_root
    items = []
    for course in courses:
        certificate = in_force.get(course.id)
        key = (
            "my-courses-finished",
            language,
            script_root,
            course.id,
            course.slug,
            course.title,
            certificate is not None,
        )
        frame = fragments.kept(key, partial(_finished_frame, course, certificate is not None))
        assert course.completed_at is not None
        values = {"date": _long_date(course.completed_at)}
        if certificate is not None:
            values["certificate"] = escape(
                url_for("certificates.my_certificate", certificate_id=certificate.id)
            )
        items.append(frame.fill(values))
    return items


def _long_date(moment: datetime) -> str:
    """``moment|dateformat("long")``, escaped: the day in the reader's time zone, written in
    their language (the text of each day kept: the same for every reader of a language)."""
    return _day_text(str(get_locale()), to_user_timezone(moment).date())


@lru_cache(maxsize=4096)
def _day_text(locale: str, day: date) -> str:
    return escape(format_date(day, "long"))  # in ``locale``, the request's (the key)


def _finished_frame(course: services.EnrolledCourse, certificate: bool) -> str:
    return render_template(
        "progress/_finished_course.html",
        course=course,
        date=fragments.hole("date"),
        certificate=fragments.hole("certificate") if certificate else None,
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
