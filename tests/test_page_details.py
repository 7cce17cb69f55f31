"""Details trainers noticed on the pages: an escaped short answer shown with its backslash,
a stray separator in the lesson header, footnotes without a heading, the required mark on a
line of its own, the history's action cells, and dates written three ways."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flask import render_template_string

import academy
from academy import markdown
from academy.quizzes.questions import ShortAnswer as ShortAnswerType
from academy.quizzes.questions import TextAnswer
from tests.test_quiz_views import (
    attempt_url,
    by_type,
    example_text,
    layout,
    start,
    submit_all,
    use_quiz_text,
)


def test_an_escaped_asterisk_is_shown_without_its_backslash():
    assert TextAnswer("3\\*3", True).shown == "3*3"
    assert TextAnswer("comuna *", True).shown == "comuna …"
    assert TextAnswer("COSOC", True).shown == "COSOC"


def test_learners_see_the_escaped_answer_as_written_for_them(client, learner, example_quiz, query):
    use_quiz_text(query, example_text(query).replace("- [x] COSOC", "- [x] 3\\*3"))
    start(client)
    pairs = layout(query, learner)
    short = by_type(pairs, ShortAnswerType)
    submit_all(client, pairs, {short.key: "nada"})
    page = client.get(attempt_url(1)).text
    assert "3*3" in page
    assert "3\\*3" not in page


def test_trainers_see_it_so_in_the_quiz_outline(client, auth, make_user, example_quiz, query):
    use_quiz_text(query, example_text(query).replace("- [x] COSOC", "- [x] 3\\*3"))
    auth.as_role(make_user, "trainer")
    page = client.get("/editor/cuestionarios/ejemplo").text
    assert "<li>3*3 " in page
    assert "3\\*3</li>" not in page and "<li>3\\*3" not in page


def test_the_lesson_header_has_no_separator_on_its_own(client, learner):
    page = client.get("/cursos/curso-ejemplo/lecciones/niveles").text
    meta = page[page.index('<p class="meta">') :]
    meta = meta[: meta.index("</p>")]
    # The label is shown inline after the separator (CSS), and only when there is one.
    assert '<span class="meta-state">· <span class="state-label' in meta
    css = (Path(academy.__file__).parent / "static/css/academy.css").read_text("utf-8")
    assert ".meta .state-label { display: inline;" in css
    assert ".meta-state { white-space: nowrap; }" in css


def test_footnotes_have_a_heading_and_no_second_rule():
    html = markdown.render("Texto[^1].\n\n[^1]: La nota.\n").html
    box = html[html.index('<div class="footnote">') :]
    assert box.startswith('<div class="footnote">\n<h2>Notas</h2>')
    assert "<hr" not in box


def test_the_required_mark_sits_with_its_label(app):
    with app.test_request_context():
        from academy.courses.forms import UnitForm

        form = UnitForm(meta={"csrf": False})
        html = render_template_string(
            '{% from "macros/forms.html" import field %}{{ field(form.title) }}', form=form
        )
    assert '<span class="field-label"><label for="title">' in html
    assert '</label> <span class="required" aria-hidden="true">*</span></span>' in html


def test_the_historys_action_cells_are_table_cells(client, auth, make_user, example_course):
    auth.as_role(make_user, "trainer")
    page = client.get("/editor/cursos/curso-ejemplo/lecciones/niveles/historial").text
    assert '<td class="outline-actions">' not in page  # a flex box is not a table cell
    assert '<td><div class="outline-actions">' in page


def test_every_date_is_written_one_way(app):
    moment = datetime(2026, 12, 4, 21, 10, 30, tzinfo=UTC)
    template = (
        "{{ m|datetimeformat('short') }}|{{ m|datetimeformat('medium') }}|{{ m|datetimeformat }}"
        "|{{ m|dateformat('medium') }}|{{ m|dateformat('long') }}|{{ m|dateformat }}"
    )
    with app.test_request_context(headers={"Accept-Language": "es"}):
        written = render_template_string(template, m=moment).split("|")
    moment_text, date_text = written[0], written[3]
    assert written[:3] == [moment_text] * 3
    assert written[3:] == [date_text] * 3
    assert "diciembre de 2026" in date_text
    assert moment_text.startswith(date_text + ", ")
    assert ":30" not in moment_text  # no seconds
