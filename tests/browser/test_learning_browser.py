"""A new learner in Chromium: register, enrol, read, mark done, leave, come back, continue.

What the pages show (the bar, the outline, "Lo que te falta") is checked against the database.
Every page visited is audited with axe-core.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from academy.auth.models import User
from academy.courses.services import get_course
from academy.extensions import db
from academy.progress import services as progress
from tests.browser.conftest import Axe, LiveServer, activate_from_email, import_course_folder
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

EMAIL = "camila.rojas@muni.cl"


@pytest.fixture
def course(live: LiveServer) -> None:
    import_course_folder(live)


def register(page: Page, live: LiveServer) -> None:
    page.goto("/registro")
    page.get_by_label("Nombre completo").fill("Camila Rojas Díaz")
    page.get_by_label("Correo electrónico").fill(EMAIL)
    page.get_by_label("Comuna").select_option(label="Valparaíso")
    page.get_by_label("Contraseña", exact=True).fill(PASSWORD)
    page.get_by_label("Repite la contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Crear mi cuenta").click()
    activate_from_email(page, live, EMAIL, PASSWORD)
    expect(page.get_by_role("button", name="Cerrar sesión")).to_be_visible()


def database_state(live: LiveServer) -> tuple[int, list[str], bool]:
    with live.app.app_context():
        user = db.session.scalar(select(User).where(User.email == EMAIL))
        course = get_course("curso-ejemplo")
        state = progress.compute(user.id, course.id)
        return state.percent, [r.item.title for r in state.left], state.complete


def test_register_enrol_read_leave_and_continue(
    page: Page, live: LiveServer, course: None, axe: Axe
) -> None:
    register(page, live)
    axe(page)

    page.get_by_role("navigation", name="Principal").get_by_role(
        "link", name="Cursos", exact=True
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cursos")
    axe(page)
    page.get_by_role("link", name="Curso de ejemplo").click()
    expect(page.get_by_text("Para aprobar necesitas completar las 2 lecciones")).to_be_visible()
    axe(page)
    page.get_by_role("button", name="Inscribirme y comenzar").click()

    # Straight into the first lesson, with the outline and the bar at 0 %.
    expect(page.get_by_role("heading", level=1)).to_have_text("¿Qué es participar?")
    expect(page.get_by_text("Avance: 0 %").first).to_be_visible()
    axe(page)
    page.get_by_role("button", name="Marcar como completada").click()

    # On to the next lesson; the outline and the bar moved at once.
    expect(page.get_by_role("heading", level=1)).to_have_text("Los niveles de participación")
    expect(page.get_by_text("Lección marcada como completada.")).to_be_visible()
    expect(page.get_by_text("Avance: 50 %").first).to_be_visible()
    outline = page.get_by_role("navigation", name="Contenido del curso")
    expect(outline.locator(".state-done")).to_contain_text("¿Qué es participar?")
    axe(page)
    assert database_state(live) == (50, ["Los niveles de participación"], False)

    # Leave: sign out, come back another day, "Continuar" lands where they were.
    page.get_by_role("button", name="Cerrar sesión").click()
    page.goto("/entrar")
    page.get_by_label("Correo electrónico").fill(EMAIL)
    page.get_by_label("Contraseña", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mis cursos")
    expect(page.get_by_text("Te falta 1 lección obligatoria.")).to_be_visible()
    axe(page)
    page.get_by_role("link", name="Continuar Curso de ejemplo").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Los niveles de participación")

    # "Lo que te falta" on the course page matches the database.
    page.get_by_role("link", name="Curso de ejemplo").first.click()
    left = page.locator("section", has=page.get_by_role("heading", name="Lo que te falta"))
    expect(left).to_contain_text("¿Qué es participar?")
    expect(left).to_contain_text("Completada")
    expect(left).to_contain_text("En curso")  # opened, not yet marked done
    axe(page)

    page.get_by_role("link", name="Continuar").first.click()
    page.get_by_role("button", name="Marcar como completada").click()
    expect(
        page.get_by_text("¡Felicitaciones! Completaste el curso «Curso de ejemplo».")
    ).to_be_visible()
    percent, left_titles, complete = database_state(live)
    assert (percent, left_titles, complete) == (100, [], True)
    page.goto("/mis-cursos")
    expect(page.get_by_role("heading", name="Cursos terminados")).to_be_visible()
    axe(page)


def test_lesson_page_works_without_javascript_and_prints(
    browser, live: LiveServer, course: None
) -> None:
    context = browser.new_context(base_url=live.url, java_script_enabled=False, locale="es-CL")
    page = context.new_page()
    try:
        register(page, live)
        page.goto("/cursos/curso-ejemplo/")
        page.get_by_role("button", name="Inscribirme y comenzar").click()
        page.get_by_role("button", name="Marcar como completada").click()
        expect(page.get_by_text("Avance: 50 %").first).to_be_visible()
        page.emulate_media(media="print")
        expect(page.locator(".lesson-aside")).to_be_hidden()
        expect(page.locator(".prose")).to_be_visible()
    finally:
        context.close()
