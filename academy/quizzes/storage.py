"""Quizzes as JSON data, for the database: written when a revision is saved, read per attempt.

The parsed quiz (its questions with their Markdown already rendered to HTML) round-trips
through plain JSON: dataclasses become ``{"$type": name, ...fields}``, fractions
``{"$fraction": "n/d"}``. Reading a revision therefore never renders Markdown, and revisions
never change once written, so the parsed quiz is cached per process by revision id and content
hash (the hash too, because SQLite may give a deleted revision's id to a new one).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from fractions import Fraction
from functools import lru_cache
from typing import Any

from academy.quizzes import questions
from academy.quizzes.model import Quiz as ParsedQuiz
from academy.quizzes.model import QuizSettings

_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        ParsedQuiz,
        QuizSettings,
        questions.RichText,
        questions.Choice,
        questions.TextAnswer,
        questions.NumericAnswer,
        questions.Pair,
        questions.Item,
        *questions.QUESTION_TYPES.values(),
    )
}


def to_data(value: Any) -> Any:
    """Plain JSON-serialisable data for a quiz, a question, or any part of one."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if name not in _TYPES:
            raise TypeError(f"cannot store {name}")
        data: dict[str, Any] = {"$type": name}
        for item in dataclasses.fields(value):
            if item.init:
                data[item.name] = to_data(getattr(value, item.name))
        return data
    if isinstance(value, Fraction):
        return {"$fraction": f"{value.numerator}/{value.denominator}"}
    if isinstance(value, list | tuple):
        return [to_data(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): to_data(item) for key, item in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot store {type(value).__name__}")


def from_data(data: Any) -> Any:
    """The inverse of :func:`to_data`."""
    if isinstance(data, list):
        return tuple(from_data(item) for item in data)
    if isinstance(data, dict):
        if "$fraction" in data:
            numerator, denominator = data["$fraction"].split("/")
            return Fraction(int(numerator), int(denominator))
        if "$type" in data:
            cls = _TYPES[data["$type"]]
            fields = {k: from_data(v) for k, v in data.items() if k != "$type"}
            return cls(**fields)
        return {key: from_data(value) for key, value in data.items()}
    return data


def quiz_from_data(data: dict[str, Any]) -> ParsedQuiz:
    quiz = from_data(data)
    if not isinstance(quiz, ParsedQuiz):
        raise TypeError("not a quiz")
    return quiz


class _Revision:
    """A revision as the cache sees it: equal by id and content hash, carrying the revision
    for the one parse a miss needs (then dropped: the cache keeps only the parsed quiz). Its
    ``data`` is read only then: the column is deferred, so a hit never loads it."""

    __slots__ = ("key", "revision")

    def __init__(self, revision: Any) -> None:
        self.key = (revision.id, revision.content_hash)
        self.revision: Any = revision

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Revision) and other.key == self.key


# functools' LRU is safe to share between a server's threads, unlike a hand-made dict.
@lru_cache(maxsize=256)
def _parsed(revision: _Revision) -> ParsedQuiz:
    assert revision.revision is not None
    quiz = quiz_from_data(revision.revision.data)
    revision.revision = None
    return quiz


def load(revision: Any) -> ParsedQuiz:
    """The parsed quiz of a revision (immutable), cached per process by id and content hash."""
    return _parsed(_Revision(revision))
