"""A batch of certificates through the real queue against N × one certificate (issue 13).

Run: ``.venv/bin/python bench/bench_certificate_batch.py [--count 1000]`` (a temporary SQLite
database, SQLite queue and signing key; nothing else needed). With ``--postgresql URL`` (or
``ACADEMY_BENCH_DATABASE_URL``) pointing at an empty PostgreSQL database, it measures there too,
after SQLite, in the same run; the tables it makes are dropped at the end.

Per database, in one process and one run:

1. **single**: ``services.issue`` committed and its mail sent, for one learner at a time
   (``--single`` rounds, half before the batch and half after it, so that the machine's load
   weighs on both alike);
2. **batch**: ``--count`` learners confirmed as one batch (``batches.create``, as the admin's
   page does), enqueued on a SQLite queue and issued by a real ``academy worker --workers 1``
   subprocess; the time is the batch's own, from its row (created → finished, both stamped by
   the database's clients on this machine's clock). The worker first issues a batch of one, so
   that its start-up (imports, fonts) is not counted: it is a constant, not growth;
3. **the worker's memory**: its resident set (``/proc/PID/status``: VmRSS now, VmHWM the peak)
   sampled while it works, reported once 100 certificates are committed and at the end; and,
   since the worker renders in a child process it replaces every
   ``ACADEMY_CERTIFICATE_RENDERS_PER_PROCESS`` certificates (academy/certificates/
   render_process.py), its children's resident sets too (the rendering child, Python's resource
   tracker), and the largest sum of the worker's and its children's seen so far.

Prints the ratio batch / (count × mean single time) (the issue's target: at most 1.2, the batch
grows linearly), the time per certificate over the first and the last tenth of the batch, and
the peak memory after 100 and after ``--count`` certificates (it must stay flat). ``--timeout``
bounds the batch: past it the worker is stopped and what was measured is reported.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

from academy import create_app  # noqa: E402
from academy.auth import services as accounts  # noqa: E402
from academy.certificates import batches, services  # noqa: E402
from academy.certificates.models import BatchStatus, CertificateBatch  # noqa: E402
from academy.courses.content import load_course  # noqa: E402
from academy.courses.services import get_course, import_course  # noqa: E402
from academy.db import transaction, utcnow  # noqa: E402
from academy.extensions import db  # noqa: E402
from academy.progress import services as progress  # noqa: E402

COURSE = ROOT / "tests" / "fixtures" / "content" / "courses" / "curso-ejemplo"
NAME = "María José de los Ángeles Ñuñez-Fernández Valenzuela"
CLI = services.Actor(None)
POLL = 0.5  # seconds between two looks at the batch's row and the worker's memory
MEMORY_MARK = 100  # the issue's first memory reading: after 100 certificates


@dataclass
class Sample:
    at: float  # perf_counter
    position: int
    rss_kb: int
    peak_kb: int
    children_kb: int  # the worker's descendants' resident sets, summed
    most_kb: int  # the largest worker + descendants sum sampled until now


def memory_kb(pid: int) -> tuple[int, int]:
    """The process's resident set now and its peak (VmRSS, VmHWM), in KiB."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields["VmRSS"], fields["VmHWM"]


