"""Learners' quiz pages. Learners (enrolled in the course) start or resume an attempt from
the quiz lesson's page (:func:`quiz_panel` computes that part of the page), answer on one page
that saves as they go, confirm and hand in, and then see what the quiz's ``revision`` setting
lets them see. Every rule (attempts left, time limit, who owns an attempt, which answers are
valid) is enforced here on the server by :mod:`academy.quizzes.attempts`;
``static/js/quiz.js`` only adds autosave and a countdown. Pages work without JavaScript.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from flask import (
    Response,
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import Select, bindparam, select

from academy.auth.permissions import can_edit_courses
from academy.courses.kinds import LessonVisit
from academy.courses.models import Course, Lesson, LessonKind
from academy.courses.visibility import visible_lesson, where_visible
from academy.db import utcnow
from academy.errors import render_error
from academy.extensions import db
from academy.inputs import whole_number
from academy.progress import services as progress
from academy.progress.models import Enrolment, LessonProgress, ProgressStatus
from academy.quizzes import attempts, forms
from academy.quizzes.attempts import AttemptError, QuizContext
from academy.quizzes.blueprint import bp
from academy.quizzes.model import Quiz as ParsedQuiz
from academy.quizzes.models import Attempt, AttemptStatus, QuizRevision
from academy.quizzes.shown import (
    ShownQuestion,
    add_review,
    error_message,
    json_error,
    shown_questions,
)

TIME_UP = _l("Se acabó el tiempo: calificamos el intento con las respuestas guardadas.")


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


def attempt_to_submit(slug: str, lesson_slug: str, number: int) -> attempts.HandIn | None:
    """The learner's attempt in a quiz lesson they see and are enrolled in, locked, with
    whether their progress row already says the lesson is done: found in one query built
    once, as plain values (a whole class hands in at once, so the usual path is kept short).
    ``None`` when anything is missing; :func:`learner_quiz` then says what."""
    # On the session's connection: plain columns, no ORM entity to load.
    row = db.session.connection().execute(
        _attempt_to_submit(),
        {"course_slug": slug, "lesson_slug": lesson_slug, "user_id": current_user.id,
         "number": number},
    ).first()  # fmt: skip
    if row is None:
        return None
    return attempts.HandIn(
        id=row.id,
        user_id=row.user_id,
        lesson_id=row.lesson_id,
        course_id=row.course_id,
        status=row.status,
        deadline=row.deadline,
        layout=row.layout,
        revision=attempts.RevisionKey(row.revision_id, row.content_hash),
        lesson_done=row.progress == ProgressStatus.DONE,
    )


@cache
def _attempt_to_submit() -> Select[Any]:
    mine = select(
        Attempt.id,
        Attempt.user_id,
        Attempt.lesson_id,
        Lesson.course_id,
        Attempt.status,
        Attempt.deadline,
        Attempt.layout,
        Attempt.revision_id,
        QuizRevision.content_hash,
        # A subquery, not an outer join: with its eighth table the join measured about 1 ms
        # more PostgreSQL CPU per hand-in under load (plans of eight joined tables).
        select(LessonProgress.status)
        .where(
            LessonProgress.user_id == Attempt.user_id,
            LessonProgress.lesson_id == Attempt.lesson_id,
        )
        .scalar_subquery()
        .label("progress"),
    ).select_from(Attempt)
    return (
        where_visible(
            mine.join(Lesson, Lesson.id == Attempt.lesson_id),
            bindparam("course_slug"),
            bindparam("lesson_slug"),
        )
        .join(
            Enrolment,
            (Enrolment.course_id == Lesson.course_id) & (Enrolment.user_id == Attempt.user_id),
        )
        .join(QuizRevision, QuizRevision.id == Attempt.revision_id)
        .where(
            Lesson.kind == LessonKind.QUIZ.value,
            Attempt.user_id == bindparam("user_id"),
            Attempt.number == bindparam("number"),
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
    status = attempts.hand_in(found, utcnow())
    if status is None:
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
