"""The documented production deployment, started for real on 127.0.0.1: nginx as the load
balancer (with TLS) in front of two web hosts, each an ``academy serve`` process (gunicorn and
its job worker) with a folder of its own, on one PostgreSQL database and one Redis.

Shared by the deployment test (tests/test_deployment.py), which runs a learner's and an
admin's journeys through it, and the full-journey load test (bench/bench_journey.py), which
runs locust against it.

The configuration comes from the files docs/operations.md ships (``docs/deploy/``): nginx's
site, the web unit's ``ExecStart`` and ``Environment``, and the environment file. Only the
values an operator changes too (addresses, ports, paths, passwords) are replaced, and each must
still be in its file, so the documented deployment is the tested one.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.serving import free_port

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "docs/deploy"
HOSTS = ("web1", "web2")
SHIPPED_DATABASE_URL = "postgresql://academy:the-database-password@10.0.0.20:5432/academy"


@dataclass
class Deployment:
    """Where the running deployment answers, and how a client trusts it."""

    base: str  # https://localhost:<port>, through nginx
    plain: str  # nginx's plain-HTTP port (it only redirects)
    context: ssl.SSLContext
    ca_file: Path  # the certificate nginx presents, for clients other than urllib
    logs: Path  # the folder with each process's log (web1.log, web2.log, nginx's logs)
    signing: tuple[Path, Path]  # the hosts' certificate signing key: (certificate, key)
    pids: tuple[int, ...]  # the web hosts' and nginx's main processes


def nginx_binary() -> str | None:
    found = shutil.which("nginx")
    if found is None and Path("/usr/sbin/nginx").exists():
        return "/usr/sbin/nginx"
    return found


def redis_is_running() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def missing() -> str | None:
    """What the deployment needs and this machine lacks, said for a person; None when ready."""
    if nginx_binary() is None:
        return "nginx is not installed (Debian package nginx; scripts/bootstrap)"
    if shutil.which("openssl") is None:
        return "openssl is not installed (Debian package openssl)"
    if not redis_is_running():
        return "Redis is not answering on 127.0.0.1:6379 (start redis-server)"
    return None


def render(text: str, replacements: dict[str, str], source: str) -> str:
    """``text`` with each value replaced; each must be there, or the docs and this harness no
    longer describe the same deployment."""
    for old, new in replacements.items():
        assert old in text, (
            f"{source} no longer has {old!r}: update bench/deployment.py and the docs"
        )
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
    certificate, key = folder / f"{name}.pem", folder / f"{name}.key"
    openssl = shutil.which("openssl")
    assert openssl is not None, missing()
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
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
    what the site needs, with every file nginx writes kept in ``work``. One worker process:
    its round robin then alternates the hosts request by request (each worker keeps its own)."""
    user = ""
    if os.geteuid() == 0:  # workers keep the caller's user, so they can use its folders
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};"
    return f"""
{user}
daemon off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{ worker_connections 768; }}
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


def web_command(unit: dict[str, list[str]], port: int, app: str | None) -> list[str]:
    """The web unit's ExecStart on 127.0.0.1:``port``; with ``app`` (a Flask import path such
    as ``bench.wsgi:app()``), the same ``serve`` command and options run on that app instead
    of ``academy``'s own factory."""
    (command,) = unit["ExecStart"]
    bin_folder = Path(sys.executable).parent
    program = str(bin_folder / "academy")
    if app is not None:
        program = f"{bin_folder / 'flask'} --app {shlex.quote(app)}"
    return shlex.split(
        render(
            command,
            {
                "/srv/academy/.venv/bin/academy": program,
                "--host 10.0.0.11 --port 8000": f"--host 127.0.0.1 --port {port}",
            },
            "docs/deploy/academy-web.service",
        )
    )


@contextmanager
def deployed(
    work: Path,
    database_url: str,
    smtp_port: int,
    *,
    app: str | None = None,
    environment: dict[str, str] | None = None,
) -> Iterator[Deployment]:
    """Start the two web hosts and nginx on a migrated ``database_url``, mail going to
    127.0.0.1:``smtp_port`` (no TLS, no password); stop them all on leaving.

    ``work`` is an empty folder for the hosts' folders, the logs and the TLS material; ``app``
    and ``environment`` (added to each host's) are for the benchmark's extra routes.
    """
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
                "ACADEMY_MAIL_PORT=587": f"ACADEMY_MAIL_PORT={smtp_port}",
                "ACADEMY_MAIL_USE_TLS=true": "ACADEMY_MAIL_USE_TLS=false",
                "ACADEMY_CONTENT_DIR=/srv/academy": f"ACADEMY_CONTENT_DIR={ROOT}",
                "/etc/academy/certificate-key.pem": str(signing_key),
                "/etc/academy/certificate.pem": str(signing_certificate),
            },
            "docs/deploy/academy.env",
        )
    )
    assert settings["ACADEMY_DATABASE_URL"] == SHIPPED_DATABASE_URL
    settings["ACADEMY_DATABASE_URL"] = database_url
    # The local SMTP server takes no password.
    del settings["ACADEMY_MAIL_USERNAME"], settings["ACADEMY_MAIL_PASSWORD"]
    settings.update(environment or {})
    unit = unit_settings(SHIPPED / "academy-web.service")
    assert unit["EnvironmentFile"] == ["/etc/academy/academy.env"]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name, port in ports.items():
            folder = work / name
            folder.mkdir()
            cwd = render(unit["WorkingDirectory"][0], {"/srv/academy": str(ROOT)}, "the unit")
            processes.append(
                start(
                    web_command(unit, port, app),
                    work / f"{name}.log",
                    cwd=cwd,
                    env=host_environment(name, folder, settings, unit),
                )
            )
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
                # The public port, implied in production (443): forms check that they were
                # sent from the origin the app believes it serves.
                "proxy_set_header Host $host;": f"proxy_set_header Host $host:{https_port};",
                "/srv/academy/": f"{ROOT}/",
            },
            "docs/deploy/nginx.conf",
        )
        (work / "academy.conf").write_text(site)
        (work / "nginx.conf").write_text(nginx_main(work))
        log = work / "nginx.log"
        nginx = nginx_binary()
        assert nginx is not None, missing()
        processes.append(start([nginx, "-p", str(work), "-c", str(work / "nginx.conf"),
                                "-e", str(work / "error.log")], log))  # fmt: skip
        context = ssl.create_default_context(cafile=str(certificate))
        base = f"https://localhost:{https_port}"
        wait_for(base + "/salud", processes[-1], log, context=context)
        yield Deployment(
            base,
            f"http://127.0.0.1:{http_port}",
            context,
            certificate,
            work,
            (signing_certificate, signing_key),
            tuple(process.pid for process in processes),
        )
    finally:
        stop(processes)
        forget_counters(prefix)
