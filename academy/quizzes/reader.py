"""Reading ``quizzes/<nombre>.md`` (the format is described in :mod:`academy.quizzes.format`):
sections split into specs, checked and built by :mod:`academy.quizzes.builder`; every problem
is reported as :class:`~academy.frontmatter.Problem` with the file line."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from academy.courses.content import SLUG_RE, display, normalise_body, read_text
from academy.frontmatter import Document, Problem, check_keys, parse_yaml, split
from academy.frontmatter import title as title_problem
from academy.quizzes.builder import AnswerSpec, QuestionSpec, build_questions, render_markdown
from academy.quizzes.model import Quiz, QuizSettings
from academy.quizzes.questions import QUESTION_TYPES, Question, parse_number, parse_percent
from academy.quizzes.schema import (
    BOX_ITEM,
    DISTRACTOR,
    FEEDBACK_LINE,
    ITEM_PATTERNS,
    ITEM_SHAPES,
    LIST_ITEM,
    META_LINE,
    QUESTION_HEADING,
    QUESTION_SCHEMA,
    QUIZ_SCHEMA,
    SENSITIVITY,
    SHORT_OPTIONS,
    SHORT_SCHEMA,
    WEIGHT,
    answer_block_start,
    check_categories,
    check_draw,
    check_points,
    check_slug,
    check_tags,
    split_tags,
    to_fraction,
)
from academy.text import file_text

# --- reading the format -----------------------------------------------------------------------


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
    if any(BOX_ITEM.match(line) for line in lines[:intro_end]):
        problems.append(
            Problem(
                file,
                intro_line,
                "hay respuestas antes de la primera pregunta: "
                "cada pregunta empieza con una línea «## Título»",
            )
        )
    intro = render_markdown(intro_md, intro_line, file, problems)
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
        passing=to_fraction(passing),
        attempts=attempts if _is_int(attempts) and 1 <= attempts <= 1000 else None,
        time_limit=minutes if _is_int(minutes) and 1 <= minutes <= 1440 else None,
        shuffle_questions=meta.get("barajar_preguntas") is True,
        shuffle_options=meta.get("barajar_opciones") is True,
        draw=dict(draw) if isinstance(draw, dict) and check_draw(draw) is None else {},
        counts="last" if meta.get("cuenta") == "ultimo" else "best",
        review=_review(meta.get("revision")),
        categories=dict(categories)
        if isinstance(categories, dict) and check_categories(categories) is None
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
    while end_meta < len(lines) and META_LINE.match(lines[end_meta]):
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
    feedback_at = next((i for i, line in enumerate(rest) if FEEDBACK_LINE.match(line)), len(rest))
    if feedback_at < len(rest):
        first = FEEDBACK_LINE.sub("", rest[feedback_at], count=1)
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
    if isinstance(key, str) and check_slug(key) is None:
        spec.key, spec.key_line = key, key_lines.get("clave")
    points = meta.get("puntos")
    if _is_number(points) and check_points(points) is None:
        spec.points = to_fraction(points)
    pool = meta.get("grupo")
    if isinstance(pool, str) and check_slug(pool) is None:
        spec.pool = pool
    tags = split_tags(meta.get("etiquetas", []))
    if tags is not None and check_tags(tags) is None:
        spec.tags = tuple(tags)
    for word, attribute in SHORT_OPTIONS.items():
        if meta.get(word) in SENSITIVITY:
            spec.options[attribute] = SENSITIVITY[meta[word]]


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
        if line[0] not in " \t>" and LIST_ITEM.match(line):
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

    match = ITEM_PATTERNS[word].match(item.first)
    if match is None:
        report(f"respuesta mal escrita: {ITEM_SHAPES[word]}")
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
    weight = WEIGHT.match(rest)
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
