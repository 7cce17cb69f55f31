"""The quiz format: what trainers write in quizzes/*.md, every problem it names, and the
canonical writer."""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path

import pytest

from academy.quizzes import attempts
from academy.quizzes import format as quiz_format
from academy.quizzes.format import dump_question, dump_quiz, load_quiz, parse_quiz
from academy.quizzes.questions import (
    Matching,
    MultipleChoice,
    Numeric,
    Ordering,
    ShortAnswer,
    SingleChoice,
    TrueFalse,
)

EXAMPLE = Path(__file__).parent / "fixtures/content/quizzes/ejemplo.md"
FILE = "quizzes/prueba.md"
FRONT = "---\ntitulo: Prueba\naprobacion: 60\n---\n\n"  # the body starts on line 6


def parse(body: str, front: str = FRONT):
    return parse_quiz(front + body, FILE)


def problems(body: str, front: str = FRONT) -> list[str]:
    return [str(p) for p in parse(body, front)[1]]


def only(body: str, front: str = FRONT):
    quiz, found = parse(body, front)
    assert found == []
    assert quiz is not None
    return quiz


# --- the example ------------------------------------------------------------------------------


def test_the_example_has_every_type_and_no_problems():
    quiz, found = load_quiz(EXAMPLE)
    assert found == []
    assert quiz.slug == "ejemplo"
    assert quiz.file == "quizzes/ejemplo.md"
    kinds = {type(q) for q in quiz.questions}
    assert kinds == {
        SingleChoice,
        MultipleChoice,
        TrueFalse,
        ShortAnswer,
        Numeric,
        Matching,
        Ordering,
    }
    settings = quiz.settings
    assert settings.title == "Participación ciudadana en el municipio"
    assert settings.passing == 60
    assert settings.attempts == 3
    assert settings.time_limit == 20
    assert settings.shuffle_questions and settings.shuffle_options
    assert settings.draw == {"niveles": 1}
    assert settings.counts == "best"
    assert settings.review == "full"
    assert "<strong>niveles de participación</strong>" in quiz.intro.html


def test_the_example_reads_back_from_its_canonical_form():
    quiz, _ = load_quiz(EXAMPLE)
    text = dump_quiz(quiz)
    again, found = parse_quiz(text, quiz.file)
    assert found == []
    assert again == quiz
    assert dump_quiz(again) == text
    assert quiz_format.content_hash(again) == quiz_format.content_hash(quiz)


def test_questions_keep_markdown_and_rendered_html():
    quiz, _ = load_quiz(EXAMPLE)
    first = quiz.questions[0]
    assert first.text.md == "Elige el órgano cuya función principal es **opinar**, no decidir."
    assert first.text.html == (
        "<p>Elige el órgano cuya función principal es <strong>opinar</strong>, no decidir.</p>"
    )
    assert isinstance(first, SingleChoice)
    # Options sit inside a <label>: their HTML has no paragraph around it.
    assert first.choices[0].text.html.startswith("El consejo comunal")
    assert first.choices[0].feedback.html == "<p>Correcto: es un órgano consultivo.</p>"
    assert first.feedback.html == (
        "<p>El COSOC <strong>opina</strong>; el concejo y la alcaldía <strong>deciden</strong>.</p>"
    )


def test_defaults_of_the_settings():
    quiz = only("## Sí o no\ntipo: verdadero-falso\n\n- [x] Verdadero\n- [ ] Falso\n")
    settings = quiz.settings
    assert settings.attempts is None
    assert settings.time_limit is None
    assert not settings.shuffle_questions and not settings.shuffle_options
    assert settings.draw == {}
    assert (settings.counts, settings.review) == ("best", "full")
    assert quiz.questions[0].points == 1


def test_settings_in_spanish_become_english_values():
    front = (
        "---\ntitulo: Prueba\naprobacion: 62.5\nintentos: ilimitados\ncuenta: ultimo\n"
        "revision: puntaje\n---\n\n"
    )
    quiz = only("## P\ntipo: verdadero-falso\n\n- [x] Verdadero\n- [ ] Falso\n", front)
    assert quiz.settings.passing == Fraction(125, 2)
    assert quiz.settings.attempts is None
    assert (quiz.settings.counts, quiz.settings.review) == ("last", "score")
    assert "aprobacion: 62.5\n" in dump_quiz(quiz)
    revision = front.replace("puntaje", "respuestas")
    assert only("## P\ntipo: verdadero-falso\n\n- [x] Verdadero\n- [ ] Falso\n", revision)


