"""People in bulk through the real UI in Chromium: an admin uploads a CSV, reads the dry run's
errors by row and column, uploads the corrected file, confirms, and the new person chooses a
password from the mailed link. Every page is checked with axe-core."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer, heading, log_in

pytestmark = pytest.mark.browser

Axe = Callable[[Page], None]
HEADER = "correo;nombre;rut;comuna;cargo\r\n"


def upload(page: Page, path: Path) -> None:
    page.goto("/admin/personas/")
    page.get_by_role("link", name="Importar personas desde CSV").click()
    expect(heading(page)).to_have_text("Importar personas desde CSV")
    page.get_by_label("Archivo CSV de personas").set_input_files(str(path))
    page.get_by_role("button", name="Revisar el archivo").click()


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
    upload(page, tmp_path / "nomina.csv")
    expect(heading(page)).to_have_text("Revisar la importación de nomina.csv")
    expect(page.get_by_role("alert")).to_contain_text(
        "fila 3, columna «rut»: el dígito verificador del RUT 11.111.111-2 no corresponde."
    )
    expect(page.get_by_role("button", name=re.compile("^Importar"))).to_have_count(0)
    axe(page)

    bad.write_bytes(bad.read_bytes().replace(b"11.111.111-2", b"11.111.111-1"))
    upload(page, bad)
    table = page.get_by_role("table", name="Resultado de cada fila")
    expect(table.get_by_role("row")).to_have_count(3)
    expect(table).to_contain_text("Nueva")
    axe(page)
    page.get_by_role("button", name="Importar las 2 filas").click()
    expect(page.get_by_role("status")).to_contain_text("Importación lista: 2 personas nuevas")
    expect(page.get_by_role("table")).to_contain_text("Carla Núñez")
    expect(page.get_by_role("table")).to_contain_text("Ñuñoa")

    # The new person chooses her password from the mailed link, and signs in.
    body = live.mailbox.last_to("carla.nunez@muni.cl").get_content()
    link = re.findall(r"https?://\S+/bienvenida/\S+", body)[0]
    page.get_by_role("button", name="Cerrar sesión").click()
    page.goto(link)
    expect(heading(page)).to_have_text("Te damos la bienvenida, Carla Núñez")
    axe(page)
    page.get_by_label("Contraseña", exact=True).fill("una frase nueva bastante larga")
    page.get_by_label("Repite la contraseña").fill("una frase nueva bastante larga")
    page.get_by_role("button", name="Guardar contraseña").click()
    expect(page.get_by_role("status")).to_contain_text("Tu contraseña quedó guardada")
    page.get_by_label("Correo electrónico").fill("carla.nunez@muni.cl")
    page.get_by_label("Contraseña", exact=True).fill("una frase nueva bastante larga")
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("button", name="Cerrar sesión")).to_be_visible()
