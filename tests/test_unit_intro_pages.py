"""A unit's introduction (the body of its ``unidad.md``) is shown to learners: on the course
page under the unit's heading, folded so the lessons stay in reach, and at the start of the
unit, on its first lesson's page.

It used to be stored and rendered on import but shown on no page, so the learning objectives
of every unit of the shipped course were invisible.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from academy.courses import services
from academy.courses.models import Unit
from academy.extensions import db

COURSE = "/cursos/curso-ejemplo/"
LESSON = "/cursos/curso-ejemplo/lecciones/{}"


def set_intro(app, unit_slug: str, text: str) -> None:
    with app.app_context():
        unit = db.session.scalar(select(Unit).where(Unit.slug == unit_slug))
        services.update_unit(unit, title=unit.title, summary_md=text)
        db.session.commit()


def test_the_course_page_shows_each_units_introduction_folded_under_its_heading(
    client, example_course
):
    page = client.get(COURSE).text
    outline = page[page.index('class="course-outline"') :]
    heading = outline.index("1. Primeros pasos")
    intro = outline.index("Qué significa participar.")
    first_lesson = outline.index("¿Qué es participar?")
    assert heading < intro < first_lesson
    # Folded: a learner on a phone still sees the lessons right under the headings.
    details = re.search(r'<details class="unit-intro">(.*?)</details>', outline, re.DOTALL)
    assert details is not None
    assert "Qué significa participar." in details.group(1)
    assert "<summary>Presentación y objetivos de la unidad</summary>" in details.group(1)
    # The second unit has no introduction: no empty box.
    assert outline.count('<details class="unit-intro">') == 1


def test_the_introduction_is_rendered_markdown_stored_on_save(app, client, example_course):
    set_intro(app, "primeros-pasos", "Al terminar podrás:\n\n- **distinguir** niveles;\n")
    page = client.get(COURSE).text
    assert "<li><strong>distinguir</strong> niveles;</li>" in page


def test_the_units_first_lesson_opens_with_the_introduction(client, learner):
    page = client.get(LESSON.format("que-es-participar")).text
    article = page[page.index('<article class="lesson">') : page.index("</article>")]
    assert "Unidad 1: Primeros pasos" in article
    assert "Qué significa participar." in article
    assert article.index("Unidad 1: Primeros pasos") > article.index("<h1>")


def test_other_lessons_of_the_unit_do_not_repeat_it(client, learner):
    page = client.get(LESSON.format("niveles")).text
    assert "Qué significa participar." not in page
    assert "Unidad 1:" not in page


def test_the_lesson_sidebar_outline_stays_compact(client, learner):
    page = client.get(LESSON.format("que-es-participar")).text
    aside = page[page.index('<aside class="lesson-aside"') :]
    assert "unit-intro" not in aside


def test_a_unit_without_introduction_shows_no_box_on_its_first_lesson(app, client, learner):
    set_intro(app, "primeros-pasos", "")
    page = client.get(LESSON.format("que-es-participar")).text
    assert "unit-intro-opening" not in page
    assert "unit-intro" not in client.get(COURSE).text


def test_the_offline_pdf_opens_each_unit_with_its_introduction(app, example_course):
    from academy.learning import offline

    with app.app_context(), app.test_request_context():
        course = services.get_course("curso-ejemplo")
        units = offline.lessons_by_unit(course)
        assert [(title, str(intro) if intro else None) for title, _lessons, intro in units] == [
            ("Primeros pasos", "<p>Qué significa participar.</p>"),
            ("Mecanismos", None),
        ]
        before = offline.fingerprint(course)
        set_intro(app, "mecanismos", "Los mecanismos de la ley.")
        assert offline.fingerprint(services.get_course("curso-ejemplo")) != before