def test_passing_is_exact():
    settings = quiz_format.QuizSettings(title="x", passing=Fraction(60))
    assert settings.passed(Fraction(3), Fraction(5))
    assert not settings.passed(Fraction(299, 100), Fraction(5))
    assert not settings.passed(Fraction(0), Fraction(0))


# --- keys and ids -----------------------------------------------------------------------------


def test_keys_come_from_titles_unique_and_explicit_keys_win():
    body = (
        "## ¿Qué es el COSOC?\ntipo: verdadero-falso\n\n- [x] Verdadero\n- [ ] Falso\n\n"
        "## ¿Qué es el COSOC?\ntipo: verdadero-falso\n\n- [x] Verdadero\n- [ ] Falso\n\n"
        "## Otra\nclave: que-es-el-cosoc-3\ntipo: verdadero-falso\n\n- [x] Verdadero\n"
        "- [ ] Falso\n\n"
        "## ¿Qué es el COSOC?\ntipo: verdadero-falso\n\n- [x] Verdadero\n- [ ] Falso\n"
    )
    keys = [q.key for q in only(body).questions]
    assert keys == [
        "que-es-el-cosoc",
        "que-es-el-cosoc-2",
        "que-es-el-cosoc-3",
        "que-es-el-cosoc-4",
    ]


def test_a_key_survives_a_title_change_once_written():
    quiz = only("## Título viejo\ntipo: verdadero-falso\n\n- [x] Verdadero\n- [ ] Falso\n")
    text = dump_quiz(quiz).replace("## Título viejo", "## Título nuevo")
    assert "clave: titulo-viejo" in text
    again, _ = parse_quiz(text, FILE)
    assert again.questions[0].key == "titulo-viejo"
    assert again.questions[0].title == "Título nuevo"
    assert quiz_format.content_hash(again) != quiz_format.content_hash(quiz)


def test_long_titles_give_keys_of_at_most_60_characters():
    assert quiz_format.derive_key("palabra " * 20) == "-".join(["palabra"] * 7)
    assert quiz_format.derive_key("¿?") == "pregunta"


def test_option_ids_survive_insertion_and_reordering():
    before = only("## P\ntipo: unica\n\n- [x] Uno\n- [ ] Dos\n- [ ] Tres\n").questions[0]
    after = only("## P\ntipo: unica\n\n- [ ] Tres\n- [ ] Nueva\n- [x] Uno\n- [ ] Dos\n").questions[
        0
    ]
    ids_before = {c.text.md: c.id for c in before.choices}
    ids_after = {c.text.md: c.id for c in after.choices}
    assert all(ids_after[text] == choice_id for text, choice_id in ids_before.items())
    assert len(set(ids_after.values())) == 4
    # Re-wrapping spaces keeps the id; editing the words does not.
    spaced = only("## P\ntipo: unica\n\n- [x] Uno\n- [ ]  Dos \n- [ ] Tres!\n").questions[0]
    assert spaced.choices[1].id == ids_before["Dos"]
    assert spaced.choices[2].id != ids_before["Tres"]


# --- the answers block ------------------------------------------------------------------------


def test_a_question_may_be_only_its_title():
    quiz = only(
        "## ¿El COSOC es consultivo?\ntipo: verdadero-falso\n\n- [x] Verdadero\n- [ ] Falso\n"
    )
    question = quiz.questions[0]
    assert question.title == "¿El COSOC es consultivo?"
    assert not question.text


def test_a_list_in_the_question_text_is_not_taken_for_answers():
    body = (
        "## Ordena\ntipo: ordenar\n\nConsidera:\n\n- informar\n- consultar\n\nY ahora:\n\n"
        "1. Primero\n2. Segundo\n"
    )
    question = only(body).questions[0]
    assert question.text.md == "Considera:\n\n- informar\n- consultar\n\nY ahora:"
    assert [item.text for item in question.items] == ["Primero", "Segundo"]
    body = "## P\ntipo: unica\n\nLee:\n\n- uno\n- dos\n\n- [x] Sí\n- [ ] No\n"
    question = only(body).questions[0]
    assert question.text.md == "Lee:\n\n- uno\n- dos"
    assert [c.text.md for c in question.choices] == ["Sí", "No"]


