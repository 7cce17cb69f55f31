"""Configuration: defaults, then ``instance/config.py``, then ``ACADEMY_*`` variables.

Every setting can come from the environment as ``ACADEMY_<NAME>`` (``ACADEMY_DATABASE_URL``,
``ACADEMY_SECRET_KEY``...); values are parsed as JSON when they look like JSON, so
``ACADEMY_REGISTRATION_OPEN=false`` is a boolean. Bad configuration stops the start with one
line that says what to change (:class:`ConfigError`).
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import SplitResult, urlsplit

from flask import Flask
from PIL import Image, UnidentifiedImageError

from academy.svg import check_svg

ENVIRONMENTS = ("development", "production", "testing")
MIN_SECRET_LENGTH = 32
DEVELOPMENT_BASE_URL = "http://127.0.0.1:5000"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class ConfigError(RuntimeError):
    """The configuration cannot run; the message says what to change."""


class Defaults:
    ENV = "development"
    DATABASE_URL = "sqlite:///academy.db"  # relative SQLite paths live in instance/
    SECRET_KEY: str | None = None
    # Serving over HTTPS: secure cookies, HSTS, https URLs in emails and certificates.
    HTTPS = False
    # Behind a reverse proxy: number of proxies whose X-Forwarded-For and -Proto are trusted.
    PROXY_COUNT = 0
    # X-Forwarded-Host too: only for a proxy that sets it itself, never passing the client's.
    PROXY_FORWARDS_HOST = False
    SERVER_NAME: str | None = None
    # This host's name, e.g. "web1": sent in an X-Academy-Host header on every answer, so that
    # an operator (and the deployment test) can tell which host behind the load balancer
    # served a request. No header when unset.
    HOST_NAME: str | None = None
    # The public address, e.g. https://academia.example.cl: every link in an email starts here,
    # never with the host a request claims. Required in production.
    BASE_URL: str | None = None
    # More host names requests may carry besides BASE_URL's (a list, or names separated by
    # commas); any other Host header is refused with 400 (Flask's TRUSTED_HOSTS).
    TRUSTED_HOSTS: list[str] | str | None = None

    # Where `academy init` finds the bundled course (courses/, quizzes/); the checkout by default.
    CONTENT_DIR = str(Path(__file__).resolve().parent.parent)

    REGISTRATION_OPEN = True
    # Characters of rendered pages each process keeps to fill in per request (academy/
    # fragments.py: lesson pages, course cards; nothing of one learner), least used out first.
    FRAME_BUDGET = 16 * 1024 * 1024
    PASSWORD_MIN_LENGTH = 10
    # Werkzeug method string; the tests use cheaper scrypt parameters to stay fast.
    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 (a method name, not a password)
    PASSWORD_RESET_MAX_AGE = int(timedelta(hours=2).total_seconds())
    # How long the link mailed at registration activates the account.
    EMAIL_CONFIRM_MAX_AGE = int(timedelta(days=3).total_seconds())
    # How long the link mailed to people an admin imports lets them choose their password
    # (afterwards «¿Olvidaste tu contraseña?» mails a fresh one).
    INVITATION_MAX_AGE = int(timedelta(days=14).total_seconds())

    # Mail: "console" prints messages (development), "smtp" sends them.
    MAIL_BACKEND = "console"
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER = "Academia de Capacitación <no-responder@academia.localhost>"
    MAIL_TIMEOUT = 10

    # Rate limits: counters in memory for one process, Redis for several hosts.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    # When Redis does not answer, count in this process's memory until it does again (Flask-
    # Limiter checks): sign-ins stay possible, and limited, instead of failing with a 500.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    LOGIN_LIMIT_PER_IP = "30 per minute"
    LOGIN_LIMIT_PER_ACCOUNT = "5 per 5 minutes"
    # Registrations sent from one address (only those that went through: a form with a mistake
    # costs nothing). Each one sends a mail, and a taken RUT is told by mail; an office behind
    # one address registering its staff on a training day may need more.
    REGISTER_LIMIT_PER_IP = "30 per hour"
    # Public certificate verification (by code or by the QR code's link), per address.
    CERTIFICATE_VERIFY_LIMIT = "30 per minute"

    # Background jobs (academy/jobs.py): unset is Huey's SQLite store in instance/queue.db, for
    # one host; redis://host:6379/0 when several hosts serve. Immediate runs each job at once
    # in the caller, as the tests do (unset: on when testing).
    QUEUE_URL: str | None = None
    QUEUE_IMMEDIATE: bool | None = None

    # Certificates: the issuer they print, who signs them ([{"name": ..., "position": ...,
    # "signature": "firmas/ana.png"}], the signature image optional, PNG or SVG, its path
    # absolute or relative to the instance folder), and where their templates live
    # (CONTENT_DIR/certificates unless set).
    CERTIFICATE_ISSUER = "Academia de Capacitación Municipal y Regional"
    CERTIFICATE_SIGNATORIES: ClassVar[list[dict[str, str]]] = []
    CERTIFICATE_TEMPLATES_DIR: str | None = None
    # The key certificates are signed with (academy/certificates/signing.py): a PEM or DER
    # private key with CERTIFICATE_CERT its certificate (and chain), or a PKCS#12 file (.p12,
    # .pfx) alone; CERTIFICATE_KEY_PASSPHRASE if it is encrypted. Required in production;
    # elsewhere a self-signed pair is generated once into instance/certificados/.
    CERTIFICATE_KEY: str | None = None
    CERTIFICATE_CERT: str | None = None
    CERTIFICATE_KEY_PASSPHRASE: str | None = None
    # Where the signature says it was made.
    CERTIFICATE_SIGNATURE_LOCATION = "Chile"
    # Background jobs render certificates in a child process replaced after this many renders
    # (academy/certificates/render_process.py): WeasyPrint keeps about 0.2 MiB per document.
    CERTIFICATE_RENDERS_PER_PROCESS = 200

    BABEL_DEFAULT_LOCALE = "es"
    BABEL_DEFAULT_TIMEZONE = "America/Santiago"
    LANGUAGES = ("es", "en")

    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    # The largest CSV of people an admin may upload (about 80,000 rows); above it the upload
    # is refused with a message, before the file is read.
    PEOPLE_IMPORT_MAX_BYTES = 10 * 1024 * 1024
    WTF_CSRF_TIME_LIMIT = int(timedelta(hours=8).total_seconds())
    SESSION_COOKIE_NAME = "academy_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_NAME = "academy_remember"
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {"pool_pre_ping": True}


def load(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Fill ``app.config`` in order of precedence and check the result."""
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("ACADEMY")
    if overrides:
        app.config.update(overrides)
    _derive(app)
    check(app)


