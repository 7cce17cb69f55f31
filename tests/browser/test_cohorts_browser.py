"""Cohorts in Chromium: an admin creates a cohort, assigns a trainer and enrols two people
found by a search; the trainer signs in and sees that cohort only, with those two learners.
Every page is audited with axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Axe, LiveServer, heading, import_course_folder, log_in

pytestmark = pytest.mark.browser


def test_an_admin_runs_a_cohort_and_its_trainer_sees_only_it(
    page: Page, live: LiveServer, axe: Axe
) -> None:
    import_course_folder(live)
    admin = live.create_user("admin")
    rita = live.create_user("trainer", email="rita@muni.cl", full_name="Rita Relatora")
    live.create_user("trainer", email="tomas@muni.cl", full_name="Tomás Relator")
    for email, name in (
        ("ana@muni.cl", "Ana Araya"),
        ("bea@muni.cl", "Bea Araya"),
        ("carla@muni.cl", "Carla Soto"),
    ):
        live.create_user("learner", email=email, full_name=name)

    log_in(page, admin)
    page.get_by_role("link", name="Grupos", exact=True).click()
    expect(heading(page)).to_have_text("Grupos")
    axe(page)
    page.get_by_role("link", name="Crear un grupo").click()
    page.get_by_label("Curso").select_option(label="Curso de ejemplo")
    page.get_by_label("Nombre del grupo").fill("Generación marzo")
    page.get_by_label("Fecha de inicio").fill("2027-03-01")
    axe(page)
    page.get_by_role("button", name="Crear grupo").click()
    expect(heading(page)).to_have_text("Generación marzo")
    expect(page.get_by_role("status")).to_contain_text("Creamos el grupo «Generación marzo».")
    axe(page)

    page.get_by_label("Correo del relator o relatora").fill("rita@muni.cl")
    page.get_by_role("button", name="Asignar relator").click()
    expect(page.get_by_role("status")).to_contain_text("Rita Relatora sigue ahora este grupo.")

    page.get_by_role("link", name="Inscribir personas desde una búsqueda").click()
    page.get_by_label("Nombre, correo o RUT").fill("araya")
    page.get_by_role("button", name="Buscar").click()
    expect(page.get_by_text("2 personas encontradas")).to_be_visible()
    axe(page)
    page.get_by_label("Inscribir a Ana Araya").check()
    page.get_by_label("Inscribir a Bea Araya").check()
    page.get_by_role("button", name="Inscribir a las personas marcadas").click()
    expect(page.get_by_role("status")).to_contain_text("Inscribimos a 2 personas en el grupo.")
    expect(page.get_by_text("En este grupo")).to_have_count(2)
    axe(page)

    page.get_by_role("link", name="Generación marzo").click()
    table = page.get_by_role("table", name="Participantes del grupo y su avance")
    expect(table.get_by_role("row")).to_have_count(3)  # the header and two learners
    expect(table).to_contain_text("Ana Araya")
    expect(table).to_contain_text("Bea Araya")
    page.get_by_role("button", name="Cerrar sesión").click()

    log_in(page, rita)
    page.get_by_role("link", name="Mis grupos").click()
    expect(heading(page)).to_have_text("Mis grupos")
    expect(page.get_by_role("link", name="Generación marzo")).to_be_visible()
    axe(page)
    page.get_by_role("link", name="Generación marzo").click()
    table = page.get_by_role("table", name="Participantes del grupo y su avance")
    expect(table).to_contain_text("Ana Araya")
    expect(table).to_contain_text("Bea Araya")
    expect(table).not_to_contain_text("Carla Soto")
    axe(page)
    assert not live.errors
