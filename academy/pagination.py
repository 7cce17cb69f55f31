"""Long lists come in pages: one helper for every view, one macro for every template
(``macros/pagination.html``), the page number in ``?pagina=``."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_sqlalchemy.pagination import Pagination

from academy.extensions import db
from academy.inputs import whole_number

PAGE_ARG = "pagina"


def paginate(statement: Any, *, per_page: int) -> Pagination:
    """One page of ``statement``'s rows (ORM entities: the first column of each row), from the
    request's ``?pagina=``: a missing, unreadable or out-of-range number shows the first page
    or an empty one, never an error."""
    number = request.args.get(PAGE_ARG, 1, type=whole_number)
    return db.paginate(statement, page=max(number, 1), per_page=per_page, error_out=False)
