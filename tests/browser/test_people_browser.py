"""People in bulk through the real UI in Chromium: an admin uploads a CSV, reads the dry run's
errors by row and column, uploads the corrected file, confirms, and the new person chooses a
password from the mailed link. Every page is checked with axe-core."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    Account,
    Axe,
    LiveServer,
    choose_password_from_invitation,
    heading,
    log_in,
    upload_people_csv,
)

pytestmark = pytest.mark.browser

HEADER = "correo;nombre;rut;comuna;cargo\r\n"


def test_admin_imports_people_with_a_dry_run(
    page: Page, live: LiveServer, axe: Axe, tmp_path: Path
) -> None:
    admin = live.create_user("admin", email="admin@muni.cl", full_name="Ana Administradora")
    log_in(page, admin)

    # Excel on a Spanish Windows: Windows-1252 and semicolons; one RUT is wrong.
    bad = tmp_path / "nomina.csv"
    bad.write_bytes(
        (
            HEADER
            + "carla.nunez@muni.cl;Carla Núñez;12.345.678-5;Ñuñoa;Encargada de participación\r\n"
            + "pedro.diaz@muni.cl;Pedro Díaz;11.111.111-2;valparaiso;\r\n"
        ).encode("cp1252")
    )
    upload_people_csv(page, tmp_path / "nomina.csv")
    expect(heading(page)).to_have_text("Revisar la importación de nomina.csv")
    expect(page.get_by_role("alert")).to_contain_text(
        "fila 3, columna «rut»: el dígito verificador del RUT 11.111.111-2 no corresponde."
    )
    expect(page.get_by_role("button", name=re.compile("^Importar"))).to_have_count(0)
    axe(page)

    bad.write_bytes(bad.read_bytes().replace(b"11.111.111-2", b"11.111.111-1"))
    upload_people_csv(page, bad)
    table = page.get_by_role("table", name="Resultado de cada fila")
    expect(table.get_by_role("row")).to_have_count(3)
    expect(table).to_contain_text("Nueva")
    axe(page)
    page.get_by_role("button", name="Importar las 2 filas").click()
    expect(page.get_by_role("status")).to_contain_text("Importación lista: 2 personas nuevas")
    expect(page.get_by_role("table")).to_contain_text("Carla Núñez")
    expect(page.get_by_role("table")).to_contain_text("Ñuñoa")

    # The new person chooses her password from the mailed link, and signs in.
    carla = Account(0, "carla.nunez@muni.cl", "Carla Núñez", "una frase nueva bastante larga")
    page.get_by_role("button", name="Cerrar sesión").click()
    choose_password_from_invitation(page, live, carla, axe)
    page.get_by_label("Correo electrónico").fill("carla.nunez@muni.cl")
    page.get_by_label("Contraseña", exact=True).fill("una frase nueva bastante larga")
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("button", name="Cerrar sesión")).to_be_visible()
