"""What pages cost the database: reading writes nothing, templates run no queries, list pages
run a constant number of queries whatever their length, long lists come in pages.

``count_statements`` (tests/conftest.py) counts the SQL statements a block runs.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from dataclasses import replace

import pytest
from sqlalchemy import select, text

from academy.courses import services
from academy.courses.content import load_course
from academy.db import utcnow
from academy.extensions import db
from academy.progress.services import enrol
from academy.quizzes import reports
from academy.quizzes.models import Answer
from academy.quizzes.services import get_quiz, import_quiz
from tests.conftest import CONTENT_FIXTURE, add_quiz_lesson, example_quiz_source
from tests.test_quiz_views import (
    EDITOR,
    attempt_url,
    correct_answers,
    finished_attempt,
    form_for,
    layout,
    start,
    teach_the_course,
    the_attempt,
    with_action,
)

LESSON = "/cursos/curso-ejemplo/lecciones/{}"


# Reading writes nothing; the lesson page's panels are computed by the view ----------------


@pytest.mark.parametrize(
    ("fixture", "slug"), [("example_quiz", "cuestionario"), ("case_lesson", "caso-plaza")]
)
def test_revisiting_a_quiz_or_case_lesson_writes_nothing(
    request, client, learner, count_statements, fixture, slug
):
    request.getfixturevalue(fixture)
    assert client.get(LESSON.format(slug)).status_code == 200
    with count_statements() as seen:
        page = client.get(LESSON.format(slug))
    assert page.status_code == 200
    assert seen.writes == []
    assert seen.in_templates == []


@pytest.mark.parametrize(
    ("fixture", "slug"), [("example_quiz", "cuestionario"), ("case_lesson", "caso-plaza")]
)
def test_a_trainer_previewing_a_quiz_or_case_lesson_runs_no_query_from_templates(
    request, client, auth, make_user, count_statements, fixture, slug
):
    request.getfixturevalue(fixture)
    auth.as_role(make_user, "trainer")
    with count_statements() as seen:
        page = client.get(LESSON.format(slug))
    assert page.status_code == 200
    assert "Vista de relator" in page.text
    assert seen.writes == []
    assert seen.in_templates == []


# List pages: a constant number of queries whatever their length ---------------------------


def add_courses(app, tmp_path, slugs, *, enrol_id=None):
    """Published copies of the example course named ``slugs``, each with a quiz lesson and a
    case lesson; the learner ``enrol_id`` enrolled in each."""
    with app.app_context():
        for slug in slugs:
            root = tmp_path / slug
            shutil.copytree(CONTENT_FIXTURE / "courses/curso-ejemplo", root)
            shutil.copy(
                CONTENT_FIXTURE / "casos/03-caso-plaza.md", root / "02-mecanismos/03-caso-plaza.md"
            )
            source, problems = load_course(root)
            assert source is not None and not problems, problems
            services.import_course(source)
            add_quiz_lesson(import_quiz=get_quiz("ejemplo") is None, course_slug=slug)
            if enrol_id is not None:
                enrol(enrol_id, services.get_course(slug))
        db.session.commit()


def page_cost(client, count_statements, url):
    """The statements a second visit of ``url`` runs (the first fills per-process caches)."""
    assert client.get(url).status_code == 200
    with count_statements() as seen:
        page = client.get(url)
    assert page.status_code == 200, page.data[:2000]
    assert seen.in_templates == []
    return len(seen), page.get_data(as_text=page.mimetype.startswith("text/"))


def test_my_courses_costs_the_same_for_one_course_or_many(
    app, client, auth, make_user, tmp_path, count_statements
):
    user = auth.as_role(make_user, "learner")
    add_courses(app, tmp_path, ["curso-a"], enrol_id=user.id)
    assert client.get("/cursos/curso-a/lecciones/niveles").status_code == 200
    one, page = page_cost(client, count_statements, "/mis-cursos")
    assert "/cursos/curso-a/" in page
    add_courses(app, tmp_path, ["curso-b", "curso-c", "curso-d"], enrol_id=user.id)
    many, page = page_cost(client, count_statements, "/mis-cursos")
    assert all(f"/cursos/{slug}/" in page for slug in ("curso-a", "curso-b", "curso-d"))
    assert many == one


def add_quizzes(app, slugs):
    """Copies of the example quiz named ``slugs``, each used by a lesson of the example course."""
    with app.app_context():
        for slug in slugs:
            import_quiz(replace(example_quiz_source(), slug=slug))
            add_quiz_lesson(f"leccion-{slug}", slug, import_quiz=False)
        db.session.commit()


def test_the_quiz_index_costs_the_same_for_one_quiz_or_many(
    app, client, auth, make_user, example_course, count_statements
):
    auth.as_role(make_user, "trainer")
    add_quizzes(app, ["banco-a"])
    one, page = page_cost(client, count_statements, "/editor/cuestionarios/")
    assert "leccion-banco-a" in page
    add_quizzes(app, ["banco-b", "banco-c", "banco-d"])
    many, page = page_cost(client, count_statements, "/editor/cuestionarios/")
    assert all(f"leccion-banco-{x}" in page for x in "abcd")
    assert "Revisión 1 publicada" in page
    assert many == one


def add_lessons(app, trainer_id, units, lessons, *, retire=0):
    """``units`` more units in the course «editado» (created if new), each with ``lessons``
    lessons of two revisions; then ``retire`` of them retired."""
    with app.app_context():
        course = services.get_course("editado") or services.create_course(
            slug="editado", title="Editado", summary="", description_md="", hours=1,
            language="es", outcomes=[], enrolment="open", case_completion="approval",
            certificate_template="default",
        )  # fmt: skip
        made = []
        for _ in range(units):
            n = len(services.live_units(course)) + 1
            unit = services.create_unit(
                course, slug=f"unidad-{n}", title=f"Unidad {n}", summary_md=""
            )
            for m in range(1, lessons + 1):
                lesson = services.create_lesson(
                    unit, slug=f"leccion-{n}-{m}", kind="quiz" if m % 2 else "reading",
                    title=f"Lección {n}.{m}", minutes=5, objectives=[], trainer_id=trainer_id,
                    ref="ejemplo" if m % 2 else None,
                )  # fmt: skip
                services.save_draft(
                    lesson, trainer_id=trainer_id, title=f"Lección {n}.{m}, segunda versión",
                    minutes=5, objectives=[], body_md="Texto largo. " * 500,
                )  # fmt: skip
                services.publish(lesson)
                made.append(lesson)
        for lesson in made[:retire]:
            services.retire_lesson(lesson)
        db.session.commit()


def test_the_editors_course_page_costs_the_same_for_one_lesson_or_many(
    app, client, auth, make_user, count_statements
):
    trainer = auth.as_role(make_user, "trainer")
    add_lessons(app, trainer.id, units=1, lessons=1)
    one, page = page_cost(client, count_statements, "/editor/cursos/editado/")
    assert "Lección 1.1, segunda versión" in page
    add_lessons(app, trainer.id, units=3, lessons=4, retire=2)
    with count_statements() as seen:
        page = client.get("/editor/cursos/editado/").text
    assert "Lección 4.4, segunda versión" in page and "Lecciones retiradas" in page
    assert len(seen) == one
    # Titles only: no revision's text is read to list the lessons.
    assert not [s for s in seen.all if "body_md" in s or "body_html" in s]


def test_the_offline_pdf_costs_the_same_for_one_lesson_or_many(
    app, client, learner, count_statements
):
    url = "/cursos/curso-ejemplo/pdf"
    one, _pdf = page_cost(client, count_statements, url)
    with app.app_context():
        for n in range(4):
            add_quiz_lesson(f"repaso-{n}", import_quiz=n == 0)
        db.session.commit()
    many, _pdf = page_cost(client, count_statements, url)
    assert many == one


# Long pages come in pages; exports stream; image lists never read image bytes ------------


def enrol_people(app, make_user, count, course_slug="curso-ejemplo"):
    people = [make_user("learner", full_name=f"Participante {n:02d}") for n in range(count)]
    with app.app_context():
        course = services.get_course(course_slug)
        for person in people:
            enrol(person.id, course)
        db.session.commit()
    return people


@pytest.mark.parametrize(
    ("url", "module"),
    [
        ("/admin/cursos/curso-ejemplo/inscripciones", "academy.learning.my_courses"),
        ("/admin/cursos/curso-ejemplo/relatores-y-grupos", "academy.cases.views"),
    ],
)
def test_rosters_come_in_pages(
    app, client, auth, make_user, example_course, monkeypatch, count_statements, url, module
):
    monkeypatch.setattr(f"{module}.ROSTER_PAGE_SIZE", 2)
    auth.as_role(make_user, "admin")
    enrol_people(app, make_user, 5)
    client.post("/admin/cursos/curso-ejemplo/grupos", data={"name": "Mañana"})
    first = client.get(url).text
    assert "Participante 00" in first and "Participante 01" in first
    assert "Participante 02" not in first
    assert "Página 1 de 3" in first and "Anterior" not in first
    assert f'rel="next" href="{url}?pagina=2#' in first
    with count_statements() as seen:
        last = client.get(url + "?pagina=3")
    assert last.status_code == 200 and seen.in_templates == []
    assert "Participante 04" in last.text and "Participante 03" not in last.text
    assert "Página 3 de 3" in last.text and f'rel="prev" href="{url}?pagina=2#' in last.text
    for hostile in ("abc", "-1", "0", "99999999999999999999", "1e9"):
        assert client.get(url + f"?pagina={hostile}").status_code == 200, hostile


def test_assigning_cohorts_comes_back_to_the_same_page(
    app, client, auth, make_user, example_course, monkeypatch
):
    monkeypatch.setattr("academy.cases.views.ROSTER_PAGE_SIZE", 2)
    auth.as_role(make_user, "admin")
    people = enrol_people(app, make_user, 5)
    client.post("/admin/cursos/curso-ejemplo/grupos", data={"name": "Mañana"})
    page = client.get("/admin/cursos/curso-ejemplo/relatores-y-grupos?pagina=2").text
    cohort = re.search(r'<option value="(\d+)"', page).group(1)
    response = client.post(
        "/admin/cursos/curso-ejemplo/grupos/asignar",
        data={f"grupo-{people[2].id}": cohort, "pagina": "2"},
    )
    assert response.status_code == 302
    assert response.location.endswith("/relatores-y-grupos?pagina=2#participantes")
    page = client.get(response.location).text
    assert "(1 persona)" in page  # counted over the whole course, not the page


def test_quiz_statistics_and_csv_read_attempts_in_batches(
    client, auth, make_user, example_quiz, query, monkeypatch, count_statements
):
    monkeypatch.setattr(reports, "BATCH", 2)
    teach_the_course(query, auth.as_role(make_user, "trainer"))
    for _ in range(5):
        finished_attempt(query, make_user("learner").id, correct_answers, when=utcnow())

    def answer_reads(seen):
        return [s for s in seen.all if re.search(r"\bFROM quiz_answers\b", s)]

    with count_statements() as seen:
        page = client.get(EDITOR + "/estadisticas").text
    assert "Intentos entregados</dt><dd>5</dd>" in page
    assert len(answer_reads(seen)) == 3  # five attempts, two at a time
    with count_statements() as seen:
        response = client.get(EDITOR + "/intentos.csv")
        assert response.is_streamed
        text = response.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert len(rows) == 40  # five attempts, eight questions each
    assert len(answer_reads(seen)) == 3


def test_the_image_list_never_reads_image_bytes(
    client, auth, make_user, example_course, count_statements
):
    auth.as_role(make_user, "trainer")
    with count_statements() as seen:
        page = client.get("/editor/cursos/curso-ejemplo/unidades/primeros-pasos/imagenes")
    assert page.status_code == 200 and "niveles.png" in page.text
    assert [s for s in seen.all if "course_assets" in s]
    assert not [s for s in seen.all if "course_assets.data" in s]
    # Serving an image still reads it.
    image = client.get("/editor/cursos/curso-ejemplo/recursos/primeros-pasos/niveles.png")
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
    learner_view = client.get("/cursos/curso-ejemplo/recursos/primeros-pasos/niveles.png")
    assert learner_view.data == image.data


# Indexes: what lists filter and sort on ----------------------------------------------------

PLANNED = [
    # The roster: one course's completed lessons (progress_rows, roster_rows).
    (
        "SELECT user_id, lesson_id FROM lesson_progress WHERE course_id = 1 AND status = 'done'",
        "ix_lesson_progress_course_id_status",
    ),
    # The courses a trainer teaches (the review queue's filter).
    ("SELECT course_id FROM course_trainers WHERE user_id = 1", "ix_course_trainers_user_id"),
    # People by name, a page at a time.
    ("SELECT id FROM users ORDER BY full_name, id LIMIT 50", "ix_users_full_name_id"),
]


@pytest.mark.parametrize(("sql", "index"), PLANNED)
def test_list_queries_have_an_index(app, query, sql, index):
    def plan():
        if db.engine.dialect.name == "sqlite":
            rows = db.session.execute(text("EXPLAIN QUERY PLAN " + sql)).all()
            return " ".join(str(row[-1]) for row in rows)
        # Tables are tiny in tests: make the planner show what it would use on a large one.
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        return " ".join(row[0] for row in db.session.execute(text("EXPLAIN " + sql)))

    assert index in query(plan)


def test_people_come_in_pages_with_the_shared_pager(client, auth, make_user, monkeypatch):
    monkeypatch.setattr("academy.people.services.PAGE_SIZE", 2)
    auth.as_role(make_user, "admin")
    for n in range(4):
        make_user("learner", full_name=f"Zúñiga {n}")
    page = client.get("/admin/personas/?q=z%C3%BA%C3%B1iga&rol=learner").text
    assert "Zúñiga 0" in page and "Zúñiga 2" not in page
    assert "Página 1 de 2" in page
    search = "q=z%C3%BA%C3%B1iga&amp;rol=learner"
    assert f'rel="next" href="/admin/personas/?pagina=2&amp;{search}"' in page
    second = client.get("/admin/personas/?q=z%C3%BA%C3%B1iga&rol=learner&pagina=2").text
    assert "Zúñiga 2" in second and "Zúñiga 0" not in second


def test_a_quiz_parsed_once_is_never_read_from_its_stored_data_again(
    app, example_quiz, count_statements
):
    """The parsed quiz is kept per process; its revision's ``data`` (large, deferred) is read
    only when the cache misses. Handing in an attempt used to load it every time."""
    from sqlalchemy import select

    from academy.quizzes import storage
    from academy.quizzes.models import QuizRevision

    with app.app_context():
        revision_id = db.session.scalar(select(QuizRevision.id).order_by(QuizRevision.id.desc()))
        first = storage.load(db.session.get(QuizRevision, revision_id))
        db.session.expunge_all()
        revision = db.session.get(QuizRevision, revision_id)  # as a request finds it
        with count_statements() as seen:
            again = storage.load(revision)
        assert again is first
        assert seen.all == []


# Handing in a quiz: what a whole class does at the same moment ----------------------------


def test_handing_in_a_quiz_runs_the_same_few_statements_whatever_its_questions(
    app, client, example_quiz, learner, query, count_statements
):
    """«Entregar» on an attempt whose lesson is already done, or that fails: the learner, the
    attempt locked (with whether the lesson is done), its answers, the claim with the grade,
    and every answer's score in one statement. Recording a first pass does more (the lesson's
    progress and the course's completion)."""

    def hand_in(number, right):
        start(client)
        pairs = layout(query, learner, number)
        responses = correct_answers(pairs)
        if not right:
            responses = {key: None for key in responses}
            responses |= {pairs[0][0].key: correct_answers(pairs[:1])[pairs[0][0].key]}
        saved = client.post(
            attempt_url(number), data=with_action(form_for(pairs, responses), "save")
        )
        assert saved.status_code == 303
        with count_statements() as seen:
            response = client.post(attempt_url(number, "/entregar"))
        assert response.status_code == 303
        assert response.headers["Location"] == attempt_url(number)
        attempt = the_attempt(query, learner, number)
        assert (attempt.status, attempt.passed) == ("submitted", right)
        scored = query(
            lambda: db.session.scalars(
                select(Answer.score).where(Answer.attempt_id == attempt.id)
            ).all()
        )
        assert len(scored) == len(pairs)  # the questions left blank are saved (and score 0)
        assert None not in scored
        return seen

    first = hand_in(1, right=True)  # the lesson becomes done
    again, failed = hand_in(2, right=True), hand_in(3, right=False)
    assert len(again) == len(failed) == 5, (again.all, failed.all)
    assert len(first) > 5
