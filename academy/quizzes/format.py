"""The quiz format on disk: ``quizzes/<nombre>.md``, parsed and written back.

::

    ---
    titulo: Mecanismos de participación
    aprobacion: 60
    intentos: 3
    ---

    Introducción opcional, en Markdown.

    ## ¿Qué órgano municipal es consultivo?
    tipo: unica
    puntos: 2

    Texto de la pregunta, en Markdown (opcional si el título basta).

    - [x] El consejo comunal de organizaciones de la sociedad civil
      > Correcto: es un órgano consultivo.
    - [ ] El concejo municipal

    Retroalimentación: texto general que se muestra después de responder.

Each question is a section that starts with a ``## `` line (its title), followed at once by
``clave: valor`` lines (YAML, checked against a schema like the front matter), then the
question text, then the answers (the last list of the section), then an optional paragraph
starting ``Retroalimentación:`` that runs to the end of the section. ``docs/autoria.md``
("Cuestionarios") describes it for trainers; every problem is reported as
:class:`~academy.frontmatter.Problem` with the file line.

Parsing goes through plain, mutable specs (:class:`QuestionSpec`, :class:`AnswerSpec`), which
:func:`build_questions` checks and turns into :mod:`~academy.quizzes.questions` objects, with
their Markdown rendered once by :func:`academy.markdown.render`. The GIFT importer builds the
same specs, so both sources get the same checks.

:func:`dump_quiz` writes the canonical form: ``parse(dump(q)) == q`` for any parsed quiz ``q``,
and ``dump(parse(dump(q))) == dump(q)``. It always writes each question's ``clave``, so that a
later change of title does not change the key that attempts and statistics follow.
"""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path, PurePosixPath
from typing import Any, Final, Literal

import yaml

from academy import markdown
from academy.courses.content import SLUG_RE, display, normalise_body, read_text
from academy.frontmatter import (
    Document,
    Key,
    Problem,
    check_keys,
    one_of,
    parse_yaml,
    split,
)
from academy.frontmatter import dump as dump_front_matter
from academy.frontmatter import title as title_problem
from academy.quizzes.questions import (
    EMPTY,
    QUESTION_TYPES,
    Choice,
    ChoiceQuestion,
    Item,
    Matching,
    MultipleChoice,
    Numeric,
    NumericAnswer,
    Ordering,
    Pair,
    Question,
    RichText,
    ShortAnswer,
    SingleChoice,
    TextAnswer,
    TrueFalse,
    default_multiple_weights,
    format_percent,
    normalise_answer,
    parse_number,
    parse_percent,
    stable_ids,
)
from academy.text import file_text

__all__ = [
    "COUNTS",
    "QUIZ_SCHEMA",
    "REVIEWS",
    "AnswerSpec",
    "QuestionSpec",
    "Quiz",
    "QuizSettings",
    "build_questions",
    "check_points",
    "derive_key",
    "dump_question",
    "dump_quiz",
    "load_quiz",
    "parse_quiz",
]

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


def _percentage(value: float) -> str | None:
    return None if 0 <= value <= 100 else "debe ser un porcentaje entre 0 y 100"


def _attempts(value: int | str) -> str | None:
    if isinstance(value, str):
        return None if value == UNLIMITED else f"usa un número entero o «{UNLIMITED}»"
    return None if 1 <= value <= 1000 else "debe ser un número entre 1 y 1000"


def _categories(value: dict[Any, Any]) -> str | None:
    for pool, path in value.items():
        if not isinstance(pool, str) or not SLUG_RE.match(pool):
            return f"«{pool}» no es un nombre de grupo (usa minúsculas, números y guiones)"
        if not isinstance(path, str) or not 0 < len(path.strip()) <= 255 or "\n" in path:
            return f"el grupo «{pool}» necesita la ruta de su categoría, en una línea"
    return None


def _minutes(value: int) -> str | None:
    return None if 1 <= value <= 1440 else "debe ser un número de minutos entre 1 y 1440"


def _draw(value: dict[Any, Any]) -> str | None:
    for pool, count in value.items():
        if not isinstance(pool, str) or not SLUG_RE.match(pool):
            return f"«{pool}» no es un nombre de grupo (usa minúsculas, números y guiones)"
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            return f"el grupo «{pool}» necesita un número entero de preguntas, 1 o más"
    return None if value else "indica al menos un grupo y cuántas preguntas sacar de él"


def _slug(value: str) -> str | None:
    if len(value) > MAX_KEY:
        return f"tiene más de {MAX_KEY} caracteres"
    return None if SLUG_RE.match(value) else "usa minúsculas, números y guiones (ej. cosoc-basico)"


def check_points(value: float | Fraction) -> str | None:
    """What is wrong with a question's points (None when nothing is)."""
    if not 0 < value <= MAX_POINTS:
        return f"debe ser un número mayor que 0 y hasta {MAX_POINTS}"
    exact = value if isinstance(value, Fraction) else _fraction(value)
    return None if (exact * 10_000).denominator == 1 else "admite hasta 4 decimales"


def _tags(value: str | list[Any]) -> str | None:
    tags = _split_tags(value)
    if tags is None:
        return "escribe las etiquetas separadas por comas (ej. cosoc, ley)"
    for tag in tags:
        if not tag or len(tag) > 50 or any(c in tag for c in "[]\n"):
            return f"etiqueta no válida: «{tag}» (hasta 50 caracteres, sin corchetes)"
    return None


