"""Case exercises on the web: the learner's answers, the trainers' queue and reviews, and the
admin's page for who teaches a course and which cohort each learner is in.

Learners' answers are stored as they typed them and always shown escaped, with their line
breaks (``.case-response`` keeps white space): nothing a learner writes is ever interpreted
as HTML, on any page, and no request renders Markdown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import (
    force_locale,
    format_date,
    format_time,
    format_timedelta,
    lazy_pgettext,
    ngettext,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from academy import mail, outbox
from academy.auth.permissions import can_manage_people, can_review_cases, require
from academy.cases import services
from academy.cases.definition import MAX_PROMPTS, CaseDefinition
from academy.cases.forms import CohortForm, TrainerForm
from academy.cases.models import CaseSubmission, SubmissionStatus
from academy.courses.kinds import LessonVisit
from academy.courses.models import CaseCompletion, Course, Lesson, LessonKind, LessonRevision
from academy.courses.revisions import lesson_body
from academy.courses.visibility import published_course, published_lesson
from academy.db import utcnow
from academy.extensions import db, limiter
from academy.inputs import whole_number
from academy.pagination import PAGE_ARG, paginate
from academy.progress import cohorts as progress_cohorts
from academy.progress import services as progress
from academy.security import opened_as_page

bp = Blueprint("cases", __name__, template_folder="templates")

STATUS_LABELS = {
    SubmissionStatus.DRAFT: _l("Borrador"),
    SubmissionStatus.SUBMITTED: _l("Enviado"),
    SubmissionStatus.IN_REVIEW: _l("En revisión"),
    SubmissionStatus.RETURNED: _l("Devuelto para corregir"),
    SubmissionStatus.APPROVED: lazy_pgettext("case status", "Aprobado"),
}
QUEUE_STATUSES = {
    "": _l("Esperando revisión"),
    SubmissionStatus.SUBMITTED.value: _l("Enviados, sin abrir"),
    SubmissionStatus.IN_REVIEW.value: _l("En revisión"),
    SubmissionStatus.RETURNED.value: _l("Devueltos para corregir"),
    SubmissionStatus.APPROVED.value: _l("Aprobados"),
}
PER_PAGE = 25
ROSTER_PAGE_SIZE = 50
DECISIONS = {"aprobar": True, "devolver": False}


@bp.app_template_filter("case_status")
def status_label(status: str) -> str:
    return str(STATUS_LABELS[SubmissionStatus(status)])


@bp.app_template_filter("waited")
def waited(moment: Any) -> str:
    """ "hace 3 días": how long ago, in the reader's language."""
    if moment is None:
        return ""
    return str(format_timedelta(moment - utcnow(), add_direction=True))


@bp.app_template_filter("case_when")
def when(moment: Any) -> str:
    """ "24 de noviembre de 2026, 19:59": a date and time without seconds or zone."""
    return _(
        "%(date)s, %(time)s", date=format_date(moment, "long"), time=format_time(moment, "short")
    )


@bp.app_template_filter("case_words")
def case_words(text: str) -> int:
    return services.word_count(text or "")


@bp.app_template_filter("case_definition")
def case_definition(submission: CaseSubmission) -> CaseDefinition:
    """The prompts and rubric a submission answered (its own revision's, not today's)."""
    return services.definition_of(submission.revision)


@bp.app_template_global()
def case_submission_link(submission: CaseSubmission) -> str | None:
    """Where the learner reads one of their submissions (drafts are the form itself)."""
    if submission.status == SubmissionStatus.DRAFT:
        return None
    return url_for("cases.submission", submission_id=submission.id)


@bp.app_template_global()
def case_review_link(submission: CaseSubmission) -> str | None:
    if submission.status == SubmissionStatus.DRAFT:
        return None
    return url_for("cases.review", submission_id=submission.id)


# Pieces other pages include ------------------------------------------------------------------


@dataclass(frozen=True)
class LessonPanel:
    """What the lesson page shows under a case's scenario."""

    definition: CaseDefinition
    latest: CaseSubmission | None
    work_url: str
    enrolled: bool


