"""Reports in Chromium: an admin goes from the navigation to the region report, sees the
coverage chart (an inline SVG image with its title) and the table that is its accessible
alternative, opens a region's comunas, and axe-core finds nothing on either page; the same
page reads the same without JavaScript."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from academy.courses.services import get_course
from academy.db import utcnow
from academy.extensions import db
from academy.progress import services as progress
from tests.browser.conftest import (
    Axe,
    LiveServer,
    add_certificate,
    heading,
    import_course_folder,
    log_in,
)

pytestmark = pytest.mark.browser


def certified_learner(live: LiveServer) -> None:
    """A learner of Santiago who completed the example course and holds its certificate."""
    import_course_folder(live)
    learner = live.create_user("learner", full_name="Rosa Pérez", comuna_cut="13101")
    with live.app.app_context():
        course = get_course("curso-ejemplo")
        assert course is not None
        progress.enrol(learner.id, course).completed_at = utcnow()
        db.session.commit()
    add_certificate(live, learner.id)


def test_admin_reads_the_region_report(page: Page, live: LiveServer, axe: Axe) -> None:
    certified_learner(live)
    log_in(page, live.create_user("admin"))
    page.get_by_role("link", name="Informes").click()
    expect(heading(page)).to_have_text("Informes")
    axe(page)
    page.get_by_role("link", name="Por región y comuna, con la cobertura de municipios").click()
    expect(heading(page)).to_have_text("Informe por región")
    chart = page.get_by_role("img", name="Cobertura por región")
    expect(chart).to_be_visible()
    table = page.get_by_role("table", name="Cifras por región, de norte a sur")
    expect(table).to_be_visible()
    santiago = table.get_by_role("row", name="Metropolitana de Santiago")
    expect(santiago.get_by_role("cell")).to_have_text(["1", "1", "1", "52", "1", "1,9 %"])
    expect(table.get_by_role("row", name="Total")).to_contain_text("345")
    axe(page)
    santiago.get_by_role("link").click()
    expect(heading(page)).to_have_text("Comunas de la región Metropolitana de Santiago")
    axe(page)


def test_the_region_report_needs_no_javascript(browser: Browser, live: LiveServer) -> None:
    certified_learner(live)
    admin = live.create_user("admin")
    context = browser.new_context(base_url=live.url, locale="es-CL", java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, admin)
        page.goto("/informes/territorio/")
        expect(page.get_by_role("img", name="Cobertura por región")).to_be_visible()
        expect(page.get_by_role("table", name="Cifras por región, de norte a sur")).to_be_visible()
    finally:
        context.close()