def test_feedback_per_option_and_general_feedback_can_span_lines():
    body = (
        "## P\ntipo: unica\n\n- [x] Sí\n  > Primera línea\n  > sigue.\n  >\n  > Otro párrafo.\n"
        "- [ ] No\n> sin sangría también vale\n\n"
        "Retroalimentación: Uno.\n\nDos, con **énfasis**.\n"
    )
    question = only(body).questions[0]
    assert question.choices[0].feedback.md == "Primera línea\nsigue.\n\nOtro párrafo."
    assert question.choices[1].feedback.md == "sin sangría también vale"
    assert question.feedback.md == "Uno.\n\nDos, con **énfasis**."
    assert "<strong>énfasis</strong>" in question.feedback.html


def test_a_long_option_may_continue_on_the_next_line():
    body = "## P\ntipo: unica\n\n- [x] Una opción\n  bastante larga\n- [ ] Otra\n"
    assert only(body).questions[0].choices[0].text.md == "Una opción bastante larga"


def test_numbers_with_comma_or_point_ranges_and_tolerances():
    body = (
        "## P\ntipo: numerica\n\n- [x] 3,5 ± 0,25\n- [x] (50%) 1.000.000\n"
        "- [x] (25%) -2..2,5\n- [x] (10%) 7 +- 1\n- [ ] *\n  > Otro número.\n"
    )
    question = only(body).questions[0]
    assert isinstance(question, Numeric)
    answers = question.answers
    assert (answers[0].low, answers[0].high) == (Fraction(13, 4), Fraction(15, 4))
    assert answers[1].low == answers[1].high == 1_000_000
    assert answers[2].is_range and (answers[2].low, answers[2].high) == (-2, Fraction(5, 2))
    assert answers[3].text == "7 ± 1"
    assert answers[4].any
    text = dump_question(question)
    assert "- [x] 3.5 ± 0.25\n" in text
    assert "- [x] (25%) -2..2.5\n" in text
    assert "- [ ] *\n  > Otro número." in text


def test_rounded_thirds_are_read_as_exact_thirds():
    body = (
        "## P\ntipo: multiple\n\n- [x] (33,33%) a\n- [x] (33.333%) b\n- [x] (33.33%) c\n"
        "- [ ] (-50%) d\n"
    )
    question = only(body).questions[0]
    assert [c.weight for c in question.choices[:3]] == [Fraction(1, 3)] * 3
    assert "- [x] (33.33333%) a" in dump_question(question)


def test_weights_equal_to_the_rule_are_not_written_back():
    body = "## P\ntipo: multiple\n\n- [x] (50%) a\n- [x] (50%) b\n- [ ] (-100%) c\n"
    question = only(body).questions[0]
    assert not question.weighted
    assert "- [x] a\n- [x] b\n- [ ] c" in dump_question(question)
    single = only("## P\ntipo: unica\n\n- [x] (100%) a\n- [ ] (0%) b\n").questions[0]
    assert all(c.weight is None for c in single.choices)


def test_short_answer_flags():
    body = (
        "## P\ntipo: corta\nmayusculas: distinguir\ntildes: distinguir\nespacios: ignorar\n\n"
        "- [x] Año\n"
    )
    question = only(body).questions[0]
    assert question.case_sensitive and question.accent_sensitive
    assert not question.space_sensitive
    assert "mayusculas: distinguir\ntildes: distinguir\n\n" in dump_question(question)


def test_matching_distractors_and_shared_answers():
    body = (
        "## P\ntipo: emparejar\n\n- Manipulación -> No participación\n"
        "- Terapia -> No participación\n- Control ciudadano → Poder ciudadano\n"
        "- (distractor) -> Participación simbólica\n"
    )
    question = only(body).questions[0]
    assert isinstance(question, Matching)
    assert len(question.scored_pairs()) == 3
    assert question.pairs[0].right_id == question.pairs[1].right_id
    assert len(question.rights()) == 3
    assert question.pairs[3].left is None
    assert "- (distractor) -> Participación simbólica" in dump_question(question)


