"""Case exercises in Chromium: a learner drafts (saved as they type), leaves, comes back and
submits; a trainer returns it with the rubric; the learner revises and resubmits; the trainer
approves; the lesson and the course progress show it. Every page visited is checked with axe.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from academy.courses.services import get_course
from academy.extensions import db
from academy.progress import cohorts as progress_cohorts
from academy.progress.services import enrol
from tests.browser.conftest import Account, Axe, LiveServer, heading, import_course_folder, log_in
from tests.conftest import CONTENT_FIXTURE

pytestmark = pytest.mark.browser

LESSON = "/cursos/curso-ejemplo/lecciones/caso-plaza"
WORK = "/cursos/curso-ejemplo/casos/caso-plaza/"
TITLE = "Caso: la plaza del barrio Los Aromos"
FIRST = (
    "Usaría el nivel consultar, porque el presupuesto y el plazo ya están fijados y los vecinos "
    "pueden opinar sobre el diseño, pero la decisión final es del municipio."
)
SECOND = (
    "Primero, convocaría con afiches en la feria, mensajes por radio comunitaria y visitas a la "
    "junta de vecinos. Después, haría dos talleres con planos de la plaza."
)
REVISED = SECOND + (
    " Al final, publicaría en la sede y en redes un resumen de qué opiniones se incorporaron al "
    "diseño y por qué, dentro de un mes."
)


@pytest.fixture
def course(live: LiveServer, tmp_path: Path) -> None:
    root = tmp_path / "curso-ejemplo"
    shutil.copytree(CONTENT_FIXTURE / "courses/curso-ejemplo", root)
    shutil.copy(CONTENT_FIXTURE / "casos/03-caso-plaza.md", root / "02-mecanismos/03-caso-plaza.md")
    import_course_folder(live, root)


@pytest.fixture
def learner(live: LiveServer, course: None) -> Account:
    account = live.create_user("learner", full_name="Camila Rojas")
    with live.app.app_context():
        found = get_course("curso-ejemplo")
        assert found is not None
        enrol(account.id, found)
        db.session.commit()
    return account


@pytest.fixture
def trainer(live: LiveServer, course: None) -> Account:
    account = live.create_user("trainer", full_name="Rosa Carrasco")
    with live.app.app_context():
        found = get_course("curso-ejemplo")
        assert found is not None
        progress_cohorts.add_course_trainer(found, account.email)
        db.session.commit()
    return account


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Cerrar sesión").click()
    expect(page.get_by_role("link", name="Iniciar sesión")).to_be_visible()


def flashes(page: Page):
    return page.locator(".flashes")


def hand_in(page: Page, axe: Axe | None = None) -> None:
    page.get_by_role("button", name="Enviar para revisión").click()
    expect(heading(page)).to_have_text("Enviar el caso para revisión")
    if axe:
        axe(page)
    page.get_by_role("button", name="Sí, enviar para revisión").click()
    expect(flashes(page)).to_contain_text("Enviaste tu caso para revisión")


def choose(page: Page, criterion: str, level: str) -> None:
    page.get_by_role("group", name=criterion).get_by_label(level).check()


def test_draft_submit_return_revise_approve(
    page: Page, live: LiveServer, learner: Account, trainer: Account, axe: Axe
) -> None:
    # The learner reads the case and starts answering; drafts save themselves.
    log_in(page, learner)
    page.goto(LESSON)
    expect(heading(page)).to_have_text(TITLE)
    expect(page.get_by_role("heading", name="Tu trabajo en este caso")).to_be_visible()
    axe(page)
    page.get_by_role("link", name="Responder el caso").click()
    expect(heading(page)).to_have_text(TITLE)
    expect(page.get_by_text("Entre 20 y 300 palabras.")).to_be_visible()
    axe(page)

    first = page.get_by_label("Tu respuesta a la consigna 1")
    first.fill("Elegiría consultar a los vecinos")
    expect(page.locator("#respuesta-1-contador")).to_contain_text("5 palabras")
    counter = page.locator("#respuesta-1-contador")
    expect(counter).to_contain_text("Palabras que faltan para el mínimo: 15")
    status = page.locator("#case-save-status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_contain_text("Borrador guardado a las")
    axe(page)

    # Leaves, comes back: the draft is there.
    page.get_by_role("navigation", name="Principal").get_by_role("link", name="Mis cursos").click()
    page.goto(LESSON)
    expect(page.get_by_text("Borrador", exact=True)).to_be_visible()
    page.get_by_role("link", name="Seguir con tu borrador").click()
    expect(first).to_have_value("Elegiría consultar a los vecinos")

    first.fill(FIRST)
    page.get_by_label("Tu respuesta a la consigna 2").fill(SECOND)
    expect(page.locator("#respuesta-2-contador")).to_contain_text("27 palabras")
    hand_in(page, axe)
    expect(page.locator(".case-state")).to_contain_text("Enviado")
    axe(page)
    page.goto("/cursos/curso-ejemplo/")
    expect(page.locator("#left-title + ul li", has_text=TITLE)).to_contain_text(
        "Esperando revisión"
    )
    log_out(page)

    # The trainer finds it in the queue, reviews it with the rubric and returns it.
    log_in(page, trainer)
    page.get_by_role("navigation", name="Principal").get_by_role("link", name="Revisiones").click()
    expect(heading(page)).to_have_text("Casos por revisar")
    expect(page.get_by_role("cell", name=re.compile("hace"))).to_be_visible()
    axe(page)
    page.get_by_role("link", name=re.compile("Camila Rojas")).click()
    expect(heading(page)).to_have_text(f"Revisar: {TITLE}")
    # Opening the page takes nothing: the trainer takes the review with its button.
    expect(page.locator(".case-state")).to_contain_text("Enviado")
    axe(page)
    page.get_by_role("button", name="Tomar la revisión").click()
    expect(flashes(page)).to_contain_text("Tomaste esta revisión")
    expect(page.locator(".case-state")).to_contain_text("En revisión")
    expect(page.get_by_text(FIRST)).to_be_visible()
    axe(page)
    page.set_viewport_size({"width": 320, "height": 640})  # stacked on a phone
    fits = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    assert page.evaluate(fits)
    page.set_viewport_size({"width": 1280, "height": 800})

    points = page.locator("#rubric-points")
    expect(points).to_have_text("0")
    choose(page, "Criterio 1: Nivel de participación", "Logrado · 4 puntos")
    expect(points).to_have_text("4")
    choose(page, "Criterio 2: Convocatoria inclusiva", "En desarrollo · 2 puntos")
    choose(page, "Criterio 3: Devolución", "Insuficiente · 0 puntos")
    expect(points).to_have_text("6")
    page.get_by_role("group", name="Criterio 3: Devolución").get_by_label(
        "Comentario sobre este criterio (opcional)"
    ).fill("No dices cómo contarás a los vecinos qué se hizo.")
    page.get_by_label("Comentarios generales para la persona").fill("Buen comienzo; corrige 3.")
    page.get_by_role("button", name="Devolver para corregir").click()
    expect(flashes(page)).to_contain_text("Devolviste el caso a Camila Rojas para que lo corrija.")
    log_out(page)

    # The learner sees the review on "Mis cursos", revises and resubmits.
    log_in(page, learner)
    page.goto("/mis-cursos")
    recent = page.get_by_role("region", name="Revisiones recientes")
    expect(recent).to_contain_text("Devuelto para corregir")
    axe(page)
    recent.get_by_role("link", name=TITLE).click()
    expect(heading(page)).to_have_text(f"Envío n.º 1: {TITLE}")
    expect(page.get_by_text("Puntaje: 6 de 12")).to_be_visible()
    expect(page.get_by_text("No dices cómo contarás a los vecinos qué se hizo.")).to_be_visible()
    axe(page)
    page.get_by_role("link", name="Corregir y volver a enviar").click()
    expect(page.get_by_text("Tu relator te devolvió el caso")).to_be_visible()
    axe(page)
    second = page.get_by_label("Tu respuesta a la consigna 2")
    expect(second).to_have_value(SECOND)
    second.fill(REVISED)
    expect(page.locator("#case-save-status")).to_contain_text("Borrador guardado a las")
    hand_in(page)
    expect(page.get_by_role("cell", name="Envío n.º 1")).to_be_visible()
    expect(page.get_by_role("cell", name="Envío n.º 2")).to_be_visible()
    page.goto("/mis-cursos")
    expect(page.get_by_role("region", name="Revisiones recientes")).to_have_count(0)
    log_out(page)

    # The trainer approves the second submission.
    log_in(page, trainer)
    page.goto("/revision/")
    page.get_by_role("link", name=re.compile("Camila Rojas")).click()
    expect(page.get_by_text("Otros envíos de esta persona")).to_be_visible()
    for criterion in (
        "Criterio 1: Nivel de participación",
        "Criterio 2: Convocatoria inclusiva",
        "Criterio 3: Devolución",
    ):
        choose(page, criterion, "Logrado · 4 puntos")
    expect(page.locator("#rubric-points")).to_have_text("12")
    page.get_by_role("button", name="Aprobar").click()
    expect(flashes(page)).to_contain_text("Aprobaste el caso de Camila Rojas con 12 de 12 puntos.")
    axe(page)
    log_out(page)

    # The lesson and the course show it done.
    log_in(page, learner)
    page.goto(LESSON)
    outline = page.get_by_role("navigation", name="Contenido del curso")
    expect(outline.locator("li", has_text=TITLE)).to_contain_text("Completada")
    expect(page.get_by_role("link", name="Ver el resultado")).to_be_visible()
    expect(page.get_by_text("Avance: 33 %")).to_be_visible()
    page.goto("/cursos/curso-ejemplo/")
    expect(page.locator("#left-title + ul li", has_text=TITLE)).to_contain_text("Completada")
    axe(page)
    page.goto(WORK)
    expect(page.get_by_text("¡Tu caso fue aprobado!")).to_be_visible()
    expect(page.get_by_text("Puntaje: 12 de 12")).to_be_visible()
    axe(page)

    sent = [m for m in live.mailbox.messages if m["To"] == learner.email]
    assert len(sent) == 2
    assert "te lo devolvió para que lo corrijas" in sent[0].get_content()
    assert "Un relator aprobó tu caso" in sent[1].get_content()


def test_a_stale_review_is_refused_and_nothing_typed_is_lost(
    browser: Browser, page: Page, live: LiveServer, learner: Account, trainer: Account, axe: Axe
) -> None:
    other = live.create_user("trainer", email="otro@muni.cl", full_name="Tomás Vidal")
    with live.app.app_context():
        found = get_course("curso-ejemplo")
        assert found is not None
        progress_cohorts.add_course_trainer(found, other.email)
        db.session.commit()
    log_in(page, learner)
    page.goto(WORK)
    page.get_by_label("Tu respuesta a la consigna 1").fill(FIRST)
    page.get_by_label("Tu respuesta a la consigna 2").fill(SECOND)
    hand_in(page)
    log_out(page)

    log_in(page, trainer)
    page.goto("/revision/")
    page.get_by_role("link", name=re.compile("Camila Rojas")).click()
    review_url = page.url
    context = browser.new_context(base_url=live.url, locale="es-CL")
    rival = context.new_page()
    try:
        log_in(rival, other)
        rival.goto(review_url)
        for criterion in (
            "Criterio 1: Nivel de participación",
            "Criterio 2: Convocatoria inclusiva",
            "Criterio 3: Devolución",
        ):
            choose(rival, criterion, "Logrado · 4 puntos")
        rival.get_by_label("Comentarios generales para la persona").fill("Excelente.")
        rival.get_by_role("button", name="Aprobar").click()
        expect(flashes(rival)).to_contain_text("Aprobaste el caso")
    finally:
        context.close()

    for criterion in (
        "Criterio 1: Nivel de participación",
        "Criterio 2: Convocatoria inclusiva",
        "Criterio 3: Devolución",
    ):
        choose(page, criterion, "Insuficiente · 0 puntos")
    typed = "Un comentario largo que escribí con cuidado."
    page.get_by_label("Comentarios generales para la persona").fill(typed)
    page.get_by_role("button", name="Devolver para corregir").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Tomás Vidal guardó una revisión de este envío mientras tú revisabas."
    )
    expect(page.get_by_role("heading", name="Revisión guardada")).to_be_visible()
    expect(page.get_by_text("Excelente.")).to_be_visible()
    expect(page.get_by_label("Tus comentarios generales")).to_have_value(typed)
    axe(page)


def test_a_case_works_without_javascript(
    browser: Browser, live: LiveServer, learner: Account
) -> None:
    context = browser.new_context(base_url=live.url, locale="es-CL", java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, learner)
        page.goto(WORK)
        answer = page.get_by_label("Tu respuesta a la consigna 1")
        answer.fill("Una idea para empezar.")
        page.get_by_role("button", name="Guardar borrador").click()
        expect(flashes(page)).to_contain_text("Guardamos tu borrador.")
        expect(answer).to_have_value("Una idea para empezar.")
        expect(page.locator("#respuesta-1-contador")).to_have_text("4 palabras")
        too_long = " ".join(["palabra"] * 301)
        answer.fill(too_long)
        page.get_by_role("button", name="Guardar borrador").click()
        expect(page.get_by_role("alert")).to_contain_text("No guardamos el borrador")
        expect(page.locator("#respuesta-1-error")).to_have_text(
            "Tiene 301 palabras; el máximo es 300."
        )
        expect(answer).to_have_value(too_long)  # nothing lost
        page.goto(WORK)
        expect(answer).to_have_value("Una idea para empezar.")
    finally:
        context.close()