def _split_tags(value: object) -> list[str] | None:
    if isinstance(value, str):
        return [tag.strip() for tag in value.split(",")] if value.strip() else []
    if isinstance(value, list) and all(isinstance(tag, str) and "," not in tag for tag in value):
        return [tag.strip() for tag in value]
    return None


QUIZ_SCHEMA: Final = {
    "titulo": Key(str, required=True, check=title_problem),
    "aprobacion": Key((int, float), required=True, check=_percentage),
    "intentos": Key((int, str), check=_attempts),
    "tiempo": Key(int, check=_minutes),
    "barajar_preguntas": Key(bool),
    "barajar_opciones": Key(bool),
    "sorteo": Key(dict, check=_draw),
    "cuenta": Key(str, check=one_of(list(COUNTS))),
    "revision": Key(str, check=one_of(list(REVIEWS))),
    "categorias": Key(dict, check=_categories),
}
QUESTION_SCHEMA: Final = {
    "clave": Key(str, check=_slug),
    "tipo": Key(str, check=one_of(list(QUESTION_TYPES))),
    "puntos": Key((int, float), check=check_points),
    "grupo": Key(str, check=_slug),
    "etiquetas": Key((str, list), check=_tags),
}
SHORT_SCHEMA: Final = {
    **QUESTION_SCHEMA,
    **{key: Key(str, check=one_of(list(SENSITIVITY))) for key in SHORT_OPTIONS},
}


# --- the parsed quiz --------------------------------------------------------------------------


@dataclass(frozen=True)
class QuizSettings:
    """The front matter, in English and with defaults filled in."""

    title: str
    passing: Fraction  # percentage of the points needed to pass, 0-100
    attempts: int | None = None  # None: unlimited
    time_limit: int | None = None  # minutes; None: no limit
    shuffle_questions: bool = False
    shuffle_options: bool = False
    draw: Mapping[str, int] = field(default_factory=dict)  # pool -> questions drawn from it
    counts: Literal["best", "last"] = "best"  # which attempt counts
    review: Literal["score", "responses", "full"] = "full"  # what is shown after submitting
    # pool -> the Moodle category path it came from ("Participación/Marcos"), for GIFT export
    categories: Mapping[str, str] = field(default_factory=dict)

    def passed(self, score: Fraction, total: Fraction) -> bool:
        """Whether ``score`` out of ``total`` points reaches the passing percentage."""
        return total > 0 and score * 100 >= self.passing * total


@dataclass(frozen=True)
class Quiz:
    """A parsed quiz file. ``file`` (for messages) is not part of equality."""

    slug: str
    settings: QuizSettings
    intro: RichText = EMPTY
    questions: tuple[Question, ...] = ()
    file: str = field(default="", compare=False)

    def question(self, key: str) -> Question | None:
        return next((q for q in self.questions if q.key == key), None)

    def pools(self) -> dict[str, tuple[Question, ...]]:
        """The questions of each pool, in file order."""
        pools: dict[str, list[Question]] = {}
        for question in self.questions:
            if question.pool is not None:
                pools.setdefault(question.pool, []).append(question)
        return {pool: tuple(members) for pool, members in pools.items()}

    def draw(self, rng: random.Random) -> tuple[Question, ...]:
        """The questions of a new attempt: fix them when it starts.

        Every question of a pool named in ``sorteo`` competes for that pool's places; all the
        others (no pool, or a pool not in ``sorteo``) are always included. File order is kept
        unless ``barajar_preguntas``.
        """
        chosen: set[str] = set()
        pools = self.pools()
        for pool, count in self.settings.draw.items():
            members = [q.key for q in pools.get(pool, ())]
            chosen.update(rng.sample(members, min(count, len(members))))
        drawn = [q for q in self.questions if q.pool not in self.settings.draw or q.key in chosen]
        if self.settings.shuffle_questions:
            rng.shuffle(drawn)
        return tuple(drawn)

    @property
    def question_count(self) -> int:
        """How many questions an attempt has: what :meth:`draw` gives, without drawing."""
        pools, draw = self.pools(), self.settings.draw
        fixed = sum(1 for q in self.questions if q.pool not in draw)
        return fixed + sum(min(count, len(pools.get(pool, ()))) for pool, count in draw.items())

    def arrange(self, question: Question, rng: random.Random) -> dict[str, list[str]]:
        """``question.arrangement()``, shuffled when the quiz says ``barajar_opciones``."""
        return question.arrangement(rng if self.settings.shuffle_options else None)

    def content_hash(self) -> str:
        """What makes two versions of a quiz the same, whatever the file looks like."""
        return hashlib.sha256(dump_quiz(self).encode()).hexdigest()


# --- specs: what a parser read, before checking -----------------------------------------------


@dataclass
class AnswerSpec:
    """One answer as read. ``text`` is the option (inline Markdown), the accepted answer or the
    item (plain text) or, for matching, the right-hand side; ``left`` is the left-hand side
    (None for a distractor). ``number`` is (low, high, is_range) for numeric answers, with
    (None, None, False) for ``*``.
    """

    line: int
    text: str = ""
    correct: bool = False
    weight: Fraction | None = None
    feedback: str = ""
    feedback_line: int | None = None
    left: str | None = None
    number: tuple[Fraction | None, Fraction | None, bool] | None = None


