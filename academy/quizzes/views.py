"""Quizzes on the web: learners take attempts; trainers preview, edit and study quizzes.

Learners (enrolled in the course) start or resume an attempt from the quiz lesson's page
(:func:`quiz_panel` computes that part of the page), answer on one page that saves as they go,
confirm and hand in, and then see what the quiz's ``revision`` setting lets them see. Every
rule (attempts left, time limit, who owns an attempt, which answers are valid) is enforced
here on the server by :mod:`academy.quizzes.attempts`; ``static/js/quiz.js`` only adds
autosave and a countdown. Pages work without JavaScript.

Trainers preview any quiz without recording anything, read per-question statistics of a quiz
lesson, export its attempts as CSV, and edit the quiz file with a preview, revisions and
publishing. Writes are committed after the view returns and only when the answer is not an
error (:mod:`academy.db`), so a refused submission (422) saves nothing.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import cache
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import format_datetime, format_decimal, format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload

from academy import audit
from academy.auth.permissions import can_edit_courses, require
from academy.courses.content import SLUG_RE
from academy.courses.editing import SOURCE_LABELS, course_or_404, lesson_or_404
from academy.courses.kinds import LessonVisit
from academy.courses.models import Course, Lesson, LessonKind
from academy.courses.visibility import visible_lesson, where_visible
from academy.db import Taken, unique_or_taken, utcnow
from academy.errors import render_error
from academy.extensions import db
from academy.forms import newer_revision_saved, not_saved_message, problem_text
from academy.inputs import whole_number
from academy.progress import services as progress
from academy.progress.models import Enrolment
from academy.quizzes import attempts, forms, reports, services, storage
from academy.quizzes.attempts import AttemptError, QuizContext
from academy.quizzes.model import Quiz as ParsedQuiz
from academy.quizzes.models import Attempt, AttemptStatus, Quiz, QuizRevision
from academy.quizzes.questions import (
    Choice,
    ChoiceQuestion,
    Item,
    Matching,
    Numeric,
    Ordering,
    Question,
    ResponseError,
    RichText,
    ShortAnswer,
)
from academy.quizzes.reader import parse_quiz

bp = Blueprint("quizzes", __name__, template_folder="templates")


STATUS_LABELS = {
    AttemptStatus.IN_PROGRESS.value: _l("En curso"),
    AttemptStatus.SUBMITTED.value: _l("Entregado"),
    AttemptStatus.EXPIRED.value: _l("Entregado al acabarse el tiempo"),
}
TIME_UP = _l("Se acabó el tiempo: calificamos el intento con las respuestas guardadas.")
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
EDITOR_TEXT_ENDPOINTS = frozenset({"quizzes.edit"})


@bp.url_value_preprocessor
def _request_limits(endpoint: str | None, values: dict[str, Any] | None) -> None:
    # A long quiz file, URL-encoded, can exceed Flask's 500 kB limit for one form field.
    if endpoint in EDITOR_TEXT_ENDPOINTS:
        request.max_form_memory_size = current_app.config["MAX_CONTENT_LENGTH"]


@bp.app_template_filter("rich")
def rich(text: RichText | None) -> Markup:
    """Quiz Markdown as stored: rendered and sanitised when the quiz was saved."""
    return Markup(text.html if text else "")  # noqa: S704 (sanitised by academy.markdown)


@bp.app_template_filter("quiz_number")
def quiz_number(value: Decimal | Fraction | float | int | None) -> str:
    """A score or percentage in the reader's language, with up to two decimals."""
    if value is None:
        return "—"
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    rounded = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return str(format_decimal(rounded, format="#,##0.##"))


@bp.app_template_filter("attempt_status")
def attempt_status(status: str) -> str:
    """An attempt's status in words (used on the lesson page too, hence an app filter)."""
    return str(STATUS_LABELS.get(status, status))


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"source_labels": SOURCE_LABELS}


# Shared helpers ------------------------------------------------------------------------------


