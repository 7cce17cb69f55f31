"""Grading: each type's rule on examples, then properties over generated questions of every
type (hypothesis): order never matters, scores stay in [0, points], the correct response
scores full marks, tampered responses never raise, and export then import keeps every
question, through the Markdown format and through GIFT."""

from __future__ import annotations

import dataclasses
import os
import random
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from academy.quizzes.format import (
    AnswerSpec,
    QuestionSpec,
    Quiz,
    QuizSettings,
    build_question,
    build_questions,
    dump_quiz,
    parse_quiz,
)
from academy.quizzes.gift import parse_gift, questions_to_gift
from academy.quizzes.questions import (
    ChoiceQuestion,
    Matching,
    MultipleChoice,
    Numeric,
    Ordering,
    Question,
    ResponseError,
    ShortAnswer,
    correct_response,
    grade,
    normalise_answer,
    parse_response,
)

FILE = "quizzes/prueba.md"
PROPERTIES = settings(
    max_examples=int(os.environ.get("QUIZ_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def build(word: str, answers: list[AnswerSpec], **fields) -> Question:
    spec = QuestionSpec(line=1, title=fields.pop("title", "Pregunta"), word=word, **fields)
    spec.answers = answers
    question, found = build_question(spec, "pregunta", FILE)
    assert found == [], [str(p) for p in found]
    assert question is not None
    return question


def box(text: str, correct: bool = False, weight: Fraction | None = None) -> AnswerSpec:
    return AnswerSpec(line=1, text=text, correct=correct, weight=weight)


def number(low, high=None, *, correct=True, weight=None, is_range=False) -> AnswerSpec:
    high = low if high is None else high
    values = (Fraction(low), Fraction(high), is_range) if low is not None else (None, None, False)
    return AnswerSpec(line=1, correct=correct, weight=weight, number=values)


# --- each rule, on examples -------------------------------------------------------------------


def test_single_choice_scores_the_weight_of_the_option_picked():
    question = build(
        "unica",
        [
            box("a", True),
            box("b", True, Fraction(1, 2)),
            box("c", False, Fraction(-1, 4)),
            box("d"),
        ],
        points=Fraction(2),
    )
    a, b, c, d = (choice.id for choice in question.choices)
    assert [grade(question, r) for r in (a, b, c, d, None)] == [2, 1, 0, 0, 0]
    assert correct_response(question) == a


def test_multiple_choice_without_weights_shares_points_and_penalises_guesses():
    question = build(
        "multiple",
        [box("a", True), box("b", True), box("c", True), box("d"), box("e")],
        points=Fraction(3),
    )
    a, b, c, d, e = (choice.id for choice in question.choices)
    assert grade(question, [a, b, c]) == 3
    assert grade(question, [a]) == 1
    assert grade(question, [a, b, d]) == Fraction(1, 2)  # 1 + 1 - 1.5
    assert grade(question, [a, d, e]) == 0  # floored at 0
    assert grade(question, [a, b, c, d, e]) == 0
    assert grade(question, [a, a, a]) == 1  # repeated ids count once


def test_multiple_choice_with_weights_is_clamped_to_full_points():
    question = build(
        "multiple",
        [
            box("a", True, Fraction(1, 2)),
            box("b", True, Fraction(1, 2)),
            box("c", True, Fraction(1, 2)),
            box("d", False, Fraction(-1)),
        ],
    )
    a, b, c, d = (choice.id for choice in question.choices)
    assert grade(question, [a, b, c]) == 1
    assert grade(question, [a, d]) == 0
    assert set(correct_response(question)) == {a, b, c}


def test_true_false():
    question = build("verdadero-falso", [box("Falso", True), box("Verdadero")])
    assert [c.id for c in question.choices] == ["verdadero", "falso"]
    assert grade(question, "falso") == 1
    assert grade(question, "verdadero") == 0
    assert question.arrangement(random.Random(1)) == {"options": ["verdadero", "falso"]}


def test_short_answer_ignores_case_accents_and_spaces_by_default():
    question = build(
        "corta",
        [
            box("Participación Ciudadana", True),
            box("participación", True, Fraction(1, 2)),
            box("año"),
        ],
    )
    assert grade(question, "  participacion   ciudadana ") == 1
    assert grade(question, "PARTICIPACIÓN") == Fraction(1, 2)
    assert grade(question, "ano") == 0  # ñ is not n
    assert question.feedback_for("x") == ()


def test_short_answer_flags_and_wildcards():
    strict = build(
        "corta",
        [box("Año", True)],
        options={"case_sensitive": True, "accent_sensitive": True, "space_sensitive": True},
    )
    assert grade(strict, "Año") == 1
    assert grade(strict, "año") == grade(strict, "Ano") == grade(strict, " Año") == 0
    wild = build("corta", [box("consejo *", True), box("a\\*b", True)])
    assert grade(wild, "Consejo comunal") == 1
    assert grade(wild, "a*b") == 1
    assert grade(wild, "axb") == 0
    assert grade(wild, correct_response(wild)) == 1


def test_normalise_answer():
    assert normalise_answer("  Árbol   ÑANDÚ ") == "arbol ñandu"
    assert normalise_answer("Árbol", accent_sensitive=True) == "árbol"
    assert normalise_answer("ﬁn") == "fin"  # compatibility forms


def test_numeric_tolerance_range_weights_and_catch_all():
    question = build(
        "numerica",
        [
            number(Fraction(83, 10), Fraction(87, 10)),  # 8.5 ± 0.2
            number(7, 10, weight=Fraction(1, 2), is_range=True),
            number(None, correct=False),
        ],
        points=Fraction(4),
    )
    assert [grade(question, r) for r in ("8.3", "8.7", "8.71", "10", "10.01", "-3")] == [
        4,
        4,
        2,
        2,
        0,
        0,
    ]
    assert correct_response(question) == "8.5"
    assert grade(question, "8,5") == 0  # stored responses are canonical: parse_response first
    assert parse_response(question, ["8,5"]) == "8.5"
    assert parse_response(question, [" 1.000.000 "]) == "1000000"


def test_matching_scores_the_share_of_right_pairs():
    question = build(
        "emparejar",
        [
            AnswerSpec(line=1, left="Informar", text="Una vía"),
            AnswerSpec(line=1, left="Consultar", text="Dos vías"),
            AnswerSpec(line=1, left="Colaborar", text="Dos vías"),
            AnswerSpec(line=1, left=None, text="Ninguna"),
        ],
        points=Fraction(3),
    )
    pairs = question.scored_pairs()
    right = correct_response(question)
    assert grade(question, right) == 3
    wrong_one = {**right, pairs[0].left_id: question.pairs[3].right_id}
    assert grade(question, wrong_one) == 2
    assert grade(question, {pairs[1].left_id: pairs[1].right_id}) == 1
    arrangement = question.arrangement()
    assert sorted(arrangement["right"]) == sorted(question.rights())
    assert arrangement["left"] == [p.left_id for p in pairs]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("ABCDE", Fraction(1)),
        ("ABCED", Fraction(3, 4)),  # one swap
        ("BCDEA", Fraction(3, 4)),  # the first item moved to the end: one step, not zero
        ("EDCBA", Fraction(0)),
        ("ACBED", Fraction(1, 2)),
        ("ABC", Fraction(1, 2)),  # incomplete
        ("", Fraction(0)),
    ],
)
def test_ordering_scores_the_longest_ordered_run(order, expected):
    question = build("ordenar", [box(letter) for letter in "ABCDE"])
    ids = {item.text: item.id for item in question.items}
    assert question.grade([ids[letter] for letter in order]) == expected


def test_ordering_is_never_shown_in_the_right_order():
    question = build("ordenar", [box("uno"), box("dos")])
    right = [item.id for item in question.items]
    assert question.arrangement()["items"] != right
    for seed in range(20):
        assert question.arrangement(random.Random(seed))["items"] == right[::-1]


@pytest.mark.parametrize(
    ("word", "raw", "message"),
    [
        ("unica", ["zzz"], "la opción elegida no es de esta pregunta"),
        ("unica", ["a", "b"], "se esperaba una sola respuesta"),
        ("multiple", ["zzz"], "una de las opciones elegidas no es de esta pregunta"),
        ("numerica", ["cuatro"], "«cuatro» no es un número"),
        ("numerica", ["1" * 30], "es demasiado grande"),
        ("numerica", ["1.500"], "es ambiguo"),
        ("numerica", ["1e400"], "no es un número"),
        ("numerica", ["nan"], "no es un número"),
        ("corta", ["x" * 501], "la respuesta tiene más de 500 caracteres"),
        ("emparejar", {"zzz": "x"}, "respuesta no válida"),
        ("emparejar", ["x"], "respuesta no válida"),
        ("ordenar", ["zzz"], "uno de los elementos no es de esta pregunta"),
        ("unica", {"a": "b"}, "respuesta no válida"),
    ],
)
def test_parse_response_refuses_tampered_and_unreadable_values(word, raw, message):
    question = SAMPLES[word]
    if word == "unica" and raw == ["a", "b"]:
        raw = [c.id for c in question.choices[:2]]
    with pytest.raises(ResponseError, match=message):
        parse_response(question, raw)


def test_empty_responses_are_none_and_score_zero():
    for question in SAMPLES.values():
        raw = {} if isinstance(question, Matching) else ["", "  "]
        assert parse_response(question, raw) is None
        assert grade(question, None) == 0
    ordering = SAMPLES["ordenar"]
    assert parse_response(ordering, [ordering.items[1].id, ""]) == [ordering.items[1].id]


def test_feedback_for_the_answer_given():
    question = SAMPLES["unica"]
    assert question.feedback_for(question.choices[0].id)[0].md == "Bien."
    numeric = build(
        "numerica",
        [number(8), AnswerSpec(line=1, number=(None, None, False), feedback="Son ocho.")],
    )
    assert [f.md for f in numeric.feedback_for("3")] == ["Son ocho."]


SAMPLES: dict[str, Question] = {}


def _samples() -> None:
    SAMPLES["unica"] = build(
        "unica", [AnswerSpec(line=1, text="a", correct=True, feedback="Bien."), box("b")]
    )
    SAMPLES["multiple"] = build("multiple", [box("a", True), box("b")])
    SAMPLES["verdadero-falso"] = build("verdadero-falso", [box("Verdadero", True), box("Falso")])
    SAMPLES["corta"] = build("corta", [box("a", True)])
    SAMPLES["numerica"] = build("numerica", [number(4)])
    SAMPLES["emparejar"] = build(
        "emparejar",
        [AnswerSpec(line=1, left="a", text="1"), AnswerSpec(line=1, left="b", text="2")],
    )
    SAMPLES["ordenar"] = build("ordenar", [box("a"), box("b"), box("c")])


_samples()


# --- generated questions ----------------------------------------------------------------------

WORDS = [
    "consejo", "comunal", "participación", "ciudadana", "alcalde", "concejo", "audiencia",
    "pública", "plebiscito", "presupuesto", "información", "año", "niño", "OIRS", "COSOC",
    "50%", "a*b", "x_y", "#3", "{llave}", "c:d", "a=b", "~", "\\", "(nota)", "[x]", "über",
    "%x", "&amp;",
]  # fmt: skip
TEXT = st.lists(st.sampled_from(WORDS), min_size=1, max_size=5).map(" ".join)
PLAIN_WORDS = [*WORDS[:15], "c:d", "a=b", "~", "#3", "{llave}", "50%", "x_y", "%x", "ü", "1."]
PLAIN = st.lists(st.sampled_from(PLAIN_WORDS), min_size=1, max_size=4).map(" ".join)
PARAGRAPHS = st.lists(TEXT, min_size=0, max_size=2).map("\n\n".join)
PERCENT = st.sampled_from([Fraction(1, 2), Fraction(1, 3), Fraction(1, 4), Fraction(3, 5)])
PENALTY = st.sampled_from([Fraction(0), Fraction(-1, 2), Fraction(-1, 3), Fraction(-1)])
NUMBER = st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False).map(Fraction)