def case_panel(visit: LessonVisit) -> LessonPanel | None:
    """The case part of a lesson page: computed by the lesson page's view (see
    :class:`academy.courses.kinds.LessonKind`'s ``panel``)."""
    lesson = db.session.get(Lesson, visit.lesson.lesson_id)
    if lesson is None or lesson.published is None:
        return None
    latest = services.current(current_user.id, lesson.id) if visit.enrolled else None
    revision = services.answered_revision(lesson, latest)
    assert revision is not None
    return LessonPanel(
        services.definition_of(revision),
        latest,
        url_for("cases.work", slug=visit.course.slug, lesson_slug=visit.lesson.slug),
        visit.enrolled,
    )


# The learner's side --------------------------------------------------------------------------


def enrolled_case(slug: str, lesson_slug: str) -> tuple[Course, Lesson]:
    """The case lesson, for a learner enrolled in its course (403 page otherwise)."""
    course = published_course(slug)
    lesson = published_lesson(course, lesson_slug)
    if lesson.kind != LessonKind.CASE:
        abort(404)
    if progress.get_enrolment(current_user.id, course.id) is None:
        page = render_template("courses/not_enrolled.html", course=course)
        abort(make_response(page, 403))
    return course, lesson


def response_fields(form: Any) -> dict[str, str]:
    return {
        str(index): value
        for index in range(1, MAX_PROMPTS + 1)
        if isinstance(value := form.get(f"respuesta-{index}"), str)
    }


@dataclass
class Workspace:
    course: Course
    lesson: Lesson
    history: list[CaseSubmission]
    latest: CaseSubmission | None
    revision: LessonRevision
    definition: CaseDefinition
    texts: dict[str, str]
    problems: dict[str, str] = field(default_factory=dict)

    @property
    def writable(self) -> bool:
        """The learner may write: nothing handed in is waiting or approved."""
        return self.latest is None or self.latest.status in (
            SubmissionStatus.DRAFT,
            SubmissionStatus.RETURNED,
        )

    @property
    def returned(self) -> CaseSubmission | None:
        """The review the learner is answering with their revision, if any."""
        for submission in reversed(self.history):
            if submission.status == SubmissionStatus.RETURNED:
                return submission
            if submission.status != SubmissionStatus.DRAFT:
                return None
        return None

    @property
    def reviewed(self) -> CaseSubmission | None:
        """The latest submission if it carries a review to show in full."""
        latest = self.latest
        if latest is not None and latest.status in services.REVIEWED:
            return latest
        return None

    def words(self, index: int) -> int:
        return services.word_count(self.texts.get(str(index), ""))


def workspace(
    course: Course,
    lesson: Lesson,
    texts: dict[str, str] | None = None,
    problems: dict[str, str] | None = None,
) -> Workspace:
    history = services.submissions_of(current_user.id, lesson.id)
    latest = history[-1] if history else None
    revision = services.answered_revision(lesson, latest)
    assert revision is not None  # published_lesson() checked
    definition = services.definition_of(revision)
    if texts is None:
        texts = dict(latest.responses) if latest is not None else {}
    return Workspace(course, lesson, history, latest, revision, definition, texts, problems or {})


def render_work(space: Workspace, *, error: str | None = None, status: int = 200) -> Any:
    if status < 400 and opened_as_page():
        for shown in (space.reviewed, space.returned):
            if shown is not None:
                services.mark_seen(shown)
    page = render_template(
        "cases/work.html",
        space=space,
        error=error,
        scenario=scenario_html(space.revision),
    )
    return page, status


def scenario_html(revision: LessonRevision) -> Markup:
    """The scenario is the lesson's text, stored sanitised when the revision was saved."""
    return lesson_body(revision)


@bp.get("/cursos/<slug>/casos/<lesson_slug>/")
@login_required
def work(slug: str, lesson_slug: str) -> Any:
    course, lesson = enrolled_case(slug, lesson_slug)
    return render_work(workspace(course, lesson))


