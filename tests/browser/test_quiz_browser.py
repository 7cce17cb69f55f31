"""Quizzes in Chromium: a timed attempt with autosave, resume, hand-in and review; the countdown;
a learner without JavaScript; the trainers' statistics, preview and editor.

Every quiz page visited is checked with axe-core (WCAG 2.x A and AA).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select, update

from academy.courses.models import Lesson
from academy.courses.services import get_course
from academy.db import utcnow
from academy.extensions import db
from academy.progress.services import enrol
from academy.quizzes import attempts
from academy.quizzes.models import Attempt
from tests.browser.conftest import Account, Axe, LiveServer, heading, import_course_folder, log_in
from tests.conftest import add_quiz_lesson

pytestmark = pytest.mark.browser

LESSON = "/cursos/curso-ejemplo/lecciones/cuestionario"


@pytest.fixture
def quiz(live: LiveServer) -> None:
    import_course_folder(live, then=add_quiz_lesson)


@pytest.fixture
def learner(live: LiveServer, quiz: None) -> Account:
    account = live.create_user("learner", full_name="Pedro Soto")
    with live.app.app_context():
        enrol(account.id, get_course("curso-ejemplo"))
        db.session.commit()
    return account


@pytest.fixture
def trainer(live: LiveServer, quiz: None) -> Account:
    return live.create_user("trainer", full_name="Rosa Carrasco")


def question(page: Page, title: str):
    return page.get_by_role("group", name=re.compile(re.escape(title)))


def autosaved(page: Page):
    return page.expect_response(lambda r: r.url.endswith("/autoguardado") and r.status == 200)


def set_deadline(live: LiveServer, seconds: float) -> None:
    with live.app.app_context():
        db.session.execute(update(Attempt).values(deadline=utcnow() + timedelta(seconds=seconds)))
        db.session.commit()


def test_a_timed_attempt_saves_resumes_and_is_reviewed(
    page: Page, learner: Account, axe: Axe
) -> None:
    log_in(page, learner)
    page.goto(LESSON)
    panel = page.locator("#cuestionario")
    expect(panel).to_contain_text("Para aprobar necesitas el 60 % de los puntos.")
    expect(panel).to_contain_text("Tiempo: 20 minutos desde que comienzas.")
    axe(page)
    page.get_by_role("button", name="Comenzar intento").click()
    expect(heading(page)).to_have_text("Participación ciudadana en el municipio")
    countdown = page.locator("[data-countdown]")
    expect(countdown).to_have_text(re.compile(r"^(20:00|19:[0-5]\d)$"))
    expect(page.locator("#quiz-announce")).to_have_attribute("aria-live", "polite")
    axe(page)

    status = page.locator("#quiz-status")
    with autosaved(page):
        question(page, "Informar es participar").get_by_label("Falso").check()
    expect(status).to_contain_text("Guardado")
    with autosaved(page):
        question(page, "Sigla del consejo").get_by_label("Tu respuesta").fill("COSOC")
    pairs = question(page, "Empareja cada nivel con su promesa")
    with autosaved(page):
        pairs.get_by_label("Informar").select_option(label="Te mantendremos informado.")
        pairs.get_by_label("Consultar").select_option(
            label="Escucharemos y diremos cómo influyó tu opinión."
        )
        pairs.get_by_label("Empoderar").select_option(label="Implementaremos lo que decidas.")
    expect(status).to_contain_text("Guardado")

    # A closed tab or a dropped connection: the answers are on the server.
    page.reload()
    expect(question(page, "Informar es participar").get_by_label("Falso")).to_be_checked()
    expect(question(page, "Sigla del consejo").get_by_label("Tu respuesta")).to_have_value("COSOC")
    expect(pairs.get_by_label("Consultar")).to_have_value(re.compile(r"^[0-9a-f]{6}"))

    page.get_by_role("button", name="Entregar", exact=True).click()
    expect(heading(page)).to_have_text("¿Entregar el intento 1?")
    expect(page.get_by_text("Respondiste 3 de 8 preguntas.")).to_be_visible()
    axe(page)
    page.get_by_role("button", name="Entregar ahora").click()
    expect(heading(page)).to_have_text("Resultado del intento 1")
    expect(page.get_by_text("Obtuviste 3 de 11 puntos: 27,27 %.")).to_be_visible()
    expect(page.get_by_text("No aprobado: se necesita el 60 %.")).to_be_visible()
    expect(page.locator("#pregunta-1")).to_be_visible()
    axe(page)

    page.get_by_role("link", name="Volver a la lección").first.click()
    expect(page.locator("#cuestionario")).to_contain_text("Usaste 1 de 3 intentos; te quedan 2.")
    expect(page.get_by_role("button", name="Comenzar otro intento")).to_be_visible()
    axe(page)


def test_the_countdown_warns_and_hands_in_at_zero(
    page: Page, live: LiveServer, learner: Account
) -> None:
    log_in(page, learner)
    page.goto(LESSON)
    page.get_by_role("button", name="Comenzar intento").click()
    with autosaved(page):
        question(page, "Informar es participar").get_by_label("Falso").check()
    set_deadline(live, 62)
    page.reload()
    expect(page.locator("#quiz-announce")).to_have_text("Queda 1 minuto para entregar.")
    set_deadline(live, 3)
    page.reload()
    expect(heading(page)).to_have_text("Resultado del intento 1", timeout=15_000)
    expect(page.get_by_role("status").first).to_contain_text(
        "Se acabó el tiempo: entregamos tu intento con tus respuestas."
    )
    expect(page.get_by_text("Obtuviste 1 de 11 puntos")).to_be_visible()


def test_a_learner_without_javascript_saves_and_hands_in(
    browser: Browser, live: LiveServer, learner: Account
) -> None:
    context = browser.new_context(base_url=live.url, locale="es-CL", java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, learner)
        page.goto(LESSON)
        page.get_by_role("button", name="Comenzar intento").click()
        expect(page.locator("[data-countdown-box]")).to_be_hidden()
        expect(page.get_by_text("Debes entregar antes de las")).to_be_visible()
        order = question(page, "Ordena los niveles del espectro")
        for position, item in enumerate(
            ["Informar", "Consultar", "Involucrar", "Colaborar", "Empoderar"], start=1
        ):
            order.get_by_label(item).select_option(str(position))
        page.get_by_role("button", name="Guardar respuestas").click()
        expect(page.get_by_role("status").first).to_contain_text("Guardamos tus respuestas.")
        expect(order.get_by_label("Empoderar")).to_have_value("5")
        page.get_by_role("button", name="Entregar", exact=True).click()
        page.get_by_role("button", name="Entregar ahora").click()
        expect(page.get_by_text("Obtuviste 1 de 11 puntos")).to_be_visible()
    finally:
        context.close()


def finished_attempts(live: LiveServer, count: int) -> None:
    """``count`` learners each hand in an attempt: the first ones right, the rest empty."""
    accounts = [
        live.create_user("learner", email=f"p{n}@muni.cl", full_name=f"Persona {n}")
        for n in range(count)
    ]
    with live.app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "cuestionario"))
        context = attempts.context_for(lesson)
        course = get_course("curso-ejemplo")
        for n, account in enumerate(accounts):
            enrol(account.id, course)
            attempt = attempts.start(account.id, context)
            if n < count // 2:
                raw = {
                    q.key: _raw(q.correct_response())
                    for q, _order in attempts.questions_of(attempt)
                }
                attempts.save_answers(attempt, raw)
            attempts.submit(attempt)
        db.session.commit()


def _raw(response):
    if isinstance(response, dict | list):
        return response
    return [response]


def test_trainers_statistics_preview_and_editor(
    page: Page, live: LiveServer, trainer: Account, axe: Axe
) -> None:
    finished_attempts(live, 6)
    log_in(page, trainer)
    page.goto("/editor/cursos/curso-ejemplo/")
    page.get_by_role("link", name="Estadísticas de ‘Cuestionario de la unidad’").click()
    expect(heading(page)).to_have_text("Estadísticas de ‘Cuestionario de la unidad’")
    expect(page.get_by_text("Intentos entregados", exact=True)).to_be_visible()
    table = page.get_by_role("table", name="Intentos, facilidad y discriminación de cada pregunta")
    expect(table.get_by_role("row")).to_have_count(10)  # heading + 9 questions
    axe(page)

    page.get_by_role("link", name="Vista previa", exact=True).click()
    expect(page.get_by_text("nada de lo que respondas aquí se guarda")).to_be_visible()
    axe(page)
    page.get_by_role("button", name="Calificar la vista previa").click()
    expect(page.get_by_text("Obtuviste 0 de 11 puntos: 0 %.")).to_be_visible()
    axe(page)

    page.goto("/editor/cuestionarios/ejemplo")
    expect(heading(page)).to_have_text("Editar el cuestionario «ejemplo»")
    axe(page)
    source = page.get_by_label("Texto del cuestionario")
    source.fill(source.input_value().replace("tipo: unica", "tipo: otra", 1))
    page.get_by_role("button", name="Guardar borrador").click()
    expect(page.get_by_role("alert")).to_contain_text("No guardamos: hay 1 problema")
    expect(page.locator("#quiz-source-problems")).to_contain_text("Línea 19:")
    axe(page)