def unique_texts(
    base, n_min: int, n_max: int, key=lambda t: normalise_answer(t, accent_sensitive=True)
):
    return st.lists(base, min_size=n_min, max_size=n_max, unique_by=key)


@st.composite
def single_answers(draw):
    texts = draw(unique_texts(TEXT, 2, 6))
    right = draw(st.integers(0, len(texts) - 1))
    answers = []
    for index, text in enumerate(texts):
        kind = "right" if index == right else draw(st.sampled_from(["wrong", "penalty", "partial"]))
        correct = kind in ("right", "partial")
        weight = {"partial": draw(PERCENT), "penalty": draw(PENALTY.filter(bool))}.get(kind)
        answers.append(box(text, correct, weight))
    return answers


@st.composite
def multiple_answers(draw):
    texts = draw(unique_texts(TEXT, 2, 7))
    correct = draw(st.lists(st.booleans(), min_size=len(texts), max_size=len(texts)))
    if not any(correct):
        correct[0] = True
    weighted = draw(st.booleans())
    right = sum(correct)
    return [
        box(text, ok, (Fraction(1, right) if ok else draw(PENALTY)) if weighted else None)
        for text, ok in zip(texts, correct, strict=True)
    ]


@st.composite
def true_false_answers(draw):
    true = draw(st.booleans())
    return [
        AnswerSpec(line=1, text="Verdadero", correct=true, feedback=draw(PARAGRAPHS)),
        AnswerSpec(line=1, text="Falso", correct=not true, feedback=draw(PARAGRAPHS)),
    ]