@bp.post("/cursos/<slug>/casos/<lesson_slug>/")
@login_required
def save(slug: str, lesson_slug: str) -> Any:
    """The form without JavaScript: save the draft, or save it and go on to hand it in."""
    course, lesson = enrolled_case(slug, lesson_slug)
    raw = response_fields(request.form)
    space = workspace(course, lesson, texts=raw)
    if not space.writable:
        return render_work(space, error=str(cannot_write(space.latest)), status=409)
    if not any(text.strip() for text in raw.values()) and (
        space.latest is None or not space.latest.editable
    ):
        return render_work(
            space, error=_("Escribe al menos una respuesta antes de guardar."), status=422
        )
    try:
        _submission, problems = services.save_draft(current_user.id, lesson, raw)
    except services.CaseError as error:
        return render_work(space, error=str(error), status=409)
    if problems:
        space.problems = problems
        return render_work(
            space,
            error=_(
                "No guardamos el borrador: revisa las respuestas marcadas. Tu texto sigue aquí."
            ),
            status=422,
        )
    if request.form.get("accion") == "enviar":
        return redirect(url_for("cases.confirm", slug=course.slug, lesson_slug=lesson.slug))
    flash(_("Guardamos tu borrador."), "success")
    return redirect(url_for("cases.work", slug=course.slug, lesson_slug=lesson.slug))


def cannot_write(latest: CaseSubmission | None) -> str:
    if latest is not None and latest.status == SubmissionStatus.APPROVED:
        return _("Este caso ya fue aprobado; no se puede volver a enviar.")
    return _("Ya enviaste este caso; espera la revisión antes de cambiarlo.")


@bp.post("/cursos/<slug>/casos/<lesson_slug>/borrador")
@login_required
@limiter.limit("120 per minute", key_func=lambda: f"case-draft:{current_user.get_id()}")
def autosave(slug: str, lesson_slug: str) -> Any:
    """Save the draft as the learner types (JSON in and out; see static/js/case.js)."""
    _course, lesson = enrolled_case(slug, lesson_slug)
    payload = request.get_json(silent=True)
    raw = payload.get("responses") if isinstance(payload, dict) else response_fields(request.form)
    if not isinstance(raw, dict) or not raw or not all(isinstance(t, str) for t in raw.values()):
        message = _("No entendimos lo que se envió; no guardamos nada.")
        return jsonify(saved=False, message=message, problems={}), 400
    latest = services.current(current_user.id, lesson.id)
    if latest is not None and latest.status not in (
        SubmissionStatus.DRAFT,
        SubmissionStatus.RETURNED,
    ):
        return jsonify(saved=False, message=cannot_write(latest), problems={}), 409
    if not any(text.strip() for text in raw.values()) and (latest is None or not latest.editable):
        return jsonify(saved=False, message="", problems={})
    try:
        submission, problems = services.save_draft(current_user.id, lesson, raw)
    except services.CaseError as error:
        return jsonify(saved=False, message=str(error), problems={}), 409
    if problems:
        message = _("No guardamos el borrador: revisa las respuestas marcadas.")
        return jsonify(saved=False, message=message, problems=problems), 422
    return jsonify(
        saved=True,
        message=_("Borrador guardado a las %(time)s.", time=format_time(utcnow(), "short")),
        problems={},
        version=submission.version,
    )


@bp.route("/cursos/<slug>/casos/<lesson_slug>/enviar", methods=["GET", "POST"])
@login_required
def confirm(slug: str, lesson_slug: str) -> Any:
    """Hand in the draft, after the learner has looked at it once more."""
    course, lesson = enrolled_case(slug, lesson_slug)
    space = workspace(course, lesson)
    back = url_for("cases.work", slug=course.slug, lesson_slug=lesson.slug)
    draft = space.latest if space.latest is not None and space.latest.editable else None
    if draft is None:
        if request.method == "GET":
            return redirect(back)
        if space.latest is None or space.latest.status == SubmissionStatus.RETURNED:
            error = _("No hay un borrador que enviar: escribe tus respuestas y guárdalas.")
        else:
            error = cannot_write(space.latest)
        return render_work(space, error=error, status=409)
    space.problems = services.check_responses(space.definition, draft.responses, final=True)
    if request.method == "GET" or space.problems:
        status = 422 if request.method == "POST" else 200
        return render_template("cases/confirm.html", space=space, draft=draft), status
    try:
        services.submit(draft, version=request.form.get("version", type=whole_number))
    except services.CaseError as error:
        space = workspace(course, lesson)
        fresh = space.latest if space.latest is not None and space.latest.editable else None
        page = render_template("cases/confirm.html", space=space, draft=fresh, error=str(error))
        return page, 409
    if course.case_completion == CaseCompletion.SUBMISSION:
        flash(
            _(
                "Enviaste tu caso para revisión y la lección quedó completada. Te avisaremos "
                "por correo cuando un relator lo revise."
            ),
            "success",
        )
    else:
        flash(
            _(
                "Enviaste tu caso para revisión. Te avisaremos por correo cuando un relator lo "
                "revise."
            ),
            "success",
        )
    return redirect(back)


