"""Question types: one class per type, each with one grading function.

Every question has a stable ``key`` within its quiz, a plain-text ``title``, optional Markdown
``text`` (stored with its rendered HTML in a :class:`RichText`), ``points`` (a
:class:`~fractions.Fraction`, 1 by default), an optional ``pool`` for random draws, ``tags``
and general ``feedback``. The type adds its answers:

==================  =================  ===============================  ==========================
type (file word)    class              response (JSON-serialisable)     score
==================  =================  ===============================  ==========================
``unica``           SingleChoice       option id: ``"3fa1c2"``          weight of the option
``multiple``        MultipleChoice     list of option ids               sum of weights, in [0, 1]
``verdadero-falso`` TrueFalse          ``"verdadero"`` or ``"falso"``   all or nothing
``corta``           ShortAnswer        the text typed                   best matching answer
``numerica``        Numeric            canonical decimal: ``"-3.5"``    best matching answer
``emparejar``       Matching           ``{left_id: right_id}``          share of pairs right
``ordenar``         Ordering           list of item ids, in order       longest ordered run
==================  =================  ===============================  ==========================

An empty response is ``None`` and always scores 0. Scores are exact fractions of the points;
:meth:`Question.grade` clamps every type's credit to [0, 1] before multiplying, so no answer,
however tampered with, scores below 0 or above ``points``. Round only to display or store.

Weights are fractions of the points (``Fraction(1, 2)`` is the ``(50%)`` an author writes).
``Choice.weight`` and the other answers' ``weight`` are None when the author wrote none; the
type's rule then applies (see :meth:`ChoiceQuestion.weights`).

Ids are stable under reordering and insertion: a short hash of the option's text (its spaces
collapsed), so attempts and statistics keep pointing at the same option when the author
inserts, removes or reorders others. Editing an option's text gives it a new id, on purpose:
it may now mean something else. Two options with the same text share an id, which the format
reports as a problem for choices and items, and wants for the right-hand side of matching
questions (two items may have the same answer).

Nothing here parses files or renders Markdown: :mod:`academy.quizzes.format` and
:mod:`academy.quizzes.gift` build these objects, with the problems they find.
"""

from __future__ import annotations

import abc
import bisect
import hashlib
import random
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import cached_property
from math import lcm
from types import MappingProxyType
from typing import ClassVar, Final, TypeAlias

from flask_babel import lazy_gettext as _l

__all__ = [
    "EMPTY",
    "QUESTION_TYPES",
    "Arrangement",
    "Choice",
    "ChoiceQuestion",
    "Item",
    "Matching",
    "MultipleChoice",
    "Numeric",
    "NumericAnswer",
    "Ordering",
    "Pair",
    "Question",
    "RawResponse",
    "Response",
    "ResponseError",
    "RichText",
    "ShortAnswer",
    "SingleChoice",
    "TextAnswer",
    "TrueFalse",
    "correct_response",
    "format_number",
    "format_percent",
    "grade",
    "normalise_answer",
    "parse_number",
    "parse_percent",
    "parse_response",
    "stable_ids",
]

#: What a learner answered, as stored with the attempt (see the module's table).
Response: TypeAlias = str | list[str] | dict[str, str] | None
#: Form values for one question: the values of its field (``request.form.getlist(name)``), or
#: for :class:`Matching` a mapping ``{left_id: right_id}`` from one select per left item.
RawResponse: TypeAlias = Sequence[str] | Mapping[str, str]
#: The order in which to show a question's parts, by id: ``{"options": [...]}`` for choices,
#: ``{"left": [...], "right": [...]}`` for matching, ``{"items": [...]}`` for ordering.
Arrangement: TypeAlias = dict[str, list[str]]

MAX_TEXT_RESPONSE: Final = 500
_MAX_NUMBER: Final = Fraction(10**15)


@dataclass(frozen=True, slots=True)
class RichText:
    """Author Markdown and the sanitised HTML it was rendered to, once, when parsed."""

    md: str = ""
    html: str = ""

    def __bool__(self) -> bool:
        return bool(self.md)


