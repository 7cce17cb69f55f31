"""Moodle GIFT: what a real bank uses comes in, what cannot is reported by line, and the
way out (to GIFT) and back is stable."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from academy import markdown
from academy.quizzes.format import dump_quiz, load_quiz, parse_quiz
from academy.quizzes.gift import (
    gift_to_quiz_markdown,
    html_to_markdown,
    parse_gift,
    plain_to_markdown,
    quiz_to_gift,
    read_gift,
)
from academy.quizzes.questions import (
    Matching,
    MultipleChoice,
    Numeric,
    Ordering,
    ShortAnswer,
    SingleChoice,
    TrueFalse,
)

FIXTURES = Path(__file__).parent / "fixtures"
BANK = FIXTURES / "gift/banco.gift"
EXAMPLE = FIXTURES / "content/quizzes/ejemplo.md"


def bank_text() -> str:
    return BANK.read_text(encoding="utf-8")


def one(gift: str):
    questions, problems = parse_gift(gift, "banco.gift")
    assert [str(p) for p in problems] == []
    assert len(questions) == 1
    return questions[0]


def problems_of(gift: str) -> list[str]:
    return [str(p) for p in parse_gift(gift, "banco.gift")[1]]


# --- the bank ---------------------------------------------------------------------------------


def test_the_bank_imports_every_supported_question_and_names_the_rest():
    questions, problems = parse_gift(bank_text(), "banco.gift")
    assert len(questions) == 31  # the missing-word question at line 190 among them
    kinds: dict[str, int] = {}
    for question in questions:
        kinds[question.word] = kinds.get(question.word, 0) + 1
    assert kinds == {
        "unica": 8,
        "multiple": 4,
        "verdadero-falso": 6,
        "corta": 4,
        "numerica": 7,
        "emparejar": 2,
    }
    assert [str(p) for p in problems] == [
        "banco.gift:187: pregunta de desarrollo (respuesta abierta, «{}»): un cuestionario no "
        "la puede corregir; escríbela como un caso práctico (una lección «tipo: caso» con sus "
        "consignas y su rúbrica), que revisa un relator; la pregunta no se importó",
        "banco.gift:192: texto sin respuestas entre llaves (una descripción): la Academia no "
        "tiene este tipo de elemento; la pregunta no se importó",
    ]


def test_categories_become_pools_from_their_whole_path():
    questions, _ = parse_gift(bank_text(), "banco.gift")
    assert [q.pool for q in questions[:1]] == ["participacion-ciudadana-marcos-de-participacion"]
    assert {q.pool for q in questions} == {
        "participacion-ciudadana-marcos-de-participacion",
        "participacion-ciudadana-espectro-de-iap2",
        "participacion-ciudadana-escalera-de-arnstein",
        "participacion-ciudadana-cosoc",
        "participacion-ciudadana-mecanismos-municipales",
    }
    root = one("$CATEGORY: $course$/top\n\n::P::¿Sí?{T}")
    assert root.pool is None
    no_blank_line = one("$CATEGORY: $course$/top/Ley 20.500\n::P::¿Sí?{T}")
    assert no_blank_line.pool == "ley-20-500"


def test_gift_to_markdown_to_gift_to_markdown_is_stable():
    markdown_text, problems = gift_to_quiz_markdown(
        bank_text(), "Banco de participación", "banco.gift"
    )
    assert len(problems) == 2
    quiz, found = parse_quiz(markdown_text, "quizzes/banco.md")
    assert found == []
    assert len(quiz.questions) == 31
    assert quiz.settings.title == "Banco de participación"
    assert quiz.settings.passing == 60
    gift_again, found = quiz_to_gift(quiz)
    assert found == []
    markdown_again, found = gift_to_quiz_markdown(gift_again, "Banco de participación", "x.gift")
    assert found == []
    assert markdown_again == markdown_text
    assert quiz_to_gift(parse_quiz(markdown_again, "quizzes/banco.md")[0])[0] == gift_again


def test_gift_to_quiz_markdown_checks_the_settings_it_is_given():
    _text, problems = gift_to_quiz_markdown("::P::¿Sí?{T}", " ", "x.gift", passing=120)
    assert [p.message for p in problems] == [
        "el título del cuestionario debe tener 1 a 200 caracteres",
        "la aprobación debe ser un porcentaje entre 0 y 100",
    ]


# --- each kind of question --------------------------------------------------------------------


def test_single_choice_with_feedback_partial_credit_and_general_feedback():
    question = one(
        "::Consulta::¿Quién define el tema?{\n"
        "  =El gobierno#Correcto.\n"
        "  ~La ciudadanía#No.\n"
        "  ~%50%Ambos#A medias.\n"
        "  ~%-25%Nadie\n"
        "  ####La consulta la enmarca el gobierno.\n"
        "}"
    )
    assert isinstance(question, SingleChoice)
    assert question.title == "Consulta"
    assert question.text.md == "¿Quién define el tema?"
    assert [(c.text.md, c.correct, c.weight) for c in question.choices] == [
        ("El gobierno", True, None),
        ("La ciudadanía", False, None),
        ("Ambos", True, Fraction(1, 2)),
        ("Nadie", False, Fraction(-1, 4)),
    ]
    assert [c.feedback.md for c in question.choices] == ["Correcto.", "No.", "A medias.", ""]
    assert question.feedback.md == "La consulta la enmarca el gobierno."


def test_multiple_choice_with_weights():
    question = one("¿Cuáles?{~%50%a ~%50%b ~%-50%c ~%0%d}")
    assert isinstance(question, MultipleChoice)
    assert [c.weight for c in question.choices] == [
        Fraction(1, 2),
        Fraction(1, 2),
        Fraction(-1, 2),
        Fraction(0),
    ]
    thirds = one("¿Cuáles?{~%33.33333%a ~%33.33333%b ~%33.33333%c ~%-100%d}")
    assert not thirds.weighted  # exactly the default rule: written without weights
    assert thirds.grade([c.id for c in thirds.choices[:3]]) == 1


@pytest.mark.parametrize(
    ("answer", "right_id", "verdadero_feedback", "falso_feedback"),
    [
        ("{T}", "verdadero", "", ""),
        ("{TRUE}", "verdadero", "", ""),
        ("{F}", "falso", "", ""),
        ("{FALSE}", "falso", "", ""),
        ("{T#Mal.#Bien.}", "verdadero", "Bien.", "Mal."),
        ("{F#Mal.#Bien.}", "falso", "Mal.", "Bien."),
        ("{true#Mal.}", "verdadero", "", "Mal."),
    ],
)
def test_true_false_and_which_feedback_goes_where(
    answer, right_id, verdadero_feedback, falso_feedback
):
    question = one(f"::P::El COSOC es consultivo.{answer}")
    assert isinstance(question, TrueFalse)
    assert question.correct_response() == right_id
    feedback = {c.id: c.feedback.md for c in question.choices}
    assert feedback == {"verdadero": verdadero_feedback, "falso": falso_feedback}


def test_short_answer_with_weights():
    question = one("::Sigla::¿Sigla?{=COSOC =%50%consejo#Casi. =%0%CESCO#Era el antiguo.}")
    assert isinstance(question, ShortAnswer)
    assert [(a.text, a.correct, a.weight) for a in question.answers] == [
        ("COSOC", True, None),
        ("consejo", True, Fraction(1, 2)),
        ("CESCO", False, None),
    ]
    assert question.grade("cosoc") == 1
    assert [f.md for f in question.feedback_for("CESCO")] == ["Era el antiguo."]


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ("{#42:0.5}", [(Fraction(83, 2), Fraction(85, 2), False, None)]),
        ("{#42}", [(42, 42, False, None)]),
        ("{#10..20}", [(10, 20, True, None)]),
        ("{#-5..-1.5}", [(-5, Fraction(-3, 2), True, None)]),
        (
            "{# =%100%42:0 =%50%40:2}",
            [(42, 42, False, None), (38, 42, False, Fraction(1, 2))],
        ),
        (
            "{#\n  =2011:0#Correcto.\n  ~#Fue en 2011.\n}",
            [(2011, 2011, False, None), (None, None, False, Fraction(0))],
        ),
    ],
)
def test_numeric_answers(answers, expected):
    question = one(f"::P::¿Cuánto?{answers}")
    assert isinstance(question, Numeric)
    got = [
        (a.low, a.high, a.is_range, a.weight if a.weight is not None or a.correct else Fraction(0))
        for a in question.answers
    ]
    assert got == expected


def test_matching_with_a_distractor():
    question = one("::P::Empareja.{=Informar -> Una vía =Consultar -> Dos vías = -> Ninguna}")
    assert isinstance(question, Matching)
    assert [(p.left, p.right) for p in question.pairs] == [
        ("Informar", "Una vía"),
        ("Consultar", "Dos vías"),
        (None, "Ninguna"),
    ]


def test_an_empty_title_is_no_title():
    assert one("::::¿El COSOC opina?{T}").title == "¿El COSOC opina?"


def test_titles_comments_and_multi_line_questions():
    question = one(
        "// un comentario\n"
        "::Título largo::Primera línea\n"
        "// un comentario en medio\n"
        "segunda línea.{\n"
        "=sí\n"
        "~no\n"
        "}\n"
    )
    assert question.title == "Título largo"
    assert question.text.md == "Primera línea\n\nsegunda línea."


def test_without_a_title_a_short_plain_text_becomes_the_title():
    question = one("¿El COSOC es consultivo?{T}")
    assert question.title == "¿El COSOC es consultivo?"
    assert not question.text
    long = one("[markdown]El **COSOC** es un órgano consultivo del municipio, que opina.{T}")
    assert long.title == "El COSOC es un órgano consultivo del municipio, que opina."
    assert long.text.md.startswith("El **COSOC**")


def test_escaped_characters():
    question = one(
        "::Llaves \\: y más::Se escribe \\{monto\\} \\= 100 \\~ 120 \\# 3 "
        "y C\\:\\\\ \\n fin.{=a\\#b ~c}"
    )
    assert question.title == "Llaves : y más"
    assert question.text.md == "Se escribe {monto} = 100 ~ 120 # 3 y C:\\\\\nfin."
    assert question.choices[0].text.md == "a#b"


def test_tokens_in_comments_keep_key_tags_points_and_flags():
    question = one(
        "// question: 12  name: X\n"
        "// [id:Mi Pregunta] [tag:cosoc] [tag:ley 20.500] [puntos:2,5] [tildes:distinguir]\n"
        "::P::¿Sigla?{=COSOC}"
    )
    assert question.key == "mi-pregunta"
    assert question.tags == ("cosoc", "ley 20.500")
    assert question.points == Fraction(5, 2)
    assert question.accent_sensitive and not question.case_sensitive


# --- text formats -----------------------------------------------------------------------------


def test_markdown_text_is_kept():
    question = one("::P::[markdown]Un **énfasis** y una lista\\:\\n\\n- a\\n- b\\n\\nFin.{T}")
    assert question.text.md == "Un **énfasis** y una lista:\n\n- a\n- b\n\nFin."
    assert "<strong>énfasis</strong>" in question.text.html


def test_plain_and_moodle_text_are_escaped_so_they_show_as_written():
    plain = one("::P::[plain]5 * 3 _no_ es [enlace](x).{T}")
    assert plain.text.md == "5 \\* 3 \\_no\\_ es \\[enlace\\](x)."
    assert plain.text.html == "<p>5 * 3 _no_ es [enlace](x).</p>"
    moodle = one("::P::- guion\n# no es título{T}")
    assert moodle.text.md == "\\- guion\n\\# no es título"


def test_html_is_converted_conservatively_and_what_is_lost_is_reported():
    gift = (
        "::P::[html]<p>Lee <strong>bien</strong> y <em>responde</em>:</p>"
        "<ul><li>uno</li><li>dos</li></ul>"
        '<p><span style="color:red">rojo</span> <a href="https://www.bcn.cl">ley</a></p>'
        '<script>alert(1)</script><img src="x.png" onerror="alert(1)">{T}'
    )
    questions, problems = parse_gift(gift, "banco.gift")
    assert [str(p) for p in problems] == [
        "banco.gift:1: se quitó HTML sin equivalente en Markdown (<img>, <script>, <span>): "
        "revisa el texto importado"
    ]
    text = questions[0].text
    assert text.md == (
        "Lee **bien** y *responde*:\n\n- uno\n- dos\n\nrojo [ley](https://www.bcn.cl)"
    )
    assert "<script" not in text.html and "<img" not in text.html and "onerror" not in text.html


def test_moodle_text_with_tags_is_html():
    question = one("::P::[moodle]Marca <b>todas</b>\nlas que correspondan.{T}")
    assert question.text.md == "Marca **todas**\nlas que correspondan."


@pytest.mark.parametrize(
    ("source", "markdown_text", "lost"),
    [
        ("<b> a </b>b", "**a** b", set()),
        ("<i></i>x", "x", set()),
        ('<a href="javascript:alert(1)">x</a>', "x", {"a href"}),
        ("<h2>Título</h2><p>texto</p>", "### Título\n\ntexto", set()),
        ("<ol><li>a</li><li>b</li></ol>", "1. a\n2. b", set()),
        ("&lt;b&gt; &amp;amp; 5 * 3", "&lt;b> &amp;amp; 5 \\* 3", set()),
        ("<table><tr><td>a</td><td>b</td></tr></table>", "a b", {"table"}),
        ("<iframe src=x>dentro</iframe>fuera", "fuera", {"iframe"}),
        ("<pre>x = 1\n  y</pre>", "```\nx = 1\n  y\n```", set()),
        (
            "<ul><li># uno</li></ul><blockquote>1. dos</blockquote>",
            "- \\# uno\n\n> 1\\. dos",
            set(),
        ),
        ("<ol><li>a<ul><li>b</li></ul></li></ol>", "1. a\n    - b", set()),
        ("a<br>\n<br>\nb", "a\n\nb", set()),
    ],
)
def test_html_to_markdown(source, markdown_text, lost):
    assert html_to_markdown(source) == (markdown_text, lost)


def test_html_dropped_tags_are_named_and_their_text_kept():
    gift = (
        '::P::[html]<p><font color="red">Rojo</font> y <span style="color:blue">azul</span>'
        '<iframe src="https://example.org/video">sin marco</iframe></p>'
        "<p>1. no es lista, *ni* _énfasis_ # ni título</p>{T}"
    )
    questions, problems = parse_gift(gift, "banco.gift")
    assert [str(p) for p in problems] == [
        "banco.gift:1: se quitó HTML sin equivalente en Markdown (<font>, <iframe>, <span>): "
        "revisa el texto importado"
    ]
    text = questions[0].text
    assert text.md == "Rojo y azul\n\n1\\. no es lista, \\*ni\\* \\_énfasis\\_ # ni título"
    assert text.html == "<p>Rojo y azul</p>\n<p>1. no es lista, *ni* _énfasis_ # ni título</p>"


def test_html_code_is_kept_verbatim():
    # Text inside <code> is not escaped: a backslash there would show as written.
    assert html_to_markdown("<code>a_b*</code> y <tt>x_y</tt>") == ("`a_b*` y `x_y`", set())
    assert markdown.render("`a_b*` y `x_y`").html == "<p><code>a_b*</code> y <code>x_y</code></p>"


def test_html_nested_too_deep_for_the_converter_is_reduced_to_its_text():
    deep = "<p>" + "<span>" * 300 + "uno<br>dos" + "</span>" * 300 + "</p>"
    assert html_to_markdown(deep) == ("uno dos", {"span", "br"})


def test_plain_to_markdown_escapes_line_starts():
    assert plain_to_markdown("1. uno\n+ dos\n> tres\n!!! cuatro\n(50%) cinco") == (
        "1\\. uno\n\\+ dos\n\\> tres\n\\!!! cuatro\n\\(50%) cinco"
    )


# --- what is not supported --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gift", "expected"),
    [
        (
            "::E::Describe.{}",
            "banco.gift:1: pregunta de desarrollo (respuesta abierta, «{}»): un cuestionario no "
            "la puede corregir; escríbela como un caso práctico (una lección «tipo: caso» con sus "
            "consignas y su rúbrica), que revisa un relator; la pregunta no se importó",
        ),
        (
            "\n\n::D::Solo texto.",
            "banco.gift:3: texto sin respuestas entre llaves (una descripción): la Academia no "
            "tiene este tipo de elemento; la pregunta no se importó",
        ),
        (
            "::A::¿Sí?{T}\n::B::¿No?{F}",
            "banco.gift:1: hay otras llaves después de las respuestas: falta una línea en blanco "
            "entre dos preguntas, o es una pregunta «cloze» (varios huecos), que no se admite; "
            "la pregunta no se importó",
        ),
        (
            "::U::Sin cerrar{=a ~b",
            "banco.gift:1: las llaves de las respuestas no se abren o no se cierran; "
            "la pregunta no se importó",
        ),
        (
            "::Sin cerrar el título{T}",
            "banco.gift:1: falta el «::» que cierra el título; la pregunta no se importó",
        ),
        (
            "::N::¿Cuánto?{#\n=cuarenta}",
            "banco.gift:2: respuesta numérica no válida: «cuarenta» no es un número; "
            "la pregunta no se importó",
        ),
        (
            "::N::¿Cuánto?{#20..10}",
            "banco.gift:1: respuesta numérica no válida: el rango «20..10» debe ir de menor a "
            "mayor; la pregunta no se importó",
        ),
        (
            "::M::Empareja.{=a -> 1 =b}",
            "banco.gift:1: cada par de emparejar se escribe «=izquierda -> derecha»; "
            "la pregunta no se importó",
        ),
        (
            "::C::¿Cuál?{suelta ~a =b}",
            "banco.gift:1: la respuesta «suelta» no empieza con = ni ~; la pregunta no se importó",
        ),
        (
            "::U::¿Cuál?{=a =b ~c}",
            "banco.gift:1: una pregunta de selección única tiene una sola opción correcta; para "
            "dar puntaje parcial a otra, escribe su porcentaje: - [x] (50%) texto",
        ),
        (
            "::M::¿Cuáles?{~%30%a ~%30%b ~c}",
            "banco.gift:1: con estos porcentajes nadie obtiene el puntaje completo: las opciones "
            "correctas suman 60 % y deben sumar al menos 100 %",
        ),
        (
            "::M::Empareja.{=a -> 1}",
            "banco.gift:1: la pregunta necesita al menos dos pares «- izquierda -> derecha»",
        ),
        (
            "::R::[markdown]Texto\\n\\n## Subtítulo{T}",
            "banco.gift:1: una línea que empieza con «##» inicia otra pregunta: usa «###» para "
            "los subtítulos del enunciado",
        ),
    ],
)
def test_what_cannot_be_imported_is_reported_by_line(gift, expected):
    assert expected in problems_of(gift)


def test_a_problem_in_one_question_does_not_stop_the_others():
    questions, problems = parse_gift("::A::¿Sí?{T}\n\n::E::Describe.{}\n\n::B::¿No?{F}", "b.gift")
    assert [q.title for q in questions] == ["A", "B"]
    assert len(problems) == 1


def test_read_gift_refuses_files_that_are_not_utf8(tmp_path):
    path = tmp_path / "banco.gift"
    path.write_bytes("::P::¿Participación?{T}".encode("latin-1"))
    text, problems = read_gift(path)
    assert text is None
    assert [str(p) for p in problems] == [
        "banco.gift:1: el archivo no está en UTF-8: guárdalo con codificación UTF-8"
    ]
    path.write_text("::P::¿Participación?{T}\r\n", encoding="utf-8")
    assert read_gift(path) == ("::P::¿Participación?{T}\n", [])


# --- export -----------------------------------------------------------------------------------


def test_export_leaves_out_ordering_questions_and_says_so():
    quiz, _ = load_quiz(EXAMPLE)
    gift, problems = quiz_to_gift(quiz)
    assert [str(p) for p in problems] == [
        "quizzes/ejemplo.md:110: la pregunta «ordena-los-niveles-del-espectro» es de ordenar, "
        "un tipo que GIFT no tiene: no se exportó"
    ]
    assert "// la pregunta «ordena-los-niveles-del-espectro» es de ordenar" in gift
    questions, found = parse_gift(gift, "ejemplo.gift")
    assert found == []
    assert questions == [q for q in quiz.questions if not isinstance(q, Ordering)]


def test_export_writes_markdown_weights_tokens_and_categories():
    quiz, _ = load_quiz(EXAMPLE)
    gift, _ = quiz_to_gift(quiz)
    assert gift.startswith("// Participación ciudadana en el municipio\n")
    assert (
        "// [id:que-organo-municipal-es-consultivo] [tag:cosoc] [tag:organos] [puntos:2]\n"
        "::¿Qué órgano municipal es consultivo?::[markdown]Elige el órgano cuya función "
        "principal es **opinar**, no decidir.{\n"
        "\t=El consejo comunal de organizaciones de la sociedad civil (COSOC)#Correcto\\: es un "
        "órgano consultivo.\n"
    ) in gift
    assert "\t~%-25%La alcaldía#No\\: la alcaldía" in gift
    assert "\t~%50%Es una relación de dos vías.\n" in gift
    assert "$CATEGORY: $course$/top/niveles\n" in gift
    assert "\t~#Son ocho peldaños, agrupados en tres niveles.\n" in gift
    assert (
        "{FALSE#No\\: la información va en una sola dirección; por eso muchos no la cuentan" in gift
    )


def test_a_question_that_is_only_its_title_goes_out_and_back():
    quiz, _ = parse_quiz(
        "---\ntitulo: T\naprobacion: 60\n---\n\n## ¿El COSOC opina?\ntipo: verdadero-falso\n\n"
        "- [x] Verdadero\n- [ ] Falso\n",
        "quizzes/t.md",
    )
    gift, _ = quiz_to_gift(quiz)
    assert "::¿El COSOC opina?::[markdown]¿El COSOC opina?{TRUE}" in gift
    assert parse_gift(gift, "t.gift")[0] == list(quiz.questions)


def test_a_short_answer_gift_would_misread_is_not_exported():
    quiz, _ = parse_quiz(
        "---\ntitulo: T\naprobacion: 60\n---\n\n## Flecha\ntipo: corta\n\n- [x] a -> b\n",
        "quizzes/t.md",
    )
    gift, problems = quiz_to_gift(quiz)
    assert [p.message for p in problems] == [
        "la pregunta «flecha» tiene una respuesta con «->», que GIFT leería como emparejar: "
        "no se exportó"
    ]
    assert parse_gift(gift, "t.gift") == ([], [])
    quiz, _ = parse_quiz(
        "---\ntitulo: T\naprobacion: 60\n---\n\n## Flecha\ntipo: corta\n\n- [x] a\n  > a -> b\n",
        "quizzes/t.md",
    )
    assert len(quiz_to_gift(quiz)[1]) == 1


def test_the_markdown_written_from_gift_reads_back_identically():
    markdown_text, _ = gift_to_quiz_markdown(bank_text(), "Banco", "banco.gift")
    quiz, _ = parse_quiz(markdown_text, "quizzes/banco.md")
    assert dump_quiz(quiz) == markdown_text