@bp.get("/casos/envios/<int:submission_id>")
@login_required
def submission(submission_id: int) -> Any:
    """One of the learner's own submissions, with its review. Nobody else's: 404."""
    found = services.get_submission(submission_id)
    if found is None or found.user_id != current_user.id:
        abort(404)
    lesson = found.lesson
    if lesson.retired_at is not None or not lesson.course.is_published:
        abort(404)
    if opened_as_page():
        services.mark_seen(found)
    return render_template(
        "cases/submission.html",
        submission=found,
        definition=services.definition_of(found.revision),
        course=lesson.course,
        lesson=lesson,
    )


# The trainer's side --------------------------------------------------------------------------


@bp.get("/revision/")
@require(can_review_cases)
def queue() -> Any:
    status = request.args.get("estado", "")
    filters = services.QueueFilters(
        course_id=request.args.get("curso", type=whole_number),
        cohort_id=request.args.get("grupo", type=whole_number),
        status=status if status in QUEUE_STATUSES and status else None,
    )
    page = max(request.args.get("pagina", 1, type=whole_number), 1)
    query = (
        services.queue(current_user, filters)
        .options(
            selectinload(CaseSubmission.user),
            selectinload(CaseSubmission.reviewer),
            selectinload(CaseSubmission.revision),
            selectinload(CaseSubmission.lesson).selectinload(Lesson.course),
        )
        .limit(PER_PAGE + 1)
        .offset((page - 1) * PER_PAGE)
    )
    rows = list(db.session.scalars(query))
    courses = progress_cohorts.courses_followed(current_user)
    return render_template(
        "cases/queue.html",
        rows=rows[:PER_PAGE],
        more=len(rows) > PER_PAGE,
        page=page,
        filters=filters,
        status=status if status in QUEUE_STATUSES else "",
        statuses=QUEUE_STATUSES,
        courses=courses,
        # Only the cohorts the user follows or whose course they teach (all, for admins).
        cohorts=list(db.session.scalars(progress_cohorts.visible_cohorts(current_user))),
    )


def reviewable(submission_id: int) -> CaseSubmission:
    """A handed-in submission the trainer may review: 404 if none (drafts are private),
    403 if it belongs to a course they do not teach."""
    found = services.get_submission(submission_id)
    if found is None or found.status == SubmissionStatus.DRAFT:
        abort(404)
    if not services.can_review(current_user, found):
        abort(403)
    return found


@dataclass
class ReviewForm:
    """The rubric as the trainer filled it in (or as it was saved, to start from)."""

    levels: dict[str, Any] = field(default_factory=dict)
    feedback: dict[str, str] = field(default_factory=dict)
    comments: str = ""
    decision: str = ""
    version: int | None = None

    @classmethod
    def from_request(cls, definition: CaseDefinition) -> ReviewForm:
        form = request.form
        count = len(definition.criteria)
        return cls(
            levels={str(i): form.get(f"nivel-{i}", type=whole_number) for i in range(1, count + 1)},
            feedback={str(i): form.get(f"comentario-{i}", "") for i in range(1, count + 1)},
            comments=form.get("comentarios", ""),
            decision=form.get("decision", ""),
            version=form.get("version", type=whole_number),
        )

    def points(self, definition: CaseDefinition) -> int:
        total = 0
        for index, criterion in enumerate(definition.criteria, start=1):
            level = self.levels.get(str(index))
            if isinstance(level, int) and 0 <= level < len(criterion.levels):
                total += criterion.levels[level].points
        return total