def descendants(pid: int) -> list[int]:
    """The processes started by ``pid``, and by them, from each one's parent in /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # it ended meanwhile
                continue
            parents[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def children_kb(pid: int) -> int:
    total = 0
    for child in descendants(pid):
        with contextlib.suppress(OSError, KeyError):  # ended meanwhile, or a zombie (no VmRSS)
            total += memory_kb(child)[0]
    return total


def configure(database_url: str, scratch: Path) -> dict[str, object]:
    from academy.certificates import signing

    key, cert = signing.write_pair(scratch / "firma", "Academia", "Academia", force=False)
    return {
        "ENV": "testing",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
        "CERTIFICATE_KEY": str(key),
        "CERTIFICATE_CERT": str(cert),
        "MAIL_BACKEND": "console",  # each certificate's mail is written, as in production
        "QUEUE_URL": f"sqlite:///{scratch / 'queue.db'}",
        "QUEUE_IMMEDIATE": False,
        "RATELIMIT_ENABLED": False,
    }


def prepare(app: Flask, learners: int) -> tuple[int, list[int]]:
    """The example course and ``learners`` people who completed it."""
    with app.app_context():
        upgrade()
        source, problems = load_course(COURSE)
        assert source is not None and not problems, problems
        import_course(source)
        course = get_course("curso-ejemplo")
        assert course is not None
        ids = []
        for n in range(learners):
            user = accounts.create_user(
                email=f"persona{n}@muni.cl", full_name=f"{NAME} {n}", password="x" * 12
            )
            db.session.flush()
            progress.enrol(user.id, course).completed_at = utcnow()
            ids.append(user.id)
        db.session.commit()
        return course.id, ids


def single(app: Flask, course_id: int, learners: list[int], mail: io.StringIO) -> list[float]:
    """Seconds per ``services.issue`` committed and its mail sent, one learner each."""
    seconds = []
    with app.app_context(), contextlib.redirect_stdout(mail):
        course = get_course("curso-ejemplo")
        assert course is not None and course.id == course_id
        for user_id in learners:
            started = time.perf_counter()
            with transaction():  # commits, then sends the mail, as each step of a batch does
                services.issue(course, user_id, by=CLI)
            seconds.append(time.perf_counter() - started)
        db.session.remove()
    return seconds


def enqueue_batch(app: Flask, course_id: int, learners: list[int]) -> int:
    with app.app_context():
        course = get_course("curso-ejemplo")
        assert course is not None and course.id == course_id
        with transaction():
            batch = batches.create(course, learners, cohort=None, by=CLI)
        batch_id = batch.id
        db.session.remove()
    return batch_id


def batch_row(app: Flask, batch_id: int) -> tuple[str, int, int, datetime, datetime | None]:
    # On SQLite the worker holds the database's write lock for most of each step (the render
    # happens inside it): a look that finds it locked looks again a moment later.
    for _attempt in range(600):
        with app.app_context():
            try:
                batch = db.session.get(CertificateBatch, batch_id)
                assert batch is not None
                return (
                    batch.status, batch.position, batch.failed, batch.created_at,
                    batch.finished_at,
                )  # fmt: skip
            except OperationalError:
                pass
            finally:
                db.session.remove()
        time.sleep(0.05)
    raise SystemExit("the batch's row stayed locked for more than 30 s")


def watch(
    app: Flask, batch_id: int, worker: subprocess.Popen[bytes], deadline: float
) -> list[Sample]:
    """Samples of the batch's progress and the worker's memory until it is done (or the
    deadline passes, or the worker dies)."""
    samples: list[Sample] = []
    while True:
        status, position, _failed, _created, _finished = batch_row(app, batch_id)
        if worker.poll() is not None:
            break
        rss, peak = memory_kb(worker.pid)
        children = children_kb(worker.pid)
        most = max([rss + children] + [sample.most_kb for sample in samples[-1:]])
        samples.append(Sample(time.perf_counter(), position, rss, peak, children, most))
        if status == BatchStatus.DONE or time.perf_counter() > deadline:
            break
        time.sleep(POLL)
    return samples


def start_worker(config: dict[str, object], log: Path) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        **{f"ACADEMY_{key}": str(value) for key, value in config.items()},
        "ACADEMY_QUEUE_IMMEDIATE": "false",
    }
    academy = Path(sys.executable).with_name("academy")
    with log.open("wb") as output:
        return subprocess.Popen(
            [str(academy), "worker", "--workers", "1"],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def per_certificate(samples: list[Sample], low: int, high: int) -> float | None:
    """Seconds per certificate while the batch went from ``low`` to ``high`` committed."""
    first = next((s for s in samples if s.position >= low), None)
    last = next((s for s in samples if s.position >= high), None)
    if first is None or last is None or last.position == first.position:
        return None
    return (last.at - first.at) / (last.position - first.position)


def bench(label: str, database_url: str, count: int, rounds: int, timeout: float) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="bench-certificate-batch-"))
    mail = io.StringIO()
    worker = None
    config = configure(database_url, scratch)
    app = create_app(config)
    with app.app_context():  # what the bench makes it drops at the end: nothing else
        if db.inspect(db.engine).get_table_names():
            raise SystemExit(f"{label}: the database is not empty; give an empty one")
        db.engine.dispose()
    try:
        started = time.perf_counter()
        course_id, learners = prepare(app, count + rounds + 2)
        print(f"[{label}] {len(learners)} learners ready in {time.perf_counter() - started:.0f} s")
        warm_up, before, batch_learners = (
            learners[:1],
            learners[1 : 1 + rounds // 2],
            learners[1 + rounds // 2 : 1 + rounds // 2 + count],
        )
        after = learners[1 + rounds // 2 + count :]

        single(app, course_id, learners[-1:], mail)  # this process's warm-up, not counted
        after = after[:-1]
        times = single(app, course_id, before, mail)

        worker = start_worker(config, scratch / "worker.log")
        deadline = time.perf_counter() + timeout
        warm_id = enqueue_batch(app, course_id, warm_up)
        watch(app, warm_id, worker, deadline)
        if batch_row(app, warm_id)[0] != BatchStatus.DONE:
            raise SystemExit(f"the worker did not start: see {scratch / 'worker.log'}")

        batch_id = enqueue_batch(app, course_id, batch_learners)
        samples = watch(app, batch_id, worker, deadline)
        status, position, failed, created_at, finished_at = batch_row(app, batch_id)
        stop_worker(worker)
        times += single(app, course_id, after, mail)
    finally:
        if worker is not None:
            stop_worker(worker)
        if not database_url.startswith("sqlite"):
            with app.app_context():  # the database is left empty, as it was given
                db.session.remove()
                db.drop_all()
                db.session.execute(db.text("DROP TABLE IF EXISTS alembic_version"))
                db.session.commit()
                db.engine.dispose()

    done = status == BatchStatus.DONE
    if done:
        assert finished_at is not None
        batch_seconds = (finished_at - created_at).total_seconds()
    else:
        batch_seconds = samples[-1].at - samples[0].at
    mean, median = statistics.fmean(times), statistics.median(times)
    print(
        f"[{label}] load average {os.getloadavg()[0]:.2f}; single issue ({len(times)} rounds, "
        f"half before and half after the batch): mean {mean * 1000:.0f} ms, median "
        f"{median * 1000:.0f} ms, best {min(times) * 1000:.0f} ms"
    )
    verdict = "done" if done else f"STOPPED at the {timeout:.0f} s timeout"
    each = batch_seconds / max(position, 1) * 1000
    print(
        f"[{label}] batch of {count} through the queue: {verdict}, {position} issued "
        f"({failed} failed) in {batch_seconds:.1f} s = {each:.0f} ms per certificate"
    )
    print(
        f"[{label}] batch / ({position} × mean single): {batch_seconds / (position * mean):.2f}; "
        f"/ ({position} × median single): {batch_seconds / (position * median):.2f} "
        "(target ≤ 1.2)"
    )
    tenth = max(position // 10, 1)
    early = per_certificate(samples, 0, tenth)
    late = per_certificate(samples, position - tenth, position)
    if early and late:
        print(
            f"[{label}] per certificate, first tenth {early * 1000:.0f} ms, last tenth "
            f"{late * 1000:.0f} ms (last / first {late / early:.2f})"
        )
    mark = next((s for s in samples if s.position >= MEMORY_MARK), None)
    end = samples[-1]
    if mark is not None:
        print(
            f"[{label}] worker memory after {mark.position} certificates: peak "
            f"{mark.peak_kb / 1024:.0f} MiB (now {mark.rss_kb / 1024:.0f} MiB); after "
            f"{end.position}: peak {end.peak_kb / 1024:.0f} MiB (now {end.rss_kb / 1024:.0f} MiB)"
        )
        print(
            f"[{label}] with its children (the rendering process): after {mark.position} "
            f"certificates {(mark.rss_kb + mark.children_kb) / 1024:.0f} MiB (children "
            f"{mark.children_kb / 1024:.0f} MiB), most until then {mark.most_kb / 1024:.0f} MiB; "
            f"after {end.position}: {(end.rss_kb + end.children_kb) / 1024:.0f} MiB (children "
            f"{end.children_kb / 1024:.0f} MiB), most {end.most_kb / 1024:.0f} MiB"
        )
    first = samples[0]
    print(
        f"[{label}] worker memory when the batch began: {first.rss_kb / 1024:.0f} MiB, peak "
        f"{first.peak_kb / 1024:.0f} MiB; {len(mail.getvalue().splitlines())} lines of mail "
        "written in this process (console backend)"
    )
    shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="certificates in the batch")
    parser.add_argument("--single", type=int, default=20, help="single issues timed")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds for the batch")
    parser.add_argument(
        "--postgresql",
        default=os.environ.get("ACADEMY_BENCH_DATABASE_URL"),
        help="an empty PostgreSQL database to measure on too",
    )
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    options = parser.parse_args()
    if options.count < 1 or options.single < 2:
        parser.error("--count must be at least 1 and --single at least 2")
    if not options.no_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            bench(
                "sqlite", f"sqlite:///{folder}/bench.db", options.count, options.single,
                options.timeout,
            )  # fmt: skip
    if options.postgresql:
        bench("postgresql", options.postgresql, options.count, options.single, options.timeout)


if __name__ == "__main__":
    main()
