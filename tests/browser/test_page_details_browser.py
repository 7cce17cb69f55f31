"""Details of the page layout that only a browser shows: the footer of a short page sits at
the bottom of the window, a required field's mark sits beside its label, the history's action
cells line up with their rows, and the lesson header's state follows its separator."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import LiveServer, import_course_folder, log_in

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}


def test_the_footer_of_a_short_page_is_at_the_bottom_of_the_window(
    page: Page, live: LiveServer
) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto("/entrar")
    height = page.evaluate("() => document.documentElement.scrollHeight")
    assert height <= DESKTOP["height"], "the page is not short: this test shows nothing"
    bottom = page.locator(".site-footer").evaluate("el => el.getBoundingClientRect().bottom")
    assert abs(bottom - DESKTOP["height"]) <= 1


def test_the_required_mark_is_on_its_labels_line(page: Page, live: LiveServer) -> None:
    page.goto("/entrar")
    label = page.locator("label[for=email]")
    mark = page.locator(".field-label .required").first
    label_box, mark_box = label.bounding_box(), mark.bounding_box()
    assert label_box is not None and mark_box is not None
    assert abs(label_box["y"] - mark_box["y"]) < label_box["height"] / 2
    assert mark_box["x"] > label_box["x"]


def test_the_historys_action_cells_line_up_with_their_rows(page: Page, live: LiveServer) -> None:
    trainer = live.create_user("trainer")
    import_course_folder(live)
    page.set_viewport_size(DESKTOP)
    log_in(page, trainer)
    page.goto("/editor/cursos/curso-ejemplo/lecciones/niveles/historial")
    row = page.locator("tbody tr").first
    tops = row.locator(":scope > th, :scope > td").evaluate_all(
        "cells => cells.map(cell => [cell.tagName, cell.getBoundingClientRect().top,"
        " getComputedStyle(cell).display])"
    )
    assert {display for _tag, _top, display in tops} == {"table-cell"}
    assert len({round(top) for _tag, top, _display in tops}) == 1, tops


def test_the_lesson_state_follows_the_separator_on_one_line(page: Page, live: LiveServer) -> None:
    learner = live.create_user()

    def enrol() -> None:
        from academy.courses.services import get_course
        from academy.progress.services import enrol as enrol_learner

        course = get_course("curso-ejemplo")
        assert course is not None
        enrol_learner(learner.id, course)

    import_course_folder(live, then=enrol)
    page.set_viewport_size({"width": 375, "height": 740})
    log_in(page, learner)
    page.goto("/cursos/curso-ejemplo/lecciones/niveles")
    state = page.locator(".lesson header .meta .meta-state")
    lines_and_text = state.evaluate(
        "el => [new Set([...el.getClientRects()].map(r => Math.round(r.bottom))).size,"
        " el.textContent]"
    )
    # One line: a line may break before "·", never between it and the state it introduces.
    assert lines_and_text == [1, "· Pendiente"]