@dataclass
class QuestionSpec:
    """One question as read from a file, in Markdown, with the lines things came from."""

    line: int
    title: str
    word: str  # the type, as in the files: "unica"…
    key: str | None = None  # None: derived from the title
    key_line: int | None = None
    text: str = ""
    text_line: int | None = None
    points: Fraction = Fraction(1)
    pool: str | None = None
    tags: tuple[str, ...] = ()
    feedback: str = ""
    feedback_line: int | None = None
    options: dict[str, bool] = field(default_factory=dict)  # ShortAnswer flags
    answers: list[AnswerSpec] = field(default_factory=list)
    # False when the texts' own lines are not the file's (GIFT's "\n"): problems inside a
    # text are then reported at the line where it starts.
    exact_lines: bool = True


# --- reading the format -----------------------------------------------------------------------

QUESTION_HEADING: Final = re.compile(r"^##(?!#)[ \t]*(?P<title>.*?)[ \t]*$")
_META_LINE = re.compile(r"^[^\W\d][\w-]*[ \t]*:(?:[ \t]|$)")
_FEEDBACK_LINE = re.compile(r"^retroalimentaci[oó]n[ \t]*:[ \t]?", re.IGNORECASE)
_LIST_ITEM = re.compile(r"^(?:[-*+]|\d{1,3}[.)])(?:[ \t]|$)")
_BOX_ITEM = re.compile(r"^[-*+][ \t]+\[(?P<box>[ xX]?)\](?P<rest>.*)$")
_PAIR_ITEM = re.compile(r"^[-*+][ \t]+(?P<left>.*?)[ \t]*(?:->|→)[ \t]*(?P<right>.*)$")
_ORDER_ITEM = re.compile(r"^\d{1,3}[.)][ \t]+(?P<text>.*)$")
_WEIGHT = re.compile(r"^[ \t]*\([ \t]*(?P<percent>[-+−]?\d{1,3}(?:[.,]\d{1,10})?)[ \t]*%[ \t]*\)")
_ITEM_PATTERNS: Final = {
    **dict.fromkeys(["unica", "multiple", "verdadero-falso", "corta", "numerica"], _BOX_ITEM),
    "emparejar": _PAIR_ITEM,
    "ordenar": _ORDER_ITEM,
}
_ITEM_SHAPES: Final = {
    **dict.fromkeys(
        ["unica", "multiple", "verdadero-falso", "corta", "numerica"],
        "cada respuesta empieza con «- [x]» (correcta) o «- [ ]»",
    ),
    "emparejar": "cada par se escribe «- izquierda -> derecha»",
    "ordenar": "cada elemento se escribe con su número: «1. texto»",
}


def parse_quiz(text: str, file: str, slug: str | None = None) -> tuple[Quiz | None, list[Problem]]:
    """Parse a quiz file's text. The quiz is None when its settings cannot be read.

    Questions that cannot be built are left out, and their problems reported; a caller must
    not import a quiz with problems. ``slug`` defaults to the file name without ``.md``.
    """
    text = file_text(text)
    doc = split(text, file)
    if doc.problems:
        return None, doc.problems
    problems = check_keys(doc, QUIZ_SCHEMA, file)
    settings = _settings(doc.meta)
    lines = doc.body.split("\n")
    starts = [i for i, line in enumerate(lines) if QUESTION_HEADING.match(line)]
    intro_end = starts[0] if starts else len(lines)
    intro_md, intro_line = normalise_body("\n".join(lines[:intro_end]), doc.body_line)
    if any(_BOX_ITEM.match(line) for line in lines[:intro_end]):
        problems.append(
            Problem(
                file,
                intro_line,
                "hay respuestas antes de la primera pregunta: "
                "cada pregunta empieza con una línea «## Título»",
            )
        )
    intro = _render(intro_md, intro_line, file, problems)
    specs = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(lines)
        spec = _read_question(lines[start:end], doc.body_line + start, file, problems)
        if spec is not None:
            specs.append(spec)
    questions, found = build_questions(specs, file)
    problems += found
    if not starts:
        problems.append(
            Problem(
                file,
                intro_line,
                "el cuestionario no tiene preguntas: cada pregunta empieza con una línea "
                "«## Título»",
            )
        )
    if settings is None:
        return None, problems
    problems += _check_draw(settings, questions, doc.key_lines.get("sorteo"), file)
    quiz = Quiz(
        slug=slug if slug is not None else PurePosixPath(file).stem,
        settings=settings,
        intro=intro,
        questions=tuple(questions),
        file=file,
    )
    return quiz, problems


def load_quiz(path: Path, root: Path | None = None) -> tuple[Quiz | None, list[Problem]]:
    """Read and check ``quizzes/<nombre>.md``; messages name it relative to ``root``'s parent.

    ``root`` is the quizzes folder (by default the file's own folder), so problems read
    ``quizzes/ejemplo.md:12: …``.
    """
    root = root if root is not None else path.parent
    problems: list[Problem] = []
    name = display(path, root)
    if not SLUG_RE.match(path.stem) or path.suffix != ".md":
        problems.append(
            Problem(
                name,
                None,
                "nombre de cuestionario no válido: usa minúsculas, números y guiones, "
                "terminado en .md (ej. mecanismos-basicos.md)",
            )
        )
        return None, problems
    text = read_text(path, root, problems)
    if text is None:
        return None, problems
    quiz, found = parse_quiz(text, name, slug=path.stem)
    return quiz, problems + found


