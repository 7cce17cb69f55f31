"""What a request may carry, checked in one place before any view reads it.

- **Whole numbers fit the database's integers.** ``<int:…>`` in every route stops at 2³¹ − 1
  (a larger number is a 404, like any id that does not exist), and numbers read from forms and
  query strings go through :func:`whole_number` (``request.args.get(name, type=whole_number)``),
  so that 30 digits are "not valid" rather than a database error.
- **No NUL character** in any form field or query parameter: no text the platform stores or
  compares has one, and PostgreSQL refuses it in text. Such a request gets a 400 page that
  says so.
- **Text is UTF-8.** A query string or form that is not (raw or percent-encoded bytes that do
  not decode) gets a 400 page that says so, before the CSRF check: Werkzeug drops such a form
  silently, which used to read as "the form expired", and fails on such a query string.
"""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask, abort, request
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter
from wtforms import Field, Form, ValidationError

from academy.errors import render_error

NOT_UTF8_MESSAGE = _l(
    "Lo que enviaste tiene caracteres que no se pueden leer (no es texto UTF-8). Si pegaste "
    "texto desde otro programa, escríbelo de nuevo y vuelve a intentarlo."
)
INT_MAX = 2**31 - 1  # PostgreSQL's integer, the type of every id and number column
NUL_MESSAGE = _l(
    "Lo que enviaste tiene un carácter que no se puede guardar (NUL). Si pegaste texto desde "
    "otro programa, escríbelo de nuevo y vuelve a intentarlo."
)


ONE_LINE_MESSAGE = _l("Escribe una sola línea, sin saltos de línea ni caracteres de control.")
# What a file's checker says, beside the file and line (content files are read in Spanish).
ONE_LINE_PROBLEM = "debe ser una sola línea, sin saltos de línea ni caracteres de control"


def is_one_line(text: str) -> bool:
    """No line break of any kind (those ``str.splitlines`` knows) and no other control
    character. Titles are one line: page headings, email subjects (where a line break is an
    error) and the front matter of exported files all expect it."""
    return not any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in text)


class OneLine:
    """The WTForms validator of :func:`is_one_line`, for every title field."""

    def __init__(self, message: Any = ONE_LINE_MESSAGE) -> None:
        self.message = message

    def __call__(self, form: Form, field: Field) -> None:
        if isinstance(field.data, str) and not is_one_line(field.data):
            raise ValidationError(self.message)


def whole_number(value: str) -> int:
    """``int(value)`` for request values; beyond a database integer it raises ValueError, so
    that ``request.args.get(name, type=whole_number)`` gives the default instead."""
    number = int(value)
    if not -INT_MAX <= number <= INT_MAX:
        raise ValueError(f"{value!r} is out of range")
    return number


class DatabaseInteger(IntegerConverter):
    """``<int:…>``, no larger than a database integer."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", INT_MAX)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Call before any blueprint is registered: rules pick their converters when added."""
    app.url_map.converters["int"] = DatabaseInteger

    def _refuse_undecodable() -> None:
        sources = [request.query_string]
        if request.mimetype == "application/x-www-form-urlencoded":
            sources.append(request.get_data(cache=True))  # the form is parsed from this copy
        try:
            for raw in sources:
                parse_qsl(raw.decode(), keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            # The error page reads the query string too (the language switch keeps it).
            request.query_string = b""
            request.__dict__.pop("args", None)
        else:
            return
        abort(render_error(400, str(NOT_UTF8_MESSAGE)))

    # First of all hooks: the CSRF check would read the dropped form as a missing token.
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_undecodable)

    @app.before_request
    def _refuse_nul() -> None:
        for values in (request.args, request.form):
            if any("\x00" in key or "\x00" in value for key, value in values.items(multi=True)):
                abort(render_error(400, str(NUL_MESSAGE)))
