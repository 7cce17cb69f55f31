"""The README's first run in Chromium: a fresh database, ``academy init``, sign in with exactly
what it printed, change the password in «Mi perfil», sign out and in with the new one.

Every page is checked with axe-core (WCAG 2.x A and AA).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser

Axe = Callable[[Page], None]
NEW_PASSWORD = "la frase nueva de la administración"


def printed(output: str, label: str) -> str:
    found = re.search(rf"{label}:\s+(\S+)", output)
    assert found, output
    return found.group(1)


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/entrar")
    expect(page.get_by_role("heading", level=1)).to_have_text("Iniciar sesión")
    page.get_by_label("Correo electrónico").fill(email)
    page.get_by_label("Contraseña", exact=True).fill(password)
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("button", name="Cerrar sesión")).to_be_visible()


def test_first_run_sign_in_with_what_init_printed(
    page: Page, live: LiveServer, axe: Axe, tmp_path: Path
) -> None:
    # ``live`` starts on an empty database; the bundled course is not what this is about.
    live.app.config["CONTENT_DIR"] = str(tmp_path)
    try:
        result = live.app.test_cli_runner().invoke(args=["init"])
    finally:
        live.app.config["CONTENT_DIR"] = str(Path(__file__).resolve().parents[2])
    assert result.exit_code == 0, result.output
    email, password = printed(result.output, "correo"), printed(result.output, "contraseña")

    page.goto("/entrar")
    axe(page)
    sign_in(page, email, password)
    page.goto("/")
    expect(page.get_by_text("Hola, Administración.")).to_be_visible()
    axe(page)

    page.get_by_role("link", name="Mi perfil").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mi perfil")
    expect(page.get_by_label("Correo electrónico")).to_have_value(email)
    axe(page)
    page.get_by_role("link", name="Cambiar mi contraseña").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cambiar contraseña")
    axe(page)
    page.get_by_label("Contraseña actual").fill(password)
    page.get_by_label("Nueva contraseña").fill(NEW_PASSWORD)
    page.get_by_label("Repite la contraseña").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Cambiar contraseña").click()
    expect(page.get_by_role("status")).to_contain_text("Tu contraseña cambió.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mi perfil")
    axe(page)

    page.get_by_role("button", name="Cerrar sesión").click()
    expect(page.get_by_role("status")).to_contain_text("Cerraste tu sesión.")
    axe(page)

    # The printed password no longer opens the account; the new one does.
    page.goto("/entrar")
    page.get_by_label("Correo electrónico").fill(email)
    page.get_by_label("Contraseña", exact=True).fill(password)
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("alert")).to_have_text("El correo o la contraseña no son correctos.")
    axe(page)
    sign_in(page, email, NEW_PASSWORD)
    page.goto("/")
    expect(page.get_by_text("Hola, Administración.")).to_be_visible()
    axe(page)