def test_tags_and_pools():
    body = "## P\ngrupo: ley\netiquetas: [cosoc, ley 20.500]\n" + TF
    question = only(body).questions[0]
    assert question.pool == "ley"
    assert question.tags == ("cosoc", "ley 20.500")
    assert "etiquetas: cosoc, ley 20.500\n" in dump_question(question)


def test_yaml_words_are_quoted_when_written():
    body = (
        "## P\nclave: 'no'\ntipo: verdadero-falso\ngrupo: 'yes'\n\n- [x] Verdadero\n- [ ] Falso\n"
    )
    quiz = only(body)
    assert (quiz.questions[0].key, quiz.questions[0].pool) == ("no", "yes")
    assert parse_quiz(dump_quiz(quiz), FILE)[0] == quiz


# --- drawing an attempt -----------------------------------------------------------------------


def test_draw_takes_n_from_each_named_pool_and_keeps_the_rest():
    quiz, _ = load_quiz(EXAMPLE)
    niveles = {q.key for q in quiz.questions if q.pool == "niveles"}
    for seed in range(20):
        drawn = quiz.draw(random.Random(seed))
        keys = {q.key for q in drawn}
        assert len(keys & niveles) == 1
        assert keys - niveles == {q.key for q in quiz.questions if q.pool != "niveles"}
    assert quiz.draw(random.Random(1)) == quiz.draw(random.Random(1))
    orders = {tuple(q.key for q in quiz.draw(random.Random(seed))) for seed in range(20)}
    assert len(orders) > 1  # barajar_preguntas
    assert quiz.question_count == len(drawn)  # what attempts and the panel announce
    # Attempts are laid out from this draw (academy.quizzes.attempts.draw_layout).
    layout = attempts.draw_layout(quiz, random.Random(7))
    assert [entry["key"] for entry in layout] == [q.key for q in quiz.draw(random.Random(7))]


def test_arrange_shuffles_options_only_when_the_quiz_says_so():
    quiz, _ = load_quiz(EXAMPLE)
    question = quiz.questions[0]
    orders = {tuple(quiz.arrange(question, random.Random(s))["options"]) for s in range(30)}
    assert len(orders) > 1
    unshuffled = parse_quiz(
        dump_quiz(quiz).replace("barajar_opciones: true", "barajar_opciones: false"), FILE
    )[0]
    assert unshuffled.arrange(question, random.Random(3)) == {
        "options": [c.id for c in question.choices]
    }


# --- problems ---------------------------------------------------------------------------------