@dataclass
class ShownQuestion:
    """One question of a page: its parts in the attempt's order, what the fields show, and
    after grading, what the review shows."""

    number: int
    question: Question
    options: list[Choice] = field(default_factory=list)
    lefts: list[tuple[str, str]] = field(default_factory=list)
    rights: list[tuple[str, str]] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    state: forms.FieldState = field(default_factory=forms.FieldState)
    error: str | None = None
    # The review
    answered: bool = False
    score: Decimal | Fraction | None = None
    correct: forms.FieldState | None = None
    accepted: list[str] = field(default_factory=list)
    feedback: tuple[RichText, ...] = ()

    @property
    def word(self) -> str:
        return self.question.word

    @property
    def field(self) -> str:
        return forms.field_name(self.question.key)

    def part(self, part_id: str) -> str:
        return forms.field_name(self.question.key, part_id)

    @property
    def outcome(self) -> str:
        """``right``, ``partial``, ``wrong`` or ``blank``."""
        if not self.answered:
            return "blank"
        if self.score is not None and self.score >= self.question.points:
            return "right"
        return "partial" if self.score else "wrong"

    @property
    def right_texts(self) -> dict[str, str]:
        return dict(self.rights)

    @property
    def chosen_order(self) -> list[str]:
        """The items' texts in the order the learner gave (ordering questions)."""
        texts = {item.id: item.text for item in self.items}
        ranked = [
            (int(position), item_id)
            for item_id, position in self.state.positions.items()
            if position.isdigit() and item_id in texts
        ]
        return [texts[item_id] for _position, item_id in sorted(ranked)]

    @property
    def correct_order(self) -> list[str]:
        question = self.question
        return [item.text for item in question.items] if isinstance(question, Ordering) else []


def shown_questions(
    pairs: Sequence[tuple[Question, Mapping[str, Sequence[str]]]],
    states: Mapping[str, forms.FieldState],
    errors: Mapping[str, str] | None = None,
) -> list[ShownQuestion]:
    shown = []
    for number, (question, order) in enumerate(pairs, start=1):
        item = ShownQuestion(number, question, state=states.get(question.key, forms.FieldState()))
        if isinstance(question, ChoiceQuestion):
            by_id = {c.id: c for c in question.choices}
            ids = [i for i in order.get("options", []) if i in by_id]
            ids += [c.id for c in question.choices if c.id not in ids]
            item.options = [by_id[i] for i in ids]
        elif isinstance(question, Matching):
            lefts = {p.left_id: p.left or "" for p in question.scored_pairs() if p.left_id}
            rights = question.rights()
            left_ids = [i for i in order.get("left", []) if i in lefts]
            left_ids += [i for i in lefts if i not in left_ids]
            right_ids = [i for i in order.get("right", []) if i in rights]
            right_ids += [i for i in rights if i not in right_ids]
            item.lefts = [(i, lefts[i]) for i in left_ids]
            item.rights = [(i, rights[i]) for i in right_ids]
        elif isinstance(question, Ordering):
            by_item = {i.id: i for i in question.items}
            ids = [i for i in order.get("items", []) if i in by_item]
            ids += [i.id for i in question.items if i.id not in ids]
            item.items = [by_item[i] for i in ids]
        if errors and question.key in errors:
            item.error = errors[question.key]
        shown.append(item)
    return shown


def add_review(
    shown: Sequence[ShownQuestion],
    responses: Mapping[str, Any],
    scores: Mapping[str, Decimal | Fraction],
    *,
    full: bool,
) -> None:
    for item in shown:
        question = item.question
        response = responses.get(question.key)
        item.answered = forms.is_answered(response)
        item.score = scores.get(question.key, Decimal(0))
        if not full:
            continue
        item.feedback = question.feedback_for(response)
        item.correct = forms.state_from_response(question, question.correct_response())
        if isinstance(question, ShortAnswer):
            item.accepted = [
                a.shown for a in question.answers if a.correct and a.weight in (None, 1)
            ] or [str(question.correct_response())]
        elif isinstance(question, Numeric):
            item.accepted = [
                a.text.replace(".", ",")
                for a in question.answers
                if a.correct and not a.any and a.weight in (None, 1)
            ] or [str(question.correct_response()).replace(".", ",")]


def error_message(reason: str) -> str:
    return _("No guardamos esta respuesta: %(reason)s.", reason=reason.rstrip("."))


def json_error(code: int, message: str, **extra: Any) -> Response:
    """``{"error": {"code", "message", ...extra}}``, the shape of academy.errors' JSON errors."""
    response = jsonify(error={"code": code, "message": message, **extra})
    response.status_code = code
    return response


# The quiz lesson's panel -----------------------------------------------------------------


@dataclass
class Panel:
    """What the quiz part of a lesson page shows."""

    course_slug: str
    lesson_slug: str
    ref: str | None
    context: QuizContext | None
    enrolled: bool
    trainer: bool
    summary: attempts.Summary | None = None
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def quiz(self) -> ParsedQuiz | None:
        return self.context.quiz if self.context else None

    @property
    def question_count(self) -> int:
        return self.quiz.question_count if self.quiz else 0

    def attempt_url(self, number: int) -> str:
        return url_for(
            "quizzes.attempt", slug=self.course_slug, lesson_slug=self.lesson_slug, number=number
        )

    @property
    def can_start(self) -> bool:
        summary = self.summary
        return bool(
            self.enrolled
            and summary is not None
            and (summary.open is not None or summary.left is None or summary.left > 0)
        )


