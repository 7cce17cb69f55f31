"""Accounts through the real UI in Chromium: registration, sign-in, password reset, admin pages.

Every page visited is checked with axe-core (WCAG 2.x A and AA); the keyboard tests check the
skip link and that registration works without a mouse.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from academy.courses.services import get_course
from academy.progress import services as enrolment_services
from tests.browser.conftest import (
    CONTENT_FIXTURE,
    Account,
    LiveServer,
    activate_from_email,
    import_course_folder,
)

pytestmark = pytest.mark.browser

Axe = Callable[[Page], None]
NEW_PASSWORD = "otra frase bastante larga"


def log_in(page: Page, email: str, password: str) -> None:
    page.goto("/entrar")
    page.get_by_label("Correo electrónico").fill(email)
    page.get_by_label("Contraseña", exact=True).fill(password)
    page.get_by_role("button", name="Entrar").click()


def log_in_as(page: Page, account: Account) -> None:
    log_in(page, account.email, account.password)
    expect_signed_in_as(page, account.full_name)


def expect_signed_in_as(page: Page, full_name: str) -> None:
    # Wherever the sign-in lands, the header offers to sign out and the home page greets.
    expect(page.get_by_role("button", name="Cerrar sesión")).to_be_visible()
    page.goto("/")
    expect(page.get_by_text(f"Hola, {full_name}.")).to_be_visible()


def flash(page: Page) -> Locator:
    return page.get_by_role("status")


def test_register_log_out_and_log_in(page: Page, live: LiveServer, axe: Axe) -> None:
    page.goto("/")
    expect(page).to_have_title(re.compile("^Academia de Capacitación"))
    axe(page)

    page.get_by_role("main").get_by_role("link", name="Crear mi cuenta").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Crear cuenta")
    axe(page)

    # Sent empty: every required field says what is wrong, tied to its input.
    page.get_by_role("button", name="Crear mi cuenta").click()
    expect(page.get_by_role("alert")).to_contain_text("Revisa los campos marcados")
    name = page.get_by_label("Nombre completo")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_accessible_description(re.compile("Este campo es obligatorio"))
    axe(page)

    name.fill("María José Pérez Soto")
    page.get_by_label("Correo electrónico").fill("mjperez@muni.cl")
    page.get_by_label("Comuna").select_option(label="Valparaíso")
    page.get_by_label("Contraseña", exact=True).fill("mi frase secreta del puerto")
    page.get_by_label("Repite la contraseña").fill("mi frase secreta del puerto")
    page.get_by_role("button", name="Crear mi cuenta").click()

    # Nothing says whether the address had an account: the link arrives by email.
    expect(flash(page)).to_contain_text("Te enviamos un correo a mjperez@muni.cl")
    axe(page)
    activate_from_email(page, live, "mjperez@muni.cl", "mi frase secreta del puerto")
    expect(page.get_by_text("Hola, María José Pérez Soto.")).to_be_visible()
    axe(page)

    page.get_by_role("link", name="Mi perfil").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mi perfil")
    expect(page.get_by_label("Correo electrónico")).to_have_value("mjperez@muni.cl")
    expect(page.get_by_label("Comuna")).to_have_value("05101")
    axe(page)

    page.get_by_role("link", name="Cambiar mi contraseña").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cambiar contraseña")
    axe(page)

    page.get_by_role("button", name="Cerrar sesión").click()
    expect(flash(page)).to_contain_text("Cerraste tu sesión.")
    page.get_by_role("navigation", name="Principal").get_by_role(
        "link", name="Iniciar sesión"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Iniciar sesión")
    axe(page)

    page.get_by_label("Correo electrónico").fill("MJPerez@muni.cl ")
    page.get_by_label("Contraseña", exact=True).fill("mi frase secreta del puerto")
    page.get_by_role("button", name="Entrar").click()
    expect_signed_in_as(page, "María José Pérez Soto")


def test_wrong_password_is_refused_accessibly(page: Page, live: LiveServer, axe: Axe) -> None:
    account = live.create_user()
    log_in(page, account.email, "no es la contraseña")
    expect(page.get_by_role("alert")).to_have_text("El correo o la contraseña no son correctos.")
    axe(page)


def test_password_reset_by_email(page: Page, live: LiveServer, axe: Axe) -> None:
    account = live.create_user(email="olvido@muni.cl", full_name="Olga Vidal")

    page.goto("/entrar")
    page.get_by_role("link", name="¿Olvidaste tu contraseña?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recuperar contraseña")
    axe(page)
    page.get_by_label("Correo electrónico").fill(account.email)
    page.get_by_role("button", name="Enviar enlace").click()
    expect(flash(page)).to_contain_text("te enviamos un enlace")
    expect(page.get_by_role("heading", level=1)).to_have_text("Iniciar sesión")

    # The message is in the mailbox by now: the server sent it before it answered.
    message = live.mailbox.last_to(account.email)
    assert message["Subject"] == "Restablece tu contraseña"
    body = message.get_content()
    links = re.findall(r"https?://\S+/recuperar/\S+", body)
    assert len(links) == 1, body
    link = links[0]
    assert link.startswith(live.url + "/recuperar/")

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Elige una contraseña nueva")
    axe(page)
    page.get_by_label("Contraseña", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repite la contraseña").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Guardar contraseña").click()
    expect(flash(page)).to_contain_text("Tu contraseña cambió.")

    log_in_as(page, replace(account, password=NEW_PASSWORD))

    response = page.goto(link)
    assert response is not None
    assert response.status == 400
    expect(page.get_by_role("heading", level=1)).to_have_text("No podemos usar este enlace")
    expect(page.get_by_role("main")).to_contain_text("Este enlace ya se usó.")
    axe(page)


def test_admin_people_pages(page: Page, live: LiveServer, axe: Axe) -> None:
    admin = live.create_user("admin", email="admin@muni.cl", full_name="Ana Administradora")
    live.create_user(email="rodrigo@muni.cl", full_name="Rodrigo Fuentes", rut="123456785")
    log_in_as(page, admin)

    page.get_by_role("navigation", name="Principal").get_by_role("link", name="Personas").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Personas")
    expect(page.get_by_role("table")).to_contain_text("Rodrigo Fuentes")
    axe(page)

    page.get_by_label("Buscar por nombre, correo o RUT").fill("rodrigo")
    page.get_by_role("button", name="Filtrar").click()
    expect(page.get_by_role("table").get_by_role("row")).to_have_count(2)
    page.get_by_role("link", name="Rodrigo Fuentes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rodrigo Fuentes")
    axe(page)

    page.get_by_label("Rol").select_option(label="Relator o relatora")
    page.get_by_role("button", name="Guardar").click()
    expect(flash(page)).to_contain_text("Guardamos los cambios de Rodrigo Fuentes.")
    expect(page.get_by_label("Rol")).to_have_value("trainer")
    axe(page)


def test_not_found_page(page: Page, axe: Axe) -> None:
    response = page.goto("/no-existe")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Página no encontrada")
    axe(page)


def test_login_rate_limit_page(page: Page, live: LiveServer, axe: Axe) -> None:
    account = live.create_user()
    for _attempt in range(5):  # LOGIN_LIMIT_PER_ACCOUNT: 5 failed attempts per 5 minutes
        log_in(page, account.email, "no es la contraseña")
        expect(page.get_by_role("alert")).to_be_visible()
    response = page.goto("/entrar")
    assert response is not None
    assert response.status == 200
    log_in(page, account.email, account.password)
    expect(page.get_by_role("heading", level=1)).to_have_text("Demasiados intentos")
    axe(page)


# Keyboard ---------------------------------------------------------------------------------


# The focused element's focus ring against the colours just outside it, sampled at the middle of
# each side. WCAG 1.4.11 asks 3:1 against adjacent colours; with a two-colour ring (outline plus
# an inner box-shadow, technique C40) one of the two must reach it, and they 3:1 with each other.
FOCUS_RING = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const rgb = colour => colour.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const channel = v => (v /= 255) <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const ratio = (a, b) => (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  const behind = (x, y) => {
    for (const other of document.elementsFromPoint(x, y)) {
      if (el.contains(other)) continue;
      const background = getComputedStyle(other).backgroundColor;
      if (!/^rgba\\(.*, 0\\)$/.test(background)) return [other, rgb(background)];
    }
    return [document.documentElement, [255, 255, 255]];
  };
  const rings = [luminance(rgb(style.outlineColor))];
  const shadow = style.boxShadow.match(/rgba?\\([^)]*\\)/);
  if (shadow) rings.push(luminance(rgb(shadow[0])));
  const box = el.getBoundingClientRect();
  const out = parseFloat(style.outlineOffset) + parseFloat(style.outlineWidth) + 1;
  const [midX, midY] = [box.x + box.width / 2, box.y + box.height / 2];
  const samples = [
    [midX, box.top - out], [midX, box.bottom + out],
    [box.left - out, midY], [box.right + out, midY],
  ].filter(([x, y]) => x >= 0 && y >= 0 && x < innerWidth && y < innerHeight);
  let worst = {contrast: Infinity, next_to: null};
  for (const [x, y] of samples) {
    const [other, background] = behind(x, y);
    const contrast = Math.max(...rings.map(ring => ratio(ring, luminance(background))));
    if (contrast < worst.contrast) {
      worst = {contrast, next_to: other.tagName + "." + other.className};
    }
  }
  return {
    element: el.id || el.tagName.toLowerCase() + ":" + el.textContent.trim().slice(0, 30),
    style: style.outlineStyle,
    width: parseFloat(style.outlineWidth),
    between_colours: rings.length > 1 ? ratio(rings[0], rings[1]) : Infinity,
    ...worst,
  };
}"""


