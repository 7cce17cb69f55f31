"""At phone width (375 px) no page of the shipped course scrolls sideways: wide tables scroll in
their own focusable box, figures fit and link to themselves at full size, and the lesson,
quiz and case pages all fit the screen.

The IAP2 spectrum lesson used to be 415 px wide on a 390 px phone because of its table.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from academy.cli.content import import_content, load_all
from academy.courses.services import get_course
from academy.extensions import db
from academy.progress import services as enrolments
from tests.browser.conftest import Axe, LiveServer, heading, log_in

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SLUG = "participacion-ciudadana"
PHONE = {"width": 375, "height": 740}
WIDEST_TABLE_LESSON = f"/cursos/{SLUG}/lecciones/el-espectro-de-la-iap2"
PAGE_FITS = "() => document.documentElement.scrollWidth <= window.innerWidth"


def assert_no_sideways_scroll(page: Page) -> None:
    page.wait_for_load_state("load")
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert page.evaluate(PAGE_FITS), f"{page.url}: the page is {width[0]} px wide on {width[1]}"


@pytest.fixture
def phone_learner(page: Page, live: LiveServer) -> Page:
    """A learner enrolled in the shipped course (imported as ``academy init`` does), signed in
    on a phone-sized window."""
    learner = live.create_user()
    with live.app.app_context():
        found = load_all([ROOT / "courses", ROOT / "quizzes"])
        assert not found.problems, found.problems
        import_content(found, force=False, publish=True)
        course = get_course(SLUG)
        assert course is not None
        enrolments.enrol(learner.id, course)
        db.session.commit()
    page.set_viewport_size(PHONE)
    log_in(page, learner)
    return page


def lesson_paths(page: Page) -> list[str]:
    page.goto(f"/cursos/{SLUG}/")
    links = page.locator(".course-outline a")
    return [str(links.nth(i).get_attribute("href")) for i in range(links.count())]


def test_no_lesson_of_the_shipped_course_scrolls_sideways(phone_learner: Page) -> None:
    page = phone_learner
    assert_no_sideways_scroll(page)
    paths = lesson_paths(page)
    assert len(paths) > 30
    for path in paths:
        page.goto(path)
        assert_no_sideways_scroll(page)


def test_a_wide_table_scrolls_in_its_own_box_from_the_keyboard(
    phone_learner: Page, axe: Axe
) -> None:
    page = phone_learner
    page.goto(WIDEST_TABLE_LESSON)
    assert_no_sideways_scroll(page)
    boxes = page.locator(".prose [role=region]")
    assert boxes.count() >= 1
    wide = [
        boxes.nth(i)
        for i in range(boxes.count())
        if boxes.nth(i).evaluate("box => box.scrollWidth > box.clientWidth")
    ]
    assert wide, "the table fits the phone: this test no longer shows what it is about"
    region = wide[0]
    assert (region.get_attribute("aria-label") or "").startswith("Tabla: ")
    region.focus()
    expect(region).to_be_focused()
    page.keyboard.press("ArrowRight")
    # Waited for, not read at once: keyboard scrolling may be animated.
    page.wait_for_function("box => box.scrollLeft > 0", arg=region.element_handle())
    axe(page)


def test_a_figure_fits_and_opens_at_full_size(phone_learner: Page) -> None:
    page = phone_learner
    page.goto(WIDEST_TABLE_LESSON)
    figure = page.locator(".prose img").first
    assert figure.evaluate("img => img.getBoundingClientRect().right <= window.innerWidth")
    link = page.get_by_role("link", name="Ver la figura en tamaño completo").first
    href = link.get_attribute("href")
    assert href is not None and href.endswith(".svg")
    response = page.request.get(page.url.rsplit("/", 1)[0] + "/" + href)
    assert response.ok
    assert response.headers["content-type"].startswith("image/svg+xml")


def test_the_quiz_and_its_attempt_fit_the_phone(phone_learner: Page) -> None:
    page = phone_learner
    page.goto(f"/cursos/{SLUG}/lecciones/cuestionario-marcos")
    assert_no_sideways_scroll(page)
    page.get_by_role("button", name="Comenzar intento").click()
    expect(page.locator("[data-question]").first).to_be_visible()
    assert_no_sideways_scroll(page)
    page.get_by_role("button", name="Entregar", exact=True).click()
    expect(heading(page)).to_have_text("¿Entregar el intento 1?")
    assert_no_sideways_scroll(page)
    page.get_by_role("button", name="Entregar ahora").click()
    expect(heading(page)).to_have_text("Resultado del intento 1")
    assert_no_sideways_scroll(page)


def test_the_case_and_its_answer_form_fit_the_phone(phone_learner: Page) -> None:
    page = phone_learner
    page.goto(f"/cursos/{SLUG}/lecciones/caso-presupuesto-participativo")
    assert_no_sideways_scroll(page)
    page.get_by_role("link", name="Responder el caso").click()
    expect(page.get_by_label("Tu respuesta a la consigna").first).to_be_visible()
    assert_no_sideways_scroll(page)


def test_the_unit_introduction_unfolds_on_the_course_page(phone_learner: Page) -> None:
    page = phone_learner
    page.goto(f"/cursos/{SLUG}/")
    intro = page.locator("details.unit-intro").nth(1)
    expect(intro.get_by_text("Al terminar esta unidad podrás:")).to_be_hidden()
    intro.get_by_text("Presentación y objetivos de la unidad").click()
    expect(intro.get_by_text("Al terminar esta unidad podrás:")).to_be_visible()
    assert_no_sideways_scroll(page)