@st.composite
def short_answers(draw):
    texts = draw(unique_texts(PLAIN, 1, 4, key=normalise_answer))
    answers = [box(texts[0], True)]
    for text in texts[1:]:
        partial = draw(st.booleans())
        answers.append(box(text, partial, draw(PERCENT) if partial else None))
    if draw(st.booleans()):
        answers[0].text += " *"
    return answers


@st.composite
def numeric_answers(draw):
    value = draw(NUMBER)
    tolerance = draw(st.sampled_from([Fraction(0), Fraction(1, 2), Fraction(5)]))
    answers = [number(value - tolerance, value + tolerance)]
    if draw(st.booleans()):
        low = draw(NUMBER)
        answers.append(number(low, low + 10, weight=draw(PERCENT), is_range=True))
    if draw(st.booleans()):
        answers.append(number(None, correct=False))
    for answer in answers:
        answer.feedback = draw(PARAGRAPHS)
    return answers


@st.composite
def matching_answers(draw):
    lefts = draw(unique_texts(PLAIN, 2, 5))
    rights = [draw(st.sampled_from(["uno", "dos", "tres", "cuatro"])) for _ in lefts]
    answers = [AnswerSpec(line=1, left=l, text=r) for l, r in zip(lefts, rights, strict=True)]  # noqa: E741
    if draw(st.booleans()):
        answers.insert(draw(st.integers(0, len(answers))), AnswerSpec(line=1, text="ninguno"))
    return answers


