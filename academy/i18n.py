"""Languages: Spanish first, English second.

The language is the user's own choice when signed in, else what they picked in the footer,
else the browser's Accept-Language, else Spanish.
"""

from __future__ import annotations

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import get_locale

from academy.extensions import babel

LANGUAGE_NAMES = {"es": "Español", "en": "English"}


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    # Only a user already loaded for this request: loading one here could recurse, since
    # Flask-Login may need a translated message while it loads.
    user = g.get("_login_user")
    if user is not None and user.is_authenticated and user.locale in languages:
        return str(user.locale)
    chosen = session.get("locale")
    if chosen in languages:
        return str(chosen)
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale else str(current_app.config["BABEL_DEFAULT_LOCALE"])


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals.update(current_locale=current_language, language_names=LANGUAGE_NAMES)