def focused_id(page: Page) -> str:
    """The id of the focused element, after checking that its focus ring can be seen."""
    ring = page.evaluate(FOCUS_RING)
    assert ring["style"] != "none", f"no visible focus on {ring['element']}"
    assert ring["width"] >= 2, f"focus ring too thin on {ring['element']}: {ring}"
    assert ring["contrast"] >= 3, f"focus ring too faint on {ring['element']}: {ring}"
    assert ring["between_colours"] >= 3, f"focus ring colours too close: {ring}"
    return str(page.evaluate("document.activeElement.id"))


def test_skip_link_is_the_first_tab_stop(page: Page) -> None:
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Saltar al contenido")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()
    # The next stop is the first control inside the main content, not the header.
    page.keyboard.press("Tab")
    expect(page.get_by_role("main").get_by_role("link", name="Crear mi cuenta")).to_be_focused()


def test_register_with_the_keyboard_only(page: Page, live: LiveServer) -> None:
    page.goto("/registro")
    for _stop in range(15):
        page.keyboard.press("Tab")
        if focused_id(page) == "full_name":
            break
    expect(page.get_by_label("Nombre completo")).to_be_focused()

    page.keyboard.type("Teclado Sin Ratón")
    order = ["email", "comuna", "job_title", "rut", "password", "password_confirm"]
    typed = {
        "email": "teclado@muni.cl",
        "password": "una frase sin ratón",
        "password_confirm": "una frase sin ratón",
    }
    for field_id in order:
        page.keyboard.press("Tab")
        assert focused_id(page) == field_id
        if field_id == "comuna":
            # A closed select picks the option whose name is typed. ASCII only: Playwright
            # types "í" as an IME insertion, which Chromium sends to the last text field.
            page.keyboard.type("Valpar")
            expect(page.get_by_label("Comuna")).to_have_value("05101")
        elif field_id in typed:
            page.keyboard.type(typed[field_id])
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Crear mi cuenta")).to_be_focused()
    focused_id(page)
    page.keyboard.press("Enter")

    expect(flash(page)).to_contain_text("Te enviamos un correo a teclado@muni.cl")
    activate_from_email(page, live, "teclado@muni.cl", "una frase sin ratón")
    expect(page.get_by_text("Hola, Teclado Sin Ratón.")).to_be_visible()


