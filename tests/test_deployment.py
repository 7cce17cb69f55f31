"""The documented production deployment, for real, on 127.0.0.1: nginx as the load balancer
(with TLS) in front of two web hosts, each an ``academy serve`` process with a folder of its
own, on PostgreSQL and Redis; a learner's and an admin's journeys through nginx land on both.

The configuration comes from the files docs/operations.md ships (``docs/deploy/``): nginx's
site, the web unit's ``ExecStart`` and ``Environment``, and the environment file. Only the
values an operator changes too (addresses, ports, paths, passwords) are replaced, and each must
still be in its file, so the documented deployment is the tested one.

Needs nginx, Redis on 127.0.0.1:6379 and ``ACADEMY_TEST_DATABASE_URL`` (``.ci/run`` provides
all three); ``-m deployment`` selects it, ``-m "not deployment"`` leaves it out.
"""

from __future__ import annotations

import http.cookiejar
import os
import pwd
import re
import secrets
import shlex
import shutil
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade

from academy import create_app
from academy.extensions import db
from tests.conftest import PASSWORD, POSTGRES_URL, Mailbox, free_port, separate_database
from tests.conftest import test_config as seed_config
from tests.sample_academy import (
    CASE,
    CASE_ANSWERS,
    LESSON,
    QUIZ,
    add_person,
    build_course,
    correct_quiz_form,
)
from tests.test_health import require_redis

pytestmark = pytest.mark.deployment

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "docs/deploy"
HOSTS = ("web1", "web2")
LEARNER = "lucia@muni.cl"
ADMIN = "admin@muni.cl"
INVITED = "invitada@muni.cl"
LIMITED = "limitada@muni.cl"
SIGNED_IN = 'action="/salir"'  # the "Cerrar sesión" button, on every page of a signed-in visitor
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def need(condition: bool, message: str) -> None:
    """A missing service is a skip on a developer's machine and an error in CI."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def render(text: str, replacements: dict[str, str], source: str) -> str:
    """``text`` with each value replaced; each must be there, or the docs and this test no
    longer describe the same deployment."""
    for old, new in replacements.items():
        assert old in text, f"{source} no longer has {old!r}: update this test and the docs"
        text = text.replace(old, new)
    return text


def environment_file(text: str) -> dict[str, str]:
    """KEY=VALUE lines, as systemd's EnvironmentFile= reads them (comments and blanks out)."""
    values = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def unit_settings(path: Path) -> dict[str, list[str]]:
    """The [Service] settings of a systemd unit, each with every value it was given."""
    settings: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


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
            text = response.read().decode()
            status, answer = response.status, response.headers
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


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path, **kwargs: Any) -> None:
    request = urllib.request.Request(url, headers={"Host": "localhost"})  # noqa: S310
    for _ in range(300):
        if process.poll() is not None:
            raise AssertionError(f"{process.args[0]} stopped:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(request, timeout=5, **kwargs) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer:\n{log.read_text()}")


def self_signed_certificate(folder: Path, name: str, *extra: str) -> tuple[Path, Path]:
    """A key and its self-signed certificate, both PEM, for ``CN=name``."""
    openssl = shutil.which("openssl")
    need(openssl is not None, "openssl is not installed (Debian package openssl)")
    certificate, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(
        [str(openssl), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", f"/CN={name}", *extra, "-keyout", str(key), "-out", str(certificate)],
        check=True, capture_output=True,
    )  # fmt: skip
    return certificate, key


def host_environment(
    name: str, folder: Path, settings: dict[str, str], unit: dict[str, list[str]]
) -> dict[str, str]:
    """What systemd gives academy-web.service on host ``name``: the environment file, then the
    unit's Environment= lines, with this host's folder and name."""
    environment = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", **settings}
    for line in unit["Environment"]:
        key, _, value = line.partition("=")
        environment[key] = value
    environment["ACADEMY_INSTANCE_PATH"] = render(
        environment["ACADEMY_INSTANCE_PATH"], {"/var/lib/academy": str(folder)}, "the unit"
    )
    environment["ACADEMY_HOST_NAME"] = render(
        environment["ACADEMY_HOST_NAME"], {"%H": name}, "the unit"
    )
    return environment


def start(command: list[str], log: Path, **kwargs: Any) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:  # the child keeps its own descriptor
        return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, **kwargs)


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Ask every process to finish, then wait for each (killing one that takes too long)."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
        db.session.remove()
    return app