TF = "tipo: verdadero-falso\n\n- [x] Verdadero\n- [ ] Falso\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            "## P\ntipo: unica\npuntaje: 2\n\n- [x] a\n- [ ] b\n",
            "quizzes/prueba.md:8: clave desconocida «puntaje» "
            "(se admiten: clave, tipo, puntos, grupo, etiquetas)",
            id="unknown-question-key",
        ),
        pytest.param(
            "## P\ntipo: desarrollo\n\n- [x] a\n",
            "quizzes/prueba.md:7: «tipo»: usa uno de: unica, multiple, verdadero-falso, corta, "
            "numerica, emparejar, ordenar",
            id="unknown-type",
        ),
        pytest.param(
            "## P\n\n- [x] a\n- [ ] b\n",
            "quizzes/prueba.md:6: falta la clave «tipo» después del título (usa uno de: unica, "
            "multiple, verdadero-falso, corta, numerica, emparejar, ordenar)",
            id="missing-type",
        ),
        pytest.param(
            "## P\ntipo: unica\n\n- [ ] a\n- [ ] b\n",
            "quizzes/prueba.md:9: ninguna respuesta está marcada como correcta con [x]",
            id="no-correct-option",
        ),
        pytest.param(
            "## P\ntipo: unica\n\n- [x] a\n- [x] b\n- [ ] c\n",
            "quizzes/prueba.md:10: una pregunta de selección única tiene una sola opción "
            "correcta; para dar puntaje parcial a otra, escribe su porcentaje: - [x] (50%) texto",
            id="single-with-two-correct",
        ),
        pytest.param(
            "## P\ntipo: unica\n\n- [x] (50%) a\n- [ ] b\n",
            "quizzes/prueba.md:9: ninguna respuesta da el puntaje completo: marca una con [x] "
            "sin porcentaje (o con 100 %)",
            id="single-without-full-credit",
        ),
        pytest.param(
            "## P\ntipo: multiple\n\n- [x] (40%) a\n- [x] (40%) b\n- [ ] (-50%) c\n",
            "quizzes/prueba.md:6: con estos porcentajes nadie obtiene el puntaje completo: las "
            "opciones correctas suman 80 % y deben sumar al menos 100 %",
            id="multiple-weights-below-full",
        ),
        pytest.param(
            "## P\ntipo: multiple\n\n- [x] (50%) a\n- [x] b\n- [ ] c\n",
            "quizzes/prueba.md:6: escribe el porcentaje en todas las opciones marcadas [x] o en "
            "ninguna",
            id="multiple-mixed-weights",
        ),
        pytest.param(
            "## P\ntipo: unica\n\n- [x] a\n- [x] (-20%) b\n",
            "quizzes/prueba.md:10: una respuesta marcada [x] debe sumar puntaje: quita la x o "
            "usa un porcentaje positivo",
            id="checked-with-negative-weight",
        ),
        pytest.param(
            "## P\ntipo: unica\n\n- [x] a\n- [ ] (50%) b\n",
            "quizzes/prueba.md:10: una respuesta que suma puntaje se marca con [x]",
            id="unchecked-with-positive-weight",
        ),
        pytest.param(
            "## P\ntipo: unica\n\n- [x] a\n- [ ] (150%) b\n",
            "quizzes/prueba.md:10: el porcentaje debe estar entre -100 % y 100 %",
            id="weight-out-of-range",
        ),
        pytest.param(
            "## P\ntipo: numerica\n\n- [x] cuarenta\n",
            "quizzes/prueba.md:9: respuesta numérica no válida: «cuarenta» no es un número "
            "(escribe 42, 42 ± 0,5, 10..20 o *)",
            id="numeric-not-a-number",
        ),
        pytest.param(
            "## P\ntipo: numerica\n\n- [x] 1.000\n",
            "quizzes/prueba.md:9: respuesta numérica no válida: «1.000» es ambiguo: escribe "
            "1000 si son miles o 1,000 si es un decimal (escribe 42, 42 ± 0,5, 10..20 o *)",
            id="numeric-ambiguous-thousands",
        ),
        pytest.param(
            "## P\ntipo: numerica\n\n- [x] 20..10\n",
            "quizzes/prueba.md:9: respuesta numérica no válida: el rango «20..10» debe ir de "
            "menor a mayor (escribe 42, 42 ± 0,5, 10..20 o *)",
            id="numeric-range-reversed",
        ),
        pytest.param(
            "## P\ntipo: numerica\n\n- [ ] *\n- [x] 4\n",
            "quizzes/prueba.md:9: «*» (cualquier otro número) va al final y marcado [ ], para dar "
            "retroalimentación a las demás respuestas",
            id="numeric-catch-all-not-last",
        ),
        pytest.param(
            "## P\ntipo: emparejar\n\n- a -> 1\n",
            "quizzes/prueba.md:6: la pregunta necesita al menos dos pares «- izquierda -> derecha»",
            id="matching-one-pair",
        ),
        pytest.param(
            "## P\ntipo: emparejar\n\n- a -> 1\n- a -> 2\n",
            "quizzes/prueba.md:10: elemento repetido a la izquierda: «a»",
            id="matching-duplicate-left",
        ),
        pytest.param(
            "## P\ntipo: emparejar\n\n- a -> 1\n  > bien\n- b -> 2\n",
            "quizzes/prueba.md:10: los pares no llevan retroalimentación propia: usa la "
            "retroalimentación general",
            id="matching-pair-feedback",
        ),
        pytest.param(
            "## P\ntipo: ordenar\n\n1. Solo uno\n",
            "quizzes/prueba.md:6: la pregunta necesita al menos dos elementos para ordenar",
            id="ordering-one-item",
        ),
        pytest.param(
            "## P\ntipo: ordenar\n\n1. a\n2. a\n",
            "quizzes/prueba.md:10: elemento repetido: «a»",
            id="ordering-duplicate",
        ),
        pytest.param(
            "##\n" + TF,
            "quizzes/prueba.md:6: la pregunta no tiene título: escríbelo después de «##»",
            id="empty-title",
        ),
        pytest.param(
            "## P\nclave: doble\n" + TF + "\n## Q\nclave: doble\n" + TF,
            "quizzes/prueba.md:14: clave repetida «doble»: ya la usa la pregunta de la línea 6",
            id="duplicate-keys",
        ),
        pytest.param(
            "## P\nclave: Mayúsculas\n" + TF,
            "quizzes/prueba.md:7: «clave»: usa minúsculas, números y guiones (ej. cosoc-basico)",
            id="bad-key",
        ),
        pytest.param(
            "## P\ntipo: unica\n\n- [x] a\n- [ ] a\n",
            "quizzes/prueba.md:10: opción repetida: «a»",
            id="duplicate-option",
        ),
        pytest.param(
            "## P\ntipo: unica\n\n- [x] a\n- b\n",
            "quizzes/prueba.md:10: respuesta mal escrita: cada respuesta empieza con «- [x]» "
            "(correcta) o «- [ ]»",
            id="option-without-box",
        ),
        pytest.param(
            "## P\ntipo: verdadero-falso\n\n- [x] Sí\n- [ ] No\n",
            "quizzes/prueba.md:9: una pregunta de verdadero o falso tiene dos respuestas: "
            "«- [x] Verdadero» y «- [ ] Falso» (o al revés)",
            id="true-false-words",
        ),
        pytest.param(
            "## P\ntipo: verdadero-falso\n\n- [x] Verdadero\n- [x] Falso\n",
            "quizzes/prueba.md:6: marca con [x] solo la respuesta correcta",
            id="true-false-both",
        ),
        pytest.param(
            "## P\ntipo: corta\n\n- [x] (-10%) nada\n- [x] algo\n",
            "quizzes/prueba.md:9: el porcentaje debe estar entre 0 % y 100 %",
            id="short-negative-weight",
        ),
        pytest.param(
            "## P\ntipo: unica\npuntos: 0\n\n- [x] a\n- [ ] b\n",
            "quizzes/prueba.md:8: «puntos»: debe ser un número mayor que 0 y hasta 1000",
            id="zero-points",
        ),
        pytest.param(
            "## P\ntipo: unica\n\nTexto <script>alert(1)</script>\n\n- [x] a\n- [ ] <b>b</b>\n",
            "quizzes/prueba.md:9: el HTML no se interpreta y se mostrará como texto: <script>",
            id="hostile-html",
        ),
        pytest.param(
            "- [x] a\n\n## P\n" + TF,
            "quizzes/prueba.md:6: hay respuestas antes de la primera pregunta: cada pregunta "
            "empieza con una línea «## Título»",
            id="answers-before-first-question",
        ),
        pytest.param(
            "Solo una introducción.\n",
            "quizzes/prueba.md:6: el cuestionario no tiene preguntas: cada pregunta empieza con "
            "una línea «## Título»",
            id="no-questions",
        ),
        pytest.param(
            "## P\ntipo: unica\ngrupo: [a, b]\n\n- [x] a\n- [ ] b\n",
            "quizzes/prueba.md:8: «grupo» debe ser un texto",
            id="pool-not-text",
        ),
    ],
)
def test_problems_name_file_line_and_what_to_do(body, expected):
    assert expected in problems(body)


