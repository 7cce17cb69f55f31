"""The documented production deployment, for real, on 127.0.0.1: nginx as the load balancer
(with TLS) in front of two web hosts, each an ``academy serve`` process with a folder of its
own, on PostgreSQL and Redis; a learner's and an admin's journeys through nginx land on both,
down to a certificate issued, downloaded and verified.

bench/deployment.py starts it from the files docs/operations.md ships (``docs/deploy/``),
changing only the values an operator changes too, so the documented deployment is the tested
one; the full-journey load test (bench/bench_journey.py) runs on the same harness.

Needs nginx, Redis on 127.0.0.1:6379 and ``ACADEMY_TEST_DATABASE_URL`` (``.ci/run`` provides
all three); ``-m deployment`` selects it, ``-m "not deployment"`` leaves it out.
"""

from __future__ import annotations

import hashlib
import http.cookiejar
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select

from academy import create_app
from academy.auth import services as accounts
from academy.certificates.models import Certificate
from academy.db import utcnow
from academy.extensions import db
from academy.progress.models import Enrolment
from bench import deployment as harness
from bench.deployment import HOSTS
from tests.conftest import PASSWORD, POSTGRES_URL, Mailbox, need, separate_database
from tests.conftest import test_config as seed_config
from tests.sample_academy import (
    CASE,
    CASE_ANSWERS,
    COURSE,
    LESSON,
    QUIZ,
    add_person,
    build_course,
    correct_quiz_form,
)

pytestmark = pytest.mark.deployment

LEARNER = "lucia@muni.cl"
ADMIN = "admin@muni.cl"
INVITED = "invitada@muni.cl"
LIMITED = "limitada@muni.cl"
GRADUATE = "graduada@muni.cl"
SIGNED_IN = 'action="/salir"'  # the "Cerrar sesión" button, on every page of a signed-in visitor
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Visitor:
    """One browser: its own cookies; remembers which host answered each request."""

    base: str
    context: ssl.SSLContext
    answered_by: list[tuple[str, str, int]] = field(default_factory=list)
    pages: list[tuple[str, int, bool]] = field(default_factory=list)
    # Hosts that took a form (other than signing in) and redirected somewhere but /entrar.
    forms_taken: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=self.context),
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            KeepStatus(),
        )
        self.token = ""
        self.body = b""

    def request(self, path: str, data: Any = None) -> tuple[int, str, Any]:
        body, headers = None, {}
        if data is not None:
            # As a browser sends it: Flask-WTF checks the Referer of HTTPS forms.
            headers["Referer"] = self.base + path
            fields = list(data.items()) if isinstance(data, dict) else list(data)
            body = urllib.parse.urlencode([*fields, ("csrf_token", self.token)]).encode()
        try:
            sent = urllib.request.Request(self.base + path, data=body, headers=headers)  # noqa: S310
            response = self.opener.open(sent, timeout=60)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            self.body = response.read()
            status, answer = response.status, response.headers
        # Pages are UTF-8 text; a certificate is a PDF, kept in ``body``.
        text = "" if answer.get_content_type() == "application/pdf" else self.body.decode()
        host = answer.get("X-Academy-Host", "")
        self.answered_by.append((path, host, status))
        self.pages.append((host, status, SIGNED_IN in text))
        location = answer.get("Location", "")
        took = data is not None and status in (302, 303) and path != "/entrar"
        if took and not urllib.parse.urlsplit(location).path.startswith("/entrar"):
            self.forms_taken.append(host)
        found = CSRF.search(text)
        if found:  # the session's token, from whichever host drew the page
            self.token = found[1]
        return status, text, answer

    def get(self, path: str) -> tuple[int, str, Any]:
        return self.request(path)

    def post(self, path: str, data: Any) -> tuple[int, str, Any]:
        return self.request(path, data)

    def sign_in(self, email: str, password: str = PASSWORD) -> int:
        self.get("/entrar")
        return self.post("/entrar", {"email": email, "password": password})[0]

    def hosts(self) -> set[str]:
        return {host for _path, host, _status in self.answered_by}


