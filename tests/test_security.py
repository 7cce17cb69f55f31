"""CSRF, rate limits, headers and cookies."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from academy import create_app, mail
from academy.security import CONTENT_SECURITY_POLICY
from tests.conftest import PASSWORD, test_config


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.mark.usefixtures("csrf_on")
@pytest.mark.parametrize("path", ["/entrar", "/registro", "/recuperar", "/salir", "/idioma"])
def test_forms_without_a_valid_csrf_token_get_a_clear_message(client, path):
    response = client.post(path, data={"email": "a@muni.cl", "csrf_token": "forged"})
    assert response.status_code == 400
    assert "El formulario expiró o no es válido" in response.text


@pytest.mark.usefixtures("csrf_on")
def test_a_form_with_its_token_goes_through(client, make_user):
    user = make_user()
    page = client.get("/entrar").text
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/entrar", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


def test_login_is_rate_limited_per_account(client, make_user):
    user = make_user()
    for _ in range(5):
        assert (
            client.post("/entrar", data={"email": user.email, "password": "mal"}).status_code == 401
        )
    blocked = client.post("/entrar", data={"email": user.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Hiciste demasiados intentos seguidos" in blocked.text
    # Another account from the same address can still sign in.
    other = make_user()
    assert (
        client.post("/entrar", data={"email": other.email, "password": PASSWORD}).status_code == 302
    )


def test_login_is_rate_limited_per_address(app, client):
    for n in range(30):
        client.post("/entrar", data={"email": f"p{n}@muni.cl", "password": "mal"})
    assert (
        client.post("/entrar", data={"email": "otra@muni.cl", "password": "x"}).status_code == 429
    )
    other_ip = client.post(
        "/entrar",
        data={"email": "otra@muni.cl", "password": "x"},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert other_ip.status_code == 401


def test_registrations_are_rate_limited_per_address(app, client):
    app.config["REGISTER_LIMIT_PER_IP"] = "3 per hour"

    def register(n: int, **extra):
        data = {"full_name": f"Persona {n}", "email": f"p{n}@muni.cl", "comuna": "13101",
                "password": PASSWORD, "password_confirm": PASSWORD}  # fmt: skip
        return client.post("/registro", data=data | extra)

    # A form sent back for a mistake does not count.
    assert register(0, password_confirm="otra cosa").status_code == 422
    assert [register(n).status_code for n in range(1, 4)] == [302, 302, 302]
    blocked = register(4)
    assert blocked.status_code == 429
    assert "Hiciste demasiados intentos seguidos" in blocked.text
    other_ip = client.post(
        "/registro",
        data={"full_name": "Otra", "email": "otra@muni.cl", "comuna": "13101",
              "password": PASSWORD, "password_confirm": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )  # fmt: skip
    assert other_ip.status_code == 302


def test_successful_logins_do_not_use_up_the_allowance(client, auth, make_user):
    user = make_user()
    for _ in range(8):
        assert auth.login(user.email).status_code == 302
        auth.logout()


def test_security_headers_on_every_response(client):
    for path in ("/", "/entrar", "/no-existe", "/static/css/academy.css"):
        response = client.get(path)
        response.close()  # static files are streamed from an open file
        headers = response.headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY


def test_session_cookie_flags(client, auth, make_user):
    user = make_user()
    auth.login(user.email)
    cookie = client.get_cookie("academy_session")
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    assert not cookie.secure


def test_https_setting_secures_cookies_and_adds_hsts(tmp_path, smtp_server):
    app = create_app(test_config(f"sqlite:///{tmp_path}/x.db", smtp_server[1], HTTPS=True))
    assert app.config["SESSION_COOKIE_SECURE"]
    assert app.config["REMEMBER_COOKIE_SECURE"]
    response = app.test_client().get("/entrar")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Secure" in response.headers["Set-Cookie"]


def test_no_inline_script_or_style_in_pages(client, auth, make_user):
    auth.as_role(make_user, "admin")
    for path in ("/", "/perfil", "/perfil/contrasena", "/admin/personas/"):
        html = client.get(path).text
        assert "<script>" not in html
        assert " style=" not in html
        assert "<style" not in html


def proxied_app(app, smtp_server, **settings):
    """The test database behind one reverse proxy, as the README's production steps set."""
    config = test_config(app.config["DATABASE_URL"], smtp_server[1], PROXY_COUNT=1, **settings)
    return create_app(config)


def test_reset_links_use_the_base_url_whatever_host_the_request_claims(
    app, smtp_server, make_user, mailbox
):
    user = make_user()
    proxied = proxied_app(
        app, smtp_server, BASE_URL="https://academia.example.cl", TRUSTED_HOSTS="localhost"
    )
    response = proxied.test_client().post(
        "/recuperar",
        data={"email": user.email},
        headers={"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
    )
    assert response.status_code == 302
    body = mailbox.last_to(user.email).get_content()
    assert "evil.example" not in body
    assert "https://academia.example.cl/recuperar/" in body


def test_forwarded_host_is_ignored_unless_the_proxy_is_said_to_set_it(app, smtp_server):
    proxied = proxied_app(app, smtp_server, BASE_URL="https://academia.example.cl")
    response = proxied.test_client().get(
        "/entrar", headers={"Host": "academia.example.cl", "X-Forwarded-Host": "evil.example"}
    )
    assert response.status_code == 200
    forwarding = proxied_app(
        app, smtp_server, BASE_URL="https://academia.example.cl", PROXY_FORWARDS_HOST=True
    )
    response = forwarding.test_client().get(
        "/entrar", headers={"Host": "academia.example.cl", "X-Forwarded-Host": "evil.example"}
    )
    assert response.status_code == 400  # believed, then refused: not a trusted host


@pytest.mark.parametrize("host", ["evil.example", "academia.example.cl.evil.example", "127.0.0.2"])
def test_a_request_for_an_untrusted_host_is_refused(client, host):
    assert client.get("/entrar", headers={"Host": host}).status_code == 400
    assert client.get("/entrar").status_code == 200  # localhost, a development name


def test_an_email_subject_is_one_line_whatever_title_it_names(app):
    # Titles saved before they were checked may hold a line break; the review email of such a
    # case failed with a 500 (and a header line break could inject a header).
    with app.test_request_context():
        message = mail.build_message(
            "ana@muni.cl",
            "Revisaron tu caso «Caso\nBcc: x@evil.example»",
            "reset_password",
            user=SimpleNamespace(full_name="Ana"),
            link="http://127.0.0.1:5000/",
            hours=2,
        )
    assert message["Subject"] == "Revisaron tu caso «Caso Bcc: x@evil.example»"
    assert message["Bcc"] is None
