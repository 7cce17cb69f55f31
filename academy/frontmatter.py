"""Front matter: a YAML block between ``---`` lines at the top of a Markdown file.

Every content file (course, unit, lesson, quiz, case) starts this way. Parsing keeps the line of
each key so that problems can be reported as ``file:line: message``, and checks the keys
against a schema: unknown keys, missing keys and wrong types are problems, never silently
ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import click
import yaml

from academy.inputs import ONE_LINE_PROBLEM, is_one_line

DELIMITER = "---"
UNREADABLE = "el encabezado no se puede leer"


@dataclass(frozen=True)
class Problem:
    """Something wrong in a content file, in the author's language."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line or 1}: {self.message}"


@dataclass
class Document:
    """A content file split into its front matter and its Markdown body."""

    meta: dict[str, Any]
    key_lines: dict[str, int]
    body: str
    body_line: int  # the file line where the body starts
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Key:
    """One allowed front matter key: its Python type(s), whether required, and a check."""

    types: type | tuple[type, ...]
    required: bool = False
    check: Callable[[Any], str | None] | None = None


TYPE_NAMES = {
    str: "un texto",
    int: "un número entero",
    bool: "sí o no (true/false)",
    list: "una lista",
    dict: "un bloque de claves",
    float: "un número",
}


def split(text: str, file: str) -> Document:
    """Split ``text`` into front matter and body; the front matter is required."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != DELIMITER:
        return Document(
            {},
            {},
            text,
            1,
            [Problem(file, 1, "falta el encabezado: la primera línea debe ser ---")],
        )
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == DELIMITER)
    except StopIteration:
        return Document(
            {}, {}, "", 1, [Problem(file, 1, "el encabezado no se cierra: falta una línea ---")]
        )
    yaml_text = "\n".join(lines[1:end])
    body = "\n".join(lines[end + 1 :])
    meta, key_lines, problems = parse_yaml(yaml_text, file, first_line=2)
    return Document(meta, key_lines, body, end + 2, problems)


def parse_yaml(
    text: str, file: str, first_line: int = 1
) -> tuple[dict[str, Any], dict[str, int], list[Problem]]:
    """Parse a YAML mapping, keeping the line of each top-level key."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}, {}, []
        if not isinstance(node, yaml.MappingNode):
            line = first_line + node.start_mark.line
            return (
                {},
                {},
                [Problem(file, line, "el encabezado debe ser una lista de claves: valor")],
            )
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = first_line + mark.line if mark else first_line
        return {}, {}, [Problem(file, line, f"{UNREADABLE}: {yaml_message(error)}")]
    except yaml.YAMLError:
        return {}, {}, [Problem(file, first_line, f"{UNREADABLE}: {yaml_message(None)}")]
    finally:
        loader.dispose()
    key_lines = {
        str(key.value): first_line + key.start_mark.line
        for key, _value in node.value
        if isinstance(key, yaml.ScalarNode)
    }
    return {str(k): v for k, v in data.items()}, key_lines, []


# PyYAML's reasons (English) -> what is wrong and how to fix it, for the author. The first
# pattern found in the reason (or its context) wins.
_YAML_FIXES: tuple[tuple[str, str], ...] = (
    (
        "'\\t'",
        "hay una tabulación: usa espacios, no tabulaciones, al comienzo de la línea y en el texto",
    ),
    (
        "mapping values are not allowed",
        "«:» dentro de un valor, o una clave con más sangría que la anterior: si el valor "
        'lleva dos puntos, ponlo entre comillas (titulo: "Ley 20.500: participación"); si '
        "no, alinea la clave con las de arriba",
    ),
    (
        "could not find expected ':'",
        "falta «:» después de la clave: escribe clave: valor, o sangra la línea si continúa "
        "el valor de arriba",
    ),
    (
        "expected <block end>",
        "la sangría no coincide con la de las líneas de arriba: alinea con espacios los "
        "elementos de una misma lista o bloque",
    ),
    (
        "did not find expected key",
        "la sangría no coincide con la de las líneas de arriba: alinea con espacios las claves "
        "de un mismo bloque",
    ),
    (
        "did not find expected '-'",
        "la sangría no coincide con la de las líneas de arriba: alinea los «-» de la lista",
    ),
    (
        "expected ',' or '}'",
        "un bloque entre llaves {…} no se cierra bien: revisa que termine en «}» y pon entre "
        "comillas los valores que llevan comas, dos puntos o llaves",
    ),
    (
        "expected ',' or ']'",
        "una lista entre corchetes […] no se cierra bien: revisa que termine en «]» y pon entre "
        "comillas los valores que llevan comas o dos puntos",
    ),
    (
        "unknown escape character",
        "una barra invertida «\\» dentro de comillas dobles: usa comillas simples ('…') o "
        "escribe dos barras",
    ),
    (
        "quoted scalar",
        "una comilla se abre y no se cierra: cierra el texto con la misma comilla con que empieza",
    ),
    (
        "undefined alias",
        "un valor no puede empezar con «*»: pon el valor entre comillas",
    ),
    (
        "<stream end>",
        "el texto termina antes de cerrar algo: falta un «]», una «}» o una comilla",
    ),
    (
        "cannot start any token",
        "un valor no puede empezar con ese carácter (@, `, %, |, >): pon el valor entre comillas",
    ),
)


