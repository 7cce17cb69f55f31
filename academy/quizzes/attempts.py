"""Attempts: start, save as you go, submit and grade, all enforced by the server.

- Starting fixes the quiz revision, the questions drawn and the order of questions and
  options. Two simultaneous "start" requests cannot make two attempts: a partial unique index
  allows one attempt in progress per learner and quiz lesson, and the attempt number is unique
  too; the loser of the race finds and resumes the winner's attempt.
- Answers are saved one row per question as the learner goes, so a dropped connection loses
  nothing. After the time limit (plus a short grace for the network) answers are refused.
- Submitting grades the saved answers and records the grade with a conditional UPDATE
  (``WHERE status = 'in_progress'``): of two simultaneous submits exactly one grades; the other
  finds it graded. Saving and submitting lock the attempt's row first, so an answer saved at
  the moment of submitting is either graded or refused, never lost. An attempt whose time ran
  out is graded as it stood, the first time anyone looks at it.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import cache, lru_cache
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import JSON, Select, Update, bindparam, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from academy.courses.models import Lesson
from academy.db import upsert, utcnow
from academy.extensions import db
from academy.progress import services as progress
from academy.quizzes import storage
from academy.quizzes.model import Quiz as ParsedQuiz
from academy.quizzes.models import Answer, Attempt, AttemptStatus, Quiz, QuizRevision
from academy.quizzes.questions import Question, RawResponse, ResponseError, exact_sum
from academy.quizzes.services import get_quiz

GRACE = timedelta(seconds=30)
GRADED_COLUMNS = ("status", "finished_at", "score", "percent", "passed")
FINISHED = (AttemptStatus.SUBMITTED.value, AttemptStatus.EXPIRED.value)


class AttemptError(Exception):
    """Why the learner cannot do what they asked; ``str()`` is for them, in their language."""


@dataclass(frozen=True)
class QuizContext:
    """A quiz lesson with the quiz revision learners take now."""

    lesson: Lesson
    row: Quiz
    revision: QuizRevision
    quiz: ParsedQuiz

    @property
    def max_attempts(self) -> int | None:
        return self.quiz.settings.attempts


def context_for(lesson: Lesson) -> QuizContext | None:
    if lesson.ref is None:
        return None
    row = get_quiz(lesson.ref)
    if row is None or row.published is None:
        return None
    return QuizContext(lesson, row, row.published, storage.load(row.published))


# Reading attempts ----------------------------------------------------------------------------


def attempts_of(user_id: int, lesson_id: int) -> list[Attempt]:
    return list(
        db.session.scalars(
            select(Attempt)
            .where(Attempt.user_id == user_id, Attempt.lesson_id == lesson_id)
            .order_by(Attempt.number)
        )
    )


def quiz_of(attempt: Attempt) -> ParsedQuiz:
    return storage.load(attempt.revision)


def questions_of(attempt: Attempt) -> list[tuple[Question, dict[str, list[str]]]]:
    """The attempt's questions in the order shown, each with its option order."""
    by_key = {question.key: question for question in quiz_of(attempt).questions}
    return [(by_key[entry["key"]], entry["arrangement"]) for entry in attempt.layout]


def responses_of(attempt: Attempt) -> dict[str, Any]:
    return {answer.question_key: answer.response for answer in attempt.answers}


def counting(attempts: Sequence[Attempt], counts: str) -> Attempt | None:
    """The attempt that counts: the best (highest percentage, earliest on ties) or the last."""
    finished = [a for a in attempts if a.status in FINISHED and a.percent is not None]
    if not finished:
        return None
    if counts == "last":
        return finished[-1]
    return max(finished, key=lambda a: (a.percent, -a.number))


@dataclass(frozen=True)
class Summary:
    used: int
    left: int | None  # None: unlimited
    best_percent: Decimal | None
    counting: Attempt | None
    open: Attempt | None
    attempts: tuple[Attempt, ...]  # all of them, in order, those out of time graded

    @property
    def passed(self) -> bool:
        return bool(self.counting is not None and self.counting.passed)


