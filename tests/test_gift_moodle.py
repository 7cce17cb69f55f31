"""Every construct of Moodle's GIFT documentation (tests/fixtures/gift/moodle-doc.gift, with
the documentation's own examples) is imported, or named with what to do instead, and comes
back through export unchanged: missing-word questions with their blank, category paths with
their hierarchy and capitals."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from academy.quizzes.format import parse_quiz
from academy.quizzes.gift import (
    BLANK,
    gift_to_quiz_markdown,
    parse_gift,
    parse_gift_bank,
    quiz_to_gift,
)

DOC = Path(__file__).parent / "fixtures/gift/moodle-doc.gift"


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def test_every_question_of_the_documentation_is_imported_but_the_essay_and_the_description():
    questions, categories, problems = parse_gift_bank(doc_text(), "moodle-doc.gift")
    assert Counter(q.word for q in questions) == {
        "unica": 9,
        "verdadero-falso": 8,
        "corta": 3,
        "numerica": 3,
        "multiple": 2,
        "emparejar": 1,
    }
    assert [str(p) for p in problems] == [
        "moodle-doc.gift:96: pregunta de desarrollo (respuesta abierta, «{}»): un cuestionario "
        "no la puede corregir; escríbela como un caso práctico (una lección «tipo: caso» con "
        "sus consignas y su rúbrica), que revisa un relator; la pregunta no se importó",
        "moodle-doc.gift:98: texto sin respuestas entre llaves (una descripción): la Academia "
        "no tiene este tipo de elemento; la pregunta no se importó",
    ]
    assert categories == {
        "tom-dick-harry": "tom/dick/harry",
        "participacion-marcos": "$course$/top/Participación/Marcos",
        "otra-marcos": "$course$/top/Otra/Marcos",
    }


def test_a_missing_word_question_gets_a_blank_where_its_answers_were():
    questions, problems = parse_gift(
        "::Arnstein::Los peldaños que simulan participar forman el grupo llamado "
        "{=Tokenismo ~Poder ciudadano}.",
        "b.gift",
    )
    assert problems == []
    (question,) = questions
    assert question.word == "unica"
    assert (
        question.text.md == f"Los peldaños que simulan participar forman el grupo llamado {BLANK}."
    )
    assert question.text.html == (
        "<p>Los peldaños que simulan participar forman el grupo llamado _____.</p>"
    )
    assert [c.text.md for c in question.choices] == ["Tokenismo", "Poder ciudadano"]


def test_a_missing_word_short_answer_and_its_untitled_name():
    (question,), problems = parse_gift("Two plus two equals {=four =4}.", "b.gift")
    assert problems == []
    assert question.word == "corta"
    assert question.title == "Two plus two equals …."
    assert question.text.md == f"Two plus two equals {BLANK}."


def test_missing_word_questions_are_exported_in_the_same_form():
    markdown_text, _ = gift_to_quiz_markdown(doc_text(), "Moodle", "moodle-doc.gift")
    quiz, found = parse_quiz(markdown_text, "quizzes/moodle.md")
    assert found == []
    exported, problems = quiz_to_gift(quiz)
    assert problems == []
    assert "::Tokenismo::[markdown]Los peldaños de la escalera de Arnstein que simulan " in (
        exported
    )
    assert "forman el grupo llamado {\n\t=Tokenismo\n" in exported
    assert "\t~No participación\n}." in exported
    assert "Moodle costs {\n\t~lots of money\n\t=nothing\n\t~a small amount\n} to download." in (
        exported
    )


def test_category_paths_keep_their_hierarchy_and_spelling_through_export():
    markdown_text, _ = gift_to_quiz_markdown(doc_text(), "Moodle", "moodle-doc.gift")
    assert "categorias:\n  tom-dick-harry: tom/dick/harry\n" in markdown_text
    quiz, _ = parse_quiz(markdown_text, "quizzes/moodle.md")
    exported, _ = quiz_to_gift(quiz)
    assert "$CATEGORY: tom/dick/harry\n" in exported
    assert "$CATEGORY: $course$/top/Participación/Marcos\n" in exported
    assert "$CATEGORY: $course$/top/Otra/Marcos\n" in exported


def test_two_categories_with_the_same_last_part_stay_apart():
    questions, _ = parse_gift(
        "$CATEGORY: Participación/Marcos\n\n::A::¿A?{T}\n\n"
        "$CATEGORY: Otra/Marcos\n\n::B::¿B?{T}\n\n"
        "$CATEGORY: participación/marcos\n\n::C::¿C?{T}",
        "b.gift",
    )
    assert [q.pool for q in questions] == [
        "participacion-marcos",
        "otra-marcos",
        "participacion-marcos-2",
    ]


def test_the_documentation_round_trips_with_nothing_lost():
    markdown_text, problems = gift_to_quiz_markdown(doc_text(), "Moodle", "moodle-doc.gift")
    assert len(problems) == 2  # the essay and the description
    quiz, found = parse_quiz(markdown_text, "quizzes/moodle.md")
    assert found == []
    assert len(quiz.questions) == 26
    gift_again, found = quiz_to_gift(quiz)
    assert found == []
    markdown_again, found = gift_to_quiz_markdown(gift_again, "Moodle", "again.gift")
    assert found == []
    assert markdown_again == markdown_text
    again, _ = parse_quiz(markdown_again, "quizzes/moodle.md")
    assert again.questions == quiz.questions
    assert again.settings.categories == quiz.settings.categories
    assert quiz_to_gift(again)[0] == gift_again


def test_two_line_breaks_in_html_make_two_paragraphs():
    (question,), problems = parse_gift(
        "::H::[html]Primer párrafo.<br><br>Segundo párrafo.{T}", "b.gift"
    )
    assert problems == []
    assert question.text.md == "Primer párrafo.\n\nSegundo párrafo."
    assert question.text.html == "<p>Primer párrafo.</p>\n<p>Segundo párrafo.</p>"