def _settings(meta: Mapping[str, Any]) -> QuizSettings | None:
    title, passing = meta.get("titulo"), meta.get("aprobacion")
    if not isinstance(title, str) or title_problem(title) is not None:
        return None
    if not _is_number(passing) or not 0 <= passing <= 100:
        return None
    attempts = meta.get("intentos")
    minutes = meta.get("tiempo")
    draw = meta.get("sorteo")
    categories = meta.get("categorias")
    return QuizSettings(
        title=title.strip(),
        passing=_fraction(passing),
        attempts=attempts if _is_int(attempts) and 1 <= attempts <= 1000 else None,
        time_limit=minutes if _is_int(minutes) and 1 <= minutes <= 1440 else None,
        shuffle_questions=meta.get("barajar_preguntas") is True,
        shuffle_options=meta.get("barajar_opciones") is True,
        draw=dict(draw) if isinstance(draw, dict) and _draw(draw) is None else {},
        counts="last" if meta.get("cuenta") == "ultimo" else "best",
        review=_review(meta.get("revision")),
        categories=dict(categories)
        if isinstance(categories, dict) and _categories(categories) is None
        else {},
    )


def _review(value: object) -> Literal["score", "responses", "full"]:
    if value == "puntaje":
        return "score"
    return "responses" if value == "respuestas" else "full"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _fraction(value: float) -> Fraction:
    # repr() is the shortest decimal that reads back as the same float: 62.5, not 62.5000…01.
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


def _check_draw(
    settings: QuizSettings, questions: Sequence[Question], line: int | None, file: str
) -> list[Problem]:
    problems = []
    sizes = Counter(q.pool for q in questions if q.pool is not None)
    for pool, count in settings.draw.items():
        if pool not in sizes:
            known = ", ".join(sorted(sizes)) or "ninguno"
            problems.append(
                Problem(
                    file,
                    line,
                    f"«sorteo»: no hay preguntas del grupo «{pool}» (grupos: {known})",
                )
            )
        elif count > sizes[pool]:
            problems.append(
                Problem(
                    file,
                    line,
                    f"«sorteo» pide {count} preguntas del grupo «{pool}», que tiene {sizes[pool]}",
                )
            )
    return problems


def _read_question(
    lines: list[str], line_no: int, file: str, problems: list[Problem]
) -> QuestionSpec | None:
    heading = QUESTION_HEADING.match(lines[0])
    assert heading is not None
    end_meta = 1
    while end_meta < len(lines) and _META_LINE.match(lines[end_meta]):
        end_meta += 1
    meta, key_lines, found = parse_yaml("\n".join(lines[1:end_meta]), file, line_no + 1)
    problems += found
    if found:
        return None
    word = meta.get("tipo")
    schema = SHORT_SCHEMA if word == "corta" else QUESTION_SCHEMA
    problems += check_keys(Document(meta, key_lines, "", 0), schema, file)
    if word is None:
        problems.append(
            Problem(
                file,
                line_no,
                "falta la clave «tipo» después del título "
                f"(usa uno de: {', '.join(QUESTION_TYPES)})",
            )
        )
    if word not in QUESTION_TYPES:
        return None
    spec = QuestionSpec(line=line_no, title=heading["title"], word=word)
    _read_meta(spec, meta, key_lines)
    rest, rest_line = lines[end_meta:], line_no + end_meta
    feedback_at = next((i for i, line in enumerate(rest) if _FEEDBACK_LINE.match(line)), len(rest))
    if feedback_at < len(rest):
        first = _FEEDBACK_LINE.sub("", rest[feedback_at], count=1)
        spec.feedback, spec.feedback_line = normalise_body(
            "\n".join([first, *rest[feedback_at + 1 :]]), rest_line + feedback_at
        )
    before = rest[:feedback_at]
    answers_at = answer_block_start(before, word)
    spec.text, spec.text_line = normalise_body("\n".join(before[:answers_at]), rest_line)
    spec.answers = _read_answers(before[answers_at:], rest_line + answers_at, word, file, problems)
    return spec


def _read_meta(spec: QuestionSpec, meta: Mapping[str, Any], key_lines: Mapping[str, int]) -> None:
    # Values that check_keys found wrong (already reported) fall back to their default.
    key = meta.get("clave")
    if isinstance(key, str) and _slug(key) is None:
        spec.key, spec.key_line = key, key_lines.get("clave")
    points = meta.get("puntos")
    if _is_number(points) and check_points(points) is None:
        spec.points = _fraction(points)
    pool = meta.get("grupo")
    if isinstance(pool, str) and _slug(pool) is None:
        spec.pool = pool
    tags = _split_tags(meta.get("etiquetas", []))
    if tags is not None and _tags(tags) is None:
        spec.tags = tuple(tags)
    for word, attribute in SHORT_OPTIONS.items():
        if meta.get(word) in SENSITIVITY:
            spec.options[attribute] = SENSITIVITY[meta[word]]


