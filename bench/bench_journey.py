"""The whole journey under load (issue 16): locust against the two-host deployment.

Run: ``.venv/bin/python bench/bench_journey.py --users 200 --spawn-rate 10 --run-time 150``
(needs nginx, openssl, Redis on 127.0.0.1:6379 and a PostgreSQL server; the script creates its
own database, ``academy_bench_journey``, and drops it at the end).

1. Creates the database and seeds an academy in it: ``academy init`` (the migrations, the
   bundled course courses/participacion-ciudadana, a first admin), then one learner account
   per simulated learner, enrolled; graduates, who finished the course, each with a case
   handed in (so the review queue has work in it); trainers of the course; admins. Every
   account has the same password, hashed as production hashes it (Werkzeug's scrypt).
2. Starts the documented deployment with bench/deployment.py, as tests/test_deployment.py does:
   nginx (TLS) in front of two web hosts, each ``academy serve`` with the web unit's options
   (gunicorn, 4 workers × 2 threads, and its job worker), PostgreSQL, Redis. The hosts serve
   ``bench.wsgi:app()``, the application with the benchmark's routes added, so that the floor
   (``/bench/signed-in``: the signed-in learner loaded, a lesson page captured beforehand
   returned, nothing else) is measured through the same nginx, hosts and middleware, in the
   same run, under the same load.
3. Issues each graduate's certificate with the hosts' signing key (rendered and signed as the
   product does), then runs locust headless (bench/locustfile.py) on 127.0.0.1 against nginx:
   first a warm-up (``--warm-up`` seconds, 21 people, not counted: every worker process of
   both hosts loads its templates and opens its connections), then the measured run:
   ``--users`` people started at ``--spawn-rate`` per second, for ``--run-time`` seconds,
   each waiting ``--wait`` seconds (uniformly between the two) between two actions.
4. Prints the machine's load and the CPU used while locust ran, in cores: by the two hosts
   (their gunicorn workers and job workers) and nginx, by PostgreSQL's processes serving the
   bench's database, by locust, and by every other process of the machine. Then per action:
   requests, failures, requests per second, p50, p95 and p99 (locust's percentiles: response
   times rounded to 2 significant digits above 100 ms), and each percentile divided by the
   floor's; then every failure. Exits 1 if any request failed.

Environment: ACADEMY_BENCH_ADMIN_URL (a database to create and drop the bench database from;
default ``postgresql://postgres@127.0.0.1:5432/test``).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
from aiosmtpd.controller import Controller
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import deployment as harness  # noqa: E402
from bench.journey import ACTIONS, FLOOR, PLAN_VARIABLE, WAIT_VARIABLE  # noqa: E402
from bench.serving import free_port, load_average, machine_busy, tree_cpu  # noqa: E402
from bench.wsgi import SIGNED_IN_PATH  # noqa: E402

DATABASE = "academy_bench_journey"
PASSWORD = "una clave larga para medir"
COURSE = "participacion-ciudadana"
SEED_SECRET = "bench-journey-seed-key-0123456789-abcdefghijklmnop"
# How locust shares simulated people among the roles (the classes' weights in the locustfile):
# learners, graduates, trainers, admins.
WEIGHTS = {"learners": 15, "graduates": 4, "trainers": 1, "admins": 1}


@dataclass
class Run:
    """One load test's outcome: a row of locust's statistics per action, and its failures."""

    rows: dict[str, dict[str, str]]
    failures: list[dict[str, str]]
    load_before: str
    load_after: str
    seconds: float
    cores: dict[str, float]  # CPU used while locust ran, in cores, by whom

    @property
    def errors(self) -> int:
        return int(self.rows["Aggregated"]["Failure Count"]) if "Aggregated" in self.rows else 0


class Discard:
    """An SMTP server that accepts every message (the certificates' mails) and keeps none."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 Message accepted for delivery"


def seed_config(database_url: str, smtp_port: int, **extra: Any) -> dict[str, Any]:
    return {
        "ENV": "testing",
        "DATABASE_URL": database_url,
        "SECRET_KEY": SEED_SECRET,
        "CONTENT_DIR": str(ROOT),
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",  # overwritten below with production's hash
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        **extra,
    }


def accounts_for(users: int) -> dict[str, int]:
    """Enough accounts of each role for ``users`` simulated people: one per learner (their
    attempts and drafts are their own), a few for the others (two people may share those)."""
    total = sum(WEIGHTS.values())
    counts = {role: math.ceil(users * weight / total) + 1 for role, weight in WEIGHTS.items()}
    counts["learners"] = users
    return counts


def seed(database_url: str, smtp_port: int, work: Path, users: int) -> dict[str, Any]:
    """Migrate and fill the database; return the locustfile's plan (without certificates)."""
    from werkzeug.security import generate_password_hash

    from academy import create_app
    from academy.auth import services as accounts
    from academy.auth.models import Role
    from academy.cases import services as cases
    from academy.courses.services import get_course
    from academy.db import utcnow
    from academy.extensions import db
    from academy.progress import cohorts as progress_cohorts
    from academy.progress import services as progress

    app = create_app(seed_config(database_url, smtp_port))
    counts = accounts_for(users)
    emails = {role: [f"{role[:-1]}{n:04d}@muni.cl" for n in range(counts[role])] for role in counts}
    roles = {"learners": Role.LEARNER, "graduates": Role.LEARNER, "trainers": Role.TRAINER,
             "admins": Role.ADMIN}  # fmt: skip
    production_hash = generate_password_hash(PASSWORD, method="scrypt")
    # As an operator starts: migrate, import the bundled course, create the first admin.
    done = app.test_cli_runner().invoke(args=["init", "--admin-email", "primera@muni.cl"])
    assert done.exit_code == 0, done.output
    with app.app_context():
        course = get_course(COURSE)
        assert course is not None, f"{COURSE} was not imported"
        outline = progress.published_outline(course.id)
        by_kind: dict[str, list[Any]] = {}
        for item in outline:
            by_kind.setdefault(item.kind, []).append(item)
        case_lessons = [lesson for lesson in course_lessons(course.id) if lesson.kind == "case"]
        for role, addresses in emails.items():
            for email in addresses:
                user = accounts.create_user(
                    email=email,
                    full_name=f"Persona {email.split('@')[0]}",
                    comuna_cut="13101",
                    password=PASSWORD,
                    role=roles[role],
                )
                user.password_hash = production_hash
                db.session.flush()
                if role in ("learners", "graduates"):
                    enrolment = progress.enrol(user.id, course)
                if role == "graduates":
                    hand_in_case(cases, user.id, case_lessons[0])
                    enrolment.completed_at = utcnow() - timedelta(days=1)
                if role == "trainers":
                    progress_cohorts.add_course_trainer(course, email)
        db.session.commit()
        title = course.title
        lesson_page = capture_lesson_page(app, emails["learners"][0], by_kind["reading"][0].slug)
        db.session.remove()
        db.engine.dispose()
    (work / "page.html").write_bytes(lesson_page)
    base = f"/cursos/{COURSE}"
    return {
        "password": PASSWORD,
        "course_title": title,
        **emails,
        "lessons": [f"{base}/lecciones/{item.slug}" for item in by_kind["reading"]],
        "quizzes": [f"{base}/lecciones/{item.slug}" for item in by_kind["quiz"]],
        "cases": [f"{base}/casos/{item.slug}/" for item in by_kind["case"]],
        "course_report": f"/informes/cursos/{COURSE}/",
        "region_report": "/informes/territorio/",
        "certificate_list": f"/admin/cursos/{COURSE}/certificados",
        "floor": SIGNED_IN_PATH,
    }


def course_lessons(course_id: int) -> list[Any]:
    from sqlalchemy import select

    from academy.courses.models import Lesson
    from academy.extensions import db

    return list(db.session.scalars(select(Lesson).where(Lesson.course_id == course_id)))


def hand_in_case(cases: Any, user_id: int, lesson: Any) -> None:
    """A case handed in with each answer just long enough: work waiting in the review queue."""
    definition = cases.definition_of(lesson.published)
    raw = {
        str(number): " ".join(["participación"] * (prompt.min_words + 5))
        for number, prompt in enumerate(definition.prompts, start=1)
    }
    submission, problems = cases.save_draft(user_id, lesson, raw)
    assert not problems, problems
    assert not cases.submit(submission)


def capture_lesson_page(app: Any, email: str, lesson: str) -> bytes:
    """A learner's reading lesson as the app draws it: what the floor route returns."""
    client = app.test_client()
    response = client.post("/entrar", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    page = client.get(f"/cursos/{COURSE}/lecciones/{lesson}")
    assert page.status_code == 200, page.status_code
    return page.data


def issue_certificates(
    database_url: str, smtp_port: int, running: harness.Deployment, graduates: list[str]
) -> None:
    """Each graduate's certificate, signed with the hosts' key and pointing at their address."""
    from academy import create_app
    from academy.auth import services as accounts
    from academy.certificates import services as certificates
    from academy.courses.services import get_course
    from academy.extensions import db

    certificate, key = running.signing
    app = create_app(
        seed_config(
            database_url,
            smtp_port,
            BASE_URL=running.base,
            CERTIFICATE_KEY=str(key),
            CERTIFICATE_CERT=str(certificate),
        )
    )
    with app.app_context():
        course = get_course(COURSE)
        for email in graduates:
            user = accounts.find_by_email(email)
            assert course is not None and user is not None
            certificates.issue(course, user.id, by=certificates.Actor(None))
            db.session.commit()
        db.session.remove()
        db.engine.dispose()


def run_locust(
    running: harness.Deployment, plan: Path, work: Path, *, users: int, spawn_rate: float,
    seconds: int, wait: str,
) -> Run:  # fmt: skip
    environment = {**os.environ, PLAN_VARIABLE: str(plan), WAIT_VARIABLE: wait,
                   "PYTHONPATH": str(ROOT)}  # fmt: skip
    prefix = work / f"locust-{users}-{seconds}"
    command = [
        str(Path(sys.executable).with_name("locust")), "-f", str(ROOT / "bench/locustfile.py"),
        "--headless", "--host", running.base, "--users", str(users),
        "--spawn-rate", str(spawn_rate), "--run-time", f"{seconds}s", "--stop-timeout", "30",
        "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
    ]  # fmt: skip
    database = make_url(plan_database(plan)).database or ""
    load_before, started, busy = load_average(), time.monotonic(), machine_busy()
    deployment_before, database_before = tree_cpu(set(running.pids), database)
    locust_before = children_cpu()
    # Exit status 1 means some request failed: the statistics below say which. Locust's own
    # summary goes to a log beside the CSV files; report() prints the figures.
    with open(f"{prefix}.log", "wb") as log:
        subprocess.run(command, env=environment, cwd=ROOT, check=False, stdout=log, stderr=log)
    elapsed, load_after = time.monotonic() - started, load_average()
    deployment_after, database_after = tree_cpu(set(running.pids), database)
    cores = {
        "the two hosts and nginx": deployment_after - deployment_before,
        "PostgreSQL (this database)": database_after - database_before,
        "locust": children_cpu() - locust_before,
    }
    cores["other processes"] = machine_busy() - busy - sum(cores.values())
    cores = {name: max(seconds, 0) / elapsed for name, seconds in cores.items()}
    if not Path(f"{prefix}_stats.csv").exists():
        raise RuntimeError(f"locust did not run:\n{Path(f'{prefix}.log').read_text()[-3000:]}")
    with open(f"{prefix}_stats.csv", newline="") as stats:
        rows = {row["Name"]: row for row in csv.DictReader(stats)}
    with open(f"{prefix}_failures.csv", newline="") as failures:
        failed = list(csv.DictReader(failures))
    return Run(rows, failed, load_before, load_after, elapsed, cores)


def plan_database(plan: Path) -> str:
    return str(json.loads(plan.read_text())["database_url"])


def children_cpu() -> float:
    """CPU seconds of this process's children that have ended (each locust run, once waited)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def journey(
    database_url: str, work: Path, *, users: int, spawn_rate: float, seconds: int, wait: str,
    warm_up: int = 0, tour: bool = False,
) -> Run:  # fmt: skip
    """Seed ``database_url`` (migrated here; empty), start the deployment, run locust (with
    ``tour``, each person first does each of its actions once: the smoke test's run)."""
    smtp_port = free_port()
    mail = Controller(Discard(), hostname="127.0.0.1", port=smtp_port)
    mail.start()
    try:
        plan = seed(database_url, smtp_port, work, users)
        plan |= {"tour": tour, "database_url": database_url}
        plan_file = work / "plan.json"
        plan_file.write_text(json.dumps(plan))
        extra = {"ACADEMY_BENCH_BARE_HTML": str(work / "page.html")}
        (work / "deployment").mkdir()
        with harness.deployed(
            work / "deployment", database_url, smtp_port, app="bench.wsgi:app()",
            environment=extra,
        ) as running:  # fmt: skip
            issue_certificates(database_url, smtp_port, running, plan["graduates"])
            if warm_up:  # every worker of both hosts loads its templates and connections
                run_locust(running, plan_file, work, users=min(users, sum(WEIGHTS.values())),
                           spawn_rate=spawn_rate, seconds=warm_up, wait=wait)  # fmt: skip
            return run_locust(running, plan_file, work, users=users, spawn_rate=spawn_rate,
                              seconds=seconds, wait=wait)  # fmt: skip
    finally:
        mail.stop()


def ms(value: str) -> str:
    return f"{float(value):,.0f}" if value not in ("", "N/A") else "–"


def ratio(value: str, floor: str) -> str:
    try:
        return f"{float(value) / float(floor):.1f}"
    except (ValueError, ZeroDivisionError):
        return "–"


def report(run: Run, users: int, spawn_rate: float, seconds: int, wait: str) -> None:
    print(f"{os.cpu_count()} cores; locust {users} users (spawn rate {spawn_rate}/s, "
          f"{seconds} s, think time {wait} s) → nginx → 2 hosts × gunicorn 4 workers × 2 threads; "
          f"PostgreSQL and Redis on the same machine")  # fmt: skip
    print(f"load average (1, 5, 15 min) at the start: {run.load_before}; "
          f"at the end: {run.load_after}; locust ran {run.seconds:.0f} s")  # fmt: skip
    used = ", ".join(f"{name} {share:.2f}" for name, share in run.cores.items())
    print(f"CPU used while locust ran, in cores (of {os.cpu_count()}): {used}")
    print()
    floor = run.rows.get(FLOOR, {})
    print("| action | requests | failures | req/s | p50 ms | p95 ms | p99 ms "
          "| p50 ÷ floor | p95 ÷ floor | p99 ÷ floor |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in (*ACTIONS, "Aggregated"):
        row = run.rows.get(name)
        if row is None:
            print(f"| {name} | 0 | | | | | | | | |")
            continue
        ratios = " | ".join(ratio(row[p], floor.get(p, "")) for p in ("50%", "95%", "99%"))
        if name in (FLOOR, "Aggregated"):
            ratios = " |  | "
        print(f"| {name} | {int(row['Request Count']):,} | {row['Failure Count']} | "
              f"{float(row['Requests/s']):.1f} | {ms(row['50%'])} | {ms(row['95%'])} | "
              f"{ms(row['99%'])} | {ratios} |")  # fmt: skip
    print()
    print(f"errors: {run.errors}")
    for failure in run.failures:
        print(f"  {failure['Occurrences']} × {failure['Name']}: {failure['Error']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--spawn-rate", type=float, default=20)
    parser.add_argument("--run-time", type=int, default=180, help="seconds")
    parser.add_argument("--wait", default="2,6", help="think time: min,max seconds")
    parser.add_argument("--warm-up", type=int, default=20, help="seconds, not counted")
    arguments = parser.parse_args()
    problem = harness.missing()
    if problem:
        sys.exit(problem)
    admin = os.environ.get("ACADEMY_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
    database_url = admin.rsplit("/", 1)[0] + "/" + DATABASE
    work = Path(tempfile.mkdtemp(prefix="academy-journey-"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DATABASE}")
    try:
        run = journey(
            database_url, work, users=arguments.users, spawn_rate=arguments.spawn_rate,
            seconds=arguments.run_time, wait=arguments.wait, warm_up=arguments.warm_up,
        )  # fmt: skip
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    report(run, arguments.users, arguments.spawn_rate, arguments.run_time, arguments.wait)
    if run.errors:
        print(f"the hosts' and nginx's logs are in {work / 'deployment'}")
        sys.exit(1)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
