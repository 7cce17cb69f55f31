"""Browser fixtures: a live server on its own database, Chromium through Playwright, axe-core.

- ``live_server`` (session, one per backend like ``app``): a separate application served by
  Werkzeug in a thread, with real CSRF and real SMTP to the test mailbox. It never shares the
  ``app`` fixture's database: SQLite in a temporary file, or ``<test db>_live`` on PostgreSQL.
- ``live`` (per test): the same server with its database emptied, rate-limit counters reset and
  the mailbox cleared; it fails the test if the application raised while serving it.
- ``browser`` (session) and ``page`` (per test, a fresh context in Spanish, ``base_url`` set).
- ``axe``: ``axe(page)`` runs axe-core's WCAG 2.x A/AA rules and fails on any violation.
- Helpers the test files share: :func:`import_course_folder`, :func:`log_in`, :func:`heading`,
  :func:`activate_from_email`, :func:`upload_people_csv`, :func:`choose_password_from_invitation`,
  :func:`add_certificate`.

Browser tests must not request ``app``: that fixture's per-test transaction would not be seen by
the server thread.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import axe_playwright_python
import pytest
from flask import Flask
from flask_migrate import upgrade
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
from sqlalchemy import inspect, text
from werkzeug.serving import BaseWSGIServer, make_server

from academy import create_app
from academy.auth import services as accounts
from academy.auth.models import Role, User
from academy.certificates import codes
from academy.certificates.models import Certificate
from academy.courses.content import load_course
from academy.courses.services import get_course, import_course
from academy.db import utcnow
from academy.extensions import db, limiter
from tests.conftest import (
    BACKENDS,
    CONTENT_FIXTURE,
    PASSWORD,
    Mailbox,
    separate_database,
    test_config,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_SCRIPT = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text("utf-8")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    full_name: str
    password: str


@dataclass
class LiveServer:
    app: Flask
    url: str
    mailbox: Mailbox
    errors: list[str] = field(default_factory=list)

    def create_user(
        self, role: str = "learner", password: str = PASSWORD, **fields: Any
    ) -> Account:
        """Create an account straight in the live database (committed, visible to the server)."""
        fields.setdefault("email", f"{role}@muni.cl")
        fields.setdefault("full_name", f"Persona {role.capitalize()}")
        fields.setdefault("comuna_cut", "13101")
        with self.app.app_context():
            user = accounts.create_user(password=password, role=Role(role), **fields)
            db.session.commit()
            return Account(user.id, user.email, user.full_name, password)

    def wipe(self) -> None:
        """Empty every table the migrations created, children before parents.

        The append-only audit table's triggers refuse DELETE (audit_events): they are
        set aside for the wipe, on PostgreSQL for this transaction only, on SQLite dropped and
        created again from their own SQL."""
        with self.app.app_context():
            existing = set(inspect(db.engine).get_table_names())
            sqlite_triggers: list[str] = []
            if db.engine.dialect.name == "postgresql":
                db.session.execute(text("SET LOCAL session_replication_role = replica"))
            else:
                rows = db.session.execute(
                    text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
                ).all()
                for name, sql in rows:
                    db.session.execute(text(f'DROP TRIGGER "{name}"'))
                    sqlite_triggers.append(sql)
            for table in reversed(db.metadata.sorted_tables):
                if table.name in existing:
                    db.session.execute(table.delete())
            for sql in sqlite_triggers:
                db.session.execute(text(sql))
            db.session.commit()


def serving(app: Flask, errors: list[str]) -> Callable[..., Any]:
    """The app as the live server runs it: exceptions recorded, each body read and closed.

    Exceptions escape the app because TESTING propagates them; the test fails on them. The body
    is buffered because Werkzeug's development server skips ``close()`` on the response when the
    browser drops the connection (a favicon request cut short by the next navigation), which
    leaves the static file open and turns into a ResourceWarning, an error under
    ``filterwarnings = error``.
    """

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        try:
            response = app(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                if hasattr(response, "close"):
                    response.close()
        except Exception:
            errors.append(f"{environ.get('PATH_INFO')}: {traceback.format_exc()}")
            raise

    return wsgi


@pytest.fixture(scope="session", params=BACKENDS)
def live_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    smtp_server: tuple[Mailbox, int],
) -> Iterator[LiveServer]:
    mailbox, smtp_port = smtp_server
    with separate_database(request.param, "live", tmp_path_factory) as url:
        app = create_app(test_config(url, smtp_port, WTF_CSRF_ENABLED=True))
        with app.app_context():
            upgrade()
        errors: list[str] = []
        server: BaseWSGIServer = make_server("127.0.0.1", 0, serving(app, errors), threaded=True)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        address = f"http://127.0.0.1:{server.server_port}"
        app.config["BASE_URL"] = address  # links in emails lead back to this server
        try:
            yield LiveServer(app, address, mailbox, errors)
        finally:
            server.shutdown()
            thread.join(timeout=10)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.fixture
def live(live_server: LiveServer) -> Iterator[LiveServer]:
    live_server.wipe()
    live_server.mailbox.messages.clear()
    live_server.errors.clear()
    # The limiter object is shared by every app in this process; start each test afresh.
    limiter.reset()
    yield live_server
    assert not live_server.errors, "the server raised:\n" + "\n".join(live_server.errors)


@pytest.fixture
def live_app(live: LiveServer) -> Flask:
    return live.app


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        reason = f"Chromium is not installed at {CHROMIUM} (Debian package 'chromium')"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"{reason}; CI must run the browser tests.", pytrace=False)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, live: LiveServer) -> Iterator[Page]:
    context = browser.new_context(base_url=live.url, locale="es-CL", timezone_id="America/Santiago")
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    # Anything the page needs and cannot get (a CSS file, a script blocked by the CSP) is a bug.
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    tab.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}")
            if message.type == "error" and "Failed to load resource" not in message.text
            else None
        ),
    )
    tab.on(
        "response",
        lambda response: (
            problems.append(f"{response.status} for {response.url}")
            if response.status >= 400 and response.request.resource_type != "document"
            else None
        ),
    )
    yield tab
    context.close()
    assert not problems, "\n".join(problems)


def format_violations(url: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"axe found {len(violations)} violation(s) on {url}:"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"]:
            lines.append(f"    {json.dumps(node['target'])}: {node['failureSummary']}")
    return "\n".join(lines)


# axe only lists a reference to a missing id as "needs review"; for us it is always a bug.
BROKEN_ID_REFERENCES = """() => {
  const names = [
    "aria-describedby", "aria-labelledby", "aria-controls", "aria-errormessage", "for",
  ];
  const broken = [];
  for (const el of document.querySelectorAll(names.map(name => `[${name}]`).join(","))) {
    for (const name of names) {
      for (const id of (el.getAttribute(name) || "").split(/\\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) broken.push(`${el.outerHTML.slice(0, 80)}: ${name}`);
      }
    }
  }
  return broken;
}"""


def check_accessibility(page: Page) -> None:
    page.wait_for_load_state("load")
    broken = page.evaluate(BROKEN_ID_REFERENCES)
    assert not broken, f"references to missing ids on {page.url}:\n" + "\n".join(broken)
    if not page.evaluate("typeof window.axe === 'object'"):
        # Evaluated over the DevTools protocol, so the page's CSP does not block it.
        page.evaluate(AXE_SCRIPT)
    results = page.evaluate(
        "options => axe.run(document, options)",
        {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]},
    )
    violations = results["violations"]
    assert not violations, format_violations(page.url, violations)


@pytest.fixture
def axe() -> Axe:
    return check_accessibility


Axe = Callable[[Page], None]


# Helpers the test files share ------------------------------------------------------------------


def import_course_folder(
    live: LiveServer,
    root: Path = CONTENT_FIXTURE / "courses/curso-ejemplo",
    then: Callable[[], object] | None = None,
) -> None:
    """Import a course folder into the live server's database (the example course by default);
    ``then`` adds to it in the same transaction."""
    with live.app.app_context():
        source, problems = load_course(root)
        assert source is not None and not problems, problems
        import_course(source)
        if then is not None:
            then()
        db.session.commit()


def add_certificate(live: LiveServer, user_id: int, course_slug: str = "curso-ejemplo") -> None:
    """A valid certificate of the course for the learner, as issuing leaves it but with a
    stand-in PDF (reports count certificates; rendering one is another test's business)."""
    with live.app.app_context():
        course = get_course(course_slug)
        user = db.session.get(User, user_id)
        assert course is not None and user is not None
        db.session.add(
            Certificate(
                code=codes.generate(),
                token=secrets.token_urlsafe(16),
                user_id=user.id,
                course_id=course.id,
                course_version="v1",
                course_revisions={},
                template="default",
                full_name=user.full_name,
                course_title=course.title,
                hours=course.hours,
                completed_at=utcnow(),
                pdf=b"%PDF",
                pdf_sha256="0" * 64,
            )
        )
        db.session.commit()


def log_in(page: Page, account: Account) -> None:
    page.goto("/entrar")
    page.get_by_label("Correo electrónico").fill(account.email)
    page.get_by_label("Contraseña", exact=True).fill(account.password)
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("button", name="Cerrar sesión")).to_be_visible()