class KeepStatus(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 302 or 303 is the answer the test looks at


@dataclass
class Deployment:
    base: str
    plain: str
    context: ssl.SSLContext
    seed: Flask
    logs: Path

    def visitor(self) -> Visitor:
        return Visitor(self.base, self.context)


def seed(url: str, smtp_port: int, scratch: Path) -> Flask:
    """Migrate and fill the deployment's database, as `academy init` and the staff would."""
    app = create_app(seed_config(url, smtp_port))
    with app.app_context():
        upgrade()
        build_course(scratch)
        add_person(ADMIN, "admin", enrolled=False)
        add_person(LEARNER)
        add_person(INVITED, enrolled=False)
        add_person(LIMITED)
        graduate = add_person(GRADUATE)
        # Finished the course yesterday, as recorded on the enrolment: waiting for a certificate.
        enrolment = db.session.scalars(select(Enrolment).filter_by(user_id=graduate.id)).one()
        enrolment.completed_at = utcnow() - timedelta(days=1)
        db.session.commit()
        db.session.remove()
    return app


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, smtp_server: tuple[Mailbox, int]
) -> Iterator[Deployment]:
    need(bool(POSTGRES_URL), "the deployment runs on PostgreSQL: set ACADEMY_TEST_DATABASE_URL")
    problem = harness.missing()
    need(problem is None, str(problem))
    work = tmp_path_factory.mktemp("deployment")
    with separate_database("postgresql", "deploy", tmp_path_factory) as url:
        app = seed(url, smtp_server[1], work / "content")
        try:
            with harness.deployed(work, url, smtp_server[1]) as running:
                yield Deployment(running.base, running.plain, running.context, app, running.logs)
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


# The journeys ---------------------------------------------------------------------------------


def hosts_that_knew_the_session(visitor: Visitor) -> set[str]:
    """The hosts that drew a page for the signed-in visitor, or took one of their forms (a
    form needs the session's CSRF token, and these forms a signed-in account)."""
    pages = {host for host, status, signed_in in visitor.pages if status == 200 and signed_in}
    return pages | set(visitor.forms_taken)


def test_a_learners_journey_goes_through_both_hosts(deployment: Deployment) -> None:
    learner = deployment.visitor()
    assert learner.sign_in(LEARNER) == 302
    status, page, _ = learner.get("/mis-cursos")
    assert status == 200 and "curso-ejemplo" in page
    status, page, _ = learner.get(LESSON)
    assert status == 200 and "¿Qué es participar?" in page and SIGNED_IN in page

    # A quiz: started on one host, answered and handed in on whichever comes next.
    assert learner.post(QUIZ + "/intentos", {})[0] == 303
    assert learner.get(QUIZ + "/intentos/1")[0] == 200
    with deployment.seed.app_context():
        answers = correct_quiz_form(LEARNER)
    status, _, headers = learner.post(QUIZ + "/intentos/1", [*answers, ("action", "submit")])
    assert status == 303 and headers["Location"].endswith("/intentos/1/entregar")
    assert learner.get(QUIZ + "/intentos/1/entregar")[0] == 200
    assert learner.post(QUIZ + "/intentos/1/entregar", {})[0] == 303
    status, page, _ = learner.get(QUIZ + "/intentos/1")
    assert status == 200 and "Entregamos tu intento." in page

    # A case: a draft saved, then handed in.
    assert learner.get(CASE)[0] == 200
    assert learner.post(CASE, {**CASE_ANSWERS, "accion": "guardar"})[0] == 302
    status, page, _ = learner.get(CASE)
    assert status == 200 and "Guardamos tu borrador." in page
    status, page, _ = learner.get(CASE + "enviar")
    version = re.search(r'name="version" value="(\d+)"', page)
    assert status == 200 and version, page
    assert learner.post(CASE + "enviar", {"version": version[1]})[0] == 302
    status, page, _ = learner.get(CASE)
    assert status == 200 and "Enviaste tu caso para revisión" in page

    # The session (and its CSRF token) made on one host worked on the other: both drew
    # signed-in pages and took the learner's forms.
    assert hosts_that_knew_the_session(learner) == set(HOSTS), learner.answered_by
    pages = {host for host, status, signed_in in learner.pages if status == 200 and signed_in}
    assert pages == set(HOSTS), learner.answered_by


def test_an_admin_enrols_someone_who_then_finds_the_course(deployment: Deployment) -> None:
    admin = deployment.visitor()
    assert admin.sign_in(ADMIN) == 302
    enrolments = "/admin/cursos/curso-ejemplo/inscripciones"
    assert admin.get(enrolments)[0] == 200
    status, _, headers = admin.post(enrolments, {"emails": INVITED})
    assert status == 302 and headers["Location"].endswith(enrolments)
    status, page, _ = admin.get(enrolments)
    assert status == 200 and "Inscribimos a 1 persona." in page and INVITED in page
    assert hosts_that_knew_the_session(admin) == set(HOSTS), admin.answered_by

    invited = deployment.visitor()
    assert invited.sign_in(INVITED) == 302
    status, page, _ = invited.get("/mis-cursos")
    assert status == 200 and "curso-ejemplo" in page


