"""What trainers learn from a quiz lesson's attempts: question statistics and a CSV export.

Statistics use every finished attempt (submitted or graded when the time ran out), all
learners and all revisions of the quiz; an attempt in progress is left out. For each question,
over the attempts that drew it:

- **facility**: the mean share of the question's points earned (0 = nobody, 1 = everybody);
- **discrimination**: the corrected item-total correlation, that is Pearson's correlation
  between the share of the question's points each attempt earned and the share of the points
  it earned in the *rest* of the quiz (its total minus this question). Leaving the question out
  of the total keeps it from correlating with itself. It needs at least
  :data:`MIN_ATTEMPTS` attempts and some variation in both, and is None otherwise;
- for choice questions, how many attempts chose each option.

The CSV has one row per attempt and question (a long table): attempts of one quiz lesson may
have drawn different questions or come from different revisions, so a fixed column per
question would not fit them all; a spreadsheet's pivot table turns it into one row per attempt.
"""

from __future__ import annotations

import csv
import html
import io
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import literal, select
from sqlalchemy.orm import selectinload

from academy.auth.models import User
from academy.courses.models import Course, Lesson
from academy.extensions import db
from academy.progress import cohorts
from academy.quizzes import storage
from academy.quizzes.attempts import FINISHED
from academy.quizzes.model import Quiz as ParsedQuiz
from academy.quizzes.models import Attempt
from academy.quizzes.questions import (
    Choice,
    ChoiceQuestion,
    Matching,
    Numeric,
    Ordering,
    Question,
    RichText,
)
from academy.quizzes.services import get_quiz

MIN_ATTEMPTS = 5


# Plain text ---------------------------------------------------------------------------------

_TAG = re.compile(r"<[^>]+>")


def plain(text: RichText) -> str:
    """Rendered Markdown as one line of plain text (for CSV cells and option lists)."""
    return " ".join(html.unescape(_TAG.sub(" ", text.html or text.md)).split())


def response_text(question: Question, response: Any) -> str:
    """A learner's response as a person reads it: option texts, not ids."""
    if response in (None, "", [], {}):
        return ""
    if isinstance(question, ChoiceQuestion):
        picked = [response] if isinstance(response, str) else list(response or [])
        texts = {c.id: plain(c.text) for c in question.choices}
        return " | ".join(texts.get(item, f"? {item}") for item in picked)
    if isinstance(question, Matching) and isinstance(response, dict):
        lefts = {p.left_id: p.left for p in question.pairs if p.left_id is not None}
        rights = question.rights()
        return " | ".join(
            f"{lefts.get(left, '?')} -> {rights.get(right, '?')}"
            for left, right in response.items()
        )
    if isinstance(question, Ordering) and isinstance(response, list | tuple):
        items = {item.id: item.text for item in question.items}
        return " | ".join(
            f"{n}. {items.get(item, '?')}" for n, item in enumerate(response, start=1)
        )
    if isinstance(question, Numeric) and isinstance(response, str):
        return response
    return str(response)


# Statistics ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptionCount:
    choice: Choice
    count: int
    share: float  # of the attempts that drew the question


@dataclass
class QuestionStats:
    key: str
    question: Question
    position: int
    attempts: int = 0
    answered: int = 0
    facility: float | None = None
    discrimination: float | None = None
    options: list[OptionCount] = field(default_factory=list)
    other_options: int = 0  # picks of options no longer in the question
    common_answers: list[tuple[str, int]] = field(default_factory=list)
    _scores: list[tuple[float, float | None]] = field(default_factory=list, repr=False)
    _picks: Counter[str] = field(default_factory=Counter, repr=False)
    _answers: Counter[str] = field(default_factory=Counter, repr=False)

    @property
    def enough(self) -> bool:
        return self.attempts >= MIN_ATTEMPTS


@dataclass
class QuizStats:
    attempts: int
    learners: int
    mean_percent: float | None
    passed: int
    questions: list[QuestionStats]

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.attempts if self.attempts else None