def quiz_panel(visit: LessonVisit) -> Panel:
    """The quiz of a lesson page, for the template ``quizzes/_panel.html``: computed by the
    lesson page's view (the quiz kind's ``panel``, :mod:`academy.quizzes.kind`)."""
    row = db.session.get(Lesson, visit.lesson.lesson_id)
    context = attempts.context_for(row) if row is not None else None
    panel = Panel(
        course_slug=visit.course.slug,
        lesson_slug=visit.lesson.slug,
        ref=row.ref if row is not None else None,
        context=context,
        enrolled=visit.enrolled,
        trainer=can_edit_courses(current_user),
    )
    if context is not None and visit.enrolled:
        panel.summary = attempts.summary(current_user.id, context)
        panel.attempts = list(panel.summary.attempts)
    return panel


# Learners -----------------------------------------------------------------------------------


@dataclass
class LearnerQuiz:
    course: Course
    lesson: Lesson
    context: QuizContext

    @property
    def lesson_url(self) -> str:
        return url_for(
            "courses.lesson_page",
            slug=self.course.slug,
            lesson_slug=self.lesson.slug,
            _anchor="cuestionario",
        )

    def url(self, endpoint: str, number: int) -> str:
        return url_for(endpoint, slug=self.course.slug, lesson_slug=self.lesson.slug, number=number)


def learner_quiz(slug: str, lesson_slug: str, *, as_json: bool = False) -> LearnerQuiz:
    """The quiz lesson for the signed-in learner: 404 if there is none, 403 if not enrolled."""
    found = visible_lesson(slug, lesson_slug)
    if found is None or found[1].kind != LessonKind.QUIZ:
        abort(404)
    course, lesson = found
    if progress.get_enrolment(current_user.id, course.id) is None:
        if as_json:
            abort(json_error(403, _("No estás inscrito o inscrita en este curso.")))
        abort(make_response(render_template("courses/not_enrolled.html", course=course), 403))
    context = attempts.context_for(lesson)
    if context is None:
        back = url_for("courses.lesson_page", slug=slug, lesson_slug=lesson_slug)
        abort(render_error(404, _("Este cuestionario todavía no está disponible."), back=back))
    return LearnerQuiz(course, lesson, context)


def own_attempt(quiz: LearnerQuiz, number: int, *, lock: bool = False) -> Attempt | None:
    """The learner's attempt by number; with ``lock``, its row is locked until the
    transaction ends, so that saving answers and handing in take turns (PostgreSQL)."""
    statement = select(Attempt).where(
        Attempt.user_id == current_user.id,
        Attempt.lesson_id == quiz.lesson.id,
        Attempt.number == number,
    )
    if lock:
        statement = statement.with_for_update(key_share=True)
    return db.session.scalar(statement)


def own_attempt_or_404(quiz: LearnerQuiz, number: int, *, lock: bool = False) -> Attempt:
    """Only the learner's own attempts exist for them: anyone else's number is a 404."""
    return own_attempt(quiz, number, lock=lock) or abort(404)


def attempt_to_submit(slug: str, lesson_slug: str, number: int) -> Attempt | None:
    """The learner's attempt in a quiz lesson they see and are enrolled in, locked, found in
    one query built once: a whole class hands in at once, so the usual path is kept short.
    ``None`` when anything is missing; :func:`learner_quiz` then says what."""
    found = db.session.execute(
        _attempt_to_submit(),
        {"course_slug": slug, "lesson_slug": lesson_slug, "user_id": current_user.id,
         "number": number},
    )  # fmt: skip
    return found.scalar_one_or_none()


@cache
def _attempt_to_submit() -> Select[tuple[Attempt]]:
    mine = select(Attempt).join(Lesson, Lesson.id == Attempt.lesson_id)
    return (
        where_visible(mine, bindparam("course_slug"), bindparam("lesson_slug"))
        .join(
            Enrolment,
            (Enrolment.course_id == Lesson.course_id) & (Enrolment.user_id == Attempt.user_id),
        )
        .where(
            Lesson.kind == LessonKind.QUIZ.value,
            Attempt.user_id == bindparam("user_id"),
            Attempt.number == bindparam("number"),
        )
        .options(
            joinedload(Attempt.revision, innerjoin=True).load_only(
                QuizRevision.id, QuizRevision.content_hash
            )
        )
        .with_for_update(of=Attempt, key_share=True)
    )