def summary(user_id: int, context: QuizContext, now: datetime | None = None) -> Summary:
    attempts = attempts_of(user_id, context.lesson.id)
    for attempt in attempts:
        settle(attempt, now or utcnow())
    finished = [a for a in attempts if a.status in FINISHED]
    open_attempt = next((a for a in attempts if a.is_open), None)
    best = max((a.percent for a in finished if a.percent is not None), default=None)
    limit = context.max_attempts
    left = None if limit is None else max(limit - len(attempts), 0)
    return Summary(
        len(attempts),
        left,
        best,
        counting(attempts, context.quiz.settings.counts),
        open_attempt,
        tuple(attempts),
    )


# Starting ------------------------------------------------------------------------------------


def draw_layout(quiz: ParsedQuiz, rng: random.Random) -> list[dict[str, Any]]:
    """The questions of one attempt and the order of their parts (stored with it)."""
    return [{"key": q.key, "arrangement": quiz.arrange(q, rng)} for q in quiz.draw(rng)]


def start(
    user_id: int,
    context: QuizContext,
    *,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> Attempt:
    """The learner's attempt in progress, resumed, or a new one if they have attempts left."""
    now = now or utcnow()
    attempts = attempts_of(user_id, context.lesson.id)
    for attempt in attempts:
        settle(attempt, now)
    current = next((a for a in attempts if a.is_open), None)
    if current is not None:
        return current
    limit = context.max_attempts
    if limit is not None and len(attempts) >= limit:
        raise AttemptError(_("Ya usaste todos los intentos de este cuestionario."))
    layout = draw_layout(context.quiz, rng or random.SystemRandom())
    by_key = {q.key: q for q in context.quiz.questions}
    total = sum((by_key[entry["key"]].points for entry in layout), Fraction(0))
    minutes = context.quiz.settings.time_limit
    attempt = Attempt(
        user_id=user_id,
        lesson_id=context.lesson.id,
        revision_id=context.revision.id,
        number=len(attempts) + 1,
        started_at=now,
        deadline=now + timedelta(minutes=minutes) if minutes else None,
        layout=layout,
        max_score=to_decimal(total),
    )
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
    except IntegrityError:
        # Another request started one at the same moment: resume that one.
        existing = db.session.scalar(
            select(Attempt).where(
                Attempt.user_id == user_id,
                Attempt.lesson_id == context.lesson.id,
                Attempt.status == AttemptStatus.IN_PROGRESS,
            )
        )
        if existing is None:
            raise AttemptError(_("No pudimos empezar el intento. Vuelve a intentarlo.")) from None
        return existing
    return attempt


# Answering -----------------------------------------------------------------------------------


def time_left(attempt: Attempt, now: datetime | None = None) -> timedelta | None:
    if attempt.deadline is None:
        return None
    return max(attempt.deadline - (now or utcnow()), timedelta(0))


def accepts_answers(attempt: Attempt, now: datetime) -> bool:
    return attempt.is_open and (attempt.deadline is None or now <= attempt.deadline + GRACE)


def save_answers(
    attempt: Attempt, raw: Mapping[str, RawResponse], *, now: datetime | None = None
) -> dict[str, str]:
    """Validate and save answers; returns, by question key, why an answer was refused."""
    now = now or utcnow()
    if not attempt.is_open:
        raise AttemptError(_("Este intento ya se entregó; sus respuestas no se pueden cambiar."))
    if not accepts_answers(attempt, now):
        settle(attempt, now)
        raise AttemptError(
            _("Se acabó el tiempo. Calificamos el intento con las respuestas guardadas.")
        )
    questions = {question.key: question for question, _order in questions_of(attempt)}
    errors: dict[str, str] = {}
    for key, value in raw.items():
        question = questions.get(key)
        if question is None:
            errors[key] = _("Esa pregunta no es parte de este intento.")
            continue
        try:
            response = question.parse_response(value)
        except ResponseError as error:
            errors[key] = str(error)
            continue
        upsert(
            Answer.__table__,
            {"attempt_id": attempt.id, "question_key": key, "response": response, "saved_at": now},
            conflict=["attempt_id", "question_key"],
            update={"response": response, "saved_at": now},
        )
    db.session.expire(attempt, ["answers"])
    return errors


# Grading -------------------------------------------------------------------------------------


def to_decimal(value: Fraction, places: str = "0.0001") -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def grade_responses(
    questions: Sequence[Question], responses: Mapping[str, Any]
) -> tuple[dict[str, Fraction], Fraction, Fraction]:
    """Each question's score, the total and the maximum, exactly (also used by previews)."""
    scores = {q.key: q.grade(responses.get(q.key)) for q in questions}
    return scores, exact_sum(scores.values()), exact_sum(q.points for q in questions)


def settle(attempt: Attempt, now: datetime) -> bool:
    """Grade an attempt whose time ran out, as it stood. True if it did."""
    if attempt.is_open and attempt.deadline is not None and now > attempt.deadline + GRACE:
        return finish(attempt, AttemptStatus.EXPIRED, now)
    return False


def submit(attempt: Attempt, *, now: datetime | None = None) -> bool:
    """The learner hands the attempt in. False if it was already graded (nothing changes)."""
    now = now or utcnow()
    if settle(attempt, now):
        return True
    return finish(attempt, AttemptStatus.SUBMITTED, now)


def finish(attempt: Attempt, status: AttemptStatus, now: datetime) -> bool:
    """Grade the attempt and claim it, once, whatever other requests do at the same time
    (:func:`_grade_and_claim`); the attempt object then shows what was recorded."""
    quiz = quiz_of(attempt)
    graded = _grade_and_claim(attempt.id, attempt.layout, quiz, status, now)
    if graded is None:
        db.session.refresh(attempt)  # another request graded it: show what it recorded
        return False
    for name, value in graded.items():
        set_committed_value(attempt, name, value)
    if "answers" in attempt.__dict__:
        db.session.expire(attempt, ["answers"])
    _record_progress(attempt, graded["passed"], quiz)
    return True


@dataclass(frozen=True)
class HandIn:
    """An attempt being handed in, as the submit view's one query found and locked it: plain
    values rather than an ORM object (a whole class hands in at the same moment), with
    whether the learner's progress row already says the quiz lesson is done."""

    id: int
    user_id: int
    lesson_id: int
    course_id: int
    status: str
    deadline: datetime | None
    layout: list[dict[str, Any]]
    revision: RevisionKey
    lesson_done: bool


class RevisionKey:
    """What :func:`storage.load` needs of a revision: its id and content hash, and its stored
    ``data`` only when the parsed quiz is not cached (then read, once)."""

    __slots__ = ("content_hash", "id")

    def __init__(self, id: int, content_hash: str) -> None:
        self.id, self.content_hash = id, content_hash

    @property
    def data(self) -> Any:
        return db.session.scalar(select(QuizRevision.data).where(QuizRevision.id == self.id))


def hand_in(found: HandIn, now: datetime) -> AttemptStatus | None:
    """Hand in the attempt the submit view found (locked), as :func:`submit` does for an
    attempt object: graded as it stood if its time ran out, else as submitted. The status
    recorded, or None if it was already graded (nothing changes)."""
    if found.status != AttemptStatus.IN_PROGRESS:
        return None
    expired = found.deadline is not None and now > found.deadline + GRACE
    status = AttemptStatus.EXPIRED if expired else AttemptStatus.SUBMITTED
    quiz = storage.load(found.revision)
    graded = _grade_and_claim(found.id, found.layout, quiz, status, now)
    if graded is None:
        return None
    _record_progress(found, graded["passed"], quiz)
    return status


def _grade_and_claim(
    attempt_id: int,
    layout: Sequence[Mapping[str, Any]],
    quiz: ParsedQuiz,
    status: AttemptStatus,
    now: datetime,
) -> dict[str, Any] | None:
    """Grade the attempt's saved answers, then claim it with its grade; the values recorded,
    or None if another request had graded it (then nothing is written).

    The answers are read and graded first; then one conditional UPDATE both claims the
    attempt and records its grade (``WHERE status = 'in_progress'``), so of two requests
    exactly one grades, and an attempt is never seen claimed without its score; every answer's
    score is written in the same transaction. The answers cannot change in between: on
    PostgreSQL the views lock the attempt's row (``FOR NO KEY UPDATE``) before saving answers
    or handing it in, and SQLite lets one writer at a time. Three statements however many
    questions (the answers, on PostgreSQL as one JSON object; the claim; the scores): a whole
    class hands in at the same moment. (The claim and the scores in one statement, a
    data-modifying ``WITH`` on PostgreSQL, measured about 0.5 ms more of PostgreSQL's CPU
    per hand-in with 32 at once than the two statements.)
    """
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    parameters = {"attempt_id": attempt_id}
    responses: dict[str, Any] = (
        db.session.execute(_answers_object(), parameters).scalar_one() or {}
        if postgresql
        else dict(db.session.execute(_answers_of(), parameters).all())
    )
    by_key = {question.key: question for question in quiz.questions}
    questions = [by_key[entry["key"]] for entry in layout]
    scores, total, maximum = grade_responses(questions, responses)
    share = total / maximum if maximum else Fraction(0)
    graded = {
        "status": status.value,
        "finished_at": now,
        "score": to_decimal(total),
        "percent": to_decimal(share * 100, "0.001"),
        "passed": quiz.settings.passed(total, maximum),
    }
    # No parameter is named after a column of the tables updated: SQLAlchemy would take it
    # for a value to SET.
    values: dict[str, Any] = {"the_attempt": attempt_id}
    values |= {f"new_{name}": value for name, value in graded.items()}
    keys = [key for key in responses if key in scores]
    if db.session.execute(_claim(), values).rowcount != 1:  # type: ignore[attr-defined]
        return None
    if keys:
        for n, key in enumerate(keys):
            values |= {f"key_{n}": key, f"score_{n}": to_decimal(scores[key])}
        db.session.execute(_score_answers(len(keys)), values)
    return graded


# Built once: handing in runs them for a whole class at the same moment (see finish).
_answers, _attempts = Answer.__table__, Attempt.__table__


@cache
def _answers_of() -> Select[tuple[str, Any]]:
    return select(_answers.c.question_key, _answers.c.response).where(
        _answers.c.attempt_id == bindparam("attempt_id")
    )


@cache
def _answers_object() -> Select[tuple[Any]]:
    """PostgreSQL: the attempt's answers as one JSON object, ``{question key: response}``
    (NULL when there are none): one value to read and decode rather than a row per answer."""
    return select(
        func.json_object_agg(_answers.c.question_key, _answers.c.response, type_=JSON)
    ).where(_answers.c.attempt_id == bindparam("attempt_id"))


@cache
def _claim() -> Update:
    return (
        update(_attempts)
        .where(
            _attempts.c.id == bindparam("the_attempt"),
            _attempts.c.status == AttemptStatus.IN_PROGRESS.value,
        )
        .values({name: bindparam(f"new_{name}") for name in GRADED_COLUMNS})
    )


@lru_cache(maxsize=64)
def _score_answers(count: int) -> Update:
    """Every answer's score in one UPDATE (a CASE on the question key): one statement for the
    database to run, not one per answer. Built once per number of answers."""
    question_key, score = _answers.c.question_key, _answers.c.score
    keys = [bindparam(f"key_{n}", type_=question_key.type) for n in range(count)]
    scores = [bindparam(f"score_{n}", type_=score.type) for n in range(count)]
    return (
        update(_answers)
        .where(_answers.c.attempt_id == bindparam("the_attempt"), question_key.in_(keys))
        .values(score=case(*((question_key == k, s) for k, s in zip(keys, scores, strict=True))))
    )


def _record_progress(attempt: Attempt | HandIn, passed: bool, quiz: ParsedQuiz) -> None:
    """Keep the lesson's progress row saying what the outline says: done while the attempt
    that counts (:func:`counting`, the one rule) passes. Called once the attempt, which
    ``passed`` or not, has been graded and claimed. A :class:`HandIn` brings what its query
    already read in this transaction: whether the progress row says done, and the course.

    With ``cuenta: mejor`` a lesson once passed stays passed. With ``cuenta: ultimo`` a later
    attempt that fails makes it not done again, as the outline and the roster then say; the
    course's completion already recorded on the enrolment stays (certificates rest on it).
    """
    counts = quiz.settings.counts
    if not passed and counts == "best":
        return  # a failed attempt cannot change which attempt passes
    user_id, lesson_id = attempt.user_id, attempt.lesson_id
    found = attempt if isinstance(attempt, HandIn) else None
    done = found.lesson_done if found else progress.is_done(user_id, lesson_id)
    if passed and done:
        return
    # Each attempt's grade as plain rows: counting() reads no more of an attempt.
    grades = db.session.execute(_grades_of(), {"user_id": user_id, "lesson_id": lesson_id})
    counted = counting(grades.all(), counts)  # type: ignore[arg-type]
    counted_passes = counted is not None and bool(counted.passed)
    if counted_passes == done:
        return
    if not counted_passes:
        progress.undo_done(user_id, lesson_id)
        return
    if found:
        course_id = found.course_id
    else:
        lesson = db.session.get(Lesson, lesson_id)
        if lesson is None:
            return
        course_id = lesson.course_id
    enrolment = progress.get_enrolment(user_id, course_id)
    if enrolment is not None:
        progress.mark_done(enrolment, lesson_id)


@cache
def _grades_of() -> Select[Any]:
    """What :func:`counting` reads of a learner's attempts in a lesson, in order."""
    return (
        select(_attempts.c.status, _attempts.c.percent, _attempts.c.passed, _attempts.c.number)
        .where(
            _attempts.c.user_id == bindparam("user_id"),
            _attempts.c.lesson_id == bindparam("lesson_id"),
        )
        .order_by(_attempts.c.number)
    )


# What the progress service shows -------------------------------------------------------------


def quiz_states(
    user_id: int, items: Sequence[progress.OutlineItem]
) -> dict[int, tuple[progress.State, str | None]]:
    """Each quiz lesson's state for the learner: passed, failed with attempts left, …"""
    lesson_ids = [item.lesson_id for item in items]
    refs = dict(
        db.session.execute(select(Lesson.id, Lesson.ref).where(Lesson.id.in_(lesson_ids))).all()
    )
    quizzes = {
        row.slug: row
        for row in db.session.scalars(
            select(Quiz)
            .where(Quiz.slug.in_(set(refs.values())))
            .options(selectinload(Quiz.published).load_only(QuizRevision.content_hash))
        )
    }
    attempts: dict[int, list[Attempt]] = {}
    for attempt in db.session.scalars(
        select(Attempt)
        .where(Attempt.user_id == user_id, Attempt.lesson_id.in_(lesson_ids))
        .order_by(Attempt.number)
    ):
        attempts.setdefault(attempt.lesson_id, []).append(attempt)
    states: dict[int, tuple[progress.State, str | None]] = {}
    for lesson_id in lesson_ids:
        row = quizzes.get(refs.get(lesson_id) or "")
        mine = attempts.get(lesson_id, [])
        if row is None or row.published is None:
            states[lesson_id] = (progress.State.PENDING, None)
            continue
        settings = storage.load(row.published).settings
        best = counting(mine, settings.counts)
        if best is not None and best.passed:
            states[lesson_id] = (progress.State.DONE, _("%(p)s %%", p=_percent(best.percent)))
        elif any(a.is_open for a in mine):
            states[lesson_id] = (progress.State.IN_PROGRESS, _("intento en curso"))
        elif best is not None:
            left = None if settings.attempts is None else max(settings.attempts - len(mine), 0)
            if left is None:
                detail = _("puedes volver a intentarlo")
            elif left:
                detail = ngettext("te queda %(num)d intento", "te quedan %(num)d intentos", left)
            else:
                detail = _("no te quedan intentos")
            states[lesson_id] = (progress.State.FAILED, detail)
        else:
            states[lesson_id] = (progress.State.PENDING, None)
    return states


def _percent(value: Decimal | None) -> str:
    return "0" if value is None else f"{value.normalize():f}"