EMPTY: Final = RichText()


class ResponseError(ValueError):
    """A submitted answer that cannot be accepted; ``str(error)`` is for the learner, in the
    request's language (the messages are lazy: translated when shown)."""


# --- numbers ----------------------------------------------------------------------------------

_DIGITS = re.compile(r"[0-9.,]+")


def parse_number(text: str) -> Fraction:
    """A number as people in Chile write it: ``3,5``, ``3.5``, ``-12``, ``1.000.000``.

    Exact (a :class:`Fraction`). Either comma or point is the decimal separator. A point
    followed by exactly three digits (``1.000``) is refused as ambiguous: in Chile it means a
    thousand, elsewhere one. Grouped thousands are read when unambiguous: ``1.000.000``,
    ``1.000,5``. Raises :class:`ValueError` with a message for people (translated when shown).
    """
    raw = text.strip()
    body = re.sub(r"[\s\u00a0\u202f]", "", raw).replace("\u2212", "-")
    sign = 1
    if body[:1] in ("-", "+"):
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    if body[:1] in (".", ","):
        body = "0" + body
    if not body or not _DIGITS.fullmatch(body) or not body[0].isdigit() or body[-1] in ".,":
        raise ValueError(_l("«%(value)s» no es un número", value=_short(raw)))
    points, commas = body.count("."), body.count(",")
    if points and commas:
        decimal_mark = "." if body.rfind(".") > body.rfind(",") else ","
        group_mark = "," if decimal_mark == "." else "."
        whole, _, decimals = body.rpartition(decimal_mark)
        grouped = r"\d{1,3}(?:" + re.escape(group_mark) + r"\d{3})+"
        if decimal_mark in whole or not re.fullmatch(grouped, whole):
            raise ValueError(_l("«%(value)s» no es un número", value=_short(raw)))
        body = whole.replace(group_mark, "") + "." + decimals
    elif commas > 1:
        raise ValueError(
            _l("«%(value)s»: usa la coma solo para los decimales (ej. 3,5)", value=_short(raw))
        )
    elif commas == 1:
        body = body.replace(",", ".")
    elif points > 1:
        if not re.fullmatch(r"\d{1,3}(?:\.\d{3})+", body):
            raise ValueError(_l("«%(value)s» no es un número", value=_short(raw)))
        body = body.replace(".", "")
    elif points == 1 and re.fullmatch(r"[1-9]\d{0,2}\.\d{3}", body):
        whole, _, decimals = body.partition(".")
        raise ValueError(
            _l(
                "«%(value)s» es ambiguo: escribe %(thousands)s si son miles o %(decimal)s si es "
                "un decimal",
                value=_short(raw),
                thousands=whole + decimals,
                decimal=f"{whole},{decimals}",
            )
        )
    if len(body) > 40:
        raise ValueError(_l("«%(value)s» tiene demasiadas cifras", value=_short(raw)))
    value = sign * Fraction(Decimal(body))
    if abs(value) > _MAX_NUMBER:
        raise ValueError(_l("«%(value)s» es demasiado grande", value=_short(raw)))
    return value


def format_number(value: Fraction, max_decimals: int | None = None) -> str:
    """``Fraction(7, 2)`` -> ``"3.5"``: exact when the decimal terminates, else rounded.

    Rounded to ``max_decimals`` (or 40) decimals at most. The decimal mark is a point, the one
    GIFT and YAML understand; no exponent, no thousands separator.
    """
    limit = 40 if max_decimals is None else max_decimals
    places = 0
    while places < limit and (value * 10**places).denominator != 1:
        places += 1
    scaled = round(value * 10**places)
    digits = str(abs(scaled)).rjust(places + 1, "0")
    whole, decimals = digits[: len(digits) - places], digits[len(digits) - places :].rstrip("0")
    text = f"{whole}.{decimals}" if decimals else whole
    return f"-{text}" if scaled < 0 else text


