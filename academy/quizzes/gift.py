"""Moodle GIFT question banks: import into the quiz format, export from it.

Import (:func:`parse_gift`, :func:`gift_to_quiz_markdown`) reads what Moodle reads and what
real banks use: questions separated by blank lines, ``//`` comment lines, ``::Título::``,
``$CATEGORY:`` lines (the path below ``$course$/top``, as one slug, becomes the questions'
pool, and the path as written is kept in the quiz's ``categorias`` for the export; the root
means no pool), the escapes ``\\~ \\= \\# \\{ \\} \\: \\\\``
and ``\\n``, text formats ``[markdown]``, ``[plain]``, ``[moodle]`` (the default) and
``[html]``, per-answer feedback ``#…`` and general feedback ``####…``, and these answer blocks:

- ``{=right ~wrong ~%50%half ~%-25%penalty}``: single choice (an ``=`` answer is there);
- ``{~%50%a ~%50%b ~%-100%c}``: multiple choice (weights only, no ``=``);
- ``{T}``, ``{TRUE}``, ``{F}``, ``{FALSE}``, with ``{T#feedback if wrong#feedback if right}``;
- ``{=a =b =%50%c}``: short answer;
- ``{#42:0.5}``, ``{#10..20}``, ``{#=%100%42:0 =%50%40:2 ~#any other}``: numeric;
- ``{=a -> 1 =b -> 2 = -> extra}``: matching;
- text after the answers (``Moodle costs {~lots =nothing} to download.``): a missing-word
  question, whose answers become a blank (:data:`BLANK`, shown ``_____``) in the text, as in
  Moodle; the export puts them back there.

HTML (``[html]``, or ``[moodle]`` text with tags) is converted to Markdown by markdownify:
paragraphs, line breaks, bold, italics, code, links, lists, headings and quotes; anything else
is dropped *and reported* (images, tables, scripts, styling). Raw HTML never reaches the
Markdown, and the Markdown is rendered by :mod:`academy.markdown` anyway. What cannot be
imported (essay ``{}``, to be written as a case exercise instead, description-only items,
cloze questions with several answer blocks, malformed answers) is reported by line and left
out: never dropped silently.

Export (:func:`quiz_to_gift`) writes Markdown text as ``[markdown]`` and keeps what Moodle
cannot hold in comment tokens it ignores: Moodle's own ``[id:clave]`` and ``[tag:etiqueta]``,
plus ``[puntos:2]`` and the short-answer flags (``[tildes:distinguir]``). Ordering questions
have no GIFT equivalent: they are left out with a problem (and a comment in the file).
GIFT → Markdown → GIFT → Markdown is stable.
"""

from __future__ import annotations

import html
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from html.parser import HTMLParser
from pathlib import Path
from typing import Final

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, NavigableString, PageElement, Tag
from markdownify import ATX, MarkdownConverter, chomp

from academy import markdown
from academy.courses.content import SLUG_RE, read_text
from academy.frontmatter import Problem
from academy.quizzes.builder import AnswerSpec, QuestionSpec, build_questions, derive_key
from academy.quizzes.model import Quiz, QuizSettings
from academy.quizzes.questions import (
    ChoiceQuestion,
    Matching,
    MultipleChoice,
    Numeric,
    Ordering,
    Question,
    RichText,
    ShortAnswer,
    TrueFalse,
    format_number,
    format_percent,
    parse_number,
    parse_percent,
)
from academy.quizzes.schema import SHORT_OPTIONS, check_points
from academy.quizzes.writer import dump_quiz
from academy.text import file_text

__all__ = [
    "gift_to_quiz_markdown",
    "html_to_markdown",
    "parse_gift",
    "plain_to_markdown",
    "question_to_gift",
    "questions_to_gift",
    "quiz_to_gift",
    "read_gift",
]

# --- escapes ----------------------------------------------------------------------------------

# Escaped characters become private-use placeholders while the structure is parsed, so that
# an escaped { or ~ is never taken for syntax. Offsets shrink, newlines stay where they were.
#: The blank of a missing-word question («… el grupo llamado {=Tokenismo ~Poder} .»), in
#: the quiz's Markdown: five escaped underscores, shown as «_____» as Moodle shows them.
BLANK: Final = "\\_\\_\\_\\_\\_"
# Where the answers were, while the text around them is converted (a private-use character).
_GAP: Final = "\ue0ff"

#: Ends the message of a question left out of the quiz (the others are only warnings).
NOT_IMPORTED: Final = "la pregunta no se importó"

_PLACEHOLDERS: Final = {
    "\\": "\ue000",
    ":": "\ue001",
    "#": "\ue002",
    "=": "\ue003",
    "{": "\ue004",
    "}": "\ue005",
    "~": "\ue006",
    "n": "\ue007",
}
_RESTORE: Final = str.maketrans(
    {placeholder: "\n" if char == "n" else char for char, placeholder in _PLACEHOLDERS.items()}
)
_ESCAPE: Final = re.compile(r"\\(.)")