def answer_block_start(lines: Sequence[str], word: str) -> int:
    """Where the answers begin: the first answer-shaped item of the section's last list.

    The last list is the run of list items (with their indented or ``>`` lines and blank
    lines) that ends the section. Items before the first one shaped like this type's answers
    belong to the text (a list in the question); items after it are answers, well written or
    not. ``len(lines)`` when there are none.
    """
    pattern = _ITEM_PATTERNS[word]
    start = len(lines)
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if not line.strip() or line[0] in " \t>":
            continue
        if not _LIST_ITEM.match(line):
            break
        if pattern.match(line):
            start = index
    return start


@dataclass
class _RawItem:
    line: int
    first: str
    more: list[str] = field(default_factory=list)
    feedback: list[str] = field(default_factory=list)
    feedback_line: int | None = None


def _read_answers(
    lines: Sequence[str], first_line: int, word: str, file: str, problems: list[Problem]
) -> list[AnswerSpec]:
    items: list[_RawItem] = []
    blank_in_feedback = False
    for offset, line in enumerate(lines):
        number = first_line + offset
        stripped = line.strip()
        if not stripped:
            blank_in_feedback = bool(items and items[-1].feedback)
            continue
        if line[0] not in " \t>" and _LIST_ITEM.match(line):
            items.append(_RawItem(number, line.rstrip()))
        elif stripped.startswith(">"):
            item = items[-1]
            if blank_in_feedback:
                item.feedback.append("")
            content = stripped[1:]
            item.feedback.append(content[1:] if content.startswith(" ") else content)
            item.feedback_line = item.feedback_line or number
        else:
            items[-1].more.append(stripped)
        blank_in_feedback = False
    answers = []
    for item in items:
        answer = _read_answer(item, word, file, problems)
        if answer is not None:
            answers.append(answer)
    return answers


def _read_answer(
    item: _RawItem, word: str, file: str, problems: list[Problem]
) -> AnswerSpec | None:
    def report(message: str) -> None:
        problems.append(Problem(file, item.line, message))

    match = _ITEM_PATTERNS[word].match(item.first)
    if match is None:
        report(f"respuesta mal escrita: {_ITEM_SHAPES[word]}")
        return None
    feedback = "\n".join(item.feedback).strip("\n")
    if word in ("emparejar", "ordenar") and feedback:
        what = "los pares" if word == "emparejar" else "los elementos que se ordenan"
        problems.append(
            Problem(
                file,
                item.feedback_line,
                f"{what} no llevan retroalimentación propia: usa la retroalimentación general",
            )
        )
    answer = AnswerSpec(line=item.line, feedback=feedback, feedback_line=item.feedback_line)
    more = " ".join(item.more)
    if word == "emparejar":
        left = match["left"].strip()
        answer.left = None if left == DISTRACTOR else left
        answer.text = f"{match['right']} {more}".strip()
        return answer
    if word == "ordenar":
        answer.text = f"{match['text']} {more}".strip()
        return answer
    answer.correct = match["box"].lower() == "x"
    rest = match["rest"]
    weight = _WEIGHT.match(rest)
    if weight is not None:
        percent = weight["percent"].replace("−", "-")
        answer.weight = parse_percent(percent)
        rest = rest[weight.end() :]
    answer.text = f"{rest.strip()} {more}".strip()
    if word == "numerica":
        try:
            answer.number = _numeric_answer(answer.text)
        except ValueError as error:
            report(f"respuesta numérica no válida: {error} (escribe 42, 42 ± 0,5, 10..20 o *)")
            return None
    return answer


def _numeric_answer(text: str) -> tuple[Fraction | None, Fraction | None, bool]:
    text = text.strip()
    if text == "*":
        return None, None, False
    if ".." in text:
        low_text, high_text = text.split("..", 1)
        low, high = parse_number(low_text), parse_number(high_text)
        if low > high:
            raise ValueError(f"el rango «{text}» debe ir de menor a mayor")
        return low, high, True
    for separator in ("±", "+/-", "+-"):
        if separator in text:
            value_text, tolerance_text = text.split(separator, 1)
            value, tolerance = parse_number(value_text), parse_number(tolerance_text)
            if tolerance < 0:
                raise ValueError(f"el margen de «{text}» no puede ser negativo")
            return value - tolerance, value + tolerance, False
    value = parse_number(text)
    return value, value, False


# --- building and checking --------------------------------------------------------------------