# Small screens ----------------------------------------------------------------------------

ANONYMOUS_PAGES = ["/", "/entrar", "/registro", "/recuperar", "/no-existe"]
ADMIN_PAGES = ["/", "/perfil", "/perfil/contrasena", "/admin/personas/"]


def assert_no_horizontal_scroll(page: Page, path: str) -> None:
    page.goto(path)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{path} scrolls sideways at 320px: {width}px wide"


def test_no_horizontal_scroll_at_320px(page: Page, live: LiveServer) -> None:
    page.set_viewport_size({"width": 320, "height": 640})
    for path in ANONYMOUS_PAGES:
        assert_no_horizontal_scroll(page, path)
    page.goto("/registro")
    page.get_by_role("button", name="Crear mi cuenta").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320

    admin = live.create_user(
        "admin", email="una.direccion.de.correo.muy.larga@municipalidad-de-ejemplo.cl"
    )
    log_in_as(page, admin)
    for path in [*ADMIN_PAGES, f"/admin/personas/{admin.id}"]:
        assert_no_horizontal_scroll(page, path)


def test_several_people_register_without_a_rut(page: Page, live: LiveServer) -> None:
    # The RUT is optional: the second blank one used to be an error page.
    for n in range(2):
        page.context.clear_cookies()
        page.goto("/registro")
        page.get_by_label("Nombre completo").fill(f"Persona Sin Rut {n}")
        page.get_by_label("Correo electrónico").fill(f"sin.rut.{n}@muni.cl")
        page.get_by_label("Comuna").select_option(label="Valparaíso")
        page.get_by_label("Contraseña", exact=True).fill("mi frase secreta del puerto")
        page.get_by_label("Repite la contraseña").fill("mi frase secreta del puerto")
        page.get_by_role("button", name="Crear mi cuenta").click()
        expect(flash(page)).to_contain_text(f"Te enviamos un correo a sin.rut.{n}@muni.cl")
        activate_from_email(page, live, f"sin.rut.{n}@muni.cl", "mi frase secreta del puerto")

        page.goto("/perfil")
        expect(page.get_by_label("RUT (opcional)")).to_have_value("")
        page.get_by_label("Cargo (opcional)").fill("Encargada de participación")
        page.get_by_role("button", name="Guardar cambios").click()
        expect(flash(page)).to_contain_text("Guardamos los cambios de tu perfil")