def parse_percent(text: str) -> Fraction:
    """``"50"`` -> ``Fraction(1, 2)``; a percentage as a fraction of the points.

    Rounded thirds, sixths, sevenths… (``33.333``, ``33,33``, ``14.2857``: within 0.01
    percentage points of a fraction with denominator up to 12) are read as the exact fraction,
    so three answers of ``33.33%`` add up to the whole. Raises :class:`ValueError`.
    """
    try:
        value = Fraction(Decimal(text.strip().replace(",", "."))) / 100
    except (InvalidOperation, ValueError, OverflowError):
        raise ValueError(_l("«%(value)s» no es un porcentaje", value=_short(text))) from None
    near = value.limit_denominator(12)
    return near if abs(value - near) <= Fraction(1, 10_000) else value


def format_percent(weight: Fraction) -> str:
    """``Fraction(1, 3)`` -> ``"33.33333"``: what :func:`parse_percent` reads back exactly."""
    return format_number(weight * 100, max_decimals=_percent_places(weight))


def _percent_places(weight: Fraction) -> int | None:
    # A written weight is a finite decimal: exactly as written. A third (read from 33.33) is
    # not: five decimals, which parse_percent reads back as the same third.
    denominator = (weight * 100).denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    return None if denominator == 1 else 5


def _short(value: str, limit: int = 40) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


# --- ids ---------------------------------------------------------------------------------------


def stable_ids(texts: Iterable[str]) -> list[str]:
    """One id per text: six hex digits of its hash, equal texts equal ids, distinct distinct.

    Spaces are collapsed first, so re-wrapping a line keeps the id.
    """
    by_text: dict[str, str] = {}
    taken: set[str] = set()
    ids = []
    for text in texts:
        norm = " ".join(text.split())
        if norm not in by_text:
            base = hashlib.sha256(norm.encode()).hexdigest()[:6]
            candidate, n = base, 2
            while candidate in taken:
                candidate, n = f"{base}-{n}", n + 1
            taken.add(candidate)
            by_text[norm] = candidate
        ids.append(by_text[norm])
    return ids


# --- answers ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Choice:
    """An option of a choice question (``- [x] texto``): inline Markdown, one line."""

    id: str
    text: RichText
    correct: bool  # the box: [x]
    weight: Fraction | None = None  # as written: (50%) is Fraction(1, 2); None: the type's rule
    feedback: RichText = EMPTY


@dataclass(frozen=True, slots=True)
class TextAnswer:
    """An accepted (or anticipated wrong) answer of a short-answer question: plain text.

    ``*`` matches any text (Moodle's wildcard); ``\\*`` is a literal asterisk.
    """

    text: str
    correct: bool
    weight: Fraction | None = None
    feedback: RichText = EMPTY

    @property
    def shown(self) -> str:
        """The answer as learners and trainers read it: ``3\\*3`` is ``3*3``, and a wildcard
        is ``…`` (any text)."""
        return "…".join(part.replace("\\*", "*") for part in _WILDCARD.split(self.text))


@dataclass(frozen=True, slots=True)
class NumericAnswer:
    """A value with a tolerance (``42 ± 0.5``), a range (``10..20``), or any number (``*``).

    ``low`` and ``high`` are inclusive; both None means any number (only with weight 0, to
    give feedback to every other answer). ``is_range`` keeps how the author wrote it.
    """

    low: Fraction | None
    high: Fraction | None
    is_range: bool = False
    correct: bool = True
    weight: Fraction | None = None
    feedback: RichText = EMPTY

    @property
    def any(self) -> bool:
        return self.low is None or self.high is None

    def matches(self, value: Fraction) -> bool:
        if self.low is None or self.high is None:
            return True
        return self.low <= value <= self.high

    @property
    def text(self) -> str:
        """As written in the format: ``42``, ``42 ± 0.5``, ``10..20``, ``*``."""
        if self.low is None or self.high is None:
            return "*"
        if self.is_range:
            return f"{format_number(self.low)}..{format_number(self.high)}"
        value, tolerance = (self.low + self.high) / 2, (self.high - self.low) / 2
        if tolerance == 0:
            return format_number(value)
        return f"{format_number(value)} ± {format_number(tolerance)}"


