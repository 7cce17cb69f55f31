"""Form helpers every feature's forms share: the common messages, filters that tidy what
people type, and how an editor says why a text was not saved. Neutral ground: it knows forms
and the Markdown pipeline, no feature."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from wtforms.fields.choices import SelectChoice

from academy import markdown, text

REQUIRED = _l("Este campo es obligatorio.")
TOO_LONG = _l("Escribe como máximo %(max)d caracteres.")
CHOOSE = _l("Elige una opción de la lista.")


def choices(labels: dict[str, Any]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def unix_newlines(value: Any) -> Any:
    return text.unix_newlines(value) if isinstance(value, str) else value


def lines(text: str | None) -> list[str]:
    """One item per non-empty line, trimmed."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def problem_text(problem: markdown.Problem) -> str:
    """The problem as the author reads it; the messages themselves come from the pipeline."""
    if problem.line is None:
        return problem.message
    return str(_l("Línea %(line)s: %(message)s", line=problem.line, message=problem.message))


def newer_revision_saved(form: Any, latest: Any) -> bool:
    """Whether someone saved a revision after the one the form started from (its ``base``).

    If so, the form says who, keeping the trainer's text on the page, and moves its base on:
    saving again replaces that revision knowingly. Nobody's work is overwritten unseen.
    """
    current = str(latest.number) if latest else "0"
    if form.base.data == current:
        return False
    form.form_errors.append(
        _(
            "Mientras editabas, %(name)s guardó la revisión %(n)s. No guardamos tu texto "
            "para no perder ese cambio: sigue aquí abajo. Compara en el historial y, si "
            "quieres reemplazarlo, vuelve a guardar.",
            name=latest.author.full_name if latest and latest.author else _("otra persona"),
            n=current,
        )
    )
    form.base.data = current
    return True


def not_saved_message(problems: int) -> str:
    return ngettext(
        "No guardamos: hay %(num)d problema en el texto. Corrígelo y vuelve a guardar.",
        "No guardamos: hay %(num)d problemas en el texto. Corrígelos y vuelve a guardar.",
        problems,
    )


def refusal_message(error: markdown.MarkdownRefused) -> str:
    """Why the pipeline would not render a text at all, as the editor says it."""
    if isinstance(error, markdown.MarkdownTooLarge):
        return too_large_message(error.length)
    return problem_text(error.problem())


def too_large_message(length: int) -> str:
    return str(
        _l(
            "El texto tiene %(length)s caracteres y el máximo es %(max)s. "
            "Divide la lección en dos o más lecciones.",
            length=length,
            max=markdown.DEFAULT_MAX_CHARS,
        )
    )
