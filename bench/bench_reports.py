"""Each report against its own SQL run bare, on the synthetic academy (issue 14's figures).

Run (a database filled by ``bench/generate.py``, or an empty one that this fills first)::

    .venv/bin/python bench/bench_reports.py --database-url URL [--generate 50000] [--runs 5]

For every report, as an admin sees it, in one process:

- **report**: the report's own work, as its view does it: the scope and period, the aggregate
  statements, the rows shaped for the page (or, for a CSV file, the whole file written out),
  with the session's connection already checked out, as the view finds it;
- **bare SQL**: the very statements that work ran (captured with their parameters by
  SQLAlchemy's ``before_cursor_execute``), run again straight on the DBAPI cursor and fetched
  to the last row (``fetchmany`` in parts, the cheapest way to hold them all in Python): what
  the database must do, with nothing of ours around it;
- **whole page**: for reference, the full request through Flask's test client, signed in as
  the generator's admin (session, sign-in check, template or streamed CSV read to its last
  byte): the report plus what every signed-in page costs;
- **signed-in floor**: the same request to ``/bench/signed-in``, a route added here that
  loads the signed-in admin (as every page does) and returns an empty body: what any page
  costs before doing anything of its own. ``page - floor`` is the report page's own part
  of the request, set against the bare SQL in the last column (it matters where the SQL is
  under a millisecond, as for one person's page).

The database is ANALYZEd first (planner statistics, as autovacuum keeps them in production).
Each is timed ``--runs`` times after one warm-up, alternating, and the medians are compared:
``ratio = report / bare`` (the issue asks for at most 2: the report adds little to what the
database must do). Prints a Markdown table for docs/performance.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from statistics import median
from typing import Any

from flask_login import login_required
from sqlalchemy import event, func, select

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from academy import create_app  # noqa: E402
from academy.auth.models import User  # noqa: E402
from academy.courses.models import Course  # noqa: E402
from academy.extensions import db  # noqa: E402
from academy.progress.models import Enrolment  # noqa: E402
from academy.reports import services  # noqa: E402
from academy.reports.queries import Scope  # noqa: E402

SECRET = "bench-secret-key-0123456789-abcdefghijklmnop"
AGENT = "academy-bench"


def reports(course: Any, learner_id: int) -> list[tuple[str, Callable[[], Any], str]]:
    """(label, the report's own work, its page) for every report, as an admin sees them."""
    everyone, of_course = Scope(), Scope(course_id=course.id)
    start, end = services.make_period("2026-01-01", "").bounds()
    period = Scope(start=start, end=end)

    def csv(report: str, scope: Scope) -> Callable[[], str]:
        def write() -> str:
            exported = services.export(report, scope)
            return "".join(exported.chunks())

        return write

    slug = course.slug
    return [
        ("por curso", lambda: services.courses_report(everyone), "/informes/"),
        (
            "un curso y su 1.ª página de grupos",
            lambda: (services.course_total(of_course, course), services.cohort_page(of_course, 1)),
            f"/informes/cursos/{slug}/",
        ),
        ("por región", lambda: services.regions_report(everyone), "/informes/territorio/"),
        (
            "por comuna, 1.ª página",
            lambda: services.comuna_page(everyone, None, 1),
            "/informes/territorio/comunas/",
        ),
        (
            "por persona, 1.ª página",
            lambda: services.learner_page(everyone, 1),
            "/informes/personas/",
        ),
        (
            "una persona",
            lambda: services.learner_report(everyone, learner_id),
            f"/informes/personas/{learner_id}",
        ),
        (
            "por región, inscritos desde 2026-01-01",
            lambda: services.regions_report(period),
            "/informes/territorio/?desde=2026-01-01",
        ),
        ("CSV por curso", csv("cursos", everyone), "/informes/cursos.csv"),
        ("CSV grupos", csv("grupos", of_course), f"/informes/cursos/{slug}/grupos.csv"),
        ("CSV por región", csv("regiones", everyone), "/informes/territorio.csv"),
        ("CSV por comuna", csv("comunas", everyone), "/informes/territorio/comunas.csv"),
        ("CSV por persona", csv("personas", everyone), "/informes/personas.csv"),
    ]


class Capture:
    """The statements (and parameters) the engine runs while ``on``."""

    def __init__(self, engine: Any) -> None:
        self.on = False
        self.seen: list[tuple[str, Any]] = []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if self.on and not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE")):
            self.seen.append((statement, parameters))


def timed_request(client: Any, path: str) -> float:
    began = time.perf_counter()
    response = client.get(path)
    body = response.get_data()  # a streamed CSV: to its last byte
    elapsed = time.perf_counter() - began
    assert response.status_code == 200, (path, response.status_code, body[:300])
    return elapsed


def timed_report(app: Any, work: Callable[[], Any]) -> float:
    with app.app_context():
        # The session's transaction begun first, as the report's view finds it: loading the
        # signed-in user began it (that is in the signed-in floor). On SQLite the app's BEGIN
        # IMMEDIATE goes with a transaction's first statement, which the page has already run;
        # the bare SQL below pays no BEGIN either.
        db.session.execute(select(1))
        began = time.perf_counter()
        work()
        elapsed = time.perf_counter() - began
        db.session.remove()
    return elapsed


def timed_bare(engine: Any, statements: Sequence[tuple[str, Any]]) -> float:
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        began = time.perf_counter()
        for statement, parameters in statements:
            cursor.execute(statement, parameters)
            # To the last row, as the report reads them, a part at a time: a fetchall of
            # 45,000 rows would pay a full garbage collection the report avoids, and flatter it.
            while cursor.fetchmany(services.STREAM_ROWS):
                pass
        elapsed = time.perf_counter() - began
        cursor.close()
        connection.rollback()
    finally:
        connection.close()
    return elapsed


def ms(seconds: float) -> str:
    """Milliseconds, with a decimal below ten (a one-person page's SQL is under one)."""
    return f"{seconds * 1000:.1f}" if seconds < 0.01 else f"{seconds * 1000:.0f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--generate", type=int, metavar="LEARNERS", help="fill it first")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--only", action="append", metavar="LABEL", help="only this report (repeatable)"
    )
    args = parser.parse_args(argv)

    app = create_app(
        {
            "DATABASE_URL": args.database_url,
            "SECRET_KEY": SECRET,
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
        }
    )
    from bench.generate import ADMIN_EMAIL, COURSE_SLUG, PASSWORD, generate
    from bench.wsgi import SIGNED_IN_PATH

    @login_required
    def signed_in_floor() -> str:
        return ""

    app.add_url_rule(SIGNED_IN_PATH, "bench_signed_in", signed_in_floor)

    with app.app_context():
        if args.generate:
            from flask_migrate import upgrade

            upgrade()
            generate(args.generate, seed=1)
            db.session.commit()
        engine = db.engine
        # Planner statistics, as autovacuum keeps them in production (this machine's test
        # server runs with autovacuum off, and a bulk load leaves none): without them
        # PostgreSQL joins certificates by course only and the course report takes 40 s.
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
        learners = db.session.scalar(select(func.count(func.distinct(Enrolment.user_id))))
        learner_id = db.session.scalar(
            select(Enrolment.user_id).where(Enrolment.completed_at.is_not(None)).limit(1)
        )
        users = db.session.scalar(select(func.count()).select_from(User))
        db.session.remove()
    print(f"{engine.dialect.name}: {users:,} accounts, {learners:,} enrolled learners")

    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = AGENT
    signed_in = client.post("/entrar", data={"email": ADMIN_EMAIL, "password": PASSWORD})
    assert signed_in.status_code == 302, signed_in.status_code
    capture = Capture(engine)

    rows = []
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == COURSE_SLUG))
        db.session.expunge(course)
        plan = [
            entry for entry in reports(course, learner_id) if not args.only or entry[0] in args.only
        ]
    for label, work, path in plan:
        capture.on, capture.seen = True, []
        timed_report(app, work)  # warm-up, and the statements it runs
        capture.on = False
        statements = list(capture.seen)
        timed_bare(engine, statements)
        timed_request(client, path)
        timed_request(client, SIGNED_IN_PATH)
        report_times, bare_times, page_times, floor_times = [], [], [], []
        for _ in range(args.runs):
            report_times.append(timed_report(app, work))
            bare_times.append(timed_bare(engine, statements))
            page_times.append(timed_request(client, path))
            floor_times.append(timed_request(client, SIGNED_IN_PATH))
        report, bare = median(report_times), median(bare_times)
        page, floor = median(page_times), median(floor_times)
        rows.append((label, len(statements), report, bare, page, floor))
        print(
            f"  {label}: {report * 1000:.1f} ms / {bare * 1000:.1f} ms = {report / bare:.2f}"
            f" (page {page * 1000:.1f} ms, signed-in floor {floor * 1000:.1f} ms)"
        )

    print()
    print(
        f"| report ({engine.dialect.name}) | statements | report ms | bare SQL ms | ratio "
        "| whole page ms | signed-in floor ms | (page - floor) / bare SQL |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, count, report, bare, page, floor in rows:
        print(
            f"| {label} | {count} | {ms(report)} | {ms(bare)} | {report / bare:.2f} "
            f"| {ms(page)} | {ms(floor)} | {(page - floor) / bare:.2f} |"
        )
    worst = max(report / bare for _label, _count, report, bare, _page, _floor in rows)
    print(f"\nworst ratio {worst:.2f} ({'within' if worst <= 2 else 'OVER'} the limit of 2)")
    return 0 if worst <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
