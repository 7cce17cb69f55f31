"""Hostile input on every route: whatever is sent, the answer is never a 500.

Each endpoint of the access table (tests/test_access.py) gets, from an admin and from an
enrolled learner with a quiz attempt in progress, form fields and query strings that no form
sends: numbers too large for the database, negative numbers, control characters, very long
texts, repeated fields. So do the case pages, with a case submitted and in review. Every
answer must be a normal page or a clear refusal (below 500). What holds them is mostly
``academy/inputs.py``.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from academy.cases.models import CaseSubmission
from academy.courses.models import Course
from academy.extensions import db
from academy.inputs import INT_MAX, NOT_UTF8_MESSAGE, NUL_MESSAGE, whole_number
from tests.test_access import TABLE
from tests.test_cases import WORK, signed_in, submit

HUGE = "9" * 30  # beyond any integer column, on SQLite and PostgreSQL alike
NAMES = (
    "action", "alt", "base", "body", "case", "case_completion", "certificate_template",
    "codigo", "comentarios", "decision", "description", "direction", "email", "emails", "enrolment",
    "grupo", "hours", "intento", "kind", "language", "minutes", "name", "next", "nivel-1",
    "note", "objectives", "outcomes", "password", "quiz", "reason", "revision", "semilla",
    "shown", "slug", "source", "status", "summary", "title", "user_id", "version", "volver",
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
         "pagina": "abc", "estado": "\x1b", "volver": "//x.example", "q": "x" * 3000,
         "codigo": "\u202e" + HUGE}  # fmt: skip
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


@pytest.mark.parametrize("body", [b"email=a\xffb%40muni.cl&password=x", b"email=a%FFb&password=x"])
def test_a_form_that_is_not_utf8_is_refused_with_a_clear_page(app, client, monkeypatch, body):
    # Werkzeug drops such a form whole: the CSRF check then said the form had expired.
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post("/entrar", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert str(NOT_UTF8_MESSAGE) in response.text
    assert "expiró" not in response.text


@pytest.mark.parametrize("query", ["next=\xff", "next=%C3%28"])
def test_a_query_string_that_is_not_utf8_is_refused_with_a_clear_page(client, query):
    response = client.get("/entrar", environ_overrides={"QUERY_STRING": query})
    assert response.status_code == 400  # the raw byte was a 500
    assert str(NOT_UTF8_MESSAGE) in response.text


def test_whole_numbers_stop_at_the_database_integer():
    assert whole_number("42") == 42
    assert whole_number(str(INT_MAX)) == INT_MAX
    assert whole_number("-7") == -7
    for bad in (str(INT_MAX + 1), HUGE, "abc", "", "1.5"):
        with pytest.raises(ValueError):
            whole_number(bad)


# Case exercises: the access table reaches them without a case; here there is one, submitted
# by the learner and opened for review by its trainer.


@pytest.fixture
def case_in_review(app, make_user, query, case_lesson) -> tuple[FlaskClient, FlaskClient, int]:
    """The learner's and the trainer's clients, and the learner's submission, in review."""
    from academy.progress import cohorts as progress_cohorts
    from academy.progress import services as progress

    learner = make_user("learner")
    trainer = make_user("trainer")

    def set_up() -> None:
        course = db.session.get(Course, case_lesson.course_id)
        progress.enrol(learner.id, course)
        progress_cohorts.add_course_trainer(course, trainer.email)
        db.session.commit()

    query(set_up)
    mine = signed_in(app, learner)
    submit(mine)
    submission = query(
        lambda: db.session.scalar(
            select(CaseSubmission.id).where(CaseSubmission.user_id == learner.id)
        )
    )
    reviewer = signed_in(app, trainer)
    assert reviewer.get(f"/revision/{submission}").status_code == 200
    assert reviewer.post(f"/revision/{submission}/tomar").status_code == 302
    return mine, reviewer, submission


CASE_ROUTES = {
    "learner": [("GET", WORK), ("POST", WORK), ("POST", WORK + "borrador"),
                ("GET", WORK + "enviar"), ("POST", WORK + "enviar"),
                ("GET", "/casos/envios/{submission}")],
    "trainer": [("GET", "/revision/"), ("GET", "/revision/{submission}"),
                ("POST", "/revision/{submission}"), ("POST", "/revision/{submission}/tomar"),
                ("GET", "/casos/envios/{submission}")],
}  # fmt: skip