def _protect(text: str) -> str:
    return _ESCAPE.sub(lambda m: _PLACEHOLDERS.get(m[1], m[0]), text)


def _restore(text: str) -> str:
    return text.translate(_RESTORE)


def _escape(text: str) -> str:
    """Text -> GIFT: the special characters escaped, newlines as ``\\n`` (as Moodle does)."""
    text = text.replace("\\", "\\\\")
    for char in "~=#{}:":
        text = text.replace(char, "\\" + char)
    return text.replace("\n", "\\n")


# --- reading ----------------------------------------------------------------------------------

_FORMAT_PREFIX = re.compile(r"^\s*\[(moodle|html|plain|markdown)\]", re.IGNORECASE)
_WEIGHT = re.compile(r"^\s*%\s*(-?\d{1,3}(?:\.\d{1,10})?)\s*%")
_GIFT_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?")
_TOKEN = re.compile(r"\[(id|tag|puntos|mayusculas|tildes|espacios):((?:\\\]|[^\]])*)\]")
_HTML_TAG = re.compile(
    r"<(?:p|br|div|span|b|strong|i|em|u|ul|ol|li|a|img|h[1-6]|table|font|sub|sup|code|pre"
    r"|blockquote|hr|center|tt)\b[^>]*>",
    re.IGNORECASE,
)


@dataclass
class _Block:
    first_line: int
    lines: list[str] = field(default_factory=list)  # comment lines blanked, positions kept
    comments: list[str] = field(default_factory=list)


def read_gift(path: Path) -> tuple[str | None, list[Problem]]:
    """A GIFT file's text (UTF-8, newlines normalised), or None with the problem."""
    problems: list[Problem] = []
    return read_text(path, path, problems), problems


def parse_gift(text: str, file: str) -> tuple[list[Question], list[Problem]]:
    """The questions of a GIFT bank, and every problem met (those questions left out)."""
    questions, _categories, problems = parse_gift_bank(text, file)
    return questions, problems


def parse_gift_bank(text: str, file: str) -> tuple[list[Question], dict[str, str], list[Problem]]:
    """The questions of a GIFT bank, the category path of each pool (as written in the
    ``$CATEGORY:`` line, for the export), and every problem met."""
    text = file_text(text)
    problems: list[Problem] = []
    specs: list[QuestionSpec] = []
    pool: str | None = None
    categories: dict[str, str] = {}
    for block in _blocks(text):
        lines = block.lines
        first = next(i for i, line in enumerate(lines) if line.strip())
        if lines[first].lstrip().startswith("$CATEGORY:"):
            path = lines[first].lstrip()[len("$CATEGORY:") :].strip()
            pool = _pool(path)
            if pool is not None:
                # Two paths that make the same pool name (Marcos, marcos/) stay apart.
                base, number = pool, 2
                while categories.get(pool, path) != path:
                    pool = f"{base}-{number}"
                    number += 1
                categories[pool] = path
            # Moodle wants a blank line after it; be kind when it is missing.
            lines = ["" if i <= first else line for i, line in enumerate(lines)]
            if not any(line.strip() for line in lines):
                continue
        reader = _QuestionReader(block, "\n".join(lines), pool, file)
        spec = reader.read()
        problems += reader.problems
        if spec is not None:
            specs.append(spec)
    questions, found = build_questions(specs, file)
    return questions, categories, problems + found


def gift_to_quiz_markdown(
    gift_text: str, title: str, file: str, *, passing: int = 60
) -> tuple[str, list[Problem]]:
    """A GIFT bank as a quiz file (``academy quizzes import-gift FILE --to quizzes/x.md``).

    ``title`` and ``passing`` (percentage, 60 by default: the usual Chilean scale) fill the
    settings the bank does not have; trainers adjust the rest in the file. Problems name the
    GIFT file's lines; questions that could not be imported are not in the Markdown.
    """
    questions, categories, problems = parse_gift_bank(gift_text, file)
    settings = QuizSettings(
        title=" ".join(title.split()), passing=Fraction(passing), categories=categories
    )
    if not settings.title or len(settings.title) > 200:
        problems.append(
            Problem(file, None, "el título del cuestionario debe tener 1 a 200 caracteres")
        )
    if not 0 <= passing <= 100:
        problems.append(Problem(file, None, "la aprobación debe ser un porcentaje entre 0 y 100"))
    quiz = Quiz(slug=derive_key(title), settings=settings, questions=tuple(questions), file=file)
    return dump_quiz(quiz), problems


def _blocks(text: str) -> Iterable[_Block]:
    block: _Block | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            if block is not None and any(text.strip() for text in block.lines):
                yield block
            block = None
            continue
        if block is None:
            block = _Block(number)
        if line.strip().startswith("//"):
            block.comments.append(line.strip())
            block.lines.append("")
        else:
            block.lines.append(line)
    if block is not None and any(line.strip() for line in block.lines):
        yield block


