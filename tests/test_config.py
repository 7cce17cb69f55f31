"""Configuration: sources, the generated development secret, and production refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from academy import create_app, mail
from academy.config import ConfigError, normalise_database_url

GOOD_SECRET = "k3J9-x2Lq8Zr4Tn7Vb1Wc5Yd0Ue6Hf9Ga2Sm"
# A self-signed pair made by `academy certificates keygen`, for tests only.
SIGNING = Path(__file__).parent / "fixtures/signing"
PRODUCTION = {
    "ENV": "production",
    "SECRET_KEY": GOOD_SECRET,
    "DATABASE_URL": "postgresql://academy@db/academy",
    "MAIL_BACKEND": "smtp",
    "BASE_URL": "https://academia.example.cl",
    "CERTIFICATE_KEY": str(SIGNING / "academia.key"),
    "CERTIFICATE_CERT": str(SIGNING / "academia.crt"),
}


def test_development_secret_is_generated_once_into_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("ACADEMY_SECRET_KEY", raising=False)
    key_file = tmp_path / "secret_key"
    monkeypatch.setattr("flask.Flask.auto_find_instance_path", lambda self: str(tmp_path))
    a = create_app({"DATABASE_URL": "sqlite://"})
    b = create_app({"DATABASE_URL": "sqlite://"})
    assert key_file.exists()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert a.config["SECRET_KEY"] == b.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(a.config["SECRET_KEY"]) >= 32


def test_environment_variables_override_defaults(monkeypatch, tmp_path):
    monkeypatch.setattr("flask.Flask.auto_find_instance_path", lambda self: str(tmp_path))
    monkeypatch.setenv("ACADEMY_REGISTRATION_OPEN", "false")
    monkeypatch.setenv("ACADEMY_DATABASE_URL", "postgres://u@h/d")
    app = create_app()
    assert app.config["REGISTRATION_OPEN"] is False
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/d"


def test_instance_config_file_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr("flask.Flask.auto_find_instance_path", lambda self: str(tmp_path))
    (tmp_path / "config.py").write_text('SECRET_KEY = "from-instance-file-0123456789abcdef"\n')
    assert create_app().config["SECRET_KEY"] == "from-instance-file-0123456789abcdef"


def test_production_accepts_a_complete_configuration():
    app = create_app(PRODUCTION)
    assert app.config["ENV"] == "production"


def test_production_refuses_to_sign_without_a_key_of_its_own(tmp_path):
    with pytest.raises(ConfigError, match="ACADEMY_CERTIFICATE_KEY is required in production"):
        create_app({**PRODUCTION, "CERTIFICATE_KEY": None})
    with pytest.raises(ConfigError, match="ACADEMY_CERTIFICATE_CERT is required"):
        create_app({**PRODUCTION, "CERTIFICATE_CERT": None})
    with pytest.raises(ConfigError, match="ACADEMY_CERTIFICATE_KEY: cannot read"):
        create_app({**PRODUCTION, "CERTIFICATE_KEY": str(tmp_path / "no-existe.key")})
    # A PKCS#12 file carries its own certificate.
    bundle = tmp_path / "firma.p12"
    bundle.write_bytes(b"")
    production = {**PRODUCTION, "CERTIFICATE_KEY": str(bundle), "CERTIFICATE_CERT": None}
    assert create_app(production).config["ENV"] == "production"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"SECRET_KEY": None}, "ACADEMY_SECRET_KEY is required"),
        ({"SECRET_KEY": "short"}, "too weak"),
        ({"SECRET_KEY": "a" * 64}, "too weak"),
        ({"DATABASE_URL": "sqlite:///academy.db"}, "Production needs PostgreSQL"),
        ({"MAIL_BACKEND": "console"}, "Production needs real mail"),
        ({"ENV": "staging"}, "ACADEMY_ENV must be one of"),
        ({"BASE_URL": None}, "ACADEMY_BASE_URL is required in production"),
        ({"BASE_URL": "academia.example.cl"}, "must start with https:// or http://"),
        ({"BASE_URL": "https://academia.example.cl/app"}, "without path"),
        ({"BASE_URL": "https://u:p@academia.example.cl"}, "without path, query or user"),
        ({"BASE_URL": "https://academia.example.cl:puerto"}, "port that is not a number"),
        ({"BASE_URL": "http://academia.example.cl", "HTTPS": True}, "must start with https://"),
    ],
)
def test_production_refuses_unsafe_configuration(changes, message):
    with pytest.raises(ConfigError, match=message):
        create_app({**PRODUCTION, **changes})


def test_the_command_explains_bad_configuration_in_one_line(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "from academy.cli import main; main()", "db", "current"],
        env={"ACADEMY_ENV": "production", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("academy: ACADEMY_SECRET_KEY is required")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg2://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls_use_psycopg3(url, expected):
    assert normalise_database_url(url) == expected


def test_trusted_hosts_come_from_the_base_url_and_the_extra_list(monkeypatch):
    monkeypatch.setenv("ACADEMY_TRUSTED_HOSTS", "www.academia.example.cl, .subdere.cl")
    app = create_app({**PRODUCTION, "BASE_URL": "https://academia.example.cl:8443/"})
    assert app.config["BASE_URL"] == "https://academia.example.cl:8443"
    assert app.config["TRUSTED_HOSTS"] == [
        "academia.example.cl",
        "www.academia.example.cl",
        ".subdere.cl",
    ]


def test_development_links_need_no_request(tmp_path, monkeypatch):
    monkeypatch.setattr("flask.Flask.auto_find_instance_path", lambda self: str(tmp_path))
    app = create_app({"DATABASE_URL": "sqlite://"})
    assert app.config["BASE_URL"] == "http://127.0.0.1:5000"
    assert {"127.0.0.1", "localhost"} <= set(app.config["TRUSTED_HOSTS"])
    with app.app_context():
        assert mail.external_url("auth.login") == "http://127.0.0.1:5000/entrar"
