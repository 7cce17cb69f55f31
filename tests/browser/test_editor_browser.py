"""The course editor in Chromium: live preview, saving, publishing, history, images, no-JS use.

Every editor page visited is checked with axe-core (WCAG 2.x A and AA).
"""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Account, Axe, LiveServer, heading, import_course_folder, log_in

pytestmark = pytest.mark.browser

EDITOR = "/editor/cursos/curso-ejemplo"


@pytest.fixture
def course(live: LiveServer) -> None:
    import_course_folder(live)


@pytest.fixture
def trainer(live: LiveServer, course: None) -> Account:
    return live.create_user("trainer", full_name="Rosa Carrasco")


def test_write_preview_save_publish_and_restore(page: Page, trainer: Account, axe: Axe) -> None:
    log_in(page, trainer)
    nav = page.get_by_role("navigation", name="Principal")
    nav.get_by_role("link", name="Editor de cursos").click()
    expect(heading(page)).to_have_text("Editor de cursos")
    axe(page)

    page.get_by_role("link", name="Curso de ejemplo", exact=True).click()
    expect(heading(page)).to_have_text("Curso de ejemplo")
    axe(page)

    page.get_by_role("link", name="Los niveles de participación", exact=True).click()
    expect(heading(page)).to_have_text("Editar ‘Los niveles de participación’")
    axe(page)

    # Typing updates the preview after a pause, without a page load.
    text = page.get_by_label("Texto de la lección (Markdown)")
    preview = page.locator("#editor-preview")
    expect(preview).to_have_attribute("aria-live", "polite")
    text.fill("## Un enfoque nuevo\n\nLa participación **vinculante** obliga a la autoridad.")
    expect(preview.get_by_role("heading", name="Un enfoque nuevo")).to_be_visible()
    expect(preview.locator("strong")).to_have_text("vinculante")

    # Problems show beside the text, with their line, as the trainer types.
    text.fill("Un párrafo.\n\n![](no-esta.png)")
    problems = page.locator("#editor-body-problems")
    expect(problems).to_contain_text("Línea 3: imagen sin texto alternativo")
    expect(text).to_have_attribute("aria-invalid", "true")
    expect(text).to_have_accessible_description(re.compile("imagen no encontrada"))
    axe(page)
    page.get_by_role("button", name="Guardar borrador").click()
    expect(page.get_by_role("alert")).to_contain_text("No guardamos: hay 2 problemas")
    axe(page)

    text.fill("## Un enfoque nuevo\n\nLa participación **vinculante** obliga a la autoridad.")
    expect(problems).to_be_empty()
    expect(text).to_have_attribute("aria-invalid", "false")
    page.get_by_label("Nota sobre este cambio (opcional)").fill("Nuevo enfoque")
    page.get_by_role("button", name="Guardar borrador").click()
    expect(page.get_by_role("status")).to_contain_text("Guardamos el borrador: revisión 2")
    expect(page.get_by_text("Hay cambios sin publicar")).to_be_visible()
    axe(page)

    page.get_by_role("button", name="Publicar la revisión 2").click()
    expect(page.get_by_role("status")).to_contain_text("Publicamos la revisión 2")
    expect(page.get_by_text("Los participantes ven la última revisión.")).to_be_visible()

    page.get_by_role("link", name="Historial de revisiones").click()
    expect(heading(page)).to_have_text("Historial de ‘Los niveles de participación’")
    expect(page.get_by_role("cell", name="Editor Nuevo enfoque")).to_be_visible()
    axe(page)

    page.get_by_role("link", name="Ver cambios de la revisión 2").click()
    expect(heading(page)).to_have_text("Cambios en ‘Los niveles de participación’")
    expect(page.locator("tr.diff-removed").first).to_contain_text("## El espectro")
    expect(page.locator("tr.diff-added").first).to_contain_text("## Un enfoque nuevo")
    axe(page)

    page.get_by_role("link", name="Historial de ‘Los niveles de participación’").click()
    page.get_by_role("link", name="Revisión 1", exact=True).click()
    expect(heading(page)).to_have_text("Revisión 1 de ‘Los niveles de participación’")
    axe(page)
    page.get_by_role("button", name="Restaurar esta revisión").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Restauramos la revisión 1 como un borrador nuevo, la revisión 3."
    )
    expect(page.get_by_label("Texto de la lección (Markdown)")).to_have_value(
        re.compile("## El espectro")
    )
    axe(page)