@dataclass(frozen=True, slots=True)
class Pair:
    """A matching pair (plain text). ``left`` None is a distractor: an extra right answer."""

    left_id: str | None
    left: str | None
    right_id: str
    right: str


@dataclass(frozen=True, slots=True)
class Item:
    """An item to put in order (plain text)."""

    id: str
    text: str


# --- questions --------------------------------------------------------------------------------


# Built once: grading compares and adds many fractions, and building one is not free.
NOTHING, EVERYTHING = Fraction(0), Fraction(1)


def _clamp(value: Fraction) -> Fraction:
    return min(max(value, NOTHING), EVERYTHING)


def exact_sum(values: Iterable[Fraction]) -> Fraction:
    """``sum(values, Fraction(0))``, exactly, in integers: adding fractions one by one builds
    and reduces a fraction at every step, and a quiz's scores are added on every hand-in."""
    numerator, denominator = 0, 1
    for value in values:
        if value.denominator != denominator:
            common = lcm(denominator, value.denominator)
            numerator *= common // denominator
            denominator = common
        numerator += value.numerator * (denominator // value.denominator)
    return Fraction(numerator, denominator)


def _values(raw: RawResponse | str | None) -> list[str]:
    """The non-empty submitted values of a question's field."""
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, Sequence) or not all(isinstance(v, str) for v in raw):
        raise ResponseError(_l("respuesta no válida"))
    return [value for value in raw if value.strip()]


def _one_value(raw: RawResponse | str | None) -> str | None:
    values = _values(raw)
    if len(values) > 1:
        raise ResponseError(_l("se esperaba una sola respuesta"))
    return values[0] if values else None


@dataclass(frozen=True, kw_only=True)
class Question(abc.ABC):
    """What every question has. Subclasses add the answers and the grading rule.

    ``line`` (where the question starts in its file) is not part of equality: two questions
    are equal when they mean the same, wherever they are written.
    """

    kind: ClassVar[str]  # English, for the database: "single", "multiple"…
    word: ClassVar[str]  # Spanish, as trainers write it: "unica", "multiple"…
    label: ClassVar[str]  # Spanish, for people: "Selección única"…

    key: str
    title: str
    text: RichText = EMPTY
    points: Fraction = Fraction(1)
    pool: str | None = None
    tags: tuple[str, ...] = ()
    feedback: RichText = EMPTY
    line: int | None = field(default=None, compare=False)

    def grade(self, response: object) -> Fraction:
        """The score of ``response``, exactly, between 0 and ``points``. Never raises."""
        if response is None:
            return NOTHING
        credit = self.credit(response)
        # The credit clamped to [0, 1] (a fraction's denominator is positive), without
        # comparing or multiplying fractions in the usual cases: nothing and everything.
        if credit.numerator <= 0:
            return NOTHING
        if credit.numerator >= credit.denominator:
            return self.points
        return self.points * credit

    @abc.abstractmethod
    def credit(self, response: object) -> Fraction:
        """This type's grading rule: the share of the points earned, before clamping.

        Must accept anything (a stored response can be tampered with or stale) and never
        raise: what is not a valid answer earns nothing.
        """

    @abc.abstractmethod
    def parse_response(self, raw: RawResponse) -> Response:
        """Validate submitted form values into a response; None when nothing was answered.

        Raises :class:`ResponseError` (message for the learner) for ids that are not this
        question's, several values where one is expected, numbers that cannot be read.
        """

    @abc.abstractmethod
    def correct_response(self) -> Response:
        """A response that earns all the points."""

    def arrangement(self, rng: random.Random | None = None) -> Arrangement:
        """The order to show this question's parts in, by id; store it with the attempt.

        With ``rng``, options are shuffled (the quiz's ``barajar_opciones``); without, they
        keep the author's order. Parts whose author order would give the answer away (items to
        order, the right column of a matching question) are always scrambled: by ``rng``, or
        without it in a fixed order (by id). Grading never depends on this order.
        """
        return {}

    def feedback_for(self, response: object) -> tuple[RichText, ...]:
        """The per-answer feedback that goes with ``response`` (not the general feedback)."""
        return ()