def _pool(path: str) -> str | None:
    """The pool of a category path: its parts below the context and ``top``, as one name
    (``$course$/top/Participación/Marcos`` -> ``participacion-marcos``)."""
    parts = [p.replace("//", "/").strip() for p in re.split(r"(?<!/)/(?!/)", path.strip())]
    parts = [p for p in parts if p]
    while parts and parts[0] in _CONTEXTS:
        parts = parts[1:]
    if not parts:
        return None
    return derive_key(" ".join(parts))[:80].rstrip("-") or None


# The category contexts and the root category Moodle writes before a category's own path.
_CONTEXTS: Final = frozenset({"$course$", "$system$", "$module$", "$cat$", "top"})


class _QuestionReader:
    """One block of GIFT text -> a :class:`QuestionSpec`, or problems."""

    def __init__(self, block: _Block, body: str, pool: str | None, file: str) -> None:
        self.block = block
        self.text = _protect(body)
        self.pool = pool
        self.file = file
        self.problems: list[Problem] = []
        self.format = "moodle"

    def line(self, offset: int) -> int:
        return self.block.first_line + self.text.count("\n", 0, max(offset, 0))

    def report(self, offset: int, message: str) -> None:
        self.problems.append(Problem(self.file, self.line(offset), message))

    def skip(self, offset: int, message: str) -> None:
        self.report(offset, f"{message}; {NOT_IMPORTED}")

    def read(self) -> QuestionSpec | None:
        text = self.text
        start = len(text) - len(text.lstrip())
        title: str | None = None
        position = start
        if text.startswith("::", start):
            end = text.find("::", start + 2)
            if end < 0:
                self.skip(start, "falta el «::» que cierra el título")
                return None
            title = " ".join(_restore(text[start + 2 : end]).split()) or None
            position = end + 2
        opening = text.find("{", position)
        closing = text.find("}", opening if opening >= 0 else position)
        if opening < 0 and closing < 0:
            self.skip(
                start,
                "texto sin respuestas entre llaves (una descripción): la Academia no tiene "
                "este tipo de elemento",
            )
            return None
        if opening < 0 or closing < 0:
            self.skip(start, "las llaves de las respuestas no se abren o no se cierran")
            return None
        after = text[closing + 1 :]
        if "{" in after or after.lstrip().startswith("::"):
            self.skip(
                closing + 1,
                "hay otras llaves después de las respuestas: falta una línea en blanco entre "
                "dos preguntas, o es una pregunta «cloze» (varios huecos), que no se admite",
            )
            return None
        raw_text = text[position:opening]
        if after.strip():
            # Missing word: as Moodle does, the answers' place becomes a blank in the text.
            raw_text += _GAP + after
        match = _FORMAT_PREFIX.match(raw_text)
        if match:
            self.format = match[1].lower()
            raw_text = raw_text[match.end() :]
        answers_text = text[opening + 1 : closing]
        general = ""
        split_at = answers_text.rfind("####")
        if split_at >= 0:
            general = answers_text[split_at + 4 :]
            answers_text = answers_text[:split_at]
        spec = QuestionSpec(
            line=self.line(start),
            title="",
            word="",
            exact_lines=False,
            pool=self.pool,
            text_line=self.line(position),
            feedback_line=self.line(opening + 1 + max(split_at, 0)),
        )
        spec.text = self.markdown(raw_text, position, detect=False).replace(_GAP, BLANK)
        spec.feedback = self.markdown(general, opening + 1 + split_at) if general else ""
        if not self.answers(spec, answers_text, opening + 1):
            return None
        self.titles(spec, title)
        self.tokens(spec)
        return spec

    def titles(self, spec: QuestionSpec, title: str | None) -> None:
        text = spec.text
        if title is None:
            first_line = text.split("\n", 1)[0]
            if "\n" not in text and len(text) <= 200 and _is_plain(text):
                title, spec.text = text, ""
            else:
                title = _shorten(_plain_words(first_line.replace(BLANK, "…")))
        elif text == title:
            spec.text = ""  # how the exporter writes a question that is only its title
        spec.title = title

    def tokens(self, spec: QuestionSpec) -> None:
        tags: list[str] = []
        for token in _TOKEN.finditer("\n".join(self.block.comments)):
            name, value = token[1], token[2].replace("\\]", "]").strip()
            if name == "id" and value:
                spec.key = value if SLUG_RE.match(value) and len(value) <= 80 else derive_key(value)
            elif name == "tag":
                tag = " ".join(re.sub(r"[,\[\]]", " ", value).split())
                if tag and tag not in tags:
                    tags.append(tag[:50])
            elif name == "puntos":
                try:
                    points = parse_number(value)
                    problem = check_points(points)
                except ValueError as error:
                    problem = str(error)
                if problem:
                    self.report(0, f"[puntos:{value}] no válido: {problem}; se usa 1")
                else:
                    spec.points = points
            elif value in ("ignorar", "distinguir"):
                spec.options[SHORT_OPTIONS[name]] = value == "distinguir"
        spec.tags = tuple(tags)

    # --- answers

    def answers(self, spec: QuestionSpec, text: str, offset: int) -> bool:
        body = text.strip()
        lead = offset + len(text) - len(text.lstrip())
        if not body:
            self.skip(
                offset,
                "pregunta de desarrollo (respuesta abierta, «{}»): un cuestionario no la puede "
                "corregir; escríbela como un caso práctico (una lección «tipo: caso» con sus "
                "consignas y su rúbrica), que revisa un relator",
            )
            return False
        if body.startswith("#"):
            spec.word = "numerica"
            return self.numeric(spec, text, offset)
        if "~" in body:
            spec.word = "unica" if "=" in body else "multiple"
            return self.choices(spec, text, offset)
        if "=" in body and "->" in body:
            spec.word = "emparejar"
            return self.matching(spec, text, offset)
        head = body.split("#", 1)[0].strip().upper()
        if head in ("T", "TRUE", "F", "FALSE"):
            spec.word = "verdadero-falso"
            return self.true_false(spec, body, head in ("T", "TRUE"), lead)
        spec.word = "corta"
        return self.short(spec, text, offset)

    def segments(self, text: str, offset: int, markers: str) -> list[tuple[int, str, str]]:
        """``(offset, marker, content)`` for each answer; marker "" for text before the first."""
        found = []
        start, marker = 0, ""
        for index, char in enumerate(text):
            if char in markers:
                found.append((offset + start, marker, text[start:index]))
                start, marker = index + 1, char
        found.append((offset + start, marker, text[start:]))
        return [seg for seg in found if seg[1] or seg[2].strip()]

    def answer(
        self, content: str, offset: int, *, weighted: bool
    ) -> tuple[Fraction | None, str, str]:
        weight = None
        if weighted:
            match = _WEIGHT.match(content)
            if match:
                weight = parse_percent(match[1])
                content = content[match.end() :]
        value, _, feedback = content.partition("#")
        return weight, value, feedback

    def feedback(self, raw: str, offset: int) -> str:
        return self.markdown(raw, offset) if raw.strip() else ""

    def choices(self, spec: QuestionSpec, text: str, offset: int) -> bool:
        single = spec.word == "unica"
        for at, marker, content in self.segments(text, offset, "=~"):
            if not marker:
                self.skip(at, f"la respuesta «{_shorten(_restore(content))}» no empieza con = ni ~")
                return False
            weight, value, feedback = self.answer(content, at, weighted=marker == "~")
            if marker == "=":
                weight = None
            elif weight is None:
                weight = None if single else Fraction(0)
            answer = AnswerSpec(
                line=self.line(at),
                text=self.markdown(value, at, inline=True),
                correct=marker == "=" or (weight is not None and weight > 0),
                weight=weight,
                feedback=self.feedback(feedback, at),
                feedback_line=self.line(at),
            )
            spec.answers.append(answer)
        return True

    def true_false(self, spec: QuestionSpec, body: str, true: bool, offset: int) -> bool:
        parts = body.split("#", 2)
        wrong = self.feedback(parts[1], offset) if len(parts) > 1 else ""
        right = self.feedback(parts[2], offset) if len(parts) > 2 else ""
        line = self.line(offset)
        spec.answers = [
            AnswerSpec(line, "Verdadero", true, None, right if true else wrong, line),
            AnswerSpec(line, "Falso", not true, None, wrong if true else right, line),
        ]
        return True

    def short(self, spec: QuestionSpec, text: str, offset: int) -> bool:
        for at, _marker, content in self.segments(text, offset, "="):
            weight, value, feedback = self.answer(content, at, weighted=True)
            spec.answers.append(
                AnswerSpec(
                    line=self.line(at),
                    text=self.plain(value, at),
                    correct=weight is None or weight > 0,
                    weight=weight,
                    feedback=self.feedback(feedback, at),
                    feedback_line=self.line(at),
                )
            )
        return True

    def numeric(self, spec: QuestionSpec, text: str, offset: int) -> bool:
        hash_at = text.index("#")
        body, body_at = text[hash_at + 1 :], offset + hash_at + 1
        other = body.find("~")
        rest = body[other + 1 :] if other >= 0 else ""
        if other >= 0:
            body = body[:other]
        for at, _marker, content in self.segments(body, body_at, "="):
            weight, value, feedback = self.answer(content, at, weighted=True)
            try:
                number = _gift_numeric(_restore(value))
            except ValueError as error:
                self.skip(at, f"respuesta numérica no válida: {error}")
                return False
            spec.answers.append(
                AnswerSpec(
                    line=self.line(at),
                    correct=weight is None or weight > 0,
                    weight=weight,
                    feedback=self.feedback(feedback, at),
                    feedback_line=self.line(at),
                    number=number,
                )
            )
        if other >= 0:
            at = body_at + other
            feedback = rest.partition("#")[2]
            spec.answers.append(
                AnswerSpec(
                    line=self.line(at),
                    text="*",
                    feedback=self.feedback(feedback, at),
                    feedback_line=self.line(at),
                    number=(None, None, False),
                )
            )
        return True

    def matching(self, spec: QuestionSpec, text: str, offset: int) -> bool:
        for at, marker, content in self.segments(text, offset, "="):
            if not marker or "->" not in content:
                self.skip(at, "cada par de emparejar se escribe «=izquierda -> derecha»")
                return False
            left, _, right = content.partition("->")
            left_text = self.plain(left, at)
            spec.answers.append(
                AnswerSpec(
                    line=self.line(at),
                    text=self.plain(right, at),
                    left=left_text or None,
                )
            )
        return True

    # --- text

    def markdown(self, raw: str, offset: int, *, inline: bool = False, detect: bool = True) -> str:
        """GIFT text in its format -> Markdown (one line when ``inline``).

        A ``[format]`` prefix of its own overrides the question's, unless ``detect`` is off
        (the question text, whose prefix was already read).
        """
        match = _FORMAT_PREFIX.match(raw) if detect else None
        fmt = self.format
        if match:
            fmt, raw = match[1].lower(), raw[match.end() :]
        text = _restore(raw).strip()
        if fmt == "markdown":
            result = "\n".join(line.rstrip() for line in text.split("\n"))
        elif fmt == "html" or (fmt == "moodle" and _HTML_TAG.search(text)):
            source = text if fmt == "html" else text.replace("\n", "<br>\n")
            result, lost = html_to_markdown(source)
            if lost:
                self.report(
                    offset,
                    "se quitó HTML sin equivalente en Markdown ("
                    + ", ".join(f"<{tag}>" for tag in sorted(lost))
                    + "): revisa el texto importado",
                )
        else:
            result = plain_to_markdown(text)
        return " ".join(result.split()) if inline else result.strip()

    def plain(self, raw: str, offset: int) -> str:
        """GIFT text -> plain text (answers to type, matching and item texts)."""
        match = _FORMAT_PREFIX.match(raw)
        fmt = self.format
        if match:
            fmt, raw = match[1].lower(), raw[match.end() :]
        text = _restore(raw).strip()
        if fmt == "html" or (fmt == "moodle" and _HTML_TAG.search(text)):
            stripped = _TagStripper.strip(text)
            if stripped != text:
                self.report(offset, "se quitaron etiquetas HTML de una respuesta de solo texto")
            text = stripped
        return " ".join(text.split())


