"""The site's header and footer, rendered once for each kind of visitor and kept.

Every page shows them (``base.html`` calls :func:`site_header` and :func:`site_footer`), and
they were about two thirds of a lesson page's rendering: a dozen links from ``url_for``, twenty
translated strings, the visitor's roles, the current page marked in the menu. What they show
depends on little: the language, the page's endpoint and blueprint, whether someone is signed
in and as which role, whether registration is open, and where the application is mounted.
They are kept as frames (:mod:`academy.fragments`, within its budget) for each such
combination (a few hundred at most), and the two things of the request itself are put in on
each page: the session's CSRF token (the sign-out
and language forms) and the page's own address (the language form's ``next``). Nothing of one
person is kept: a role, a language and a page are shared by everyone who has them.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, get_flashed_messages, render_template, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from academy import fragments
from academy.i18n import current_language

TEMPLATES = {"header": "_site_header.html", "footer": "_site_footer.html"}


def site_header() -> Markup:
    return _fill(_frame("header", key()))


def site_footer() -> Markup:
    return _fill(_frame("footer", key()))


def key() -> tuple[Any, ...]:
    """What the header and footer depend on, besides the two values put in per request."""
    user = current_user
    signed_in = bool(user.is_authenticated)
    return (
        current_language(),
        request.endpoint,
        request.blueprint,
        signed_in,
        signed_in and user.is_trainer,
        signed_in and user.is_admin,
        bool(current_app.config.get("REGISTRATION_OPEN")),
        request.script_root,
    )


def unfilled(part: str, chrome_key: tuple[Any, ...]) -> Markup:
    """The header or footer with holes for the CSRF token ("csrf") and the page's address
    ("next"): for a page kept as a frame itself (:mod:`academy.fragments`), whose key then
    includes ``chrome_key``."""
    frame = _frame(part, chrome_key)
    return frame.fill({name: fragments.hole(name) for name in frame.holes})


def _frame(part: str, chrome_key: tuple[Any, ...]) -> fragments.Frame:
    return fragments.kept(
        ("chrome", part, *chrome_key),
        lambda: render_template(
            TEMPLATES[part],
            csrf_token=lambda: fragments.hole("csrf"),
            next_address=fragments.hole("next"),
        ),
    )


def _fill(frame: fragments.Frame) -> Markup:
    values = {}
    if "csrf" in frame.holes:
        values["csrf"] = escape(generate_csrf())
    if "next" in frame.holes:
        values["next"] = next_address()
    return frame.fill(values)


def next_address() -> str:
    """The page's own address, escaped: where the language form comes back to."""
    return escape(request.full_path if request.query_string else request.path)


def flash_messages() -> Markup:
    """The messages flashed for this visitor (``flash``), taken from the session, as the
    box every page shows above its content; nothing when there are none."""
    messages = get_flashed_messages(with_categories=True)
    if not messages:
        return Markup("")
    items = "".join(
        f'<p class="flash flash-{escape(category)}">{escape(message)}</p>'
        for category, message in messages
    )
    return Markup(f'<div class="flashes" role="status">{items}</div>')  # noqa: S704 (escaped)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        site_header=site_header, site_footer=site_footer, flash_messages=flash_messages
    )