@dataclass(frozen=True, kw_only=True)
class ChoiceQuestion(Question):
    """Shared by the choice types: options with a box, an optional weight and feedback."""

    choices: tuple[Choice, ...]

    def choice(self, choice_id: str) -> Choice | None:
        return next((c for c in self.choices if c.id == choice_id), None)

    def weights(self) -> dict[str, Fraction]:
        """Each option's share of the points when picked.

        The written weight, or else: [x] 100 %, [ ] 0 % (:class:`MultipleChoice` differs).
        """
        return {
            c.id: c.weight if c.weight is not None else Fraction(int(c.correct))
            for c in self.choices
        }

    @cached_property
    def _weight_of(self) -> Mapping[str, Fraction]:
        """:meth:`weights`, worked out once per question for grading (read-only)."""
        return MappingProxyType(self.weights())

    def arrangement(self, rng: random.Random | None = None) -> Arrangement:
        ids = [c.id for c in self.choices]
        if rng is not None:
            rng.shuffle(ids)
        return {"options": ids}

    def feedback_for(self, response: object) -> tuple[RichText, ...]:
        picked = {response} if isinstance(response, str) else _id_set(response)
        return tuple(c.feedback for c in self.choices if c.id in picked and c.feedback)


def _id_set(response: object) -> set[str]:
    if isinstance(response, list | tuple):
        return {item for item in response if isinstance(item, str)}
    return set()


@dataclass(frozen=True, kw_only=True)
class SingleChoice(ChoiceQuestion):
    """One option may be picked. Score: the picked option's weight (100 % for the [x])."""

    kind = "single"
    word = "unica"
    label = "Selección única"

    def credit(self, response: object) -> Fraction:
        if not isinstance(response, str):
            return NOTHING
        return self._weight_of.get(response, NOTHING)

    def parse_response(self, raw: RawResponse) -> Response:
        value = _one_value(raw)
        if value is None:
            return None
        if self.choice(value) is None:
            raise ResponseError(_l("la opción elegida no es de esta pregunta"))
        return value

    def correct_response(self) -> Response:
        weights = self.weights()
        return max(self.choices, key=lambda c: weights[c.id]).id


@dataclass(frozen=True, kw_only=True)
class TrueFalse(SingleChoice):
    """Two fixed options, ids ``verdadero`` and ``falso``, always shown in that order."""

    kind = "true_false"
    word = "verdadero-falso"
    label = "Verdadero o falso"

    def arrangement(self, rng: random.Random | None = None) -> Arrangement:
        return {"options": [c.id for c in self.choices]}


@dataclass(frozen=True, kw_only=True)
class MultipleChoice(ChoiceQuestion):
    """Several options may be picked. Score: the sum of the picked options' weights, in [0, 1].

    Without written weights, each [x] option is worth ``1 / number of [x]`` and each [ ]
    option costs ``1 / number of [ ]``: picking every right option and no wrong one earns all
    the points, picking everything earns nothing, and a guess on a wrong option costs as much
    as a right one earns on average. With written weights, those weights are used as written
    (options without one count 0). The total is floored at 0 and capped at 100 %.
    """

    kind = "multiple"
    word = "multiple"
    label = "Selección múltiple"

    @property
    def weighted(self) -> bool:
        return any(c.weight is not None for c in self.choices)

    def weights(self) -> dict[str, Fraction]:
        if self.weighted:
            return {c.id: c.weight or NOTHING for c in self.choices}
        return default_multiple_weights(self.choices)

    def credit(self, response: object) -> Fraction:
        weights = self._weight_of
        return exact_sum(weights[i] for i in _id_set(response) if i in weights)

    def parse_response(self, raw: RawResponse) -> Response:
        values = set(_values(raw))
        if not values:
            return None
        if any(self.choice(value) is None for value in values):
            raise ResponseError(_l("una de las opciones elegidas no es de esta pregunta"))
        return [c.id for c in self.choices if c.id in values]

    def correct_response(self) -> Response:
        weights = self.weights()
        return [c.id for c in self.choices if weights[c.id] > 0]