def _gift_numeric(text: str) -> tuple[Fraction, Fraction, bool]:
    text = text.strip()
    if ".." in text:
        low_text, high_text = text.split("..", 1)
        low, high = _gift_number(low_text), _gift_number(high_text)
        if low > high:
            raise ValueError(f"el rango «{text}» debe ir de menor a mayor")
        return low, high, True
    value_text, _, tolerance_text = text.partition(":")
    value = _gift_number(value_text)
    tolerance = _gift_number(tolerance_text) if tolerance_text.strip() else Fraction(0)
    if tolerance < 0:
        raise ValueError(f"el margen de «{text}» no puede ser negativo")
    return value - tolerance, value + tolerance, False


def _gift_number(text: str) -> Fraction:
    text = text.strip()
    if not _GIFT_NUMBER.fullmatch(text):
        raise ValueError(f"«{_shorten(text, 40)}» no es un número")
    try:
        value = Fraction(Decimal(text))
    except (InvalidOperation, ValueError, OverflowError):
        raise ValueError(f"«{_shorten(text, 40)}» no es un número") from None
    if abs(value) > 10**15:
        raise ValueError(f"«{_shorten(text, 40)}» es demasiado grande")
    if Fraction(format_number(value)) != value:
        raise ValueError(f"«{_shorten(text, 40)}» tiene demasiados decimales")
    return value


