"""Cost grows with the work, not with the academy (issue 16).

Run::

    .venv/bin/python bench/bench_scale.py [--work DIR] [--rounds 7] [--requests 200]
        [--small URL --large URL]

Two figures, each a ratio of times measured in the same run, in one process (Flask test
client, no network), rounds interleaved so that machine noise falls on both sides alike:

- **lesson page**: a signed-in learner's lesson page in a course of 200 lessons, in an academy
  of 50,000 learners (``large``), over the same page in a course of 20 lessons in an academy of
  100 learners (``small``). Both are the generator's synthetic courses (``curso-lecciones-N``,
  units of 20 reading lessons of the same length); the lesson is the tenth of its unit, in the
  middle of the course; the learner is enrolled and part-way, as the generator leaves them.
  Target: at most 1.2.
- **«Mis cursos»** for a learner enrolled in 30 courses over one enrolled in 1 (10 lessons
  each, some done), in the large academy. Target: at most 1.5.

The academies come from ``bench/generate.py``. Without ``--small``/``--large`` they are
generated into SQLite files in ``--work`` (default ``/tmp/academy-bench-scale``), once: a later
run reuses them. For PostgreSQL, generate them first, each into an empty database::

    .venv/bin/python -m bench.generate --database-url postgresql+psycopg://…/scale_small \\
        --learners 100 --lessons-course 20
    .venv/bin/python -m bench.generate --database-url postgresql+psycopg://…/scale_large \\
        --learners 50000 --lessons-course 200

and pass their URLs. The 30 courses and two learners for «Mis cursos» are added to the large
academy on the first run (found again on later ones).

Prints per round and the medians: time per request, SQL statements per request (from
SQLAlchemy's ``before_cursor_execute``), and the ratios (median of the per-round ratios).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from academy import create_app  # noqa: E402
from academy.auth import services as accounts  # noqa: E402
from academy.auth.models import User  # noqa: E402
from academy.courses import content, services  # noqa: E402
from academy.courses.models import Course  # noqa: E402
from academy.extensions import db  # noqa: E402
from academy.progress import services as progress  # noqa: E402
from academy.progress.models import Enrolment  # noqa: E402
from bench import generate  # noqa: E402

SECRET = "bench-secret-key-0123456789-abcdefghijklmnop"
AGENT = "academy-bench-scale"
SIZES = {"small": (100, 20), "large": (50_000, 200)}  # learners, lessons in the long course
MY_COURSES = 30
MY_COURSES_PREFIX = "curso-mis-cursos-"
MY_COURSES_LESSONS = 10
# The learners of «Mis cursos»: one enrolled in one course, one in all 30.
MY_COURSES_LEARNERS = {1: "mis-cursos-1@bench.example", MY_COURSES: "mis-cursos-30@bench.example"}


def make_app(database_url: str) -> Flask:
    return create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": SECRET,
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
        }
    )


def generated(work: Path, name: str) -> str:
    """The SQLite academy ``name`` in ``work``, generated the first time."""
    path = work / f"{name}.db"
    url = f"sqlite:///{path}"
    if not (work / f"{name}.done").exists():
        learners, lessons = SIZES[name]
        path.unlink(missing_ok=True)
        print(f"generating the {name} academy ({learners:,} learners, {lessons} lessons)…")
        app = make_app(url)
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            generate.generate(learners, lessons_course=lessons, log=lambda _line: None)
            db.session.commit()
        (work / f"{name}.done").touch()
    return url


def signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = AGENT
    answer = client.post("/entrar", data={"email": email, "password": generate.PASSWORD})
    assert answer.status_code == 302, f"could not sign in as {email}: {answer.status_code}"
    return client


def lesson_reader(app: Flask, lessons: int) -> tuple[FlaskClient, str]:
    """A learner part-way through the long course, signed in, and the path of its lesson in the
    middle of the course (the tenth of its unit)."""
    slug = f"curso-lecciones-{lessons}"
    with app.app_context():
        course = services.get_course(slug)
        assert course is not None, f"{slug} is missing: generate with --lessons-course {lessons}"
        outline = progress.published_outline(course.id)
        assert len(outline) == lessons, (slug, len(outline))
        units = lessons // 20
        lesson = outline[(units - 1) // 2 * 20 + 9]  # the tenth of the middle unit
        email = db.session.scalar(
            select(User.email)
            .join(Enrolment, Enrolment.user_id == User.id)
            .where(Enrolment.course_id == course.id)
            .order_by(User.id)
            .limit(1)
        )
    client = signed_in(app, email)
    path = f"/cursos/{slug}/lecciones/{lesson.slug}"
    return client, path


def add_my_courses(app: Flask, work: Path) -> None:
    """30 published courses of 10 lessons, a learner in one of them and one in all (once)."""
    with app.app_context():
        have = db.session.scalar(
            select(func.count())
            .select_from(Course)
            .where(Course.slug.startswith(MY_COURSES_PREFIX))
        )
        if have == MY_COURSES:
            return
        assert have == 0, f"{have} of the {MY_COURSES} «Mis cursos» courses: start afresh"
        print(f"adding {MY_COURSES} courses and two learners for «Mis cursos»…")
        learners = {
            n: accounts.create_user(
                email=email, full_name=f"Mis Cursos {n}", password=generate.PASSWORD
            )
            for n, email in MY_COURSES_LEARNERS.items()
        }
        folder = Path(tempfile.mkdtemp(prefix="bench-scale-", dir=work))
        for number in range(1, MY_COURSES + 1):
            root = write_course(folder, number)
            source, problems = content.load_course(root)
            assert source is not None and not problems, problems
            services.import_course(source, force=True, publish=True)
            course = services.get_course(root.name)
            assert course is not None
            ids = [item.lesson_id for item in progress.published_outline(course.id)]
            for n, user in learners.items():
                if number > n:
                    continue
                enrolment = progress.enrol(user.id, course)
                # Some lessons done in each course, the first course finished.
                done = MY_COURSES_LESSONS if number == 1 else number % MY_COURSES_LESSONS
                for lesson_id in ids[:done]:
                    progress.mark_done(enrolment, lesson_id)
        db.session.commit()


def write_course(folder: Path, number: int) -> Path:
    root = folder / f"{MY_COURSES_PREFIX}{number:02d}"
    root.mkdir()
    (root / "curso.md").write_text(
        f"---\ntitulo: Curso {number} de «Mis cursos»\nresumen: Para medir «Mis cursos».\n"
        "horas: 4\nresultados:\n  - Medir.\n---\n\nDescripción.\n",
        encoding="utf-8",
    )
    unit = root / "01-unidad"
    unit.mkdir()
    (unit / "unidad.md").write_text("---\ntitulo: Unidad única\n---\n", encoding="utf-8")
    for n in range(1, MY_COURSES_LESSONS + 1):
        (unit / f"{n:02d}-leccion-{n}.md").write_text(
            f"---\ntitulo: Lección {n}\nminutos: 5\n---\n\nTexto de la lección {n}.\n",
            encoding="utf-8",
        )
    return root


class Page:
    """One page to measure: a signed-in client, its path, and the statements it runs."""

    def __init__(self, app: Flask, client: FlaskClient, path: str) -> None:
        self.app, self.client, self.path = app, client, path
        self.times: list[float] = []
        self.statements: int | None = None

    def get(self) -> None:
        answer = self.client.get(self.path)
        assert answer.status_code == 200, (self.path, answer.status_code)

    def count_statements(self) -> int:
        seen: list[str] = []

        def note(*args: Any) -> None:
            seen.append(args[2])

        with self.app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", note)
        try:
            self.get()
        finally:
            event.remove(engine, "before_cursor_execute", note)
        return len([s for s in seen if not s.lstrip().upper().startswith(("BEGIN", "PRAGMA"))])

    def measure(self, requests: int) -> None:
        get = self.get
        start = time.perf_counter()
        for _ in range(requests):
            get()
        self.times.append((time.perf_counter() - start) / requests * 1000)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "academy-bench-scale"
    )
    parser.add_argument("--small", help="database URL of a generated 100-learner academy")
    parser.add_argument("--large", help="database URL of a generated 50,000-learner academy")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=200, help="per page and round")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    small_url = args.small or generated(args.work, "small")
    large_url = args.large or generated(args.work, "large")

    small, large = make_app(small_url), make_app(large_url)
    for app in (small, large):  # an academy generated by an earlier version of the code
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
    add_my_courses(large, args.work)
    pages = {
        "lesson, 20 lessons, 100 learners": Page(small, *lesson_reader(small, 20)),
        "lesson, 200 lessons, 50,000 learners": Page(large, *lesson_reader(large, 200)),
        "Mis cursos, 1 enrolment": Page(
            large, signed_in(large, MY_COURSES_LEARNERS[1]), "/mis-cursos"
        ),
        "Mis cursos, 30 enrolments": Page(
            large, signed_in(large, MY_COURSES_LEARNERS[MY_COURSES]), "/mis-cursos"
        ),
    }
    for page in pages.values():  # warm up: templates compiled, caches filled, visits written
        for _ in range(20):
            page.get()
        page.statements = page.count_statements()

    load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    for _ in range(args.rounds):
        for page in pages.values():
            page.measure(args.requests)
    load_after = " ".join(Path("/proc/loadavg").read_text().split()[:3])

    print(f"{os.cpu_count()} cores; in-process (Flask test client); {args.rounds} rounds of "
          f"{args.requests} requests per page, interleaved")  # fmt: skip
    print(f"small: {redact(small_url)}\nlarge: {redact(large_url)}")
    print(f"load average (1, 5, 15 min) at the start: {load_before}; at the end: {load_after}")
    for name, page in pages.items():
        each = ", ".join(f"{t:.2f}" for t in page.times)
        print(f"  {name:38s} ms per request by round: {each}")
    print()
    print("| page | ms per request (median) | best | SQL statements |")
    print("|---|---:|---:|---:|")
    for name, page in pages.items():
        print(f"| {name} | {statistics.median(page.times):.2f} | {min(page.times):.2f} | "
              f"{page.statements} |")  # fmt: skip
    print()
    names = list(pages)
    for base, grown, target in ((names[0], names[1], 1.2), (names[2], names[3], 1.5)):
        ratios = per_round(pages[grown].times, pages[base].times)
        ratio = statistics.median(ratios)
        verdict = "met" if ratio <= target else "NOT met"
        print(f"{grown} / {base}: per round {', '.join(f'{r:.2f}' for r in ratios)}; "
              f"median {ratio:.2f} (target ≤ {target}: {verdict})")  # fmt: skip
    return 0


def per_round(top: list[float], bottom: list[float]) -> list[float]:
    return [a / b for a, b in zip(top, bottom, strict=True)]


def redact(url: str) -> str:
    return url.split("@")[-1] if "@" in url else url


if __name__ == "__main__":
    sys.exit(main())