# Attempts are read this many at a time (a server-side cursor on PostgreSQL), each batch with
# its answers: a quiz lesson's attempts may be a whole academy's, never all in memory at once.
BATCH = 200


def finished_attempts(lesson_id: int) -> Iterator[Attempt]:
    """The lesson's finished attempts, newest first, streamed in batches of :data:`BATCH`."""
    return iter(
        db.session.scalars(
            select(Attempt)
            .where(Attempt.lesson_id == lesson_id, Attempt.status.in_(FINISHED))
            .options(selectinload(Attempt.answers), selectinload(Attempt.revision))
            .order_by(Attempt.id.desc())
            .execution_options(yield_per=BATCH)
        )
    )


def correlation(pairs: Sequence[tuple[float, float]]) -> float | None:
    """Pearson's r, or None when either side does not vary."""
    n = len(pairs)
    if n < 2:
        return None
    mean_x = sum(x for x, _ in pairs) / n
    mean_y = sum(y for _, y in pairs) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in pairs)
    syy = sum((y - mean_y) ** 2 for _, y in pairs)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in pairs)
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def quiz_statistics(lesson: Lesson, reference: ParsedQuiz | None) -> QuizStats:
    """Per-question statistics of a quiz lesson (see the module's description).

    ``reference`` (the published or latest revision) gives the questions' order and wording;
    questions only older revisions had come after it, as the attempts last saw them.
    """
    stats: dict[str, QuestionStats] = {}
    if reference is not None:
        for position, question in enumerate(reference.questions, start=1):
            stats[question.key] = QuestionStats(question.key, question, position)
    count, percent_sum, passed = 0, 0.0, 0
    learners: set[int] = set()
    # Newest first: their wording wins for old questions.
    for attempt in finished_attempts(lesson.id):
        count += 1
        learners.add(attempt.user_id)
        quiz = storage.load(attempt.revision)
        responses = {a.question_key: a for a in attempt.answers}
        total = float(attempt.score or 0)
        maximum = float(attempt.max_score or 0)
        percent_sum += float(attempt.percent or 0)
        passed += bool(attempt.passed)
        for entry in attempt.layout:
            question = quiz.question(entry["key"])
            if question is None:
                continue
            entry_stats = stats.get(question.key)
            if entry_stats is None:
                entry_stats = stats[question.key] = QuestionStats(
                    question.key, question, len(stats) + 1
                )
            answer = responses.get(question.key)
            response = answer.response if answer is not None else None
            if answer is not None and answer.score is not None:
                earned = float(answer.score)
            else:
                earned = float(question.grade(response))
            points = float(question.points)
            rest_points = maximum - points
            rest = (total - earned) / rest_points if rest_points > 0 else None
            entry_stats.attempts += 1
            entry_stats._scores.append((earned / points if points else 0.0, rest))
            if response not in (None, "", [], {}):
                entry_stats.answered += 1
                if isinstance(question, ChoiceQuestion):
                    picked = [response] if isinstance(response, str) else response
                    entry_stats._picks.update(p for p in picked if isinstance(p, str))
                else:
                    entry_stats._answers[response_text(question, response)[:80]] += 1
    for entry_stats in stats.values():
        _summarise(entry_stats)
    return QuizStats(
        attempts=count,
        learners=len(learners),
        mean_percent=percent_sum / count if count else None,
        passed=passed,
        questions=sorted(stats.values(), key=lambda s: s.position),
    )


def _summarise(entry: QuestionStats) -> None:
    if entry.attempts:
        entry.facility = sum(x for x, _ in entry._scores) / entry.attempts
    pairs = [(x, y) for x, y in entry._scores if y is not None]
    if entry.enough and len(pairs) >= MIN_ATTEMPTS:
        entry.discrimination = correlation(pairs)
    question = entry.question
    if isinstance(question, ChoiceQuestion):
        known = {c.id for c in question.choices}
        entry.options = (
            [
                OptionCount(c, entry._picks[c.id], entry._picks[c.id] / entry.attempts)
                for c in question.choices
            ]
            if entry.attempts
            else [OptionCount(c, 0, 0.0) for c in question.choices]
        )
        entry.other_options = sum(n for item, n in entry._picks.items() if item not in known)
    else:
        entry.common_answers = entry._answers.most_common(5)