def activate_from_email(page: Page, live: LiveServer, email: str, password: str) -> None:
    """Registration mails a link; opening it and giving the password activates the account
    and signs in."""
    body = live.mailbox.last_to(email).get_content()
    links = re.findall(r"https?://\S+/registro/activar/\S+", body)
    assert len(links) == 1, body
    page.goto(links[0])
    expect(page.get_by_role("heading", level=1)).to_have_text("Activa tu cuenta")
    page.get_by_label("Contraseña", exact=True).fill(password)
    page.get_by_role("button", name="Activar mi cuenta").click()
    expect(page.get_by_role("status")).to_contain_text("Tu cuenta está lista")


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def upload_people_csv(page: Page, path: Path) -> None:
    """Personas → "Importar personas desde CSV": send the file; the dry run comes next."""
    page.goto("/admin/personas/")
    page.get_by_role("link", name="Importar personas desde CSV").click()
    expect(heading(page)).to_have_text("Importar personas desde CSV")
    page.get_by_label("Archivo CSV de personas").set_input_files(str(path))
    page.get_by_role("button", name="Revisar el archivo").click()


def choose_password_from_invitation(
    page: Page,
    live: LiveServer,
    account: Account,
    axe: Callable[[Page], None] | None = None,
) -> None:
    """An imported person opens the invitation they were mailed and chooses
    ``account.password``; the sign-in form comes next. ``axe`` checks the welcome page."""
    body = live.mailbox.last_to(account.email).get_content()
    links = re.findall(r"https?://\S+/bienvenida/\S+", body)
    assert len(links) == 1, body
    page.goto(links[0])
    expect(heading(page)).to_have_text(f"Te damos la bienvenida, {account.full_name}")
    if axe is not None:
        axe(page)
    page.get_by_label("Contraseña", exact=True).fill(account.password)
    page.get_by_label("Repite la contraseña").fill(account.password)
    page.get_by_role("button", name="Guardar contraseña").click()
    expect(page.get_by_role("status")).to_contain_text("Tu contraseña quedó guardada")