@st.composite
def ordering_answers(draw):
    return [box(text) for text in draw(unique_texts(PLAIN, 2, 6))]


ANSWERS = {
    "unica": single_answers(),
    "multiple": multiple_answers(),
    "verdadero-falso": true_false_answers(),
    "corta": short_answers(),
    "numerica": numeric_answers(),
    "emparejar": matching_answers(),
    "ordenar": ordering_answers(),
}


@st.composite
def specs(draw, words=tuple(ANSWERS)):
    word = draw(st.sampled_from(words))
    answers = draw(ANSWERS[word])
    if word in ("unica", "multiple", "corta"):
        for answer in answers:
            answer.feedback = draw(st.sampled_from(["", "Bien.", "Revisa *esto*.\n\nY esto."]))
    title = draw(TEXT)
    return QuestionSpec(
        line=1,
        title=title,
        word=word,
        text=draw(PARAGRAPHS.filter(lambda text: text != title)),
        points=draw(st.sampled_from([Fraction(1), Fraction(2), Fraction(1, 2), Fraction(3, 2)])),
        pool=draw(st.sampled_from([None, "ley", "niveles"])),
        tags=tuple(draw(st.lists(st.sampled_from(["cosoc", "ley 20.500", "iap2"]), unique=True))),
        feedback=draw(PARAGRAPHS),
        options=(
            {
                "case_sensitive": draw(st.booleans()),
                "accent_sensitive": draw(st.booleans()),
                "space_sensitive": draw(st.booleans()),
            }
            if word == "corta"
            else {}
        ),
        answers=answers,
    )


