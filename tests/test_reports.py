"""Reports: the figures of a seeded academy, computed by hand, against the pages, the CSV files
and the command; what a trainer sees; dates; and how many rows and statements a page costs.

The seed (the example course with its quiz and case lessons; two cohorts, A and B):

| who | comuna | cohort | enrolled (UTC) | completed after | certificate | best quiz | case |
|---|---|---|---|---|---|---|---|
| L1 | Santiago 13101 | A | 2026-03-01 | 10 days | valid | 90 (and 50) | |
| L2 | Santiago 13101 | A | 2026-03-02 | 20 days | revoked | 75 | |
| L3 | Valparaíso 05101 | B | 2026-05-01 03:30 (30 April in Chile) | | | 100 | sent 2 days ago |
| L4 | Antártica 12202 | B | 2026-05-02 | 3 days | valid | | |
| L5 | Cabo de Hornos 12201 | none | 2026-06-01 | | | | in review, sent 10 days ago |
| L6 | none | none | 2026-06-02 | 4 days | valid | | |

Every learner but L5 has opened a lesson. The trainer follows cohort A only.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from academy import audit
from academy.cases.models import CaseSubmission
from academy.certificates import codes
from academy.certificates.models import Certificate
from academy.courses.models import Course, Lesson
from academy.extensions import db
from academy.progress import cohorts
from academy.progress.models import Cohort, Enrolment, LessonProgress
from academy.quizzes.models import Attempt, Quiz
from academy.reports import queries, services
from academy.reports.queries import Scope

DAY = 86400


@dataclass
class Seed:
    course_id: int
    cohort_a: int
    cohort_b: int
    learners: dict[str, int]
    emails: dict[str, str]
    trainer_email: str
    now: datetime


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def seed(app, make_user, case_lesson, example_quiz) -> Seed:
    plan = {
        # name: (comuna, cohort, enrolled, days to complete, certificate, quiz scores, case)
        "L1": ("13101", "A", "2026-03-01 10:00", 10, "valid", (50, 90), None),
        "L2": ("13101", "A", "2026-03-02 10:00", 20, "revoked", (75,), None),
        "L3": ("05101", "B", "2026-05-01 03:30", None, None, (100,), ("submitted", 2)),
        "L4": ("12202", "B", "2026-05-02 12:00", 3, "valid", (), None),
        "L5": ("12201", None, "2026-06-01 12:00", None, None, (), ("in_review", 10)),
        "L6": (None, None, "2026-06-02 12:00", 4, "valid", (), None),
    }
    users = {name: make_user("learner", comuna_cut=row[0]) for name, row in plan.items()}
    trainer = make_user("trainer")
    now = datetime.now(UTC)
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == "curso-ejemplo"))
        quiz_lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "cuestionario"))
        case = db.session.scalar(select(Lesson).where(Lesson.slug == "caso-plaza"))
        reading = db.session.scalar(
            select(Lesson).where(Lesson.course_id == course.id, Lesson.kind == "reading").limit(1)
        )
        quiz = db.session.scalar(select(Quiz).where(Quiz.slug == "ejemplo"))
        groups = {
            "A": cohorts.create(course, "Grupo A", by=None),
            "B": cohorts.create(course, "Grupo B", by=None),
        }
        db.session.flush()
        cohorts.assign_trainer(groups["A"], trainer, by=None)
        for name, (_comuna, group, enrolled, days, certificate, scores, waiting) in plan.items():
            user = users[name]
            enrolled_at = _at(enrolled)
            completed_at = enrolled_at + timedelta(days=days) if days is not None else None
            db.session.add(
                Enrolment(
                    user_id=user.id,
                    course_id=course.id,
                    cohort_id=groups[group].id if group else None,
                    enrolled_at=enrolled_at,
                    completed_at=completed_at,
                )
            )
            if name != "L5":
                db.session.add(
                    LessonProgress(
                        user_id=user.id,
                        lesson_id=reading.id,
                        course_id=course.id,
                        status="done",
                        started_at=enrolled_at,
                        completed_at=enrolled_at,
                    )
                )
            for number, score in enumerate(scores, start=1):
                db.session.add(
                    Attempt(
                        user_id=user.id,
                        lesson_id=quiz_lesson.id,
                        revision_id=quiz.published_revision_id,
                        number=number,
                        status="submitted",
                        started_at=enrolled_at,
                        finished_at=enrolled_at,
                        layout=[],
                        score=Decimal(score) / 10,
                        max_score=Decimal(10),
                        percent=Decimal(score),
                        passed=score >= 60,
                    )
                )
            if waiting is not None:
                status, days_ago = waiting
                db.session.add(
                    CaseSubmission(
                        user_id=user.id,
                        lesson_id=case.id,
                        revision_id=case.published_revision_id,
                        number=1,
                        status=status,
                        responses={},
                        submitted_at=now - timedelta(days=days_ago),
                    )
                )
            if certificate is not None:
                revoked = certificate == "revoked"
                db.session.add(
                    Certificate(
                        code=codes.generate(),
                        token=f"token-{name}",
                        user_id=user.id,
                        course_id=course.id,
                        course_version="v1",
                        course_revisions={},
                        template="default",
                        full_name=user.full_name,
                        course_title=course.title,
                        hours=course.hours,
                        completed_at=completed_at,
                        issued_at=completed_at,
                        status=certificate,
                        revoked_at=completed_at if revoked else None,
                        revocation_reason="Prueba" if revoked else None,
                        pdf=b"%PDF",
                        pdf_sha256=name.ljust(64, "0"),
                    )
                )
        db.session.commit()
        return Seed(
            course.id,
            groups["A"].id,
            groups["B"].id,
            {name: user.id for name, user in users.items()},
            {name: user.email for name, user in users.items()},
            trainer.email,
            now,
        )


def _admin(auth, make_user):
    return auth.as_role(make_user, "admin")


def _csv_rows(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, for Excel"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


# The figures ------------------------------------------------------------------------------


def test_course_and_cohort_figures_match_the_hand_count(app, seed):
    with app.app_context():
        scope = Scope(course_id=seed.course_id)
        total = services.course_rows(scope, "course", {seed.course_id: "curso"})[0]
        assert (total.enrolled, total.started, total.completed, total.certified) == (6, 5, 4, 3)
        assert total.completion_rate == pytest.approx(4 / 6)
        # Best scores 90, 75, 100: two in 90-100, one in 70-79.
        assert total.histogram == [0, 0, 0, 0, 0, 0, 0, 1, 0, 2]
        assert total.average_score == pytest.approx((90 + 75 + 100) / 3)
        assert total.median_completion == pytest.approx(7 * DAY, abs=1)  # 3, 4, 10, 20 days
        assert total.waiting == 2
        assert total.oldest_wait == pytest.approx(10 * DAY, abs=120)
        assert total.median_wait == pytest.approx(6 * DAY, abs=120)  # 2 and 10 days

        rows = services.course_rows(
            scope, "cohort", {seed.cohort_a: "Grupo A", seed.cohort_b: "Grupo B"}
        )
        a, b = rows
        assert (a.enrolled, a.started, a.completed, a.certified) == (2, 2, 2, 1)
        assert a.median_completion == pytest.approx(15 * DAY, abs=1)
        assert a.average_score == pytest.approx(82.5) and a.waiting == 0
        assert a.oldest_wait is None
        assert (b.enrolled, b.started, b.completed, b.certified) == (2, 2, 1, 1)
        assert b.median_completion == pytest.approx(3 * DAY, abs=1)
        assert b.histogram[9] == 1 and b.waiting == 1
        assert b.oldest_wait == pytest.approx(2 * DAY, abs=120)

        # The same counts straight from the tables.
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(Enrolment)
                .where(Enrolment.completed_at.is_not(None))
            )
            == total.completed
        )


def test_region_and_comuna_figures_and_coverage(app, seed):
    with app.app_context():
        rows, total = services.regions_report(Scope())
        by_code = {row.code: row for row in rows}
        santiago, valparaiso, magallanes = by_code["13"], by_code["05"], by_code["12"]
        assert (santiago.learners, santiago.completions, santiago.certificates) == (2, 2, 1)
        assert santiago.covered == 1
        assert (valparaiso.learners, valparaiso.certificates, valparaiso.covered) == (1, 0, 0)
        # L4's certificate is from Antártica, which has no municipality: no coverage.
        assert (magallanes.learners, magallanes.certificates, magallanes.covered) == (2, 1, 0)
        assert magallanes.municipalities == 10  # 11 comunas, Antártica not a municipality
        no_comuna = by_code[None]
        assert (no_comuna.learners, no_comuna.certificates) == (1, 1)
        assert (total.learners, total.completions, total.certificates) == (6, 4, 3)
        assert (total.covered, total.municipalities) == (1, 345)
        assert sum(services.municipalities_by_region().values()) == 345
        assert len(rows) == 17  # 16 regions and the people with no comuna

        comunas = {
            row.code: row for row in services.comuna_rows(Scope(), services.comuna_list("12"))
        }
        assert comunas["12202"].municipalities == 0 and comunas["12202"].certificates == 1
        assert comunas["12201"].learners == 1 and comunas["12201"].covered == 0


def test_period_chooses_enrolments_by_their_date_in_chile(app, seed, client, auth, make_user):
    _admin(auth, make_user)
    # L3 enrolled at 03:30 UTC on 1 May: 23:30 on 30 April in Chile.
    page = client.get("/informes/cursos/curso-ejemplo/?desde=2026-05-01&hasta=2026-05-31")
    assert page.status_code == 200
    with app.app_context():
        period = services.make_period("2026-05-01", "2026-05-31")
        start, end = period.bounds()
        total = services.course_rows(
            Scope(course_id=seed.course_id, start=start, end=end), "course", {seed.course_id: ""}
        )[0]
        assert total.enrolled == 1  # L4 only
        start, end = services.make_period("2026-04-30", "2026-05-31").bounds()
        total = services.course_rows(
            Scope(course_id=seed.course_id, start=start, end=end), "course", {seed.course_id: ""}
        )[0]
        assert total.enrolled == 2  # L3 and L4


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("desde=2026-13-01", "«Desde» no es una fecha"),
        ("hasta=ayer", "«Hasta» no es una fecha"),
        ("desde=2026-06-01&hasta=2026-05-01", "posterior"),
    ],
)
def test_bad_dates_are_named_in_spanish(seed, client, auth, make_user, query, message):
    _admin(auth, make_user)
    page = client.get(f"/informes/?{query}")
    assert page.status_code == 400 and message in page.text
    assert "Se muestran todas las inscripciones" in page.text
    download = client.get(f"/informes/territorio.csv?{query}")
    assert download.status_code == 400 and message in download.text


# Pages ------------------------------------------------------------------------------------


def test_admin_reads_every_page(seed, client, auth, make_user):
    _admin(auth, make_user)
    index = client.get("/informes/")
    assert index.status_code == 200 and "66,7 %" in index.text  # Spanish decimals
    course = client.get("/informes/cursos/curso-ejemplo/")
    assert course.status_code == 200
    assert "Grupo A" in course.text and "Grupo B" in course.text and "<svg" in course.text
    regions = client.get("/informes/territorio/")
    assert regions.status_code == 200
    assert "<svg" in regions.text and "<title" in regions.text and "<desc" in regions.text
    assert "Sin comuna" in regions.text
    comunas = client.get("/informes/territorio/comunas/?region=12")
    assert comunas.status_code == 200 and "Cabo de Hornos" in comunas.text
    learners = client.get("/informes/personas/")
    assert learners.status_code == 200 and learners.text.count('href="/informes/personas/') >= 6
    learner = client.get(f"/informes/personas/{seed.learners['L1']}")
    assert learner.status_code == 200 and "90,0" in learner.text


def test_trainer_sees_only_their_cohorts(app, seed, client, auth):
    assert auth.login(seed.trainer_email).status_code == 302
    index = client.get("/informes/")
    assert index.status_code == 200
    course = client.get("/informes/cursos/curso-ejemplo/")
    assert course.status_code == 200
    assert "Grupo A" in course.text and "Grupo B" not in course.text
    learners = client.get("/informes/personas/")
    assert seed.emails["L1"] in learners.text and seed.emails["L2"] in learners.text
    assert seed.emails["L3"] not in learners.text and seed.emails["L6"] not in learners.text
    assert client.get(f"/informes/personas/{seed.learners['L3']}").status_code == 404
    own = client.get(f"/informes/personas/{seed.learners['L1']}")
    assert own.status_code == 200 and "90,0" in own.text
    assert client.get(f"/informes/personas/?grupo={seed.cohort_b}").status_code == 404
    rows = _csv_rows(client.get("/informes/personas.csv"))
    assert sorted(row[1] for row in rows[1:]) == sorted([seed.emails["L1"], seed.emails["L2"]])
    regions = _csv_rows(client.get("/informes/territorio.csv"))
    total = regions[-1]
    assert total[1:4] == ["2", "2", "1"]  # L1 and L2 only


def test_a_trainer_with_no_cohort_sees_no_one(seed, client, auth, make_user):
    auth.as_role(make_user, "trainer")
    assert client.get("/informes/cursos/curso-ejemplo/").status_code == 404
    assert "No hay personas que mostrar" in client.get("/informes/personas/").text


def test_pages_load_only_what_they_show(app, seed, client, auth, make_user, count_statements):
    _admin(auth, make_user)
    with count_statements() as seen:
        assert client.get("/informes/territorio/").status_code == 200
    assert not seen.in_templates
    assert len(seen) <= 4, seen.all  # the session's user, the regions' GROUP BY
    with count_statements() as seen:
        assert client.get("/informes/territorio/comunas/?pagina=2").status_code == 200
    assert not seen.in_templates and len(seen) <= 4, seen.all
    # One GROUP BY for the 50 comunas of the page, not for all 346.
    grouped = [s for s in seen.all if "GROUP BY" in s]
    assert len(grouped) == 1 and "IN (" in grouped[0]
    with count_statements() as seen:
        assert client.get("/informes/personas/").status_code == 200
    assert not seen.in_templates
    assert any("LIMIT" in s for s in seen.all)
    with count_statements() as seen:
        assert client.get(f"/informes/personas/{seed.learners['L1']}").status_code == 200
    # The session's user, then one statement: the person with their courses in scope and
    # every figure (no row: 404).
    assert not seen.in_templates and len(seen) == 2, seen.all


def test_comuna_list_comes_in_pages(seed, client, auth, make_user):
    _admin(auth, make_user)
    first = client.get("/informes/territorio/comunas/")
    assert "Página 1 de 7" in first.text  # 346 comunas, 50 a page
    assert first.text.count("<tr>") <= services.PAGE_SIZE + 1


# CSV --------------------------------------------------------------------------------------


def test_csv_files_have_a_bom_and_neutralise_formulas(app, seed, client, auth, make_user):
    with app.app_context():
        from academy.auth.models import User

        user = db.session.get(User, seed.learners["L1"])
        user.full_name = '=HYPERLINK("http://x")'
        db.session.commit()
    _admin(auth, make_user)
    rows = _csv_rows(client.get("/informes/personas.csv"))
    assert rows[0][0] == "Nombre"
    names = [row[0] for row in rows[1:]]
    assert '\'=HYPERLINK("http://x")' in names
    cohorts_file = _csv_rows(client.get("/informes/cursos/curso-ejemplo/grupos.csv"))
    assert [row[:5] for row in cohorts_file[1:]] == [
        ["Grupo A", "2", "2", "2", "1"],
        ["Grupo B", "2", "2", "1", "1"],
    ]
    comunas_file = _csv_rows(client.get("/informes/territorio/comunas.csv"))
    assert len(comunas_file) == 1 + 346
    learner = _csv_rows(client.get(f"/informes/personas/{seed.learners['L1']}.csv"))
    assert learner[1][5] == "2" and learner[1][6] == "90.0"


def test_exports_of_people_are_audited_and_aggregates_are_not(app, seed, client, auth, make_user):
    _admin(auth, make_user)
    assert client.get("/informes/territorio.csv").status_code == 200
    assert client.get("/informes/personas.csv?desde=2026-01-01").status_code == 200
    with app.app_context():
        events = db.session.scalars(
            select(audit.AuditEvent).where(
                audit.AuditEvent.action == audit.AuditAction.DATA_EXPORTED.value
            )
        ).all()
        assert [event.detail["report"] for event in events] == ["personas"]
        assert events[0].detail["filters"] == {"desde": "2026-01-01"}


# Command line -----------------------------------------------------------------------------


def test_command_exports_a_report(app, seed, runner, tmp_path):
    target = tmp_path / "grupos.csv"
    result = runner.invoke(
        args=["reports", "export", "grupos", "--course", "curso-ejemplo", "--to", str(target)]
    )
    assert result.exit_code == 0, result.output
    body = target.read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert [row[:2] for row in rows[1:]] == [["Grupo A", "2"], ["Grupo B", "2"]]

    target = tmp_path / "personas.csv"
    result = runner.invoke(
        args=["reports", "export", "personas", "--cohort", "Grupo B", "--to", str(target)]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(target.read_text("utf-8-sig"))))
    assert len(rows) == 3
    with app.app_context():
        event = db.session.scalar(
            select(audit.AuditEvent).where(
                audit.AuditEvent.action == audit.AuditAction.DATA_EXPORTED.value
            )
        )
        assert event is not None and event.actor.startswith("cli:")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["regiones", "--from", "2026-02-30"], "no es una fecha"),
        (["cursos", "--course", "no-existe"], "no existe el curso"),
        (["personas", "--cohort", "Grupo Z"], "no existe el grupo"),
        (["grupos"], "indica --course"),
        (["comunas", "--region", "99"], "no existe la región"),
    ],
)
def test_command_refuses_bad_options(seed, runner, tmp_path, arguments, message):
    result = runner.invoke(args=["reports", "export", *arguments, "--to", str(tmp_path / "x.csv")])
    assert result.exit_code != 0 and message in result.output
    assert not (tmp_path / "x.csv").exists()


def test_the_aggregates_are_grouped_in_sql(app):
    with app.app_context():
        for statement in (
            queries.course_counts(Scope(), "cohort"),
            queries.by_region(Scope()),
            queries.learners(Scope()),
        ):
            assert "GROUP BY" in str(statement.compile(db.engine))
        assert Cohort.__tablename__ == "cohorts"


def test_column_chunks_write_what_the_csv_module_writes():
    from academy import csvio

    tricky = ["=1+1", "-x", "+56", "@a", "\tb", "\rc", 'say "hi"', "a,b", "two\nlines", "cr\r", ""]
    tricky += [" lead", "trail ", "Ñuñoa, Región", "'=already", None, "\0nul"]
    rows = [
        (text, "ana@muni.cl", tricky[-1 - n % len(tricky)], "Arica", n, 1.5 * n, None)
        for n, text in enumerate(tricky * 40)
    ]
    header = ["=nombre", "correo", "rut", "comuna", "cursos", "nota", "vacío"]
    parts = [
        list(zip(*rows[start : start + 250], strict=True)) for start in range(0, len(rows), 250)
    ]
    by_column = "".join(csvio.column_chunks(header, parts, text_columns=(0, 1, 2)))
    assert by_column == "".join(csvio.csv_chunks(header, rows))
    assert "'=1+1,ana@muni.cl," in by_column and '"a,b",ana@muni.cl,' in by_column
    one_column = "".join(csvio.column_chunks(["a"], [[["", "x"]]], text_columns=(0,)))
    assert one_column == "".join(csvio.csv_chunks(["a"], [[""], ["x"]]))