def default_multiple_weights(choices: Sequence[Choice]) -> dict[str, Fraction]:
    """The weights of a multiple-choice question written without weights (see its class)."""
    right = sum(1 for c in choices if c.correct)
    wrong = len(choices) - right
    return {c.id: Fraction(1, right) if c.correct else -Fraction(1, wrong) for c in choices}


_TILDE_OF_N: Final = "\u0303"


def normalise_answer(
    text: str,
    *,
    case_sensitive: bool = False,
    accent_sensitive: bool = False,
    space_sensitive: bool = False,
) -> str:
    """A short answer as compared: by default without case, accents or extra spaces.

    Accents are acute, grave, diaeresis and circumflex marks; the ñ is always told apart from
    the n (año is not ano). Spaces: surrounding ones dropped, inner runs made one.
    """
    text = unicodedata.normalize("NFKC", text)
    if not space_sensitive:
        text = " ".join(text.split())
    if not case_sensitive:
        text = text.casefold()
    if not accent_sensitive:
        kept: list[str] = []
        for char in unicodedata.normalize("NFD", text):
            if unicodedata.combining(char) and not (
                char == _TILDE_OF_N and kept and kept[-1] in "nN"
            ):
                continue
            kept.append(char)
        text = unicodedata.normalize("NFC", "".join(kept))
    return text


_WILDCARD = re.compile(r"(?<!\\)\*")


@dataclass(frozen=True, kw_only=True)
class ShortAnswer(Question):
    """The learner types a text. Score: the best weight among the answers it matches.

    Answers are compared after :func:`normalise_answer` with this question's flags (by
    default case, accents and extra spaces are ignored). ``*`` in an answer matches any text.
    """

    kind = "short"
    word = "corta"
    label = "Respuesta corta"

    answers: tuple[TextAnswer, ...]
    case_sensitive: bool = False
    accent_sensitive: bool = False
    space_sensitive: bool = False

    def _normalise(self, text: str) -> str:
        return normalise_answer(
            text,
            case_sensitive=self.case_sensitive,
            accent_sensitive=self.accent_sensitive,
            space_sensitive=self.space_sensitive,
        )

    def matches(self, answer: TextAnswer, response: str) -> bool:
        given = self._normalise(response)
        if not _WILDCARD.search(answer.text):
            return given == self._normalise(answer.text.replace("\\*", "*"))
        parts = [self._normalise(p.replace("\\*", "*")) for p in _WILDCARD.split(answer.text)]
        return re.fullmatch(".*".join(map(re.escape, parts)), given, re.DOTALL) is not None

    @cached_property
    def _compared(self) -> tuple[tuple[TextAnswer, str | re.Pattern[str]], ...]:
        """Each answer as :meth:`matches` compares it, normalised once per question: its
        text, or a pattern when it has a wildcard."""
        compared: list[tuple[TextAnswer, str | re.Pattern[str]]] = []
        for answer in self.answers:
            if not _WILDCARD.search(answer.text):
                compared.append((answer, self._normalise(answer.text.replace("\\*", "*"))))
                continue
            parts = [self._normalise(p.replace("\\*", "*")) for p in _WILDCARD.split(answer.text)]
            compared.append((answer, re.compile(".*".join(map(re.escape, parts)), re.DOTALL)))
        return tuple(compared)

    def _best(self, response: object) -> TextAnswer | None:
        if not isinstance(response, str) or len(response) > MAX_TEXT_RESPONSE:
            return None
        given = self._normalise(response)
        found = [
            answer
            for answer, expected in self._compared
            if (given == expected if isinstance(expected, str) else expected.fullmatch(given))
        ]
        return max(found, key=_answer_weight, default=None)

    def credit(self, response: object) -> Fraction:
        best = self._best(response)
        return NOTHING if best is None else _answer_weight(best)

    def parse_response(self, raw: RawResponse) -> Response:
        value = _one_value(raw)
        if value is None:
            return None
        if len(value) > MAX_TEXT_RESPONSE:
            raise ResponseError(
                _l("la respuesta tiene más de %(n)s caracteres", n=MAX_TEXT_RESPONSE)
            )
        return value if self.space_sensitive else value.strip()

    def correct_response(self) -> Response:
        best = max(self.answers, key=_answer_weight)
        # "x" stands in for a wildcard: it survives every normalisation.
        return "x".join(p.replace("\\*", "*") for p in _WILDCARD.split(best.text))

    def feedback_for(self, response: object) -> tuple[RichText, ...]:
        best = self._best(response)
        return (best.feedback,) if best is not None and best.feedback else ()