def render_review(
    found: CaseSubmission,
    form: ReviewForm | None = None,
    *,
    problems: dict[str, str] | None = None,
    error: str | None = None,
    conflict: bool = False,
    status: int = 200,
) -> Any:
    definition = services.definition_of(found.revision)
    form = form or ReviewForm()
    others = services.submissions_of(found.user_id, found.lesson_id)
    page = render_template(
        "cases/review.html",
        submission=found,
        definition=definition,
        course=found.lesson.course,
        form=form,
        points=form.points(definition),
        problems=problems or {},
        error=error,
        conflict=conflict,
        history=[s for s in others if s.id != found.id and s.status != SubmissionStatus.DRAFT],
        scenario=scenario_html(found.revision),
        waiting=found.status in services.WAITING,
    )
    return page, status


@bp.get("/revision/<int:submission_id>")
@require(can_review_cases)
def review(submission_id: int) -> Any:
    """The review page. Opening it changes nothing (an image on another page could open it):
    the trainer takes the review with the page's button, a POST."""
    return render_review(reviewable(submission_id))


@bp.post("/revision/<int:submission_id>/tomar")
@require(can_review_cases)
def take_review(submission_id: int) -> Any:
    """The trainer takes a submitted case: the learner sees it "in review", by whom."""
    found = reviewable(submission_id)
    if found.status == SubmissionStatus.SUBMITTED:
        services.open_review(found, current_user)
        flash(
            _(
                "Tomaste esta revisión: %(name)s ve su caso «En revisión».",
                name=found.user.full_name,
            ),
            "success",
        )
    return redirect(url_for("cases.review", submission_id=found.id))


@bp.post("/revision/<int:submission_id>")
@require(can_review_cases)
def save_review(submission_id: int) -> Any:
    found = reviewable(submission_id)
    definition = services.definition_of(found.revision)
    form = ReviewForm.from_request(definition)
    if form.version is None:
        abort(400)
    current = form.version == found.version and found.status in services.WAITING
    problems = {}
    if current:
        problems = services.review_problems(
            definition, form.levels, form.feedback, form.comments, approve=True
        )
        if form.decision not in DECISIONS:
            problems["decision"] = _("Elige si apruebas el caso o lo devuelves para corregir.")
        elif not DECISIONS[form.decision]:
            problems.update(
                services.review_problems(
                    definition, form.levels, form.feedback, form.comments, approve=False
                )
            )
    if problems:
        return render_review(
            found,
            form,
            problems=problems,
            error=_("No guardamos la revisión: revisa lo marcado."),
            status=422,
        )
    try:
        points = services.save_review(
            found,
            current_user,
            version=form.version,
            levels=form.levels,
            feedback=form.feedback,
            comments=form.comments,
            approve=DECISIONS.get(form.decision, False),
        )
    except services.ReviewConflict as error:
        return render_review(found, form, error=str(error), conflict=True, status=409)
    except services.CaseError as error:
        return render_review(found, form, error=str(error), status=409)
    learner = found.user
    if found.status == SubmissionStatus.APPROVED:
        flash(
            _(
                "Aprobaste el caso de %(name)s con %(points)s de %(total)s puntos.",
                name=learner.full_name,
                points=points,
                total=definition.total_points,
            ),
            "success",
        )
    else:
        flash(
            _("Devolviste el caso a %(name)s para que lo corrija.", name=learner.full_name),
            "success",
        )
    notify_learner(found, definition)
    return redirect(url_for("cases.queue"))


def notify_learner(found: CaseSubmission, definition: CaseDefinition) -> None:
    """Tell the learner by email, in their language, once the review is committed (see
    academy/outbox.py). The mail is sent by the worker, so the trainer is not told whether it
    went: a failure does not undo the review, it is retried, and the learner also sees the
    review on "Mis cursos"."""
    learner = found.user
    with force_locale(learner.locale or "es"):
        message = mail.build_message(
            learner.email,
            _("Revisaron tu caso «%(title)s»", title=found.revision.title),
            "case_reviewed",
            user=learner,
            submission=found,
            course=found.lesson.course,
            total=definition.total_points,
            approved=found.status == SubmissionStatus.APPROVED,
            link=mail.external_url("cases.submission", submission_id=found.id),
        )
    outbox.queue(message)


# The admin's side: who teaches a course, and its cohorts -------------------------------------


