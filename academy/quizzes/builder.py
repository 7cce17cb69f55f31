"""Checking what a parser read and building the quiz's questions.

Parsers fill plain, mutable specs (:class:`QuestionSpec`, :class:`AnswerSpec`), which
:func:`build_questions` checks and turns into :mod:`~academy.quizzes.questions` objects, with
their Markdown rendered once by :func:`academy.markdown.render`. The quiz file's reader
(:mod:`academy.quizzes.reader`) and the GIFT importer build the same specs, so both sources get
the same checks."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Final

from academy import markdown
from academy.courses.content import normalise_body
from academy.frontmatter import Problem
from academy.quizzes.questions import (
    EMPTY,
    Choice,
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
    stable_ids,
)
from academy.quizzes.schema import (
    DISTRACTOR,
    FEEDBACK_LINE,
    MAX_TITLE,
    QUESTION_HEADING,
    SHORT_OPTIONS,
    WEIGHT,
    answer_block_start,
    check_points,
    check_slug,
    check_tags,
)

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
        if spec.pool is not None and check_slug(spec.pool) is not None:
            self.fail(spec.line, f"grupo no válido «{spec.pool}»: {check_slug(spec.pool)}")
        if check_tags(list(spec.tags)) is not None:
            self.fail(spec.line, f"«etiquetas»: {check_tags(list(spec.tags))}")
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
            elif FEEDBACK_LINE.match(text_line):
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
        return render_markdown(
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
        elif WEIGHT.match(text) and self.spec.word in _BOX_WORDS:
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


def render_markdown(
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
