"""Writing a quiz in its canonical form (:func:`dump_quiz`): ``parse(dump(q)) == q`` for any
parsed quiz ``q``, and ``dump(parse(dump(q))) == dump(q)``. Each question's ``clave`` is always
written, so that a later change of title does not change the key that attempts and statistics
follow. :func:`content_hash` is what makes two versions of a quiz the same."""

from __future__ import annotations

import hashlib
from fractions import Fraction
from typing import Any

import yaml

from academy.frontmatter import dump as dump_front_matter
from academy.quizzes.model import Quiz
from academy.quizzes.questions import (
    ChoiceQuestion,
    Matching,
    Numeric,
    Ordering,
    Question,
    RichText,
    ShortAnswer,
    format_percent,
)
from academy.quizzes.schema import (
    COUNTS,
    DISTRACTOR,
    FEEDBACK_WORD,
    REVIEWS,
    SHORT_OPTIONS,
    UNLIMITED,
)

# --- writing the format -----------------------------------------------------------------------


def dump_quiz(quiz: Quiz) -> str:
    """The quiz in canonical form: settings in schema order, then the intro and questions."""
    settings = quiz.settings
    meta = {
        "titulo": settings.title,
        "aprobacion": _yaml_number(settings.passing),
        "intentos": settings.attempts if settings.attempts is not None else UNLIMITED,
        "tiempo": settings.time_limit,
        "barajar_preguntas": settings.shuffle_questions,
        "barajar_opciones": settings.shuffle_options,
        "sorteo": dict(settings.draw) or None,
        "cuenta": next(word for word, value in COUNTS.items() if value == settings.counts),
        "revision": next(word for word, value in REVIEWS.items() if value == settings.review),
        "categorias": dict(settings.categories) or None,
    }
    parts = [quiz.intro.md] if quiz.intro else []
    parts += [dump_question(question) for question in quiz.questions]
    return dump_front_matter(meta, "\n\n".join(parts))


def dump_question(question: Question) -> str:
    """One question's section, from its ``##`` line to its general feedback."""
    meta: dict[str, Any] = {
        "clave": question.key,
        "tipo": question.word,
        "puntos": _yaml_number(question.points),
        "grupo": question.pool,
        "etiquetas": ", ".join(question.tags) or None,
    }
    if isinstance(question, ShortAnswer):
        for word, attribute in SHORT_OPTIONS.items():
            if getattr(question, attribute):
                meta[word] = "distinguir"
    lines = [f"## {question.title}"]
    lines += [_yaml_line(key, value) for key, value in meta.items() if value is not None]
    if question.text:
        lines += ["", question.text.md]
    lines += ["", *_answer_lines(question)]
    if question.feedback:
        lines += ["", f"{FEEDBACK_WORD} {question.feedback.md}"]
    return "\n".join(lines)


def _answer_lines(question: Question) -> list[str]:
    lines: list[str] = []
    if isinstance(question, ChoiceQuestion):
        for choice in question.choices:
            lines.append(_box_line(choice.correct, choice.weight, choice.text.md))
            lines += _feedback_lines(choice.feedback)
    elif isinstance(question, ShortAnswer | Numeric):
        for answer in question.answers:
            lines.append(_box_line(answer.correct, answer.weight, answer.text))
            lines += _feedback_lines(answer.feedback)
    elif isinstance(question, Matching):
        for pair in question.pairs:
            left = pair.left if pair.left is not None else DISTRACTOR
            lines.append(f"- {left} -> {pair.right}")
    elif isinstance(question, Ordering):
        lines += [f"{number}. {item.text}" for number, item in enumerate(question.items, 1)]
    return lines


def _box_line(correct: bool, weight: Fraction | None, text: str) -> str:
    box = "[x]" if correct else "[ ]"
    percent = f"({format_percent(weight)}%) " if weight is not None else ""
    return f"- {box} {percent}{text}"


def _feedback_lines(feedback: RichText) -> list[str]:
    if not feedback:
        return []
    return [f"  > {line}" if line else "  >" for line in feedback.md.split("\n")]


def _yaml_number(value: Fraction) -> int | float:
    return int(value) if value.denominator == 1 else float(value)


def _yaml_line(key: str, value: Any) -> str:
    return yaml.safe_dump({key: value}, allow_unicode=True, width=1_000_000).rstrip("\n")


def content_hash(quiz: Quiz) -> str:
    """What makes two versions of a quiz the same, whatever the file looks like."""
    return hashlib.sha256(dump_quiz(quiz).encode()).hexdigest()