def yaml_message(error: yaml.MarkedYAMLError | None) -> str:
    """What is wrong in YAML text and how to fix it, in Spanish (PyYAML's own English words
    only as a last resort, after a Spanish explanation)."""
    reason = (
        " ".join(part for part in (error.problem, error.context) if part)
        if error is not None
        else ""
    )
    for pattern, message in _YAML_FIXES:
        if pattern in reason:
            return message
    detail = f" (el lector de YAML dice: {error.problem or error.context})" if reason else ""
    return f"revisa los «:», las comillas y la sangría de esta línea y la anterior{detail}"


def check_keys(doc: Document, schema: Mapping[str, Key], file: str) -> list[Problem]:
    """Problems with the keys of ``doc.meta`` against ``schema``."""
    problems: list[Problem] = []
    for key, value in doc.meta.items():
        line = doc.key_lines.get(key, 1)
        spec = schema.get(key)
        if spec is None:
            known = ", ".join(schema)
            problems.append(Problem(file, line, f"clave desconocida «{key}» (se admiten: {known})"))
            continue
        if value is None and not spec.required:
            continue
        expected = spec.types if isinstance(spec.types, tuple) else (spec.types,)
        # In YAML, true is not an int and 3 is not a bool: keep them apart.
        wrong_bool = isinstance(value, bool) and bool not in expected
        if wrong_bool or not isinstance(value, expected):
            wanted = " o ".join(TYPE_NAMES.get(t, t.__name__) for t in expected)
            problems.append(Problem(file, line, f"«{key}» debe ser {wanted}"))
            continue
        if spec.check is not None:
            message = spec.check(value)
            if message:
                problems.append(Problem(file, line, f"«{key}»: {message}"))
    for key, spec in schema.items():
        if spec.required and doc.meta.get(key) in (None, ""):
            problems.append(Problem(file, 1, f"falta la clave obligatoria «{key}»"))
    return problems


def dump(meta: Mapping[str, Any], body: str) -> str:
    """Write front matter and body back in the canonical form (keys in schema order)."""
    clean = {k: v for k, v in meta.items() if v not in (None, [], {}, "")}
    header = yaml.safe_dump(
        clean, allow_unicode=True, sort_keys=False, width=100, default_flow_style=False
    )
    body = body.strip("\n")
    return f"{DELIMITER}\n{header}{DELIMITER}\n" + (f"\n{body}\n" if body else "")


# Checks shared by the course, unit, lesson and quiz schemas ------------------------------------


def one_of(options: Iterable[str]) -> Callable[[Any], str | None]:
    """A key whose value must be one of ``options`` (the problem lists them)."""
    allowed = list(options)

    def check(value: Any) -> str | None:
        return None if value in allowed else f"usa uno de: {', '.join(allowed)}"

    return check


def title(value: str, limit: int = 200) -> str | None:
    """A title: not empty, one line, at most ``limit`` characters."""
    if not value.strip():
        return "no puede estar vacío"
    if len(value) > limit:
        return f"tiene más de {limit} caracteres"
    return None if is_one_line(value.strip()) else ONE_LINE_PROBLEM


def report_problems(problems: list[Problem]) -> None:
    """Every problem on standard error, then how many (the content commands' report)."""
    for problem in problems:
        click.echo(str(problem), err=True)
    count = len(problems)
    click.echo(f"{count} problema{'s' if count != 1 else ''}.", err=True)