def _derive(app: Flask) -> None:
    config = app.config
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(config["DATABASE_URL"])
    config["TESTING"] = config["TESTING"] or config["ENV"] == "testing"
    if config["HTTPS"]:
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
        config["PREFERRED_URL_SCHEME"] = "https"
    if not config.get("SECRET_KEY"):
        if config["ENV"] == "production":
            raise ConfigError(
                "ACADEMY_SECRET_KEY is required in production: set it to a random string of "
                f"at least {MIN_SECRET_LENGTH} characters, the same on every host."
            )
        config["SECRET_KEY"] = instance_secret(Path(app.instance_path))
    _derive_hosts(config)


def _derive_hosts(config: Any) -> None:
    if not config.get("BASE_URL"):
        if config["ENV"] == "production":
            raise ConfigError(
                "ACADEMY_BASE_URL is required in production: the public address that links in "
                "emails start with, e.g. https://academia.example.cl."
            )
        config["BASE_URL"] = DEVELOPMENT_BASE_URL
    base = parse_base_url(str(config["BASE_URL"]))
    config["BASE_URL"] = base.geturl()
    extra = config.get("TRUSTED_HOSTS") or []
    if isinstance(extra, str):
        extra = extra.split(",")
    hosts = [base.hostname or "", *(str(host).strip() for host in extra)]
    if base.hostname in LOOPBACK_HOSTS:
        hosts += LOOPBACK_HOSTS  # a development machine answers to each of its own names
    config["TRUSTED_HOSTS"] = list(dict.fromkeys(host for host in hosts if host))


def parse_base_url(url: str) -> SplitResult:
    """``scheme://host[:port]`` and nothing else, or a ConfigError that says why."""
    parts = urlsplit(url.strip().rstrip("/"))
    problem = None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problem = "must start with https:// or http:// and name a host"
    elif parts.username or parts.password or parts.path or parts.query or parts.fragment:
        problem = "must be only a scheme and a host (and port), without path, query or user"
    else:
        try:
            parts.port  # noqa: B018 (raises on a port that is not a number)
        except ValueError:
            problem = "has a port that is not a number"
    if problem:
        raise ConfigError(f"ACADEMY_BASE_URL {problem}: got {url!r}.")
    return parts


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever driver the URL names (or none)."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_path(overrides: dict[str, Any] | None) -> str | None:
    """The instance folder (``instance/config.py``, the SQLite file, the development secret):
    ``INSTANCE_PATH`` in the overrides or ``ACADEMY_INSTANCE_PATH``; Flask's default if unset.

    Each host keeps its own; the tests give each served process one so that no two share it.
    """
    value = (overrides or {}).get("INSTANCE_PATH") or os.environ.get("ACADEMY_INSTANCE_PATH")
    if not value:
        return None
    if not Path(value).is_absolute():
        raise ConfigError(f"ACADEMY_INSTANCE_PATH must be an absolute path: got {value!r}.")
    return str(value)


