"""Hostile input on every route: whatever is sent, the answer is never a 500.

Each endpoint of the access table (tests/test_access.py) gets, from an admin and from an
enrolled learner with a quiz attempt in progress, form fields and query strings that no form
sends: numbers too large for the database, negative numbers, control characters, very long
texts, repeated fields. Every answer must be a normal page or a clear refusal (below 500). What
holds them is mostly ``academy/inputs.py``.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

import pytest
from werkzeug.datastructures import MultiDict

from academy.inputs import INT_MAX, NUL_MESSAGE, whole_number
from tests.test_access import TABLE

HUGE = "9" * 30  # beyond any integer column, on SQLite and PostgreSQL alike
NAMES = (
    "action", "alt", "base", "body", "case", "case_completion", "certificate_template",
    "comentarios", "decision", "description", "direction", "email", "emails", "enrolment",
    "grupo", "hours", "intento", "kind", "language", "minutes", "name", "next", "nivel-1",
    "note", "objectives", "outcomes", "password", "quiz", "revision", "semilla", "shown",
    "slug", "source", "status", "summary", "title", "version", "volver",
)  # fmt: skip
PAYLOADS = {
    "empty": MultiDict(),
    "huge numbers": MultiDict([(name, HUGE) for name in NAMES]),
    "negative": MultiDict([(name, "-1") for name in NAMES]),
    "control characters": MultiDict([(name, "\x1b[31m\u202e\x07") for name in NAMES]),
    "long texts": MultiDict([(name, "á" * 20_000) for name in NAMES[:12]]),
    "repeated": MultiDict([(name, value) for name in NAMES for value in ("1", "2")]),
}
QUERY = {"grupo": HUGE, "curso": "-1", "desde": "-1", "hasta": HUGE, "revision": HUGE,
         "pagina": "abc", "estado": "\x1b", "volver": "//x.example", "q": "x" * 3000}  # fmt: skip
# What an enrolled learner can reach: the forms, and the quiz attempt's pages.
LEARNER_ROUTES = sorted(
    endpoint
    for endpoint, (method, path, _statuses) in TABLE.items()
    if method == "POST" or "/intentos" in path
)


def send(client, method: str, path: str, payload: str):
    path, _sep, own = path.partition("?")  # the route's own parameters, overridden by QUERY
    response = client.open(
        path,
        method=method,
        query_string={**dict(parse_qsl(own)), **QUERY},
        data=PAYLOADS[payload] if method == "POST" else None,
    )
    response.close()
    return response


@pytest.fixture
def attempt_in_progress(client, learner, example_quiz):
    """The enrolled learner has started the quiz, so quiz routes reach their handlers."""
    response = client.post("/cursos/curso-ejemplo/lecciones/cuestionario/intentos")
    assert response.status_code == 303


def statuses(client, method: str, path: str) -> dict[str, int]:
    """Each payload's status (one test per route: setting up its data is the slow part)."""
    return {payload: send(client, method, path, payload).status_code for payload in PAYLOADS}


@pytest.mark.parametrize("endpoint", sorted(TABLE))
@pytest.mark.usefixtures("example_course", "example_quiz")
def test_admins_never_get_a_500(client, auth, make_user, endpoint):
    method, path, _expected = TABLE[endpoint]
    path = path.format(learner_id=make_user("learner").id)
    auth.as_role(make_user, "admin")
    failed = {p: code for p, code in statuses(client, method, path).items() if code >= 500}
    assert not failed, f"{method} {path}: {failed}"


@pytest.mark.parametrize("endpoint", LEARNER_ROUTES)
@pytest.mark.usefixtures("attempt_in_progress")
def test_learners_never_get_a_500(client, make_user, endpoint):
    method, path, _expected = TABLE[endpoint]
    path = path.format(learner_id=make_user("learner").id)
    failed = {p: code for p, code in statuses(client, method, path).items() if code >= 500}
    assert not failed, f"{method} {path}: {failed}"


@pytest.mark.parametrize(
    "endpoint", sorted(e for e, (_m, path, _s) in TABLE.items() if re.search(r"/\d+(/|$|\?)", path))
)
@pytest.mark.usefixtures("attempt_in_progress")
def test_ids_too_large_for_the_database_are_not_found(client, endpoint):
    method, path, _expected = TABLE[endpoint]
    path = re.sub(r"/\d+(?=/|$|\?)", f"/{HUGE}", path, count=1)
    response = client.open(path, method=method)
    # No such page (404), or no such form for that address (405): never a database error.
    assert response.status_code in (404, 405), f"{method} {path}: {response.status_code}"


@pytest.mark.usefixtures("example_course")
def test_a_nul_character_is_refused_with_a_clear_page(client, learner):
    response = client.post("/cursos/curso-ejemplo/inscribirme", data={"nota": "a\x00b"})
    assert response.status_code == 400
    assert str(NUL_MESSAGE) in response.text
    response = client.get("/cursos/", query_string={"q": "\x00"})
    assert response.status_code == 400


def test_whole_numbers_stop_at_the_database_integer():
    assert whole_number("42") == 42
    assert whole_number(str(INT_MAX)) == INT_MAX
    assert whole_number("-7") == -7
    for bad in (str(INT_MAX + 1), HUGE, "abc", "", "1.5"):
        with pytest.raises(ValueError):
            whole_number(bad)
