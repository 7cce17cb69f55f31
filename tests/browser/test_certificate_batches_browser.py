"""Certificate batches in Chromium: an admin picks a cohort, reviews its eligible learners,
confirms, and watches the batch's page follow the job to the end (the script polls; the page
reloads itself once done). Every page is audited with axe-core.
"""

from __future__ import annotations

import threading

import pytest
from huey.storage import MemoryStorage
from playwright.sync_api import Page, expect

from academy import jobs
from academy.courses.services import get_course
from academy.db import utcnow
from academy.extensions import db
from academy.progress import services as progress
from academy.progress.models import Cohort
from tests.browser.conftest import Axe, LiveServer, heading, import_course_folder, log_in

pytestmark = pytest.mark.browser


def test_an_admin_issues_to_a_cohort_and_watches_the_batch_finish(
    page: Page, live: LiveServer, axe: Axe
) -> None:
    import_course_folder(live)
    admin = live.create_user("admin")
    learners = [
        live.create_user("learner", email=f"egresada{n}@muni.cl", full_name=f"Egresada Número {n}")
        for n in range(3)
    ]
    with live.app.app_context():
        course = get_course("curso-ejemplo")
        assert course is not None
        cohort = Cohort(course_id=course.id, name="Grupo Los Lagos")
        db.session.add(cohort)
        db.session.flush()
        for n, learner in enumerate(learners):
            enrolment = progress.enrol(learner.id, course)
            enrolment.completed_at = utcnow()
            enrolment.cohort_id = cohort.id if n < 2 else None
        db.session.commit()
    # The live server keeps jobs waiting, as a real queue does; the test plays the worker.
    queue = live.app.extensions[jobs.EXTENSION]
    queue.immediate, queue.store = False, MemoryStorage(jobs.QUEUE_NAME)
    try:
        log_in(page, admin)
        page.goto("/admin/cursos/curso-ejemplo/certificados")
        page.get_by_role("link", name="Emitir a todas las personas o a un grupo…").click()
        expect(heading(page)).to_have_text("Emitir certificados de «Curso de ejemplo»")
        expect(page.get_by_text("Egresada Número 2")).to_be_visible()
        axe(page)
        page.get_by_label("Grupo").select_option(label="Grupo Los Lagos")
        page.get_by_role("button", name="Ver la lista").click()
        expect(page.get_by_text("Egresada Número 2")).to_have_count(0)
        for n in range(2):
            expect(page.get_by_label(f"Egresada Número {n}")).to_be_checked()
        axe(page)
        page.get_by_role("button", name="Emitir los certificados").click()
        expect(heading(page)).to_have_text("Emisión de certificados de «Curso de ejemplo»")
        expect(page.get_by_role("status")).to_have_text("En cola: empezará en unos momentos.")
        expect(page.get_by_role("link", name="Actualizar")).to_be_visible()
        axe(page)

        # The worker takes the job, in a thread of its own as a consumer's worker does (and
        # away from Playwright's event loop, which signing's asyncio would collide with).
        failures: list[BaseException] = []

        def work() -> None:
            with live.app.app_context():
                try:
                    task = jobs.queue.dequeue()
                    assert task is not None
                    jobs.queue.execute(task)
                except BaseException as error:  # reported in the test's thread
                    failures.append(error)

        worker = threading.Thread(target=work)
        worker.start()
        worker.join(timeout=120)
        assert not failures, failures

        expect(page.get_by_role("status")).to_have_text("Terminado.")
        expect(page.locator('[data-count="issued"]')).to_have_text("2")
        expect(page.locator("#batch-progress")).to_have_attribute("value", "2")
        expect(page.get_by_role("link", name="Actualizar")).to_have_count(0)
        axe(page)
        page.get_by_role("link", name="Certificados de «Curso de ejemplo»").click()
        # The cohort's two in the issued table; the third still waits in the eligible one.
        for n in range(3):
            expect(
                page.get_by_role("cell", name=f"Egresada Número {n}", exact=True)
            ).to_be_visible()
        expect(
            page.get_by_role("button", name="Emitir certificado a Egresada Número 2")
        ).to_be_visible()
        expect(
            page.get_by_role("button", name="Emitir certificado a Egresada Número 0")
        ).to_have_count(0)
    finally:
        queue.immediate, queue.store = True, None
