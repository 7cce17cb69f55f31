"""The quiz format's vocabulary and syntax: the Spanish words of ``quizzes/<nombre>.md`` and
their English values, the limits, the schemas its front matter and question keys are checked
against, and the line patterns the reader splits on (which the builder's checks also use)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from fractions import Fraction
from typing import Any, Final

from academy.courses.content import SLUG_RE
from academy.frontmatter import Key, one_of
from academy.frontmatter import title as title_problem
from academy.quizzes.questions import QUESTION_TYPES

# Spanish words in the files, English values in code and the database.
COUNTS: Final = {"mejor": "best", "ultimo": "last"}
REVIEWS: Final = {"puntaje": "score", "respuestas": "responses", "completa": "full"}
UNLIMITED: Final = "ilimitados"
SENSITIVITY: Final = {"ignorar": False, "distinguir": True}
#: Short-answer keys -> the ShortAnswer attribute they set.
SHORT_OPTIONS: Final = {
    "mayusculas": "case_sensitive",
    "tildes": "accent_sensitive",
    "espacios": "space_sensitive",
}
DISTRACTOR: Final = "(distractor)"
FEEDBACK_WORD: Final = "Retroalimentación:"
MAX_POINTS: Final = 1000
MAX_TITLE: Final = 250
MAX_KEY: Final = 80


def check_percentage(value: float) -> str | None:
    return None if 0 <= value <= 100 else "debe ser un porcentaje entre 0 y 100"


def check_attempts(value: int | str) -> str | None:
    if isinstance(value, str):
        return None if value == UNLIMITED else f"usa un número entero o «{UNLIMITED}»"
    return None if 1 <= value <= 1000 else "debe ser un número entre 1 y 1000"


def check_categories(value: dict[Any, Any]) -> str | None:
    for pool, path in value.items():
        if not isinstance(pool, str) or not SLUG_RE.match(pool):
            return f"«{pool}» no es un nombre de grupo (usa minúsculas, números y guiones)"
        if not isinstance(path, str) or not 0 < len(path.strip()) <= 255 or "\n" in path:
            return f"el grupo «{pool}» necesita la ruta de su categoría, en una línea"
    return None


def check_minutes(value: int) -> str | None:
    return None if 1 <= value <= 1440 else "debe ser un número de minutos entre 1 y 1440"


def check_draw(value: dict[Any, Any]) -> str | None:
    for pool, count in value.items():
        if not isinstance(pool, str) or not SLUG_RE.match(pool):
            return f"«{pool}» no es un nombre de grupo (usa minúsculas, números y guiones)"
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            return f"el grupo «{pool}» necesita un número entero de preguntas, 1 o más"
    return None if value else "indica al menos un grupo y cuántas preguntas sacar de él"


def check_slug(value: str) -> str | None:
    if len(value) > MAX_KEY:
        return f"tiene más de {MAX_KEY} caracteres"
    return None if SLUG_RE.match(value) else "usa minúsculas, números y guiones (ej. cosoc-basico)"


def check_points(value: float | Fraction) -> str | None:
    """What is wrong with a question's points (None when nothing is)."""
    if not 0 < value <= MAX_POINTS:
        return f"debe ser un número mayor que 0 y hasta {MAX_POINTS}"
    exact = value if isinstance(value, Fraction) else to_fraction(value)
    return None if (exact * 10_000).denominator == 1 else "admite hasta 4 decimales"


def check_tags(value: str | list[Any]) -> str | None:
    tags = split_tags(value)
    if tags is None:
        return "escribe las etiquetas separadas por comas (ej. cosoc, ley)"
    for tag in tags:
        if not tag or len(tag) > 50 or any(c in tag for c in "[]\n"):
            return f"etiqueta no válida: «{tag}» (hasta 50 caracteres, sin corchetes)"
    return None