def test_tables_that_scroll_take_keyboard_focus_at_375px(page: Page, live: LiveServer, axe: Axe):
    # axe "scrollable-region-focusable": a table wider than a phone scrolls in a box that the
    # keyboard could not reach, so its last columns were out of reach without a mouse.
    admin = live.create_user("admin", email="admin@muni.cl", full_name="Ana Administradora")
    learner = live.create_user(
        email="maria.jose.perez.soto@municipalidad-de-valparaiso.cl",
        full_name="María José Pérez Soto de la Fuente",
    )

    def enrol() -> None:
        course = get_course("curso-ejemplo")
        assert course is not None
        enrolment_services.enrol(learner.id, course)

    import_course_folder(live, then=enrol)
    page.set_viewport_size({"width": 375, "height": 740})
    log_in_as(page, admin)

    for path, name in [
        ("/admin/cursos/curso-ejemplo/inscripciones", "1 persona inscrita"),
        ("/admin/personas/", "Personas registradas"),
    ]:
        page.goto(path)
        region = page.get_by_role("region", name=name)
        expect(region).to_contain_text("María José Pérez Soto de la Fuente")
        assert region.evaluate("box => box.scrollWidth > box.clientWidth"), "does not scroll"
        axe(page)
        region.focus()
        expect(region).to_be_focused()
        page.keyboard.press("ArrowRight")  # scrolls smoothly: wait for it to move
        page.wait_for_function("box => box.scrollLeft > 0", arg=region.element_handle())


def test_a_wide_code_block_wraps_instead_of_scrolling_out_of_reach(
    page: Page, live: LiveServer, axe: Axe, tmp_path: Path
) -> None:
    # A code block wider than a phone scrolled in a box the keyboard could not reach (axe
    # "scrollable-region-focusable"); it now wraps, so there is nothing to scroll.
    root = tmp_path / "curso-ejemplo"
    shutil.copytree(CONTENT_FIXTURE / "courses/curso-ejemplo", root)
    lesson = root / "01-primeros-pasos/02-niveles.md"
    command = "    academy content import courses/participacion-ciudadana " + "--draft " * 30
    text = lesson.read_text("utf-8") + "\nPara importar:\n\n" + command + "\n"
    lesson.write_text(text, "utf-8")
    import_course_folder(live, root)
    trainer = live.create_user("trainer")
    page.set_viewport_size({"width": 375, "height": 740})
    log_in_as(page, trainer)
    page.goto("/cursos/curso-ejemplo/lecciones/niveles")
    code = page.locator(".prose pre")
    expect(code).to_contain_text("academy content import")
    assert code.evaluate("box => box.scrollWidth <= box.clientWidth"), "the code block scrolls"
    axe(page)
