"""Languages: Spanish first, English second.

The language is the user's own choice when signed in, else what they picked in the footer,
else the browser's Accept-Language, else Spanish.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

import flask_babel
from babel import Locale
from flask import Flask, current_app, g, has_app_context, has_request_context, request, session
from flask_babel import get_locale, get_translations
from flask_babel.speaklater import LazyString
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

from academy.extensions import babel

LANGUAGE_NAMES = {"es": "Español", "en": "English"}


def select_locale() -> Locale:
    return _locale(_choose_language())


@cache
def _locale(code: str) -> Locale:
    # Flask-Babel parses whatever the selector returns on every request; a Locale is kept as is.
    return Locale.parse(code)


def _choose_language() -> str:
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
    locale = _request_catalog()[0]
    return locale.language if locale else str(current_app.config["BABEL_DEFAULT_LOCALE"])


# The request's locale and the catalog Flask-Babel chose for it, kept in ``g`` under:
_CATALOG = "_academy_catalog"


def _request_catalog() -> tuple[Any, Any]:
    """Flask-Babel's locale and catalog for this request, the catalog looked up once.

    ``flask_babel.get_translations()`` finds the catalog again on every call, and a page calls
    ``_()`` dozens of times. The catalog is kept with the locale it was found for (Flask-Babel's
    public ``get_locale()``, itself kept for the request), so ``flask_babel.refresh()`` and
    ``force_locale()``, which replace the locale, are still obeyed.
    """
    locale = get_locale()
    if not has_app_context():
        return locale, get_translations()
    # ``g`` looked up once for the two uses below: each use of the proxy is a context lookup,
    # and this runs for every _() of a page. The locale comes from Flask-Babel's public
    # get_locale(), never from where it keeps it (its private state may change in any release).
    namespace = vars(g._get_current_object())
    cached = namespace.get(_CATALOG)
    if cached is not None and cached[0] is locale:
        return locale, cached[1]
    translations = get_translations()
    namespace[_CATALOG] = (locale, translations)
    return locale, translations


def gettext(string: str, **variables: Any) -> str:
    """``flask_babel.gettext``, with the catalog looked up once per request."""
    text = _request_catalog()[1].ugettext(string)
    return text % variables if variables else text


def lazy_gettext(string: str, **variables: Any) -> LazyString:
    """``flask_babel.lazy_gettext`` over :func:`gettext` (extracted as ``_l`` all the same)."""
    return LazyString(gettext, string, **variables)


# pass_eval_context, not pass_context as Jinja's own gettext: a pass_context function called
# inside a block or a loop gets a context derived for that one call (every variable of the
# page copied into a new Context), and a page calls _() dozens of times, mostly in blocks.
@pass_eval_context
def _jinja_gettext(eval_ctx: EvalContext, string: str, **variables: Any) -> str:
    # As Jinja's newstyle gettext (jinja2.ext._make_new_gettext), minus two indirections.
    text = _request_catalog()[1].ugettext(string)
    if eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 (the catalog's own text, as Jinja's i18n does)
    return text % variables  # type: ignore[no-any-return]


@pass_eval_context
def _jinja_ngettext(
    eval_ctx: EvalContext, singular: str, plural: str, num: int, **variables: Any
) -> str:
    variables.setdefault("num", num)
    text = _request_catalog()[1].ungettext(singular, plural, num)
    if eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 (the catalog's own text, as Jinja's i18n does)
    return text % variables  # type: ignore[no-any-return]


def format_moment(value: datetime | None, _width: str | None = None) -> str:
    """A date and time written the one way every page writes them, in the reader's language
    and time zone: "4 de diciembre de 2026, 18:10" (no seconds, no zone).

    It is the ``datetimeformat`` filter: the width templates pass (``"short"``, ``"medium"``)
    is ignored, so that no page shows "04-12-26" next to another's "4 dic 2026".
    """
    if value is None:
        return ""
    return str(
        flask_babel.gettext(
            "%(date)s, %(time)s",
            date=flask_babel.format_date(value, "long"),
            time=flask_babel.format_time(value, "short"),
        )
    )


def init_app(app: Flask) -> None:
    # Dates are written in full ("4 de diciembre de 2026") whatever width a template asks for.
    date_formats = dict(babel.default_date_formats)
    date_formats.update({"date": "long", "date.short": "long", "date.medium": "long"})
    babel.date_formats = date_formats
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["datetimeformat"] = format_moment
    # Templates call _() dozens of times a page: the same functions, without Jinja's layers.
    app.jinja_env.globals.update(_=_jinja_gettext, gettext=_jinja_gettext, ngettext=_jinja_ngettext)
    app.jinja_env.globals.update(current_locale=current_language, language_names=LANGUAGE_NAMES)