def _answer_weight(answer: TextAnswer | NumericAnswer) -> Fraction:
    return answer.weight if answer.weight is not None else Fraction(int(answer.correct))


_CANONICAL_NUMBER = re.compile(r"-?\d{1,20}(?:\.\d{1,20})?")


@dataclass(frozen=True, kw_only=True)
class Numeric(Question):
    """The learner types a number. Score: the best weight among the answers it falls in.

    The response is stored in canonical form (``"-3.5"``: point, no thousands separator), as
    :meth:`parse_response` returns it.
    """

    kind = "numeric"
    word = "numerica"
    label = "Numérica"

    answers: tuple[NumericAnswer, ...]

    def _best(self, response: object) -> NumericAnswer | None:
        if not isinstance(response, str) or not _CANONICAL_NUMBER.fullmatch(response):
            return None
        value = Fraction(Decimal(response))
        found = [a for a in self.answers if a.matches(value)]
        return max(found, key=_answer_weight, default=None)

    def credit(self, response: object) -> Fraction:
        best = self._best(response)
        return NOTHING if best is None else _answer_weight(best)

    def parse_response(self, raw: RawResponse) -> Response:
        value = _one_value(raw)
        if value is None:
            return None
        if len(value) > 60:
            raise ResponseError(_l("el número tiene demasiadas cifras"))
        try:
            number = parse_number(value)
        except ValueError as error:
            raise ResponseError(str(error)) from None
        text = format_number(number, max_decimals=None)
        if not _CANONICAL_NUMBER.fullmatch(text):
            raise ResponseError(_l("«%(value)s» tiene demasiadas cifras", value=_short(value)))
        return text

    def correct_response(self) -> Response:
        best = max((a for a in self.answers if not a.any), key=_answer_weight)
        assert best.low is not None and best.high is not None
        return format_number((best.low + best.high) / 2)

    def feedback_for(self, response: object) -> tuple[RichText, ...]:
        best = self._best(response)
        return (best.feedback,) if best is not None and best.feedback else ()


@dataclass(frozen=True, kw_only=True)
class Matching(Question):
    """Match each left item with a right answer. Score: right pairs / pairs.

    Distractors (pairs without a left item) add answers to choose from, not pairs to score.
    Two left items may share an answer (the same right text, hence the same right id).
    """

    kind = "matching"
    word = "emparejar"
    label = "Emparejar"

    pairs: tuple[Pair, ...]

    def scored_pairs(self) -> tuple[Pair, ...]:
        return tuple(p for p in self.pairs if p.left_id is not None)

    def rights(self) -> dict[str, str]:
        """The answers to choose from, ``{right_id: text}``, without repetitions."""
        return {p.right_id: p.right for p in self.pairs}

    def credit(self, response: object) -> Fraction:
        pairs = self.scored_pairs()
        if not isinstance(response, Mapping) or not pairs:
            return NOTHING
        right = sum(1 for p in pairs if response.get(p.left_id) == p.right_id)
        return Fraction(right, len(pairs))

    def parse_response(self, raw: RawResponse) -> Response:
        if not isinstance(raw, Mapping):
            raise ResponseError(_l("respuesta no válida"))
        lefts = {p.left_id for p in self.scored_pairs()}
        rights = self.rights()
        answer: dict[str, str] = {}
        for left, right in raw.items():
            if not isinstance(left, str) or not isinstance(right, str) or left not in lefts:
                raise ResponseError(_l("respuesta no válida"))
            if not right.strip():
                continue
            if right not in rights:
                raise ResponseError(_l("una de las respuestas elegidas no es de esta pregunta"))
            answer[left] = right
        return answer or None

    def correct_response(self) -> Response:
        return {p.left_id: p.right_id for p in self.scored_pairs() if p.left_id is not None}

    def arrangement(self, rng: random.Random | None = None) -> Arrangement:
        lefts = [p.left_id for p in self.scored_pairs() if p.left_id is not None]
        rights = list(self.rights())
        if rng is None:
            rights.sort()
        else:
            rng.shuffle(lefts)
            rng.shuffle(rights)
        return {"left": lefts, "right": rights}