def test_an_admin_issues_a_certificate_the_learner_downloads_and_anyone_verifies(
    deployment: Deployment,
) -> None:
    with deployment.seed.app_context():
        graduate = accounts.find_by_email(GRADUATE).id  # type: ignore[union-attr]
    admin = deployment.visitor()
    assert admin.sign_in(ADMIN) == 302
    certificates = f"/admin/cursos/{COURSE}/certificados"
    status, page, _ = admin.get(certificates)
    assert status == 200 and "Persona graduada" in page and "Emitir" in page
    status, _, headers = admin.post(certificates + "/emitir", {"user_id": str(graduate)})
    assert status == 303 and headers["Location"].endswith(certificates)
    status, page, _ = admin.get(certificates)
    issued = re.search(r"Certificado ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}) emitido a", page)
    assert status == 200 and issued, page
    assert hosts_that_knew_the_session(admin) == set(HOSTS), admin.answered_by
    with deployment.seed.app_context():
        stored = db.session.scalars(select(Certificate).filter_by(user_id=graduate)).one()
        token, sha256 = stored.token, stored.pdf_sha256
        db.session.remove()

    # The learner finds it in «Mis cursos» and downloads the PDF the admin's host stored.
    learner = deployment.visitor()
    assert learner.sign_in(GRADUATE) == 302
    status, page, _ = learner.get("/mis-cursos")
    link = re.search(r'href="(/mis-cursos/certificados/\d+/pdf)"', page)
    assert status == 200 and link, page
    status, _, headers = learner.get(link[1])
    assert status == 200 and headers.get_content_type() == "application/pdf"
    assert learner.body.startswith(b"%PDF-")
    assert hashlib.sha256(learner.body).hexdigest() == sha256

    # Anyone, without an account: by the code printed on it, and by its QR code's link.
    anyone = deployment.visitor()
    query = urllib.parse.urlencode({"codigo": issued[1]})
    status, page, _ = anyone.get(f"/certificados/verificar?{query}")
    assert status == 200 and "Certificado válido" in page and "Persona graduada" in page
    status, page, _ = anyone.get(f"/certificados/v/{token}")
    assert status == 200 and "Certificado válido" in page and issued[1] in page
    answered = learner.hosts() | anyone.hosts()
    assert answered == set(HOSTS), (learner.answered_by, anyone.answered_by)


def test_failed_sign_ins_are_counted_together_across_hosts(deployment: Deployment) -> None:
    """5 per account per 5 minutes, whichever host each attempt reaches: the counters are in
    Redis. With a counter per host, the sixth attempt would still be let through."""
    visitor = deployment.visitor()
    visitor.get("/entrar")
    wrong = {"email": LIMITED, "password": "no es la contraseña"}
    attempts = [visitor.post("/entrar", wrong)[0] for _ in range(5)]
    assert attempts == [401] * 5
    failed = {host for path, host, status in visitor.answered_by if status == 401}
    assert failed == set(HOSTS), visitor.answered_by
    right = {"email": LIMITED, "password": PASSWORD}
    assert visitor.post("/entrar", right)[0] == 429  # even with the right password, for now


def test_the_load_balancer_serves_health_static_files_and_https_only(
    deployment: Deployment,
) -> None:
    visitor = deployment.visitor()
    status, page, headers = visitor.get("/salud")
    assert status == 200 and '"ratelimit":"ok"' in page.replace(" ", "")
    assert '"database":"ok"' in page.replace(" ", "") and '"queue":"ok"' in page.replace(" ", "")
    assert headers["Strict-Transport-Security"]
    # Static files come from the release's folder, through nginx alone (no host answers).
    status, _, headers = visitor.get("/static/css/academy.css")
    assert status == 200 and "X-Academy-Host" not in headers
    assert "max-age=604800" in headers["Cache-Control"]
    # Plain HTTP only redirects to HTTPS.
    plain = urllib.request.build_opener(KeepStatus())
    redirected = urllib.request.Request(deployment.plain + "/entrar")  # noqa: S310 (http)
    redirected.add_header("Host", "localhost")
    try:
        plain.open(redirected)
    except urllib.error.HTTPError as error:
        with error:
            assert error.code == 301
            assert error.headers["Location"] == "https://localhost/entrar"
    else:
        raise AssertionError("plain HTTP answered without redirecting")
    # Each host wrote its own access log lines: both served.
    for name in HOSTS:
        log = (deployment.logs / f"{name}.log").read_text()
        assert "GET /mis-cursos" in log or "POST /entrar" in log, log


def test_the_hosts_keep_idle_connections_longer_than_nginx() -> None:
    """nginx reuses idle connections to the hosts (upstream keepalive); a host that closed one
    first would have nginx send a request into a closing connection, and answer 502 (seen at
    200 simulated users: gunicorn's default is 2 s, nginx's 60 s)."""
    (command,) = harness.unit_settings(harness.SHIPPED / "academy-web.service")["ExecStart"]
    host = int(re.search(r"--keep-alive (\d+)", command)[1])  # type: ignore[index]
    site = (harness.SHIPPED / "nginx.conf").read_text()
    balancer = int(re.search(r"keepalive_timeout (\d+)s;", site)[1])  # type: ignore[index]
    assert host > balancer
