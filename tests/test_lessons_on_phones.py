"""Lessons read on a phone: a wide table scrolls in its own box, not the page, and a figure
links to itself at full size, where a phone can zoom into it.

A table wider than the screen used to make the whole lesson scroll sideways at 390 px (the
shipped course's IAP2 spectrum lesson was 415 px wide), and detailed SVG diagrams shrunk to
the phone's width could not be read.
"""

from __future__ import annotations

import re
import shutil

from sqlalchemy import select, update

from academy import markdown
from academy.courses import services
from academy.courses.content import load_course
from academy.courses.models import Lesson, LessonRevision
from academy.extensions import db
from tests.conftest import CONTENT_FIXTURE

TABLE = """Antes.

| Nivel | Promesa al público |
|-------|--------------------|
| Informar | Te mantendremos informado |

Después.
"""

BOX = re.compile(r"<div ([^>]*)><table>.*?</table></div>", re.DOTALL)


def test_a_table_is_put_in_a_named_focusable_scroll_box():
    html = markdown.render(TABLE).html
    box = BOX.search(html)
    assert box is not None, html
    attributes = box.group(1)
    assert 'class="table-wrap"' in attributes
    assert 'role="region"' in attributes
    assert 'tabindex="0"' in attributes
    assert 'aria-label="Tabla: Nivel, Promesa al público"' in attributes
    assert html.index("Antes.") < box.start() < box.end() < html.index("Después.")


def test_every_table_gets_its_box_inside_callouts_and_lists_too():
    text = TABLE + '\n!!! ejemplo "Dos"\n    | A |\n    |---|\n    | 1 |\n'
    html = markdown.render(text).html
    assert html.count('<div aria-label="Tabla') == 2
    assert html.count("<table>") == 2


def test_the_box_survives_sanitising_and_sanitising_again():
    html = markdown.render(TABLE).html
    assert markdown.sanitise(html) == html


def test_authors_cannot_make_such_boxes_or_other_roles_themselves():
    forged = '<div role="dialog" tabindex="5" class="table-wrap" aria-label="x">y</div>'
    cleaned = markdown.sanitise(forged)
    assert "dialog" not in cleaned
    assert 'tabindex="5"' not in cleaned
    rendered = markdown.render(forged).html
    assert "<div" not in rendered  # raw HTML is shown as text


def test_a_figure_links_to_the_image_at_full_size():
    html = markdown.render(
        "![Espectro de la IAP2 con sus cinco niveles](espectro.svg)\n",
        image_resolver=lambda path: f"../recursos/marcos/{path}",
    ).html
    assert (
        '<img alt="Espectro de la IAP2 con sus cinco niveles" '
        'src="../recursos/marcos/espectro.svg">'
        '<a class="figure-full" href="../recursos/marcos/espectro.svg" rel="noopener noreferrer">'
        "Ver la figura en tamaño completo</a>"
    ) in html


def test_images_that_are_not_figures_get_no_link():
    text = (
        "Un icono ![marca](i.png) en el texto.\n\n"
        "[![Logo de la academia](logo.png)](https://www.subdere.gov.cl)\n\n"
        "![Falta esta figura en la carpeta](no-existe.png)\n"
    )
    html = markdown.render(text, image_resolver=lambda p: None if "no-existe" in p else p).html
    assert "figure-full" not in html


def test_learner_text_gets_neither(app):
    html = markdown.render_light("| a | b |\n|---|---|\n| 1 | 2 |\n\n![x](y.png)\n").html
    assert "table-wrap" not in html
    assert "figure-full" not in html


SLUG = "niveles"


def test_an_import_brings_lessons_stored_before_to_the_current_rendering(app, tmp_path):
    """An unchanged lesson imported again gets one new revision with the HTML of today's
    pipeline (stored HTML never changes in place); a third import adds nothing."""
    folder = tmp_path / "curso-ejemplo"
    shutil.copytree(CONTENT_FIXTURE / "courses/curso-ejemplo", folder)
    with (folder / "01-primeros-pasos/02-niveles.md").open("a", encoding="utf-8") as lesson:
        lesson.write("\n" + TABLE)
    source, problems = load_course(folder)
    assert source is not None and not problems
    with app.app_context():
        services.import_course(source)
        db.session.commit()
        lesson = db.session.scalar(select(Lesson).where(Lesson.slug == SLUG))
        current = lesson.published.body_html
        assert "table-wrap" in current
        # As the pipeline before tables had their own box stored it.
        old = re.sub(r"<div [^>]*>(<table>.*?</table>)</div>", r"\1", current, flags=re.DOTALL)
        assert old != current
        db.session.execute(
            update(LessonRevision)
            .where(LessonRevision.id == lesson.published_revision_id)
            .values(body_html=old)
        )
        db.session.commit()
        db.session.expire_all()

        report = services.import_course(source)
        db.session.commit()
        lesson = db.session.scalar(select(Lesson).where(Lesson.slug == SLUG))
        assert [r.number for r in lesson.revisions] == [1, 2]
        assert lesson.published.number == 2
        assert lesson.published.body_html == current
        assert lesson.published.body_md == lesson.revisions[0].body_md
        assert SLUG not in report.changed_lessons  # the text did not change

        services.import_course(source)
        db.session.commit()
        db.session.expire_all()
        lesson = db.session.scalar(select(Lesson).where(Lesson.slug == SLUG))
        assert len(lesson.revisions) == 2