def test_hostile_html_is_shown_as_text_everywhere():
    body = (
        "## P\ntipo: unica\n\nTexto <script>alert(1)</script>\n\n"
        "- [x] <img src=x onerror=alert(1)>\n  > <iframe src=evil></iframe>\n- [ ] b\n\n"
        "Retroalimentación: <a href='javascript:alert(1)'>x</a>\n"
    )
    quiz, found = parse(body)
    lines = sorted(p.line for p in found)
    assert lines == [9, 11, 12, 15]
    question = quiz.questions[0]
    for html in (
        question.text.html,
        question.choices[0].text.html,
        question.choices[0].feedback.html,
        question.feedback.html,
    ):
        assert "<script" not in html and "<img" not in html and "<iframe" not in html
        assert "<a " not in html
    assert "&lt;script&gt;" in question.text.html


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        (
            "---\ntitulo: Prueba\naprobacion: 60\nintento: 2\n---\n\n",
            "quizzes/prueba.md:4: clave desconocida «intento» (se admiten: titulo, aprobacion, "
            "intentos, tiempo, barajar_preguntas, barajar_opciones, sorteo, cuenta, revision, "
            "categorias)",
        ),
        (
            '---\ntitulo: "Prueba\\nBcc: x"\naprobacion: 60\n---\n\n',
            "quizzes/prueba.md:2: «titulo»: debe ser una sola línea, sin saltos de línea ni "
            "caracteres de control",
        ),
        (
            "---\ntitulo: Prueba\naprobacion: 120\n---\n\n",
            "quizzes/prueba.md:3: «aprobacion»: debe ser un porcentaje entre 0 y 100",
        ),
        (
            "---\ntitulo: Prueba\n---\n\n",
            "quizzes/prueba.md:1: falta la clave obligatoria «aprobacion»",
        ),
        (
            "---\ntitulo: Prueba\naprobacion: 60\nintentos: muchos\n---\n\n",
            "quizzes/prueba.md:4: «intentos»: usa un número entero o «ilimitados»",
        ),
        (
            "---\ntitulo: Prueba\naprobacion: 60\nintentos: 0\n---\n\n",
            "quizzes/prueba.md:4: «intentos»: debe ser un número entre 1 y 1000",
        ),
        (
            "---\ntitulo: Prueba\naprobacion: 60\ntiempo: 0\n---\n\n",
            "quizzes/prueba.md:4: «tiempo»: debe ser un número de minutos entre 1 y 1440",
        ),
        (
            "---\ntitulo: Prueba\naprobacion: 60\nbarajar_opciones: quizás\n---\n\n",
            "quizzes/prueba.md:4: «barajar_opciones» debe ser sí o no (true/false)",
        ),
        (
            "---\ntitulo: Prueba\naprobacion: 60\ncuenta: primero\n---\n\n",
            "quizzes/prueba.md:4: «cuenta»: usa uno de: mejor, ultimo",
        ),
        (
            "---\ntitulo: Prueba\naprobacion: 60\nrevision: todo\n---\n\n",
            "quizzes/prueba.md:4: «revision»: usa uno de: puntaje, respuestas, completa",
        ),
        (
            "---\ntitulo: Prueba\naprobacion: 60\nsorteo:\n  ley: 0\n---\n\n",
            "quizzes/prueba.md:4: «sorteo»: el grupo «ley» necesita un número entero de "
            "preguntas, 1 o más",
        ),
        (
            "---\ntitulo: Prueba\naprobacion: 60\nsorteo:\n  ley: 3\n---\n\n",
            "quizzes/prueba.md:4: «sorteo» pide 3 preguntas del grupo «ley», que tiene 2",
        ),
        (
            "---\ntitulo: Prueba\naprobacion: 60\nsorteo:\n  reglamento: 1\n---\n\n",
            "quizzes/prueba.md:4: «sorteo»: no hay preguntas del grupo «reglamento» (grupos: ley)",
        ),
    ],
)
def test_settings_problems(front, expected):
    body = "## P\ngrupo: ley\n" + TF + "\n## Q\ngrupo: ley\n" + TF + "\n## R\n" + TF
    assert expected in problems(body, front)