@bp.post("/cursos/<slug>/lecciones/<lesson_slug>/intentos")
@login_required
def start(slug: str, lesson_slug: str) -> Response:
    """Start an attempt, or resume the one in progress (never two at once)."""
    quiz = learner_quiz(slug, lesson_slug)
    resuming = request.form.get("intento", type=whole_number)
    try:
        opened, attempt = start_or_resume(quiz, resuming)
    except AttemptError as error:
        flash(str(error), "error")
        return redirect(quiz.lesson_url, 303)
    if not opened and attempt.status == AttemptStatus.EXPIRED:
        flash(str(TIME_UP), "info")
    elif not opened:
        flash(_("Este intento ya estaba entregado."), "info")
    return redirect(quiz.url("quizzes.attempt", attempt.number), 303)


def start_or_resume(quiz: LearnerQuiz, resuming: int | None) -> tuple[bool, Attempt]:
    """Whether an attempt is open now, and which one."""
    now = utcnow()
    if resuming is not None:
        # The learner pressed "Continuar": if that attempt ran out of time meanwhile,
        # show its result instead of quietly starting the next one.
        earlier = own_attempt(quiz, resuming)
        if earlier is not None:
            attempts.settle(earlier, now)
            if not earlier.is_open:
                return False, earlier
    return True, attempts.start(current_user.id, quiz.context, now=now)


@bp.get("/cursos/<slug>/lecciones/<lesson_slug>/intentos/<int:number>")
@login_required
def attempt(slug: str, lesson_slug: str, number: int) -> Any:
    """The attempt: its questions while in progress, its result once graded."""
    quiz = learner_quiz(slug, lesson_slug)
    found = own_attempt_or_404(quiz, number)
    now = utcnow()
    notice = str(TIME_UP) if attempts.settle(found, now) else None
    if found.is_open:
        return attempt_page(quiz, found, saved_states(found), now=now)
    return result_page(quiz, found, notice=notice)


def saved_states(found: Attempt) -> dict[str, forms.FieldState]:
    responses = attempts.responses_of(found)
    return {
        question.key: forms.state_from_response(question, responses.get(question.key))
        for question, _order in attempts.questions_of(found)
    }


