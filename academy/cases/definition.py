"""What a case lesson asks: its prompts and its rubric, as written under ``caso:``.

The scenario is the lesson's Markdown text. The front matter's ``caso`` key holds the rest::

    caso:
      consignas:
        - titulo: Elige el mecanismo
          orientacion: Explica qué mecanismo de la ley usarías y por qué.
          palabras: 150-400
      rubrica:
        puntaje_total: 12
        criterios:
          - nombre: Elección del mecanismo
            descripcion: El mecanismo corresponde a la decisión y a la ley.
            niveles:
              - {nombre: Insuficiente, descripcion: No elige o elige mal., puntos: 0}
              - {nombre: Logrado, descripcion: Elige bien y lo justifica., puntos: 4}

An optional ``pauta`` is the reviewer's guide: what a strong answer contains, the usual weak
answers, the lessons each criterion draws on. Only trainers see it, on the review page.

Guidance, level descriptors and the guide are plain text (shown as written). Problems are
reported at the ``caso`` key's line with the path of what is wrong
(``rubrica.criterios[2].niveles``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from academy.frontmatter import yaml_message

MIN_CRITERIA, MAX_CRITERIA = 3, 6
MAX_PROMPTS = 10
MAX_WORDS = 5000
MAX_GUIDE = 20_000
DEFAULT_WORDS = (50, 800)
WORDS_RE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")


@dataclass(frozen=True)
class Prompt:
    title: str
    guidance: str
    min_words: int
    max_words: int


@dataclass(frozen=True)
class Level:
    name: str
    descriptor: str
    points: int


@dataclass(frozen=True)
class Criterion:
    name: str
    description: str
    levels: tuple[Level, ...]

    @property
    def max_points(self) -> int:
        return max(level.points for level in self.levels)


@dataclass(frozen=True)
class CaseDefinition:
    prompts: tuple[Prompt, ...]
    criteria: tuple[Criterion, ...]
    total_points: int
    guide: str = ""  # the reviewer's guide (``pauta``): for trainers only

    def to_data(self) -> dict[str, Any]:
        """The canonical ``caso`` mapping, as the file format writes it."""
        return {
            "consignas": [
                {
                    "titulo": p.title,
                    **({"orientacion": p.guidance} if p.guidance else {}),
                    "palabras": f"{p.min_words}-{p.max_words}",
                }
                for p in self.prompts
            ],
            "rubrica": {
                "puntaje_total": self.total_points,
                "criterios": [
                    {
                        "nombre": c.name,
                        **({"descripcion": c.description} if c.description else {}),
                        "niveles": [
                            {"nombre": lv.name, "descripcion": lv.descriptor, "puntos": lv.points}
                            for lv in c.levels
                        ],
                    }
                    for c in self.criteria
                ],
            },
            **({"pauta": self.guide} if self.guide else {}),
        }


class _Reader:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"caso.{path}: {message}")

    def mapping(self, value: Any, path: str, allowed: set[str]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.fail(path, "debe ser un bloque de claves")
            return None
        for key in value:
            if key not in allowed and value[key] is None and " " in str(key):
                # {descripcion: Define medio, plazo y contenido, puntos: 4}: the comma ended
                # the text, and what followed became a key without a value.
                self.fail(
                    path,
                    f"una coma corta el texto antes de «{key}»: entre llaves {{…}}, la coma "
                    "separa las claves; pon el texto entre comillas, por ejemplo "
                    "descripcion: 'Define medio, plazo y contenido.'",
                )
            elif key not in allowed:
                self.fail(
                    path, f"clave desconocida «{key}» (se admiten: {', '.join(sorted(allowed))})"
                )
        return value

    def text(self, value: Any, path: str, *, required: bool, limit: int) -> str:
        if value is None or value == "":
            if required:
                self.fail(path, "falta este texto")
            return ""
        if not isinstance(value, str):
            self.fail(path, "debe ser un texto")
            return ""
        if len(value) > limit:
            self.fail(path, f"tiene más de {limit} caracteres")
        return value.strip()

    def items(self, value: Any, path: str, low: int, high: int, what: str) -> list[Any]:
        if not isinstance(value, list):
            self.fail(path, f"debe ser una lista de {what}")
            return []
        if not low <= len(value) <= high:
            self.fail(path, f"debe tener entre {low} y {high} {what} (tiene {len(value)})")
        return value


def parse_case(value: Any) -> tuple[CaseDefinition | None, list[str]]:
    """Check a ``caso`` mapping; problems are messages to prefix with the file and line."""
    reader = _Reader()
    root = reader.mapping(value, "", {"consignas", "rubrica", "pauta"})
    if root is None:
        return None, ["«caso» debe ser un bloque con «consignas» y «rubrica»"]
    prompts = [
        prompt
        for index, raw in enumerate(
            reader.items(root.get("consignas"), "consignas", 1, MAX_PROMPTS, "consignas")
        )
        if (prompt := _prompt(reader, raw, f"consignas[{index + 1}]")) is not None
    ]
    rubric = reader.mapping(root.get("rubrica"), "rubrica", {"puntaje_total", "criterios"}) or {}
    criteria = [
        criterion
        for index, raw in enumerate(
            reader.items(
                rubric.get("criterios"),
                "rubrica.criterios",
                MIN_CRITERIA,
                MAX_CRITERIA,
                "criterios",
            )
        )
        if (criterion := _criterion(reader, raw, f"rubrica.criterios[{index + 1}]")) is not None
    ]
    guide = reader.text(root.get("pauta"), "pauta", required=False, limit=MAX_GUIDE)
    total = rubric.get("puntaje_total")
    if not isinstance(total, int) or isinstance(total, bool) or total <= 0:
        reader.fail("rubrica.puntaje_total", "debe ser un número entero mayor que 0")
    elif criteria and sum(c.max_points for c in criteria) != total:
        reader.fail(
            "rubrica.puntaje_total",
            f"los puntajes no cuadran: el máximo de cada criterio suma "
            f"{sum(c.max_points for c in criteria)}, pero puntaje_total dice {total}",
        )
    if reader.problems:
        return None, reader.problems
    return CaseDefinition(tuple(prompts), tuple(criteria), int(total), guide), []


def _prompt(reader: _Reader, raw: Any, path: str) -> Prompt | None:
    data = reader.mapping(raw, path, {"titulo", "orientacion", "palabras"})
    if data is None:
        return None
    title = reader.text(data.get("titulo"), f"{path}.titulo", required=True, limit=200)
    guidance = reader.text(
        data.get("orientacion"), f"{path}.orientacion", required=False, limit=3000
    )
    words = data.get("palabras")
    low, high = DEFAULT_WORDS
    if words is not None:
        match = WORDS_RE.match(str(words)) if isinstance(words, str | int) else None
        if isinstance(words, list) and len(words) == 2 and all(isinstance(w, int) for w in words):
            low, high = words
        elif match:
            low, high = int(match[1]), int(match[2])
        else:
            reader.fail(f"{path}.palabras", "escribe el mínimo y el máximo así: 150-400")
        if not 0 <= low < high <= MAX_WORDS:
            reader.fail(
                f"{path}.palabras",
                f"el mínimo debe ser menor que el máximo, y este de hasta {MAX_WORDS}",
            )
    return Prompt(title, guidance, low, high)


def _criterion(reader: _Reader, raw: Any, path: str) -> Criterion | None:
    data = reader.mapping(raw, path, {"nombre", "descripcion", "niveles"})
    if data is None:
        return None
    name = reader.text(data.get("nombre"), f"{path}.nombre", required=True, limit=200)
    description = reader.text(
        data.get("descripcion"), f"{path}.descripcion", required=False, limit=1000
    )
    levels = []
    for index, item in enumerate(
        reader.items(data.get("niveles"), f"{path}.niveles", 2, 6, "niveles")
    ):
        level_path = f"{path}.niveles[{index + 1}]"
        level = reader.mapping(item, level_path, {"nombre", "descripcion", "puntos"})
        if level is None:
            continue
        points = level.get("puntos")
        if not isinstance(points, int) or isinstance(points, bool) or not 0 <= points <= 100:
            reader.fail(f"{level_path}.puntos", "debe ser un número entero entre 0 y 100")
            points = 0
        levels.append(
            Level(
                reader.text(level.get("nombre"), f"{level_path}.nombre", required=True, limit=80),
                reader.text(
                    level.get("descripcion"), f"{level_path}.descripcion", required=True, limit=1000
                ),
                points,
            )
        )
    if levels and len({level.points for level in levels}) != len(levels):
        reader.fail(f"{path}.niveles", "dos niveles tienen el mismo puntaje")
    if levels and max(level.points for level in levels) == 0:
        reader.fail(f"{path}.niveles", "ningún nivel da puntos")
    if not levels:
        return None
    ordered = tuple(sorted(levels, key=lambda level: level.points))
    return Criterion(name, description, ordered)


def from_data(data: dict[str, Any]) -> CaseDefinition:
    """A stored (already checked) ``caso`` mapping back into a definition."""
    definition, problems = parse_case(data)
    if definition is None:
        raise ValueError("; ".join(problems))
    return definition


# The web editor ------------------------------------------------------------------------------
# There, trainers write what goes under ``caso:`` in a text box, in the same YAML.


def to_text(data: dict[str, Any]) -> str:
    """A stored ``caso`` mapping as the editor's text box shows it (the file's YAML)."""
    if not data:
        return ""
    return yaml.safe_dump(
        data, allow_unicode=True, sort_keys=False, width=100, default_flow_style=False
    )


def from_text(text: str) -> tuple[CaseDefinition | None, list[str]]:
    """Read the editor's text box: a definition, or the problems (YAML ones with their line)."""
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        return None, [f"línea {line}: no se puede leer: {yaml_message(error)}"]
    except yaml.YAMLError:
        return None, [f"no se puede leer: {yaml_message(None)}"]
    return parse_case(data)


# What a new case lesson starts with, for the trainer to rewrite: valid as it stands, so that
# the lesson can be saved at once, and an example of every key.
STARTER: dict[str, Any] = {
    "consignas": [
        {
            "titulo": "Escribe aquí la primera consigna",
            "orientacion": "Qué se espera de la respuesta y qué datos del escenario usar.",
            "palabras": "150-400",
        }
    ],
    "rubrica": {
        "puntaje_total": 12,
        "criterios": [
            {
                "nombre": f"Criterio {n}",
                "descripcion": "Qué significa cumplirlo bien.",
                "niveles": [
                    {"nombre": "Insuficiente", "descripcion": "Qué le falta.", "puntos": 0},
                    {"nombre": "En desarrollo", "descripcion": "Qué tiene a medias.", "puntos": 2},
                    {"nombre": "Logrado", "descripcion": "Qué tiene por completo.", "puntos": 4},
                ],
            }
            for n in (1, 2, 3)
        ],
    },
    "pauta": "Para quienes revisan: qué contiene una respuesta sólida, las respuestas débiles "
    "más frecuentes y qué lecciones usa cada criterio. Los participantes no la ven.",
}
