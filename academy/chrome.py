"""The site's header and footer, rendered once for each kind of visitor and kept.

Every page shows them (``base.html`` calls :func:`site_header` and :func:`site_footer`), and
they were about two thirds of a lesson page's rendering: a dozen links from ``url_for``, twenty
translated strings, the visitor's roles, the current page marked in the menu. What they show
depends on little: the language, the page's endpoint and blueprint, whether someone is signed
in and as which role, whether registration is open, and where the application is mounted.
They are kept per application for each such combination (a few hundred at most), and the two
things of the request itself are put in on each page: the session's CSRF token (the sign-out
and language forms) and the page's own address (the language form's ``next``). Nothing of one
person is kept: a role, a language and a page are shared by everyone who has them.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, render_template, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from academy.i18n import current_language

# Rendered where the token and the page's address go, then replaced: plain letters, so that
# autoescaping leaves them as they are and no page's text can contain them by chance.
TOKEN_MARK = "academyCsrfTokenMarkQ7v2"  # noqa: S105 (a placeholder, not a secret)
NEXT_MARK = "academyNextAddressMarkQ7v2"
TEMPLATES = {"header": "_site_header.html", "footer": "_site_footer.html"}
_KEPT = "academy_site_chrome"
_LIMIT = 2048  # combinations kept per application before starting afresh


def site_header() -> Markup:
    return _part("header")


def site_footer() -> Markup:
    return _part("footer")


def _part(part: str) -> Markup:
    user = current_user
    signed_in = bool(user.is_authenticated)
    key = (
        part,
        current_language(),
        request.endpoint,
        request.blueprint,
        signed_in,
        signed_in and user.is_trainer,
        signed_in and user.is_admin,
        bool(current_app.config.get("REGISTRATION_OPEN")),
        request.script_root,
    )
    kept: dict[tuple[Any, ...], str] = current_app.extensions[_KEPT]
    html = kept.get(key)
    if html is None:
        html = render_template(
            TEMPLATES[part], csrf_token=lambda: TOKEN_MARK, next_address=NEXT_MARK
        )
        if len(kept) >= _LIMIT:
            kept.clear()
        kept[key] = html
    html = html.replace(TOKEN_MARK, escape(generate_csrf()))
    if NEXT_MARK in html:
        html = html.replace(
            NEXT_MARK, escape(request.full_path if request.query_string else request.path)
        )
    return Markup(html)  # noqa: S704 (rendered with autoescape, the two values escaped here)


def init_app(app: Flask) -> None:
    app.extensions[_KEPT] = {}
    app.jinja_env.globals.update(site_header=site_header, site_footer=site_footer)