def derive_key(title: str) -> str:
    """A question's default key: its title as a slug, up to 60 characters."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > 60:
        slug = slug[:61].rsplit("-", 1)[0].strip("-") or slug[:60]
    return slug or "pregunta"


def build_questions(
    specs: Sequence[QuestionSpec], file: str
) -> tuple[list[Question], list[Problem]]:
    """Check specs and build their questions, giving each a key unique in the quiz.

    Written keys are kept (two equal ones are a problem); the others come from the title,
    with ``-2``, ``-3``… when already taken. Questions with problems in their structure are
    left out; problems in their Markdown (reported too) do not stop them.
    """
    problems: list[Problem] = []
    written: dict[str, int] = {}
    for spec in specs:
        if spec.key is None:
            continue
        if spec.key in written:
            problems.append(
                Problem(
                    file,
                    spec.key_line or spec.line,
                    f"clave repetida «{spec.key}»: ya la usa la pregunta de la línea "
                    f"{written[spec.key]}",
                )
            )
        else:
            written[spec.key] = spec.line
    taken = set(written)
    questions = []
    for spec in specs:
        key = spec.key
        if key is None:
            base = derive_key(spec.title)
            key, n = base, 2
            while key in taken:
                key, n = f"{base}-{n}", n + 1
            taken.add(key)
        question, found = build_question(spec, key, file)
        problems += found
        if question is not None:
            questions.append(question)
    return questions, problems


def build_question(
    spec: QuestionSpec, key: str, file: str
) -> tuple[Question | None, list[Problem]]:
    """Check one spec and build its question (None when its structure is wrong)."""
    return _Builder(spec, key, file).build()


class _Builder:
    def __init__(self, spec: QuestionSpec, key: str, file: str) -> None:
        self.spec = spec
        self.key = key
        self.file = file
        self.problems: list[Problem] = []
        self.broken = False  # structural problems: the question cannot be used

    def fail(self, line: int | None, message: str) -> None:
        self.broken = True
        self.problems.append(Problem(self.file, line or self.spec.line, message))

    def build(self) -> tuple[Question | None, list[Problem]]:
        spec = self.spec
        title = " ".join(spec.title.split())
        if not title:
            self.fail(spec.line, "la pregunta no tiene título: escríbelo después de «##»")
        elif len(title) > MAX_TITLE:
            self.fail(spec.line, f"el título tiene más de {MAX_TITLE} caracteres")
        text, text_line = normalise_body(spec.text, spec.text_line or spec.line)
        feedback, feedback_line = normalise_body(spec.feedback, spec.feedback_line or spec.line)
        self._check_text(text, text_line, feedback, feedback_line)
        if check_points(spec.points) is not None:
            self.fail(spec.line, f"«puntos»: {check_points(spec.points)}")
        if spec.pool is not None and _slug(spec.pool) is not None:
            self.fail(spec.line, f"grupo no válido «{spec.pool}»: {_slug(spec.pool)}")
        if _tags(list(spec.tags)) is not None:
            self.fail(spec.line, f"«etiquetas»: {_tags(list(spec.tags))}")
        common: dict[str, Any] = {
            "key": self.key,
            "title": title,
            "text": self.render(text, text_line),
            "points": spec.points,
            "pool": spec.pool,
            "tags": spec.tags,
            "feedback": self.render(feedback, feedback_line),
            "line": spec.line,
        }
        maker = {
            "unica": self.single,
            "multiple": self.multiple,
            "verdadero-falso": self.true_false,
            "corta": self.short,
            "numerica": self.numeric,
            "emparejar": self.matching,
            "ordenar": self.ordering,
        }[spec.word]
        question = maker(common)
        return (None if self.broken else question), self.problems

    # Text that would not read back the same once written in the format (possible only when
    # it comes from elsewhere, such as GIFT) is a problem, never silently changed.
    def at(self, line: int, offset: int) -> int:
        return line + offset if self.spec.exact_lines else line

    def _check_text(self, text: str, line: int, feedback: str, feedback_line: int) -> None:
        text_lines = text.split("\n")
        for offset, text_line in enumerate(text_lines):
            if QUESTION_HEADING.match(text_line):
                self.fail(
                    self.at(line, offset),
                    "una línea que empieza con «##» inicia otra pregunta: "
                    "usa «###» para los subtítulos del enunciado",
                )
            elif _FEEDBACK_LINE.match(text_line):
                self.fail(
                    self.at(line, offset),
                    "una línea que empieza con «Retroalimentación:» inicia la retroalimentación "
                    "general: va después de las respuestas",
                )
        if text and answer_block_start(text_lines, self.spec.word) < len(text_lines):
            self.fail(
                line,
                "el enunciado termina con una lista que se confunde con las respuestas: "
                "agrega un párrafo después de ella",
            )
        for offset, feedback_text in enumerate(feedback.split("\n")):
            if QUESTION_HEADING.match(feedback_text):
                self.fail(
                    self.at(feedback_line, offset),
                    "una línea que empieza con «##» inicia otra pregunta: "
                    "usa «###» en la retroalimentación",
                )

    def render(self, md: str, line: int | None, *, inline: bool = False) -> RichText:
        return _render(
            md,
            line or self.spec.line,
            self.file,
            self.problems,
            inline=inline,
            exact=self.spec.exact_lines,
        )

    def option_text(self, answer: AnswerSpec, *, plain: bool = False) -> str:
        text = " ".join(answer.text.split())
        if not text:
            self.fail(answer.line, "respuesta sin texto")
        elif _WEIGHT.match(text) and self.spec.word in _BOX_WORDS:
            self.fail(
                answer.line,
                f"«{text}» empieza con un porcentaje entre paréntesis, que se leería como su "
                + ("peso" if plain else "peso: escribe \\( al comienzo para mostrarlo"),
            )
        return text

    def feedback(self, answer: AnswerSpec) -> RichText:
        text, line = normalise_body(answer.feedback, answer.feedback_line or answer.line)
        return self.render(text, line)

    def check_boxes(self, answers: Sequence[AnswerSpec], *, negative: bool) -> None:
        for answer in answers:
            weight = answer.weight
            if weight is None:
                continue
            low = -1 if negative else 0
            if not low <= weight <= 1:
                self.fail(
                    answer.line,
                    "el porcentaje debe estar entre -100 % y 100 %"
                    if negative
                    else "el porcentaje debe estar entre 0 % y 100 %",
                )
            elif answer.correct and weight <= 0:
                self.fail(
                    answer.line,
                    "una respuesta marcada [x] debe sumar puntaje: "
                    "quita la x o usa un porcentaje positivo",
                )
            elif not answer.correct and weight > 0:
                self.fail(answer.line, "una respuesta que suma puntaje se marca con [x]")
        if answers and not any(answer.correct for answer in answers):
            self.fail(
                answers[0].line if answers else None,
                "ninguna respuesta está marcada como correcta con [x]",
            )

    def check_full_credit(self, answers: Sequence[AnswerSpec]) -> None:
        if any(a.correct for a in answers) and not any(
            a.correct and (a.weight is None or a.weight == 1) for a in answers
        ):
            self.fail(
                answers[0].line,
                "ninguna respuesta da el puntaje completo: marca una con [x] sin porcentaje "
                "(o con 100 %)",
            )

    def check_unique(self, answers: Sequence[AnswerSpec], texts: Sequence[str], what: str) -> None:
        seen: set[str] = set()
        for answer, text in zip(answers, texts, strict=True):
            norm = normalise_answer(text, accent_sensitive=True)
            if text and norm in seen:
                self.fail(answer.line, f"{what}: «{text}»")
            seen.add(norm)

    def choices(self, *, negative: bool) -> list[Choice]:
        answers = self.spec.answers
        if len(answers) < 2:
            self.fail(self.spec.line, "la pregunta necesita al menos dos opciones")
        texts = [self.option_text(a) for a in answers]
        self.check_unique(answers, texts, "opción repetida")
        self.check_boxes(answers, negative=negative)
        return [
            Choice(
                id=choice_id,
                text=self.render(text, answer.line, inline=True),
                correct=answer.correct,
                weight=answer.weight,
                feedback=self.feedback(answer),
            )
            for answer, text, choice_id in zip(answers, texts, stable_ids(texts), strict=True)
        ]

    def single(self, common: dict[str, Any]) -> Question:
        choices = self.choices(negative=True)
        full = [a for a in self.spec.answers if a.correct and a.weight in (None, 1)]
        if len(full) > 1:
            self.fail(
                full[1].line,
                "una pregunta de selección única tiene una sola opción correcta; para dar "
                "puntaje parcial a otra, escribe su porcentaje: - [x] (50%) texto",
            )
        self.check_full_credit(self.spec.answers)
        choices = [_without_default(c) for c in choices]
        return SingleChoice(choices=tuple(choices), **common)

    def multiple(self, common: dict[str, Any]) -> Question:
        choices = self.choices(negative=True)
        weighted = any(c.weight is not None for c in choices)
        if weighted:
            if any(c.correct and c.weight is None for c in choices):
                self.fail(
                    self.spec.line,
                    "escribe el porcentaje en todas las opciones marcadas [x] o en ninguna",
                )
            choices = [
                c if c.weight is not None else _replace_weight(c, Fraction(0)) for c in choices
            ]
            total = sum((c.weight or 0 for c in choices if c.correct), Fraction(0))
            if any(c.correct for c in choices) and total < 1:
                self.fail(
                    self.spec.line,
                    "con estos porcentajes nadie obtiene el puntaje completo: las opciones "
                    f"correctas suman {format_percent(total)} % y deben sumar al menos 100 %",
                )
            defaults = default_multiple_weights(choices)
            if all(c.weight == defaults[c.id] for c in choices):
                # The weights the rule gives anyway: written or not, the same question.
                choices = [_replace_weight(c, None) for c in choices]
        return MultipleChoice(choices=tuple(choices), **common)

    def true_false(self, common: dict[str, Any]) -> Question:
        answers = self.spec.answers
        found: dict[str, AnswerSpec] = {}
        for answer in answers:
            word = normalise_answer(answer.text)
            if word not in ("verdadero", "falso") or word in found:
                self.fail(
                    answer.line,
                    "una pregunta de verdadero o falso tiene dos respuestas: "
                    "«- [x] Verdadero» y «- [ ] Falso» (o al revés)",
                )
            elif answer.weight is not None:
                self.fail(answer.line, "las respuestas de verdadero o falso no llevan porcentaje")
            found.setdefault(word, answer)
        if set(found) != {"verdadero", "falso"}:
            self.fail(self.spec.line, "faltan las respuestas «Verdadero» y «Falso»")
        elif sum(a.correct for a in found.values()) != 1:
            self.fail(self.spec.line, "marca con [x] solo la respuesta correcta")
        choices = tuple(
            Choice(
                id=word,
                text=RichText(label, label),
                correct=found[word].correct if word in found else False,
                feedback=self.feedback(found[word]) if word in found else EMPTY,
            )
            for word, label in (("verdadero", "Verdadero"), ("falso", "Falso"))
        )
        return TrueFalse(choices=choices, **common)

    def short(self, common: dict[str, Any]) -> Question:
        answers = self.spec.answers
        if not answers:
            self.fail(self.spec.line, "la pregunta necesita al menos una respuesta aceptada")
        texts = [self.option_text(a, plain=True) for a in answers]
        flags = {
            attribute: self.spec.options.get(attribute, False)
            for attribute in SHORT_OPTIONS.values()
        }
        seen: set[str] = set()
        for answer, text in zip(answers, texts, strict=True):
            norm = normalise_answer(text, **flags)
            if text and norm in seen:
                self.fail(answer.line, f"respuesta repetida: «{text}»")
            seen.add(norm)
        self.check_boxes(answers, negative=False)
        self.check_full_credit(answers)
        accepted = tuple(
            TextAnswer(
                text=text,
                correct=a.correct,
                weight=_weight_or_default(a.weight, a.correct),
                feedback=self.feedback(a),
            )
            for a, text in zip(answers, texts, strict=True)
        )
        return ShortAnswer(answers=accepted, **flags, **common)

    def numeric(self, common: dict[str, Any]) -> Question:
        answers = self.spec.answers
        if not answers:
            self.fail(self.spec.line, "la pregunta necesita al menos una respuesta numérica")
        self.check_boxes(answers, negative=False)
        result = []
        for index, answer in enumerate(answers):
            if answer.number is None:
                self.fail(answer.line, "respuesta numérica sin número")
                continue
            low, high, is_range = answer.number
            is_any = low is None or high is None
            if is_any and (answer.correct or index != len(answers) - 1):
                self.fail(
                    answer.line,
                    "«*» (cualquier otro número) va al final y marcado [ ], "
                    "para dar retroalimentación a las demás respuestas",
                )
            result.append(
                NumericAnswer(
                    low=low,
                    high=high,
                    is_range=is_range,
                    correct=answer.correct,
                    weight=_weight_or_default(answer.weight, answer.correct),
                    feedback=self.feedback(answer),
                )
            )
        self.check_full_credit(answers)
        return Numeric(answers=tuple(result), **common)

    def matching(self, common: dict[str, Any]) -> Question:
        answers = self.spec.answers
        lefts = [" ".join(a.left.split()) if a.left is not None else None for a in answers]
        rights = [" ".join(a.text.split()) for a in answers]
        if sum(left is not None for left in lefts) < 2:
            self.fail(
                self.spec.line, "la pregunta necesita al menos dos pares «- izquierda -> derecha»"
            )
        seen: set[str] = set()
        for answer, left, right in zip(answers, lefts, rights, strict=True):
            if left is not None:
                norm = normalise_answer(left, accent_sensitive=True)
                if not left:
                    self.fail(answer.line, "falta el texto a la izquierda de «->»")
                elif "->" in left or "→" in left or left == DISTRACTOR:
                    self.fail(
                        answer.line, f"el texto de la izquierda no puede contener «->»: «{left}»"
                    )
                elif norm in seen:
                    self.fail(answer.line, f"elemento repetido a la izquierda: «{left}»")
                seen.add(norm)
            if not right:
                self.fail(answer.line, "falta el texto a la derecha de «->»")
        left_ids = iter(stable_ids(left for left in lefts if left is not None))
        pairs = tuple(
            Pair(
                left_id=next(left_ids) if left is not None else None,
                left=left,
                right_id=right_id,
                right=right,
            )
            for left, right, right_id in zip(lefts, rights, stable_ids(rights), strict=True)
        )
        return Matching(pairs=pairs, **common)

    def ordering(self, common: dict[str, Any]) -> Question:
        answers = self.spec.answers
        if len(answers) < 2:
            self.fail(self.spec.line, "la pregunta necesita al menos dos elementos para ordenar")
        texts = [self.option_text(a, plain=True) for a in answers]
        self.check_unique(answers, texts, "elemento repetido")
        items = tuple(Item(id=i, text=t) for i, t in zip(stable_ids(texts), texts, strict=True))
        return Ordering(items=items, **common)


_BOX_WORDS: Final = frozenset(["unica", "multiple", "verdadero-falso", "corta", "numerica"])


def _weight_or_default(weight: Fraction | None, correct: bool) -> Fraction | None:
    return None if weight is None or weight == int(correct) else weight


def _without_default(choice: Choice) -> Choice:
    return _replace_weight(choice, _weight_or_default(choice.weight, choice.correct))


def _replace_weight(choice: Choice, weight: Fraction | None) -> Choice:
    return Choice(choice.id, choice.text, choice.correct, weight, choice.feedback)


def _no_images(_target: str) -> str | None:
    # Quiz text has no folder of its own for images yet: say so rather than show a broken one.
    return None


def _render(
    md: str,
    line: int | None,
    file: str,
    problems: list[Problem],
    *,
    inline: bool = False,
    exact: bool = True,
) -> RichText:
    if not md:
        return EMPTY
    try:
        rendered = markdown.render(md, image_resolver=_no_images)
    except markdown.MarkdownRefused as error:
        at = (line or 1) + error.line - 1 if error.line and exact else line
        problems.append(Problem(file, at, error.message))
        return RichText(md, "")
    first = line or 1
    for problem in rendered.problems:
        offset = problem.line - 1 if problem.line and exact else 0
        problems.append(Problem(file, first + offset, problem.message))
    html = rendered.html
    if inline and html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        # An option sits inside a <label>, where a paragraph is not allowed.
        html = html[3:-4]
    return RichText(md, html)


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