@pytest.mark.parametrize("who", sorted(CASE_ROUTES))
def test_case_pages_never_answer_500(case_in_review, who):
    mine, reviewer, submission = case_in_review
    client = mine if who == "learner" else reviewer
    for method, path in CASE_ROUTES[who]:
        path = path.format(submission=submission)
        failed = {p: code for p, code in statuses(client, method, path).items() if code >= 500}
        assert not failed, f"{method} {path} as {who}: {failed}"


# Pathological Markdown: refused with its line before python-markdown spends seconds on it or
# runs out of recursion, in the editor, its preview and the CLI alike.

MARKDOWN_SHAPES = {
    # shape: (text, line of the text where the problem is)
    "10,000 nested [": ("[" * 10_000 + "x", 1),
    "10,000 nested [^": ("[^" * 10_000, 1),
    "5,000 open link targets": ("[a](" * 5_000, 1),
    "10,000-level nested list": ("- " * 10_000 + "x", 1),
    "10,000-level block quote": ("> " * 10_000 + "x", 1),
    "300 indented levels": ("".join("    " * i + "- a\n" for i in range(300)), 21),
    "10,000 nested *": ("*" * 10_000 + "x" + "*" * 10_000, 1),
    "5,000 nested **": ("**" * 5_000 + "x" + "**" * 5_000, 1),
    "10,000 nested _": ("_" * 10_000 + "x" + "_" * 10_000, 1),
    "60,000 paragraphs": ("a\n\n" * 60_000, 39_999),
    "45,000 headings": ("# a\n" * 45_000, 501),
}
MARKDOWN_SHAPE_IDS = list(MARKDOWN_SHAPES)
EDITOR_LESSON = "/editor/cursos/curso-ejemplo/lecciones/niveles"
LESSON_FORM = {
    "title": "Los niveles de participación",
    "minutes": "15",
    "objectives": "",
    "note": "",
    "base": "1",
    "action": "save",
}


def shape_body(shape: str) -> tuple[str, int]:
    """A lesson body with the shape after a paragraph, and the body line of its problem."""
    text, line = MARKDOWN_SHAPES[shape]
    return "Texto normal.\n\n" + text, line + 2


@pytest.fixture
def editing_trainer(client, auth, make_user, example_course):
    auth.as_role(make_user, "trainer")


@pytest.mark.parametrize("shape", MARKDOWN_SHAPE_IDS)
def test_pathological_markdown_is_refused_by_the_lesson_editor(
    client, editing_trainer, query, shape
):
    from academy.courses.models import Lesson

    body, line = shape_body(shape)
    response = client.post(EDITOR_LESSON, data={**LESSON_FORM, "body": body})
    assert response.status_code == 422
    assert f"Línea {line}: " in response.text
    revisions = query(
        lambda: len(db.session.scalar(select(Lesson).where(Lesson.slug == "niveles")).revisions)
    )
    assert revisions == 1  # nothing saved


@pytest.mark.parametrize("shape", MARKDOWN_SHAPE_IDS)
def test_pathological_markdown_is_refused_by_the_preview(client, editing_trainer, shape):
    body, line = shape_body(shape)
    response = client.post(f"{EDITOR_LESSON}/vista-previa", json={"body": body})
    assert response.status_code == 422
    [problem] = response.json["problems"]
    assert problem.startswith(f"Línea {line}: ")
    assert response.json["html"] == ""


@pytest.mark.parametrize("shape", MARKDOWN_SHAPE_IDS)
def test_pathological_markdown_is_refused_by_content_check_and_import(
    runner, query, tmp_path, shape
):
    import shutil
    from pathlib import Path

    root = tmp_path / "content"
    shutil.copytree(Path(__file__).parent / "fixtures/content", root)
    lesson = root / "courses/curso-ejemplo/01-primeros-pasos/02-niveles.md"
    front = "---\ntitulo: Niveles\nminutos: 15\n---\n\n"
    body, line = shape_body(shape)
    lesson.write_text(front + body, encoding="utf-8")
    expected = f"curso-ejemplo/01-primeros-pasos/02-niveles.md:{front.count(chr(10)) + line}: "
    for command in ("check", "import"):
        result = runner.invoke(args=["content", command, str(root)])
        assert result.exit_code == 1, (command, result.output)
        assert isinstance(result.exception, SystemExit), result.exception  # not a traceback
        assert expected in result.output, (command, result.output[-500:])
    assert query(lambda: db.session.scalar(select(Course.id))) is None  # nothing imported
