"""Questions as a quiz page shows them (an attempt, its result, a trainer's preview), and the
error answers and lookups those pages share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask import Response, abort, jsonify
from flask_babel import gettext as _

from academy.courses.editing import lesson_or_404
from academy.courses.models import Course, Lesson, LessonKind
from academy.quizzes import forms, services
from academy.quizzes.models import Quiz
from academy.quizzes.questions import (
    Choice,
    ChoiceQuestion,
    Item,
    Matching,
    Numeric,
    Ordering,
    Question,
    RichText,
    ShortAnswer,
)


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


def quiz_lesson_or_404(course: Course, lesson_slug: str) -> Lesson:
    lesson = lesson_or_404(course, lesson_slug, retired=True)
    if lesson.kind != LessonKind.QUIZ:
        abort(404)
    return lesson


def quiz_or_404(slug: str) -> Quiz:
    return services.get_quiz(slug) or abort(404)