def test_a_quiz_without_usable_settings_is_none_but_questions_are_still_checked():
    quiz, found = parse("## P\ntipo: unica\n\n- [ ] a\n- [ ] b\n", "---\ntitulo: x\n---\n\n")
    assert quiz is None
    assert [p.line for p in found] == [1, 8]


def test_files_that_are_not_utf8_or_badly_named(tmp_path):
    folder = tmp_path / "quizzes"
    folder.mkdir()
    latin = folder / "latin.md"
    latin.write_bytes(("---\ntitulo: Participación\naprobacion: 60\n---\n").encode("latin-1"))
    quiz, found = load_quiz(latin)
    assert quiz is None
    assert [str(p) for p in found] == [
        "quizzes/latin.md:2: el archivo no está en UTF-8: guárdalo con codificación UTF-8"
    ]
    bad = folder / "Mal Nombre.md"
    bad.write_text(FRONT, encoding="utf-8")
    assert "nombre de cuestionario no válido" in str(load_quiz(bad)[1][0])


def test_windows_line_endings_and_bom_read_the_same():
    text = (FRONT + "## P\n" + TF).replace("\n", "\r\n")
    quiz, found = parse_quiz("\ufeff" + text, FILE)
    assert found == []
    assert quiz == only("## P\n" + TF)