def instance_secret(instance: Path) -> str:
    """The development secret: generated once into ``instance/secret_key`` and reused."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def check_signatories(value: Any, instance: str | Path = ".") -> None:
    """A list of {"name": ..., "position": ...}, both non-empty text, as certificates print,
    each with an optional "signature": a PNG or SVG image of the handwritten signature (a path,
    absolute or relative to the instance folder) that must exist and be a real image."""
    entries = value if isinstance(value, list) else None
    if entries is None or not all(
        isinstance(entry, dict)
        and {"name", "position"} <= set(entry) <= {"name", "position", "signature"}
        and all(isinstance(text, str) and text.strip() for text in entry.values())
        for entry in entries
    ):
        raise ConfigError(
            "ACADEMY_CERTIFICATE_SIGNATORIES must be a JSON list of "
            '{"name": "...", "position": "...", "signature": "firma.png"} (signature '
            f"optional), all non-empty: got {value!r}."
        )
    for entry in entries:
        if "signature" in entry:
            problem = signature_problem(signature_path(entry["signature"], instance))
            if problem:
                raise ConfigError(
                    f"ACADEMY_CERTIFICATE_SIGNATORIES: the signature of {entry['name']!r}, "
                    f"{entry['signature']!r}, {problem}."
                )


SIGNATURE_TYPES = (".png", ".svg")


def signature_path(value: str, instance: str | Path) -> Path:
    """Where a signatory's signature image is: absolute, or relative to the instance folder."""
    return Path(instance) / Path(value).expanduser()


def signature_problem(path: Path) -> str | None:
    """Why ``path`` cannot be printed as a signature (in English, for the operator), or None."""
    if path.suffix.lower() not in SIGNATURE_TYPES:
        return "must be a .png or .svg file"
    if not path.is_file():
        return f"does not exist ({path})"
    data = path.read_bytes()
    if path.suffix.lower() == ".svg":
        checked = check_svg(data)
        if not checked.ok:
            first = checked.problems[0]
            return f"is not a usable SVG (line {first.line}: {first.message})"
        return None
    try:
        with Image.open(BytesIO(data)) as image:
            image.verify()
            kind = image.format
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        return f"is not a valid PNG image ({error})"
    if kind != "PNG":
        return f"is a {kind} image, not a PNG"
    return None


def check(app: Flask) -> None:
    config = app.config
    if config["ENV"] not in ENVIRONMENTS:
        raise ConfigError(f"ACADEMY_ENV must be one of {', '.join(ENVIRONMENTS)}.")
    check_signatories(config.get("CERTIFICATE_SIGNATORIES"), app.instance_path)
    renders = config.get("CERTIFICATE_RENDERS_PER_PROCESS")
    if isinstance(renders, bool) or not isinstance(renders, int) or renders < 1:
        raise ConfigError(
            "ACADEMY_CERTIFICATE_RENDERS_PER_PROCESS must be a whole number of at least 1 "
            f"(certificates a rendering process makes before it is replaced): got {renders!r}."
        )
    budget = config.get("FRAME_BUDGET")
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 0:
        raise ConfigError(
            "ACADEMY_FRAME_BUDGET must be a whole number of characters, 0 or more (rendered "
            f"pages each process keeps): got {budget!r}."
        )
    if config["ENV"] != "production":
        return
    key = str(config["SECRET_KEY"])
    if len(key) < MIN_SECRET_LENGTH or len(set(key)) < 10:
        raise ConfigError(
            f"ACADEMY_SECRET_KEY is too weak for production: use at least {MIN_SECRET_LENGTH} "
            "random characters (python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        raise ConfigError(
            "Production needs PostgreSQL: set ACADEMY_DATABASE_URL=postgresql://user@host/db."
        )
    if config["HTTPS"] and not str(config["BASE_URL"]).startswith("https://"):
        raise ConfigError("ACADEMY_HTTPS is on: ACADEMY_BASE_URL must start with https://.")
    if config["MAIL_BACKEND"] == "console":
        raise ConfigError("Production needs real mail: set ACADEMY_MAIL_BACKEND=smtp and MAIL_*.")
    check_certificate_key(config)


def check_certificate_key(config: Any) -> None:
    """Production signs certificates with a key it was given, never one made up on the spot."""
    key = config.get("CERTIFICATE_KEY")
    if not key:
        raise ConfigError(
            "ACADEMY_CERTIFICATE_KEY is required in production: the key certificates are "
            "signed with (make one with `academy certificates keygen`, or give the key of a "
            "certification authority; see docs/operations.md)."
        )
    pkcs12 = str(key).lower().endswith((".p12", ".pfx"))
    cert = config.get("CERTIFICATE_CERT")
    if not pkcs12 and not cert:
        raise ConfigError(
            "ACADEMY_CERTIFICATE_CERT is required with ACADEMY_CERTIFICATE_KEY: the key's "
            "certificate, in PEM (or give a PKCS#12 file, .p12 or .pfx, as the key)."
        )
    for name, path in (("KEY", key), ("CERT", None if pkcs12 else cert)):
        if path is not None and not os.access(path, os.R_OK):
            raise ConfigError(f"ACADEMY_CERTIFICATE_{name}: cannot read {path}.")