@dataclass(frozen=True, kw_only=True)
class Ordering(Question):
    """Put items in order. Score: (longest run of items in correct relative order − 1) / (n − 1).

    The run need not be contiguous: in ``A C B D`` the longest ordered run is ``A B D`` (or
    ``A C D``), 3 of 4 items, for 2/3 of the points. One misplaced item costs one step instead
    of everything after it (as counting items in their exact position would), the reverse
    order scores 0, and only the right order scores everything.
    """

    kind = "ordering"
    word = "ordenar"
    label = "Ordenar"

    items: tuple[Item, ...]

    def credit(self, response: object) -> Fraction:
        n = len(self.items)
        if n < 2 or not isinstance(response, list | tuple):
            return NOTHING
        position = {item.id: index for index, item in enumerate(self.items)}
        seen: set[str] = set()
        sequence = []
        for item_id in response:
            if isinstance(item_id, str) and item_id in position and item_id not in seen:
                seen.add(item_id)
                sequence.append(position[item_id])
        return Fraction(max(_longest_increasing(sequence) - 1, 0), n - 1)

    def parse_response(self, raw: RawResponse) -> Response:
        values = _values(raw)
        if not values:
            return None
        ids = {item.id for item in self.items}
        if any(value not in ids for value in values):
            raise ResponseError(_l("uno de los elementos no es de esta pregunta"))
        if len(set(values)) != len(values):
            raise ResponseError(_l("cada elemento puede ir en un solo lugar"))
        return values

    def correct_response(self) -> Response:
        return [item.id for item in self.items]

    def arrangement(self, rng: random.Random | None = None) -> Arrangement:
        ids = [item.id for item in self.items]
        scrambled = sorted(ids)
        if rng is not None:
            for _ in range(10):
                rng.shuffle(scrambled)
                if scrambled != ids:
                    break
        if scrambled == ids and len(ids) > 1:
            scrambled = scrambled[1:] + scrambled[:1]
        return {"items": scrambled}


def _longest_increasing(sequence: Sequence[int]) -> int:
    tails: list[int] = []
    for value in sequence:
        index = bisect.bisect_left(tails, value)
        if index == len(tails):
            tails.append(value)
        else:
            tails[index] = value
    return len(tails)


#: The file word (``tipo:``) -> the class.
QUESTION_TYPES: Final[Mapping[str, type[Question]]] = {
    cls.word: cls
    for cls in (SingleChoice, MultipleChoice, TrueFalse, ShortAnswer, Numeric, Matching, Ordering)
}


def grade(question: Question, response: object) -> Fraction:
    """``question.grade(response)``: the score, exactly, in [0, points]."""
    return question.grade(response)


def parse_response(question: Question, raw: RawResponse) -> Response:
    """``question.parse_response(raw)``; raises :class:`ResponseError`."""
    return question.parse_response(raw)


def correct_response(question: Question) -> Response:
    """``question.correct_response()``: a response that earns all the points."""
    return question.correct_response()