def attempt_page(
    quiz: LearnerQuiz,
    found: Attempt,
    states: Mapping[str, forms.FieldState],
    *,
    now: datetime,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    pairs = attempts.questions_of(found)
    shown = shown_questions(pairs, states, errors)
    known = {question.key for question, _order in pairs}
    stray = sorted(key for key in (errors or {}) if key not in known)
    left = attempts.time_left(found, now)
    return render_template(
        "quizzes/attempt.html",
        quiz=quiz,
        settings=quiz_settings(found),
        attempt=found,
        questions=shown,
        errors=errors or {},
        stray=stray,
        seconds_left=int(left.total_seconds()) if left is not None else None,
    ), status


def quiz_settings(found: Attempt) -> Any:
    return attempts.quiz_of(found).settings


@bp.post("/cursos/<slug>/lecciones/<lesson_slug>/intentos/<int:number>")
@login_required
def save(slug: str, lesson_slug: str, number: int) -> Any:
    """The form's buttons, «Guardar respuestas» and «Entregar», and the countdown's last save."""
    quiz = learner_quiz(slug, lesson_slug)
    found = own_attempt_or_404(quiz, number, lock=True)
    here = quiz.url("quizzes.attempt", found.number)
    action = request.form.get("action", "save")
    now = utcnow()
    if not found.is_open:
        flash(_("Este intento ya se entregó: no cambiamos sus respuestas."), "info")
        return redirect(here, 303)
    questions = {question.key: question for question, _order in attempts.questions_of(found)}
    raw, problems = forms.read_responses(request.form, questions)
    if action == "timeout":
        # The countdown reached zero: keep whatever is valid and hand the attempt in.
        raw = {key: value for key, value in raw.items() if key in questions}
    try:
        errors = {**problems, **attempts.save_answers(found, raw, now=now)}
    except AttemptError as error:
        flash(str(error), "error")
        return redirect(here, 303)
    if action == "timeout":
        if attempts.submit(found, now=now):
            flash(_("Se acabó el tiempo: entregamos tu intento con tus respuestas."), "info")
        return redirect(here, 303)
    if errors:
        states = {key: forms.state_from_form(q, request.form) for key, q in questions.items()}
        messages = {key: error_message(reason) for key, reason in errors.items()}
        return attempt_page(quiz, found, states, now=now, errors=messages, status=422)
    if action == "submit":
        return redirect(quiz.url("quizzes.confirm", found.number), 303)
    flash(_("Guardamos tus respuestas."), "success")
    return redirect(here, 303)


@bp.post("/cursos/<slug>/lecciones/<lesson_slug>/intentos/<int:number>/autoguardado")
@login_required
def autosave(slug: str, lesson_slug: str, number: int) -> Response:
    """What quiz.js sends as the learner answers: the changed questions; JSON back."""
    quiz = learner_quiz(slug, lesson_slug, as_json=True)
    found = own_attempt(quiz, number, lock=True)
    if found is None:
        return json_error(404, _("Ese intento no existe."))
    here = quiz.url("quizzes.attempt", found.number)
    now = utcnow()
    questions = {question.key: question for question, _order in attempts.questions_of(found)}
    raw, problems = forms.read_responses(request.form, questions)
    try:
        errors = {**problems, **attempts.save_answers(found, raw, now=now)}
    except AttemptError as error:
        return json_error(409, str(error), redirect=here)
    if errors:
        return json_error(
            422,
            _("No guardamos: revisa las preguntas marcadas."),
            errors={key: error_message(reason) for key, reason in errors.items()},
        )
    return jsonify(
        saved=sorted(raw),
        message=_("Guardado a las %(time)s", time=format_time(now, "HH:mm:ss")),
    )


@bp.get("/cursos/<slug>/lecciones/<lesson_slug>/intentos/<int:number>/entregar")
@login_required
def confirm(slug: str, lesson_slug: str, number: int) -> Any:
    """The step before handing in: which questions are still unanswered."""
    quiz = learner_quiz(slug, lesson_slug)
    found = own_attempt_or_404(quiz, number)
    now = utcnow()
    if attempts.settle(found, now) or not found.is_open:
        return redirect(quiz.url("quizzes.attempt", found.number), 303)
    pairs = attempts.questions_of(found)
    responses = attempts.responses_of(found)
    missing = [
        (position, question)
        for position, (question, _order) in enumerate(pairs, start=1)
        if not forms.is_answered(responses.get(question.key))
    ]
    left = attempts.time_left(found, now)
    return render_template(
        "quizzes/confirm.html",
        quiz=quiz,
        attempt=found,
        total=len(pairs),
        missing=missing,
        seconds_left=int(left.total_seconds()) if left is not None else None,
    )


@bp.post("/cursos/<slug>/lecciones/<lesson_slug>/intentos/<int:number>/entregar")
@login_required
def submit(slug: str, lesson_slug: str, number: int) -> Response:
    """Hand the attempt in and grade it, once, however many times this is sent."""
    found = attempt_to_submit(slug, lesson_slug, number)
    if found is None:
        own_attempt_or_404(learner_quiz(slug, lesson_slug), number)
        abort(404)  # it was there a moment ago
    graded = found.is_open and attempts.submit(found, now=utcnow())
    status = found.status
    if not graded:
        flash(_("Este intento ya estaba entregado."), "info")
    elif status == AttemptStatus.EXPIRED:
        flash(str(TIME_UP), "info")
    else:
        flash(_("Entregamos tu intento."), "success")
    return redirect(
        url_for("quizzes.attempt", slug=slug, lesson_slug=lesson_slug, number=number), 303
    )


def result_page(quiz: LearnerQuiz, found: Attempt, *, notice: str | None = None) -> str:
    settings = quiz_settings(found)
    summary = attempts.summary(current_user.id, quiz.context)
    review = settings.review
    shown: list[ShownQuestion] = []
    if review in ("responses", "full"):
        responses = attempts.responses_of(found)
        shown = shown_questions(attempts.questions_of(found), saved_states(found))
        scores = {a.question_key: a.score for a in found.answers if a.score is not None}
        add_review(shown, responses, scores, full=review == "full")
    return render_template(
        "quizzes/result.html",
        quiz=quiz,
        attempt=found,
        settings=settings,
        summary=summary,
        review=review,
        questions=shown,
        notice=notice,
        current_settings=quiz.context.quiz.settings,
    )


# Trainers: preview ------------------------------------------------------------------------


def quiz_lesson_or_404(course: Course, lesson_slug: str) -> Lesson:
    lesson = lesson_or_404(course, lesson_slug, retired=True)
    if lesson.kind != LessonKind.QUIZ:
        abort(404)
    return lesson


def quiz_or_404(slug: str) -> Quiz:
    return services.get_quiz(slug) or abort(404)


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


# Trainers: statistics and export ----------------------------------------------------------


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


# Trainers: the quiz editor ----------------------------------------------------------------


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