@st.composite
def questions(draw, words=tuple(ANSWERS)):
    spec = draw(specs(words))
    question, found = build_question(spec, "pregunta", FILE)
    assert found == [], [str(p) for p in found]
    assert question is not None
    return question


def ids_of(question: Question) -> list[str]:
    if isinstance(question, ChoiceQuestion):
        return [c.id for c in question.choices]
    if isinstance(question, Ordering):
        return [item.id for item in question.items]
    if isinstance(question, Matching):
        return [p.left_id for p in question.scored_pairs()] + list(question.rights())
    return []


@st.composite
def responses(draw, question: Question):
    """Well-shaped responses, right or wrong, from the question's own ids and texts."""
    if isinstance(question, MultipleChoice):
        return draw(st.lists(st.sampled_from(ids_of(question)), unique=True))
    if isinstance(question, ChoiceQuestion):
        return draw(st.sampled_from(ids_of(question)))
    if isinstance(question, ShortAnswer):
        texts = [a.text for a in question.answers]
        return draw(st.sampled_from(texts).map(str.upper) | st.sampled_from(texts) | PLAIN)
    if isinstance(question, Numeric):
        return draw(NUMBER.map(lambda n: str(n.numerator / n.denominator)))
    if isinstance(question, Matching):
        lefts = [p.left_id for p in question.scored_pairs()]
        rights = list(question.rights())
        chosen = draw(st.lists(st.sampled_from(lefts), unique=True))
        return {left: draw(st.sampled_from(rights)) for left in chosen}
    ids = [item.id for item in question.items]
    return draw(st.permutations(ids).flatmap(lambda p: st.integers(0, len(p)).map(lambda n: p[n:])))


JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=8,
)


@PROPERTIES
@given(questions(), st.data())
def test_scores_stay_within_points_and_the_correct_response_scores_full(question, data):
    assert grade(question, correct_response(question)) == question.points
    response = data.draw(responses(question))
    assert 0 <= grade(question, response) <= question.points


@PROPERTIES
@given(questions(), st.data())
def test_the_order_options_are_shown_or_given_in_never_changes_the_score(question, data):
    rng = random.Random(data.draw(st.integers()))
    arrangement = question.arrangement(rng)
    for shown in arrangement.values():
        assert len(shown) == len(set(shown))
    response = data.draw(responses(question))
    score = grade(question, response)
    if isinstance(question, MultipleChoice):
        assert grade(question, list(reversed(response))) == score
    if isinstance(question, Matching):
        assert grade(question, dict(reversed(list(response.items())))) == score
    # The same question with its options written in another order scores alike.
    shuffled = _reordered(question, rng)
    if shuffled is not None:
        assert grade(shuffled, response) == score
        assert grade(shuffled, correct_response(question)) == question.points


def _reordered(question: Question, rng: random.Random) -> Question | None:
    if isinstance(question, ChoiceQuestion):
        choices = list(question.choices)
        rng.shuffle(choices)
        return type(question)(**{**_fields(question), "choices": tuple(choices)})
    if isinstance(question, Matching):
        pairs = list(question.pairs)
        rng.shuffle(pairs)
        return Matching(**{**_fields(question), "pairs": tuple(pairs)})
    if isinstance(question, ShortAnswer | Numeric):
        answers = list(question.answers)
        rng.shuffle(answers)
        return type(question)(**{**_fields(question), "answers": tuple(answers)})
    return None  # the order of the items *is* an ordering question's answer


