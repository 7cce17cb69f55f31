"""Quiz forms: the answer fields of an attempt, read and filled back, and the quiz editor's form.

Field names, one question at a time (``key`` is the question's key: lowercase, digits, hyphens):

=====================================  ===============================  =====================
type                                   field                            value
=====================================  ===============================  =====================
``unica``, ``verdadero-falso``         ``q:<key>`` (radio)              option id
``multiple``                           ``q:<key>`` (checkboxes)         option ids
``corta``, ``numerica``                ``q:<key>`` (text)               what was typed
``emparejar``                          ``q:<key>:<left id>`` (select)   right-hand id
``ordenar``                            ``q:<key>:<item id>`` (select)   position, 1 to n
=====================================  ===============================  =====================

Each question shown also sends ``shown=<key>`` (a hidden field), so that a question whose boxes
were all unticked is saved as unanswered instead of being left as it was. The autosave request
sends the same fields for the questions that changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from academy.forms import TOO_LONG, strip, unix_newlines
from academy.quizzes.questions import (
    ChoiceQuestion,
    Matching,
    Numeric,
    Ordering,
    Question,
    RawResponse,
)

PREFIX = "q:"
SHOWN = "shown"
MAX_QUESTIONS_PER_REQUEST = 500
MAX_SOURCE_CHARS = 500_000


def field_name(key: str, part: str | None = None) -> str:
    return f"{PREFIX}{key}" if part is None else f"{PREFIX}{key}:{part}"


def submitted_keys(form: MultiDict[str, str]) -> list[str]:
    """The questions a form speaks of, in order: those it showed and those it answers."""
    keys: dict[str, None] = {}
    for key in form.getlist(SHOWN):
        keys.setdefault(key, None)
    for name in form:
        if name.startswith(PREFIX):
            keys.setdefault(name[len(PREFIX) :].partition(":")[0], None)
    return list(keys)[:MAX_QUESTIONS_PER_REQUEST]


def _parts(form: MultiDict[str, str], key: str) -> dict[str, str]:
    prefix = field_name(key, "")
    return {name[len(prefix) :]: form.get(name, "") for name in form if name.startswith(prefix)}


def read_responses(
    form: MultiDict[str, str], questions: Mapping[str, Question]
) -> tuple[dict[str, RawResponse], dict[str, str]]:
    """The raw response of each question in the form, and why some could not even be read.

    Validation proper is the question's own (:meth:`Question.parse_response`); here only the
    positions of an ordering question are turned into the list of items in order.
    """
    raw: dict[str, RawResponse] = {}
    problems: dict[str, str] = {}
    for key in submitted_keys(form):
        question = questions.get(key)
        if isinstance(question, Matching):
            raw[key] = _parts(form, key)
        elif isinstance(question, Ordering):
            try:
                raw[key] = order_from_positions(question, _parts(form, key))
            except ValueError as error:
                problems[key] = str(error)
        else:
            raw[key] = form.getlist(field_name(key))
    return raw, problems


def order_from_positions(question: Ordering, positions: Mapping[str, str]) -> list[str]:
    """``{item id: "2", ...}`` -> item ids in order; all blank is no answer (``[]``)."""
    filled = {item: value.strip() for item, value in positions.items() if value.strip()}
    if not filled:
        return []
    count = len(question.items)
    numbers: dict[str, int] = {}
    for item, value in filled.items():
        if not value.isdigit() or not 1 <= int(value) <= count:
            raise ValueError(_("la posición «%(value)s» no es válida", value=value[:10]))
        numbers[item] = int(value)
    if len(set(numbers.values())) != len(numbers):
        raise ValueError(_("cada posición se puede usar una sola vez"))
    if len(numbers) < count:
        raise ValueError(
            _(
                "indica la posición de cada elemento (del 1 al %(n)s) o deja todas en blanco",
                n=count,
            )
        )
    return sorted(numbers, key=numbers.__getitem__)


@dataclass
class FieldState:
    """What the fields of one question show: from a saved response or from a sent form."""

    chosen: set[str] = field(default_factory=set)  # choice option ids
    text: str = ""  # short answer, number
    pairs: dict[str, str] = field(default_factory=dict)  # matching: left id -> right id
    positions: dict[str, str] = field(default_factory=dict)  # ordering: item id -> "1".."n"

    @property
    def empty(self) -> bool:
        return not (
            self.chosen
            or self.text.strip()
            or any(self.pairs.values())
            or any(self.positions.values())
        )


def state_from_response(question: Question, response: Any) -> FieldState:
    state = FieldState()
    if isinstance(question, ChoiceQuestion):
        if isinstance(response, str):
            state.chosen = {response}
        elif isinstance(response, list | tuple):
            state.chosen = {item for item in response if isinstance(item, str)}
    elif isinstance(question, Matching):
        if isinstance(response, Mapping):
            state.pairs = {str(k): str(v) for k, v in response.items()}
    elif isinstance(question, Ordering):
        if isinstance(response, list | tuple):
            state.positions = {str(item): str(n) for n, item in enumerate(response, start=1)}
    elif isinstance(response, str):
        # Canonical numbers use a point; shown back with a comma, as people in Chile write
        # them, because "1.125" would be read back as ambiguous (a thousand or a decimal?).
        state.text = response.replace(".", ",") if isinstance(question, Numeric) else response
    return state


def state_from_form(question: Question, form: MultiDict[str, str]) -> FieldState:
    state = FieldState()
    key = question.key
    if isinstance(question, ChoiceQuestion):
        state.chosen = set(form.getlist(field_name(key)))
    elif isinstance(question, Matching):
        state.pairs = _parts(form, key)
    elif isinstance(question, Ordering):
        state.positions = _parts(form, key)
    else:
        state.text = form.get(field_name(key), "")
    return state


def is_answered(response: Any) -> bool:
    return response not in (None, "", [], {})


# The quiz editor ----------------------------------------------------------------------------


class QuizSourceForm(FlaskForm):
    source = TextAreaField(
        _l("Texto del cuestionario"),
        filters=[unix_newlines],
        render_kw={"rows": 28, "spellcheck": "true"},
    )
    note = StringField(
        _l("Nota sobre este cambio (opcional)"),
        description=_l("Por ejemplo: «Corregí la clave de la pregunta 3». Se ve en el historial."),
        filters=[strip],
        validators=[Optional(), Length(max=200, message=TOO_LONG)],
    )
    # The revision the trainer started from: saving over someone else's newer one is refused.
    base = HiddenField()

    def validate_source(self, field: TextAreaField) -> None:
        text = field.data or ""
        if not text.strip():
            raise ValidationError(_l("Escribe el cuestionario: el texto está vacío."))
        if len(text) > MAX_SOURCE_CHARS:
            raise ValidationError(
                _l(
                    "El texto tiene %(length)s caracteres y el máximo es %(max)s. "
                    "Divide el cuestionario en dos.",
                    length=len(text),
                    max=MAX_SOURCE_CHARS,
                )
            )
