"""The quizzes' blueprint (``quizzes``), its template filters and labels. The pages attach
their routes to it: :mod:`~academy.quizzes.attempt_views` (learners),
:mod:`~academy.quizzes.preview_views`, :mod:`~academy.quizzes.statistics_views` and
:mod:`~academy.quizzes.editor_views` (trainers); the factory imports them and registers it.

Writes are committed after the view returns and only when the answer is not an error
(:mod:`academy.db`), so a refused submission (422) saves nothing.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from flask import Blueprint, current_app, request
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from academy.courses.editing import SOURCE_LABELS
from academy.quizzes.models import AttemptStatus
from academy.quizzes.questions import RichText

bp = Blueprint("quizzes", __name__, template_folder="templates")


STATUS_LABELS = {
    AttemptStatus.IN_PROGRESS.value: _l("En curso"),
    AttemptStatus.SUBMITTED.value: _l("Entregado"),
    AttemptStatus.EXPIRED.value: _l("Entregado al acabarse el tiempo"),
}


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