def test_course_unit_and_lesson_forms(page: Page, trainer: Account, axe: Axe) -> None:
    log_in(page, trainer)
    page.goto("/editor/")
    page.get_by_role("link", name="Crear un curso").click()
    axe(page)
    page.get_by_role("button", name="Crear el curso").click()
    expect(page.get_by_role("alert")).to_contain_text("Revisa los campos marcados")
    expect(page.get_by_label("Identificador del curso")).to_have_attribute("aria-invalid", "true")
    axe(page)
    page.get_by_label("Identificador del curso").fill("cosoc-basico")
    page.get_by_label("Título del curso").fill("El COSOC en la práctica")
    page.get_by_label("Resumen").fill("Cómo funciona el consejo.")
    page.get_by_label("Horas de estudio").fill("3")
    page.get_by_label("Resultados de aprendizaje").fill("Convocar una sesión.")
    page.get_by_role("button", name="Crear el curso").click()
    expect(page.get_by_role("status")).to_contain_text("Creamos el curso")

    page.get_by_role("link", name="Agregar una unidad").click()
    axe(page)
    page.get_by_label("Identificador de la unidad").fill("sesiones")
    page.get_by_label("Título de la unidad").fill("Las sesiones")
    page.get_by_role("button", name="Crear la unidad").click()
    page.get_by_role("link", name="Agregar una lección a la unidad ‘Las sesiones’").click()
    axe(page)
    page.get_by_label("Identificador de la lección").fill("convocatoria")
    page.get_by_label("Título de la lección").fill("La convocatoria")
    page.get_by_label("Minutos estimados").fill("10")
    page.get_by_role("button", name="Crear la lección").click()
    expect(heading(page)).to_have_text("Editar ‘La convocatoria’")

    page.get_by_role("link", name="Imágenes de la unidad").click()
    axe(page)
    out = BytesIO()
    Image.new("RGB", (30, 20), "blue").save(out, "PNG")
    page.get_by_label("Imagen", exact=True).set_input_files(
        {"name": "Sala.png", "mimeType": "image/png", "buffer": out.getvalue()}
    )
    page.get_by_label("Texto alternativo").fill("Sala del concejo")
    page.get_by_role("button", name="Subir la imagen").click()
    snippet = page.get_by_label("Copia este código")
    expect(snippet).to_have_value("![Sala del concejo](sala.png)")
    expect(page.get_by_role("img", name="Sala del concejo")).to_be_visible()
    axe(page)

    page.get_by_role("link", name="Volver a ‘La convocatoria’").click()
    text = page.get_by_label("Texto de la lección (Markdown)")
    text.fill("Así se ve la sala:\n\n![Sala del concejo](sala.png)")
    preview = page.locator("#editor-preview")
    expect(preview.get_by_role("img", name="Sala del concejo")).to_be_visible()


def test_write_a_case_on_the_web(page: Page, trainer: Account, axe: Axe) -> None:
    log_in(page, trainer)
    page.goto(f"{EDITOR}/unidades/mecanismos/nueva-leccion")
    page.get_by_label("Identificador de la lección").fill("caso-plaza")
    page.get_by_label("Tipo de lección").select_option(label="Caso")
    page.get_by_label("Título de la lección").fill("Caso: la plaza")
    page.get_by_label("Minutos estimados").fill("30")
    page.get_by_role("button", name="Crear la lección").click()
    expect(heading(page)).to_have_text("Editar ‘Caso: la plaza’")
    rubric = page.get_by_label("Consignas y rúbrica")
    expect(rubric).to_have_value(re.compile(r"puntaje_total: 12"))
    axe(page)

    page.get_by_label("Escenario del caso (Markdown)").fill("La plaza del barrio Los Aromos.")
    rubric.fill(rubric.input_value().replace("puntaje_total: 12", "puntaje_total: 10"))
    page.get_by_role("button", name="Guardar borrador").click()
    problems = page.locator("#editor-case-problems")
    expect(problems).to_contain_text("los puntajes no cuadran")
    expect(rubric).to_have_attribute("aria-invalid", "true")
    axe(page)

    rubric.fill(rubric.input_value().replace("puntaje_total: 10", "puntaje_total: 12"))
    page.get_by_role("button", name="Guardar borrador").click()
    expect(page.get_by_role("status")).to_contain_text("Guardamos el borrador: revisión 2")
    page.get_by_role("button", name="Publicar la revisión 2").click()
    expect(page.get_by_role("status")).to_contain_text("Publicamos la revisión 2")


def test_move_and_retire_at_320_pixels(page: Page, trainer: Account, axe: Axe) -> None:
    page.set_viewport_size({"width": 320, "height": 640})
    log_in(page, trainer)
    page.goto(f"{EDITOR}/")
    fits = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    assert page.evaluate(fits)
    axe(page)
    page.get_by_role("button", name="Bajar ‘¿Qué es participar?’").click()
    expect(page.get_by_role("status")).to_contain_text("Bajaste la lección «¿Qué es participar?».")
    lessons = page.locator("#unidad-primeros-pasos .outline-item > div:first-child > a")
    expect(lessons).to_have_text(["Los niveles de participación", "¿Qué es participar?"])

    page.get_by_role("link", name="Retirar ‘Los niveles de participación’").click()
    axe(page)
    page.get_by_role("button", name="Retirar la lección").click()
    expect(page.get_by_role("heading", name="Lecciones retiradas")).to_be_visible()
    expect(lessons).to_have_text(["¿Qué es participar?"])

    page.goto(f"{EDITOR}/lecciones/que-es-participar")
    assert page.evaluate(fits)
    axe(page)


def test_the_editor_works_without_javascript(
    browser: Browser, live: LiveServer, trainer: Account
) -> None:
    context = browser.new_context(base_url=live.url, locale="es-CL", java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, trainer)
        page.goto(f"{EDITOR}/lecciones/niveles")
        page.get_by_label("Texto de la lección (Markdown)").fill("Texto **sin** JavaScript.")
        page.get_by_role("button", name="Vista previa").click()
        expect(page.locator("#editor-preview strong")).to_have_text("sin")
        expect(page.get_by_label("Texto de la lección (Markdown)")).to_have_value(
            "Texto **sin** JavaScript."
        )
        page.get_by_role("button", name="Guardar borrador").click()
        expect(page.get_by_role("status")).to_contain_text("Guardamos el borrador: revisión 2")
    finally:
        context.close()