def forget_counters(prefix: str) -> None:
    """Remove the run's rate-limit keys from the shared Redis."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=6379)
    try:
        keys = list(client.scan_iter(match=f"*{prefix}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def nginx_main(work: Path) -> str:
    """The main configuration Debian's nginx package ships (/etc/nginx/nginx.conf), cut to
    what the site needs, with every file nginx writes kept in ``work``."""
    user = ""
    if os.geteuid() == 0:  # workers keep the test's user, so they can use its folders
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};"
    return f"""
{user}
daemon off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{ worker_connections 256; }}
http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    server_tokens off;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {work}/access.log;
    client_body_temp_path {work}/client_body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    gzip on;
    include {work}/academy.conf;
}}
"""


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, smtp_server: tuple[Mailbox, int]
) -> Iterator[Deployment]:
    need(bool(POSTGRES_URL), "the deployment runs on PostgreSQL: set ACADEMY_TEST_DATABASE_URL")
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    need(nginx is not None, "nginx is not installed (Debian package nginx; scripts/bootstrap)")
    require_redis()
    work = tmp_path_factory.mktemp("deployment")
    certificate, key = self_signed_certificate(
        work, "localhost", "-addext", "subjectAltName=DNS:localhost"
    )
    signing_certificate, signing_key = self_signed_certificate(work, "Academia")
    https_port, http_port = free_port(), free_port()
    ports = {name: free_port() for name in HOSTS}
    prefix = f"academy-deploy-{secrets.token_hex(6)}"

    settings = environment_file(
        render(
            (SHIPPED / "academy.env").read_text(),
            {
                "replace-with-the-generated-key": secrets.token_urlsafe(48),
                "https://academia.example.cl": f"https://localhost:{https_port}",
                "redis://:the-redis-password@10.0.0.20:6379/0": "redis://127.0.0.1:6379/0",
                "redis://:the-redis-password@10.0.0.20:6379/1": "redis://127.0.0.1:6379/1",
                "ACADEMY_RATELIMIT_KEY_PREFIX=academy": f"ACADEMY_RATELIMIT_KEY_PREFIX={prefix}",
                "ACADEMY_MAIL_SERVER=smtp.example.cl": "ACADEMY_MAIL_SERVER=127.0.0.1",
                "ACADEMY_MAIL_PORT=587": f"ACADEMY_MAIL_PORT={smtp_server[1]}",
                "ACADEMY_MAIL_USE_TLS=true": "ACADEMY_MAIL_USE_TLS=false",
                "ACADEMY_CONTENT_DIR=/srv/academy": f"ACADEMY_CONTENT_DIR={ROOT}",
                "/etc/academy/certificate-key.pem": str(signing_key),
                "/etc/academy/certificate.pem": str(signing_certificate),
            },
            "docs/deploy/academy.env",
        )
    )
    unit = unit_settings(SHIPPED / "academy-web.service")
    assert unit["EnvironmentFile"] == ["/etc/academy/academy.env"]
    processes: list[subprocess.Popen[bytes]] = []
    with separate_database("postgresql", "deploy", tmp_path_factory) as url:
        app = seed(url, smtp_server[1], work / "content")
        try:
            shipped = "postgresql://academy:the-database-password@10.0.0.20:5432/academy"
            assert settings["ACADEMY_DATABASE_URL"] == shipped
            settings["ACADEMY_DATABASE_URL"] = url
            # The test's SMTP server takes no password.
            del settings["ACADEMY_MAIL_USERNAME"], settings["ACADEMY_MAIL_PASSWORD"]
            (command,) = unit["ExecStart"]
            academy = Path(sys.executable).with_name("academy")
            for name, port in ports.items():
                folder = work / name
                folder.mkdir()
                argv = shlex.split(
                    render(
                        command,
                        {
                            "/srv/academy/.venv/bin/academy": str(academy),
                            "--host 10.0.0.11 --port 8000": f"--host 127.0.0.1 --port {port}",
                        },
                        "docs/deploy/academy-web.service",
                    )
                )
                log = work / f"{name}.log"
                cwd = render(unit["WorkingDirectory"][0], {"/srv/academy": str(ROOT)}, "the unit")
                environment = host_environment(name, folder, settings, unit)
                processes.append(start(argv, log, cwd=cwd, env=environment))
            for (name, port), process in zip(ports.items(), processes, strict=True):
                wait_for(f"http://127.0.0.1:{port}/salud", process, work / f"{name}.log")

            site = render(
                (SHIPPED / "nginx.conf").read_text(),
                {
                    "/etc/letsencrypt/live/academia.example.cl/fullchain.pem": str(certificate),
                    "/etc/letsencrypt/live/academia.example.cl/privkey.pem": str(key),
                    "academia.example.cl": "localhost",
                    "10.0.0.11:8000": f"127.0.0.1:{ports['web1']}",
                    "10.0.0.12:8000": f"127.0.0.1:{ports['web2']}",
                    "listen 80;": f"listen 127.0.0.1:{http_port};",
                    "listen 443 ssl": f"listen 127.0.0.1:{https_port} ssl",
                    # The public port, implied in production (443): forms check that they
                    # were sent from the origin the app believes it serves.
                    "proxy_set_header Host $host;": f"proxy_set_header Host $host:{https_port};",
                    "/srv/academy/": f"{ROOT}/",
                },
                "docs/deploy/nginx.conf",
            )
            (work / "academy.conf").write_text(site)
            (work / "nginx.conf").write_text(nginx_main(work))
            log = work / "nginx.log"
            processes.append(start([str(nginx), "-p", str(work), "-c", str(work / "nginx.conf"),
                                    "-e", str(work / "error.log")], log))  # fmt: skip
            context = ssl.create_default_context(cafile=str(certificate))
            base = f"https://localhost:{https_port}"
            wait_for(base + "/salud", processes[-1], log, context=context)
            yield Deployment(base, f"http://127.0.0.1:{http_port}", context, app, work)
        finally:
            stop(processes)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            forget_counters(prefix)


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