def _is_plain(text: str) -> bool:
    """Whether Markdown ``text`` shows exactly as written (so it can be a plain title)."""
    if not text:
        return False
    try:
        rendered = markdown.render(text)
    except markdown.MarkdownRefused:
        return False  # rendering it in full says why, where the question is checked
    return not rendered.problems and rendered.html == f"<p>{html.escape(text, quote=False)}</p>"


def _plain_words(text: str) -> str:
    return " ".join(re.sub(r"[\\`*_#>\[\]]", " ", text).split()) or "Pregunta"


def _shorten(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- text conversions -------------------------------------------------------------------------

_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]])")
_LINE_START = re.compile(r"^(#|>|[-+]|\d+(?=[.)](?:\s|$))|!|\()")


def _escape_inline(text: str) -> str:
    text = _INLINE_SPECIAL.sub(r"\\\1", text)
    text = re.sub(r"&(?=#?\w+;)", "&amp;", text)
    return re.sub(r"<(?=[A-Za-z/!?])", "&lt;", text)


def _escape_line_start(line: str) -> str:
    match = _LINE_START.match(line)
    if match is None:
        return line
    if match[1][0].isdigit():
        return match[1] + "\\" + line[len(match[1]) :]
    return "\\" + line


def plain_to_markdown(text: str) -> str:
    """Plain text -> Markdown that shows it as written (each line kept, specials escaped)."""
    lines = [_escape_line_start(_escape_inline(line.strip())) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


_SAFE_SCHEMES: Final = ("http://", "https://", "mailto:")
_DROPPED_WITH_CONTENT: Final = frozenset(
    {"script", "style", "iframe", "object", "svg", "math", "template", "noscript", "audio",
     "video", "canvas", "select", "textarea", "button"}
)  # fmt: skip
# What has a Markdown equivalent; every other tag is dropped (its text kept) and named,
# except the document's own frame, which has nothing to lose.
_CONVERTED: Final = frozenset(
    {"p", "div", "section", "article", "center", "figure", "br", "b", "strong", "i", "em",
     "code", "tt", "pre", "a", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
     "blockquote", "hr", "table", "tr", "td", "th"}
)  # fmt: skip
_FRAME: Final = frozenset({"html", "body", "head", "tbody", "thead", "tfoot", "meta", "title"})
# A table's cells are kept as text, but its rows and columns are not.
_FLATTENED: Final = frozenset({"table"})
# Marks where a text node starts: one that starts a line is escaped so that it stays text
# ("1. ", "# ", "> " written in the HTML are not a list, heading or quote).
_TEXT_START: Final = "\ue000"
# ... also after a list marker or a quote's ">" (where "# x" would still be a heading).
_MARKED_LINE = re.compile(rf"^((?: *(?:-|>|\d+\.) )* *){_TEXT_START}(.*)$", re.MULTILINE)
# markdownify recurses once per level of the HTML: what is nested deeper is reduced to its
# text (and its tags reported), so that no question text can exhaust Python's recursion.
_MAX_HTML_DEPTH: Final = 100


def _after_br(node: PageElement) -> bool:
    previous = node.previous_sibling
    while isinstance(previous, NavigableString) and not previous.strip():
        previous = previous.previous_sibling
    return isinstance(previous, Tag) and previous.name == "br"


class _GiftMarkdownConverter(MarkdownConverter):
    """markdownify, written the way our Markdown reads it (Python-Markdown, sane lists)."""

    class Options(MarkdownConverter.DefaultOptions):
        convert = sorted(_CONVERTED)
        heading_style = ATX
        bullets = "-"
        autolinks = False
        wrap = True  # whitespace collapses to one space, as a browser shows it
        wrap_width = None  # ... without re-wrapping paragraphs

    def escape(self, text: str, parent_tags: set[str]) -> str:
        return _escape_inline(text)

    def process_text(self, el: NavigableString, parent_tags: set[str] | None = None) -> str:
        text = super().process_text(el, parent_tags=parent_tags)
        if _after_br(el):
            text = text.lstrip()  # the source's line break after <br> starts no line of text
        if not text.strip() or "_noformat" in (parent_tags or set()):
            return text
        body = text.lstrip(" ")
        return text[: len(text) - len(body)] + _TEXT_START + body

    def convert_a(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        href = str(el.get("href") or "")
        if "_noformat" in parent_tags or not href.lower().startswith(_SAFE_SCHEMES):
            return text
        prefix, suffix, text = chomp(text)
        if not text:
            return ""
        return f"{prefix}[{text}]({href.replace(' ', '%20').replace(')', '%29')}){suffix}"

    def convert_br(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        if "_inline" in parent_tags:
            return " "
        # A second <br> in a row is the blank line between two paragraphs.
        return "\n\n" if _after_br(el) else "\n"

    def convert_hN(self, n: int, el: Tag, text: str, parent_tags: set[str]) -> str:
        # A question's headings sit under the page's own: always the third level.
        return super().convert_hN(3, el, text, parent_tags)

    def convert_li(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        item = super().convert_li(el, text, parent_tags)
        if not item.strip():
            return item
        # Python-Markdown nests a list, or continues an item, four spaces in, not at the
        # bullet's width as markdownify indents them.
        marker, _, rest = item.partition(" ")
        first, *more = rest.split("\n")
        width = len(marker) + 1
        return "\n".join(
            [f"{marker} {first}", *(f"    {line[width:]}" if line else line for line in more)]
        )

    def convert_pre(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return super().convert_pre(el, text.replace("```", "'''"), parent_tags)

    def convert_table(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return f"\n\n{text.strip()}\n\n"

    def convert_tr(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return f"{text.strip()}\n"

    def convert_td(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return f"{text.strip()} " if text.strip() else ""

    convert_th = convert_td
    convert_center = convert_figure = MarkdownConverter.convert_div


def _dropped_tags(soup: BeautifulSoup) -> set[str]:
    """The tags (and unsafe link targets) of ``soup`` that its Markdown will not have."""
    lost: set[str] = set()
    hidden = {id(soup): False}  # inside a tag dropped with its content
    for tag in soup.find_all(True):  # in document order: a parent before its children
        hidden[id(tag)] = hidden[id(tag.parent)] or tag.name in _DROPPED_WITH_CONTENT
        if hidden[id(tag.parent)]:
            continue
        if tag.name in _DROPPED_WITH_CONTENT or tag.name in _FLATTENED:
            lost.add(tag.name)
        elif tag.name == "a":
            href = str(tag.get("href") or "")
            if href and not href.lower().startswith(_SAFE_SCHEMES):
                lost.add("a href")
        elif tag.name not in _CONVERTED and tag.name not in _FRAME:
            lost.add(tag.name)
    return lost


def _flatten_below(soup: BeautifulSoup, limit: int) -> set[str]:
    """Reduce what is nested more than ``limit`` tags deep to its text; name those tags."""
    depth = {id(soup): 0}
    lost: set[str] = set()
    for tag in soup.find_all(True):  # in document order: a parent before its children
        if tag.parent is None or id(tag.parent) not in depth:
            continue  # inside a tag already reduced to its text
        depth[id(tag)] = depth[id(tag.parent)] + 1
        if depth[id(tag)] == limit and tag.find(True) is not None:
            lost.update(inner.name for inner in tag.find_all(True))
            for line_break in tag.find_all("br"):
                line_break.replace_with(" ")
            text = tag.get_text()
            tag.clear()
            tag.append(NavigableString(text))
    return lost


def html_to_markdown(source: str) -> tuple[str, set[str]]:
    """Convert HTML to Markdown; also return the tags that had to be dropped."""
    with warnings.catch_warnings():
        # Question text that reads like a URL or a file name is still text to convert.
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        # (_TEXT_START is ours: a private-use character has no meaning in a question.)
        soup = BeautifulSoup(source.replace(_TEXT_START, ""), "html.parser")
    lost = _dropped_tags(soup)
    for tag in soup.find_all("tt"):
        tag.name = "code"  # so that markdownify leaves its text unescaped, as in <code>
    for tag in soup.find_all(_DROPPED_WITH_CONTENT):
        tag.decompose()
    lost |= _flatten_below(soup, _MAX_HTML_DEPTH)
    text = _GiftMarkdownConverter().convert_soup(soup)
    text = _MARKED_LINE.sub(lambda line: line[1] + _escape_line_start(line[2]), text)
    text = "\n".join(line.rstrip() for line in text.replace(_TEXT_START, "").split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip(), lost


class _TagStripper(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.skipping += tag in _DROPPED_WITH_CONTENT

    def handle_endtag(self, tag: str) -> None:
        self.skipping -= self.skipping > 0 and tag in _DROPPED_WITH_CONTENT

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)

    @classmethod
    def strip(cls, source: str) -> str:
        stripper = cls()
        stripper.feed(source)
        stripper.close()
        return " ".join("".join(stripper.parts).split())


# --- writing ----------------------------------------------------------------------------------

ROOT_CATEGORY: Final = "$course$/top"


def quiz_to_gift(quiz: Quiz) -> tuple[str, list[Problem]]:
    """The quiz's questions as GIFT (``academy quizzes export-gift``), with what was left out.

    Quiz settings and the intro have no place in GIFT and are not written.
    """
    header = [f"// {quiz.settings.title}", f"// Exportado desde {quiz.file or quiz.slug}"]
    text, problems = questions_to_gift(
        quiz.questions, quiz.file or quiz.slug, quiz.settings.categories
    )
    return "\n".join(header) + "\n\n" + text, problems


def questions_to_gift(
    questions: Sequence[Question], file: str, categories: Mapping[str, str] | None = None
) -> tuple[str, list[Problem]]:
    """Questions as GIFT text; ordering questions are left out, each with a problem.

    Each pool is written as the category it came from (``categories``: pool -> path as the
    bank wrote it), else as ``$course$/top/<pool>``."""
    categories = categories or {}
    blocks: list[str] = []
    problems: list[Problem] = []
    pool: str | None = None
    for question in questions:
        if isinstance(question, Ordering):
            message = (
                f"la pregunta «{question.key}» es de ordenar, un tipo que GIFT no tiene: "
                "no se exportó"
            )
            problems.append(Problem(file, question.line, message))
            blocks.append(f"// {message}")
            continue
        problem = _unexportable(question)
        if problem:
            problems.append(Problem(file, question.line, problem))
            blocks.append(f"// {problem}")
            continue
        if question.pool != pool:
            pool = question.pool
            path = categories.get(pool) if pool else None
            if path is None:
                path = ROOT_CATEGORY + (f"/{pool}" if pool else "")
            blocks.append(f"$CATEGORY: {path}")
        blocks.append(question_to_gift(question))
    return "\n\n".join(blocks) + "\n", problems


def _unexportable(question: Question) -> str | None:
    # Unescaped "=" and "->" together make GIFT read a question as matching.
    if isinstance(question, ShortAnswer) and any(
        "->" in a.text or "->" in a.feedback.md for a in question.answers
    ):
        return (
            f"la pregunta «{question.key}» tiene una respuesta con «->», que GIFT leería "
            "como emparejar: no se exportó"
        )
    return None


def question_to_gift(question: Question) -> str:
    """One question in GIFT, preceded by its comment tokens."""
    tokens = [f"[id:{question.key}]"]
    tokens += ["[tag:" + tag.replace("]", "\\]") + "]" for tag in question.tags]
    if question.points != 1:
        tokens.append(f"[puntos:{format_number(question.points)}]")
    if isinstance(question, ShortAnswer):
        for word, attribute in SHORT_OPTIONS.items():
            if getattr(question, attribute):
                tokens.append(f"[{word}:distinguir]")
    text = question.text.md or question.title
    # A missing-word question: the answers go back where the blank is.
    before, blank, after = text.partition(BLANK) if text.count(BLANK) == 1 else (text, "", "")
    head = f"::{_escape(question.title)}::[markdown]{_escape(before)}"
    tail = _escape(after) if blank else ""
    general = f"####{_escape(question.feedback.md)}" if question.feedback else ""
    if isinstance(question, TrueFalse):
        right = next(c for c in question.choices if c.correct)
        wrong = next(c for c in question.choices if not c.correct)
        body = "TRUE" if right.id == "verdadero" else "FALSE"
        if wrong.feedback or right.feedback:
            body += "#" + (_rich(wrong.feedback) if wrong.feedback else "")
        if right.feedback:
            body += "#" + _rich(right.feedback)
        return f"// {' '.join(tokens)}\n{head}{{{body}{general}}}{tail}"
    lines = [f"// {' '.join(tokens)}", head + ("{#" if isinstance(question, Numeric) else "{")]
    lines += [f"\t{line}" for line in _answer_lines(question)]
    if general:
        lines.append(f"\t{general}")
    lines.append("}" + tail)
    return "\n".join(lines)


def _answer_lines(question: Question) -> list[str]:
    if isinstance(question, ChoiceQuestion):
        weights = question.weights()
        multiple = isinstance(question, MultipleChoice)
        return [
            _choice_prefix(weights[c.id], c.text.md, multiple)
            + _rich(c.text)
            + _feedback(c.feedback)
            for c in question.choices
        ]
    if isinstance(question, ShortAnswer):
        return [
            "="
            + _weight_prefix(_weight(a.weight, a.correct), a.text)
            + _plain(a.text)
            + _feedback(a.feedback)
            for a in question.answers
        ]
    if isinstance(question, Numeric):
        lines = []
        for answer in question.answers:
            if answer.low is None or answer.high is None:
                lines.append("~" + _feedback(answer.feedback))
                continue
            if answer.is_range:
                number = f"{format_number(answer.low)}..{format_number(answer.high)}"
            else:
                value, tolerance = (answer.low + answer.high) / 2, (answer.high - answer.low) / 2
                number = format_number(value)
                if tolerance:
                    number += f":{format_number(tolerance)}"
            weight = _weight(answer.weight, answer.correct)
            lines.append("=" + _weight_prefix(weight, number) + number + _feedback(answer.feedback))
        return lines
    if isinstance(question, Matching):
        return [
            f"={_plain(p.left) if p.left is not None else ''} -> {_plain(p.right)}"
            for p in question.pairs
        ]
    return []


def _weight(weight: Fraction | None, correct: bool) -> Fraction:
    return weight if weight is not None else Fraction(int(correct))


def _weight_prefix(weight: Fraction, text: str) -> str:
    return "" if weight == 1 and not text.startswith("%") else f"%{format_percent(weight)}%"


def _choice_prefix(weight: Fraction, text: str, multiple: bool) -> str:
    if weight == 1 and not multiple:
        return "="  # no weight is read after "=": a text starting with % is safe
    if weight == 0 and not text.startswith("%"):
        return "~"
    return f"~%{format_percent(weight)}%"


def _rich(text: RichText) -> str:
    # An answer starting with "[html]" (say) would be read as a format: name ours first.
    prefix = "[markdown]" if _FORMAT_PREFIX.match(text.md) else ""
    return prefix + _escape(text.md)


def _plain(text: str) -> str:
    return ("[markdown]" if _FORMAT_PREFIX.match(text) else "") + _escape(text)


def _feedback(feedback: RichText) -> str:
    return "#" + _rich(feedback) if feedback else ""