def _fields(question: Question) -> dict:
    return {f.name: getattr(question, f.name) for f in dataclasses.fields(question)}


@PROPERTIES
@given(questions(), JUNK)
def test_tampered_or_stale_responses_never_raise_nor_exceed_points(question, junk):
    assert 0 <= grade(question, junk) <= question.points
    tampered = [junk, [*ids_of(question)[:1], junk]]
    for response in tampered:
        assert 0 <= grade(question, response) <= question.points
    assert isinstance(question.feedback_for(junk), tuple)


@PROPERTIES
@given(
    questions(),
    st.one_of(
        st.lists(st.text(max_size=10), max_size=4),
        st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4),
        st.text(max_size=12),
        JUNK,
    ),
    st.data(),
)
def test_parse_response_accepts_or_explains_and_never_lets_junk_through(question, raw, data):
    ids = ids_of(question)
    if ids and isinstance(raw, list) and data.draw(st.booleans()):
        raw = raw + data.draw(st.lists(st.sampled_from(ids), max_size=3))
    try:
        response = parse_response(question, raw)
    except ResponseError as error:
        assert str(error)
        return
    assert 0 <= grade(question, response) <= question.points


@PROPERTIES
@given(questions())
def test_the_correct_response_survives_the_form(question):
    """What the form would post for the right answer reads back as full marks."""
    right = correct_response(question)
    raw = right if isinstance(right, dict | list) else [right]
    assert grade(question, parse_response(question, raw)) == question.points


@st.composite
def quizzes(draw):
    quiz_specs = draw(st.lists(specs(), min_size=1, max_size=6))
    built, found = build_questions(quiz_specs, FILE)
    assert found == []
    pools: dict[str, int] = {}
    for question in built:
        if question.pool:
            pools[question.pool] = pools.get(question.pool, 0) + 1
    draw_pools = {
        pool: draw(st.integers(1, size)) for pool, size in pools.items() if draw(st.booleans())
    }
    quiz_settings = QuizSettings(
        title=draw(PLAIN),
        passing=Fraction(draw(st.sampled_from(["0", "60", "62.5", "100"]))),
        attempts=draw(st.none() | st.integers(1, 5)),
        time_limit=draw(st.none() | st.integers(1, 120)),
        shuffle_questions=draw(st.booleans()),
        shuffle_options=draw(st.booleans()),
        draw=draw_pools,
        counts=draw(st.sampled_from(["best", "last"])),
        review=draw(st.sampled_from(["score", "responses", "full"])),
    )
    return Quiz(slug="prueba", settings=quiz_settings, questions=tuple(built), file=FILE)


@PROPERTIES
@given(quizzes(), PARAGRAPHS)
def test_markdown_export_then_import_keeps_every_question(quiz, intro):
    text = dump_quiz(quiz)
    again, found = parse_quiz(text, FILE)
    assert [str(p) for p in found] == []
    assert again == quiz
    assert dump_quiz(again) == text
    with_intro = parse_quiz(text.replace("\n\n## ", f"\n\n{intro}\n\n## ", 1), FILE)[0]
    assert with_intro.questions == quiz.questions


@PROPERTIES
@given(st.lists(specs(), min_size=1, max_size=6))
def test_gift_export_then_import_keeps_every_question_gift_can_hold(quiz_specs):
    built, found = build_questions(quiz_specs, FILE)
    assert found == []
    text, problems = questions_to_gift(built, FILE)
    exportable = [q for q in built if not isinstance(q, Ordering)]
    assert len(problems) == len(built) - len(exportable)
    assert all("es de ordenar" in p.message for p in problems)
    again, found = parse_gift(text, "banco.gift")
    assert [str(p) for p in found] == []
    assert again == exportable