def split_tags(value: object) -> list[str] | None:
    if isinstance(value, str):
        return [tag.strip() for tag in value.split(",")] if value.strip() else []
    if isinstance(value, list) and all(isinstance(tag, str) and "," not in tag for tag in value):
        return [tag.strip() for tag in value]
    return None


QUIZ_SCHEMA: Final = {
    "titulo": Key(str, required=True, check=title_problem),
    "aprobacion": Key((int, float), required=True, check=check_percentage),
    "intentos": Key((int, str), check=check_attempts),
    "tiempo": Key(int, check=check_minutes),
    "barajar_preguntas": Key(bool),
    "barajar_opciones": Key(bool),
    "sorteo": Key(dict, check=check_draw),
    "cuenta": Key(str, check=one_of(list(COUNTS))),
    "revision": Key(str, check=one_of(list(REVIEWS))),
    "categorias": Key(dict, check=check_categories),
}
QUESTION_SCHEMA: Final = {
    "clave": Key(str, check=check_slug),
    "tipo": Key(str, check=one_of(list(QUESTION_TYPES))),
    "puntos": Key((int, float), check=check_points),
    "grupo": Key(str, check=check_slug),
    "etiquetas": Key((str, list), check=check_tags),
}
SHORT_SCHEMA: Final = {
    **QUESTION_SCHEMA,
    **{key: Key(str, check=one_of(list(SENSITIVITY))) for key in SHORT_OPTIONS},
}


# --- the lines of the format, shared by the reader and the builder's checks ----------------

QUESTION_HEADING: Final = re.compile(r"^##(?!#)[ \t]*(?P<title>.*?)[ \t]*$")
META_LINE = re.compile(r"^[^\W\d][\w-]*[ \t]*:(?:[ \t]|$)")
FEEDBACK_LINE = re.compile(r"^retroalimentaci[oó]n[ \t]*:[ \t]?", re.IGNORECASE)
LIST_ITEM = re.compile(r"^(?:[-*+]|\d{1,3}[.)])(?:[ \t]|$)")
BOX_ITEM = re.compile(r"^[-*+][ \t]+\[(?P<box>[ xX]?)\](?P<rest>.*)$")
PAIR_ITEM = re.compile(r"^[-*+][ \t]+(?P<left>.*?)[ \t]*(?:->|→)[ \t]*(?P<right>.*)$")
ORDER_ITEM = re.compile(r"^\d{1,3}[.)][ \t]+(?P<text>.*)$")
WEIGHT = re.compile(r"^[ \t]*\([ \t]*(?P<percent>[-+−]?\d{1,3}(?:[.,]\d{1,10})?)[ \t]*%[ \t]*\)")
ITEM_PATTERNS: Final = {
    **dict.fromkeys(["unica", "multiple", "verdadero-falso", "corta", "numerica"], BOX_ITEM),
    "emparejar": PAIR_ITEM,
    "ordenar": ORDER_ITEM,
}
ITEM_SHAPES: Final = {
    **dict.fromkeys(
        ["unica", "multiple", "verdadero-falso", "corta", "numerica"],
        "cada respuesta empieza con «- [x]» (correcta) o «- [ ]»",
    ),
    "emparejar": "cada par se escribe «- izquierda -> derecha»",
    "ordenar": "cada elemento se escribe con su número: «1. texto»",
}


def answer_block_start(lines: Sequence[str], word: str) -> int:
    """Where the answers begin: the first answer-shaped item of the section's last list.

    The last list is the run of list items (with their indented or ``>`` lines and blank
    lines) that ends the section. Items before the first one shaped like this type's answers
    belong to the text (a list in the question); items after it are answers, well written or
    not. ``len(lines)`` when there are none.
    """
    pattern = ITEM_PATTERNS[word]
    start = len(lines)
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if not line.strip() or line[0] in " \t>":
            continue
        if not LIST_ITEM.match(line):
            break
        if pattern.match(line):
            start = index
    return start


def to_fraction(value: float) -> Fraction:
    # repr() is the shortest decimal that reads back as the same float: 62.5, not 62.5000…01.
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)
