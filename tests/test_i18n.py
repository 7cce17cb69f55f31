"""Spanish first, English second; every string translated, the compiled catalog current."""

from __future__ import annotations

from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import render_template_string
from flask_babel import force_locale

from academy import i18n
from academy.auth.models import User
from academy.extensions import db

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "academy/translations/en/LC_MESSAGES/messages"


def test_spanish_by_default(client):
    html = client.get("/").text
    assert '<html lang="es">' in html
    assert "Iniciar sesión" in html


def test_browser_language_is_used_for_visitors(client):
    html = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"}).text
    assert '<html lang="en">' in html
    assert "Sign in" in html


def test_footer_choice_overrides_the_browser(client):
    client.post("/idioma", data={"language": "en", "next": "/entrar"})
    html = client.get("/", headers={"Accept-Language": "es-CL"}).text
    assert "Sign in" in html
    client.post("/idioma", data={"language": "xx"})  # ignored
    assert "Sign in" in client.get("/").text


def test_the_users_setting_wins(client, auth, make_user, query):
    user = make_user(locale="en")
    auth.login(user.email)
    assert "My profile" in client.get("/", headers={"Accept-Language": "es"}).text
    client.post("/idioma", data={"language": "es"})
    assert query(lambda: db.session.get(User, user.id)).locale == "es"
    assert "Mi perfil" in client.get("/").text


def test_language_switch_only_returns_to_local_pages(client):
    response = client.post("/idioma", data={"language": "en", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_translations_follow_the_request_and_force_locale(app):
    page = (
        "{{ _('Iniciar sesión') }} "
        "{{ ngettext('%(num)d hora de estudio', '%(num)d horas de estudio', 3) }} "
        "{{ pgettext('case status', 'Aprobado') }}"
    )
    with app.test_request_context("/", headers={"Accept-Language": "es"}):
        assert i18n.gettext("Iniciar sesión") == "Iniciar sesión"
        assert render_template_string(page) == "Iniciar sesión 3 horas de estudio Aprobado"
        with force_locale("en"):
            assert i18n.gettext("Iniciar sesión") == "Sign in"
            assert i18n.current_language() == "en"
            assert render_template_string(page) == "Sign in 3 hours of study Approved"
        assert i18n.gettext("Iniciar sesión") == "Iniciar sesión"
        assert str(i18n.lazy_gettext("Iniciar sesión")) == "Iniciar sesión"


def test_template_translations_escape_their_values(app):
    with app.test_request_context("/"):
        html = render_template_string("{{ _('Anterior: %(title)s', title='<b>') }}")
    assert html == "Anterior: &lt;b&gt;"


def test_every_string_is_extracted_and_translated(tmp_path):
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l",
         "-k", "lazy_gettext", "-k", "lazy_pgettext:1c,2", "-o", str(pot), str(ROOT)]
    )  # fmt: skip
    with pot.open("rb") as handle:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    with CATALOG.with_suffix(".po").open("rb") as handle:
        catalog = read_po(handle, locale="en")
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and not m.fuzzy and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    missing = sorted(wanted - translated)
    assert missing == [], "run scripts/translations update, translate, then compile"


def _context(value):
    return value.decode() if isinstance(value, bytes) else value  # read_mo gives bytes


def _plain(value):
    return tuple(value) if isinstance(value, list | tuple) else value


def test_compiled_catalog_matches_the_source():
    with CATALOG.with_suffix(".po").open("rb") as handle:
        source = {
            (_context(m.context), _plain(m.id)): _plain(m.string)
            for m in read_po(handle, locale="en")
            if m.id and not m.fuzzy and (all(m.string) if isinstance(m.string, tuple) else m.string)
        }
    with CATALOG.with_suffix(".mo").open("rb") as handle:
        compiled = {
            (_context(m.context), _plain(m.id)): _plain(m.string) for m in read_mo(handle) if m.id
        }
    stale = {key for key, value in source.items() if compiled.get(key) != value}
    assert stale == set(), "run scripts/translations compile"