def reference_quiz(lesson: Lesson) -> ParsedQuiz | None:
    """The revision learners take now, or else the latest one."""
    if lesson.ref is None:
        return None
    row = get_quiz(lesson.ref)
    if row is None:
        return None
    revision = row.published or row.latest
    return storage.load(revision) if revision is not None else None


# CSV ----------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "curso",
    "leccion",
    "nombre",
    "correo",
    "intento",
    "estado",
    "inicio",
    "termino",
    "puntaje",
    "puntaje_maximo",
    "porcentaje",
    "aprobado",
    "revision",
    "n_pregunta",
    "clave_pregunta",
    "pregunta",
    "tipo",
    "respuesta",
    "puntaje_pregunta",
    "puntos_pregunta",
)
STATUS_WORDS = {"in_progress": "en_curso", "submitted": "entregado", "expired": "tiempo_agotado"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell no spreadsheet runs as a formula: a leading = + - @ gets a quote before it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _number(value: Decimal | Fraction | None) -> str:
    if value is None:
        return ""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    text = format(value.normalize(), "f")
    return text


def attempt_rows(
    course: Course, lesson: Lesson, local_time: Any, *, viewer: User | None = None
) -> Iterator[list[str]]:
    """Every attempt of a quiz lesson, one row per question, as CSV_COLUMNS; of the learners
    the ``viewer`` may see in the course (:func:`academy.progress.cohorts.sees_learner_of`,
    the reports' rule): a trainer of the course sees all of them, a trainer who follows
    cohorts of it their cohorts' learners, any other trainer nobody (the file has only its
    header): editing a course's content gives no access to its learners' answers.

    ``local_time`` turns an aware datetime into the text to write (the caller's timezone).
    """
    statement = (
        select(Attempt, User)
        .join(User, User.id == Attempt.user_id)
        .where(Attempt.lesson_id == lesson.id)
        .options(selectinload(Attempt.answers), selectinload(Attempt.revision))
        .order_by(User.full_name, User.id, Attempt.number)
        .execution_options(yield_per=BATCH)
    )
    if viewer is not None and not viewer.is_admin:
        statement = statement.where(
            cohorts.sees_learner_of(viewer, Attempt.user_id, literal(course.id))
        )
    rows = db.session.execute(statement)
    for attempt, user in rows:
        quiz = storage.load(attempt.revision)
        answers = {a.question_key: a for a in attempt.answers}
        finished = attempt.status in FINISHED
        head = [
            course.slug,
            lesson.slug,
            user.full_name,
            user.email,
            str(attempt.number),
            STATUS_WORDS.get(attempt.status, attempt.status),
            _when(attempt.started_at, local_time),
            _when(attempt.finished_at, local_time),
            _number(attempt.score) if finished else "",
            _number(attempt.max_score),
            _number(attempt.percent) if finished else "",
            ("si" if attempt.passed else "no") if finished else "",
            str(attempt.revision.number),
        ]
        for position, entry in enumerate(attempt.layout, start=1):
            question = quiz.question(entry["key"])
            if question is None:
                continue
            answer = answers.get(question.key)
            response = answer.response if answer is not None else None
            score = answer.score if answer is not None and finished else None
            if finished and score is None:
                score = Decimal(0)
            yield [
                safe_cell(cell)
                for cell in [
                    *head,
                    str(position),
                    question.key,
                    question.title,
                    question.word,
                    response_text(question, response),
                    _number(score),
                    _number(question.points),
                ]
            ]


def _when(value: datetime | None, local_time: Any) -> str:
    return "" if value is None else local_time(value)


def csv_chunks(rows: Iterable[list[str]], *, rows_per_chunk: int = 100) -> Iterator[str]:
    """The CSV text a few rows at a time, for a streamed response; it starts with a byte-order
    mark so that spreadsheets read it as UTF-8."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for n, row in enumerate(rows, start=1):
        writer.writerow(row)
        if n % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