def admin_course(slug: str) -> Course:
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        abort(404)
    return course


def render_team(
    course: Course,
    *,
    trainer_form: TrainerForm | None = None,
    cohort_form: CohortForm | None = None,
    error: str | None = None,
    status: int = 200,
) -> Any:
    cohorts = progress_cohorts.of_courses([course.id])
    page = render_template(
        "cases/team.html",
        course=course,
        trainers=progress_cohorts.course_trainers(course.id),
        cohorts=cohorts,
        sizes=progress_cohorts.sizes([cohort.id for cohort in cohorts]),
        roster=paginate(progress.roster(course), per_page=ROSTER_PAGE_SIZE),
        trainer_form=trainer_form or TrainerForm(formdata=None),
        cohort_form=cohort_form or CohortForm(formdata=None),
        error=error,
    )
    return page, status


def team_url(course: Course) -> str:
    return url_for("cases.team", slug=course.slug)


@bp.get("/admin/cursos/<slug>/relatores-y-grupos")
@require(can_manage_people)
def team(slug: str) -> Any:
    return render_team(admin_course(slug))


@bp.post("/admin/cursos/<slug>/relatores")
@require(can_manage_people)
def add_trainer(slug: str) -> Any:
    course = admin_course(slug)
    form = TrainerForm()
    if not form.validate():
        return render_team(course, trainer_form=form, status=422)
    try:
        user, added = progress_cohorts.add_course_trainer(course, form.email.data or "")
    except progress_cohorts.CohortError as error:
        form.email.errors = [str(error)]
        return render_team(course, trainer_form=form, status=422)
    if added:
        flash(_("%(name)s ahora revisa los casos de este curso.", name=user.full_name), "success")
    else:
        flash(_("%(name)s ya revisaba los casos de este curso.", name=user.full_name), "info")
    return redirect(team_url(course))


@bp.post("/admin/cursos/<slug>/relatores/<int:user_id>/quitar")
@require(can_manage_people)
def remove_trainer(slug: str, user_id: int) -> Any:
    course = admin_course(slug)
    user = progress_cohorts.remove_course_trainer(course, user_id)
    if user is None:
        abort(404)
    flash(
        _(
            "%(name)s ya no revisa los casos de este curso. Sus revisiones anteriores se "
            "conservan.",
            name=user.full_name,
        ),
        "success",
    )
    return redirect(team_url(course))


@bp.post("/admin/cursos/<slug>/grupos")
@require(can_manage_people)
def add_cohort(slug: str) -> Any:
    course = admin_course(slug)
    form = CohortForm()
    if not form.validate():
        return render_team(course, cohort_form=form, status=422)
    try:
        cohort = progress_cohorts.create(
            course,
            form.name.data or "",
            by=current_user._get_current_object(),  # type: ignore[attr-defined]
        )
    except progress_cohorts.CohortError as error:
        form.name.errors = [str(error)]
        return render_team(course, cohort_form=form, status=422)
    flash(_("Creamos el grupo «%(name)s».", name=cohort.name), "success")
    return redirect(team_url(course))


@bp.post("/admin/cursos/<slug>/grupos/asignar")
@require(can_manage_people)
def assign_cohorts(slug: str) -> Any:
    course = admin_course(slug)
    choices: dict[int, int | None] = {}
    for key, value in request.form.items():
        if not key.startswith("grupo-"):
            continue
        try:
            user_id = whole_number(key.removeprefix("grupo-"))
            choices[user_id] = whole_number(value) if value else None
        except ValueError:
            abort(400)
    try:
        moved = progress_cohorts.assign(
            course,
            choices,
            by=current_user._get_current_object(),  # type: ignore[attr-defined]
        )
    except progress_cohorts.CohortError as error:
        return render_team(course, error=str(error), status=422)
    flash(
        ngettext(
            "Guardamos los grupos: %(num)d persona cambió de grupo.",
            "Guardamos los grupos: %(num)d personas cambiaron de grupo.",
            moved,
        ),
        "success",
    )
    page = request.form.get(PAGE_ARG, type=whole_number)
    return redirect(
        url_for("cases.team", slug=course.slug, pagina=page if page and page > 1 else None)
        + "#participantes"
    )
