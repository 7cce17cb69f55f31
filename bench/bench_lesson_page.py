"""Lesson-page throughput and latency under gunicorn, against a bare Flask route (issue 4).

Run: ``.venv/bin/python bench/bench_lesson_page.py`` (needs ``wrk``; scripts/bootstrap installs it).

In one run, on 127.0.0.1, gunicorn with sync workers (as deployed) serves three things:

- ``lesson``: the real lesson page to a signed-in, enrolled learner (reading lesson 7 of 20,
  three lessons done): every check, the outline with the learner's states, the visit recorded;
- ``route``: a bare route added to the same application (``bench.wsgi:app()``), returning the same
  HTML and doing nothing else, through the same middleware (session, login, CSRF, headers);
- ``signed-in``: the same route behind ``@login_required``: the learner loaded from the
  database as on every signed-in page, and nothing else (what any page for a learner costs);
- ``minimal``: a separate minimal Flask app returning the same HTML (``bench.wsgi:bare()``).

wrk drives 32 concurrent connections for a fixed time, with the learner's cookie on every
request; rounds alternate lesson/route/minimal so that machine noise falls on all three. Prints
requests per second, p50 and p99 latency, the ratios lesson/route and lesson/minimal (median
of the per-round ratios), the machine's load average at the start and the end, the CPU that
other processes took while measuring (the machine is shared; with PostgreSQL on this machine
the database server counts as "other"), a Markdown table of the medians, and the page weight
(HTML + CSS + scripts, raw and gzip-compressed).

Environment: ACADEMY_BENCH_DATABASE_URL (default: a temporary SQLite file), BENCH_WORKERS
(default: the number of cores; a list such as ``2,3,5`` runs each worker count, interleaved
round by round, in the same run), BENCH_SECONDS (default 10), BENCH_ROUNDS (default 3).
"""

from __future__ import annotations

import gzip
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from academy import create_app  # noqa: E402
from academy.auth import services as accounts  # noqa: E402
from academy.courses import content, services  # noqa: E402
from academy.extensions import db  # noqa: E402
from academy.progress import services as progress  # noqa: E402
from bench.bench_content import make_course  # noqa: E402
from bench.serving import TICKS, load_average, machine_busy, serve  # noqa: E402
from bench.wsgi import BARE_PATH, SIGNED_IN_PATH  # noqa: E402

SECRET = "bench-secret-key-0123456789-abcdefghijklmnop"
PASSWORD = "una clave de medición"
LESSON = "/cursos/curso-bench/lecciones/leccion-7"
# The browser the learner signed in with. Flask-Login ties a session to the browser's
# User-Agent (session protection): a request from another one marks the session not fresh and
# rewrites its cookie, every time, since wrk never stores the new cookie. A real learner keeps
# one browser, so the learner signs in with the User-Agent that wrk then sends.
AGENT = "academy-bench"


def prepare(database_url: str, work: Path) -> tuple[str, bytes, list[bytes]]:
    """Import a 20-lesson course, enrol a learner; return their cookie, the page, its CSS and JS."""
    config = {"ENV": "testing", "DATABASE_URL": database_url, "SECRET_KEY": SECRET,
              "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False}  # fmt: skip
    app = create_app(config)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        source, problems = content.load_course(make_course(work))
        assert source is not None and not problems, problems
        services.import_course(source)
        user = accounts.create_user(email="bench@muni.cl", full_name="Bench", password=PASSWORD)
        progress.enrol(user.id, services.get_course("curso-bench"))
        db.session.commit()
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = AGENT
    client.post("/entrar", data={"email": "bench@muni.cl", "password": PASSWORD})
    for slug in ("leccion-1", "leccion-2", "leccion-3"):
        client.post(f"/cursos/curso-bench/lecciones/{slug}/completar")
    page = client.get(LESSON)
    assert page.status_code == 200, page.status_code
    cookie = client.get_cookie("academy_session")
    assert cookie is not None
    css = [client.get(href).data for href in re.findall(r'href="(/static/[^"]+\.css)"', page.text)]
    scripts = [client.get(src).data for src in re.findall(r'src="(/static/[^"]+\.js)"', page.text)]
    return f"academy_session={cookie.value}", page.data, css + scripts


def wrk(url: str, cookie: str, seconds: int) -> dict[str, float]:
    command = ["wrk", "-H", f"Cookie: {cookie}", "-H", f"User-Agent: {AGENT}",
               "-t2", "-c32", f"-d{seconds}s", "--latency", url]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"errors while measuring {url}:\n{out}")

    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return {"rps": rps, "p50": ms("50%"), "p99": ms("99%")}


def our_cpu(servers: list[subprocess.Popen]) -> float:
    """CPU seconds used by this script, the wrk runs it waited for, and the gunicorn servers."""
    masters = {server.pid for server in servers}
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        if int(stat.parent.name) in masters or int(fields[1]) in masters:  # masters, workers
            ticks += int(fields[11]) + int(fields[12])
    own = resource.getrusage(resource.RUSAGE_SELF)
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ticks / TICKS + sum(r.ru_utime + r.ru_stime for r in (own, waited))


Runs = dict[str, list[dict[str, float]]]  # page → one wrk result per round
NAMES = ("lesson", "route", "signed-in", "minimal")


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: scripts/bootstrap installs it (apt-get install wrk)")
    work = Path(tempfile.mkdtemp(prefix="academy-bench-"))
    database_url = os.environ.get("ACADEMY_BENCH_DATABASE_URL") or f"sqlite:///{work}/bench.db"
    counts = [int(n) for n in os.environ.get("BENCH_WORKERS", str(os.cpu_count() or 1)).split(",")]
    seconds = int(os.environ.get("BENCH_SECONDS", 10))
    rounds = int(os.environ.get("BENCH_ROUNDS", 3))
    results: dict[int, Runs] = {n: {name: [] for name in NAMES} for n in counts}
    servers: list[subprocess.Popen] = []
    load_before = load_average()
    try:
        cookie, html, assets = prepare(database_url, work)
        (work / "page.html").write_bytes(html)
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("ACADEMY_")}
        base_env["ACADEMY_BENCH_BARE_HTML"] = str(work / "page.html")
        app_env = {**base_env, "ACADEMY_DATABASE_URL": database_url, "ACADEMY_SECRET_KEY": SECRET,
                   "ACADEMY_RATELIMIT_ENABLED": "false"}  # fmt: skip
        urls: dict[int, dict[str, str]] = {}
        for n in counts:  # every configuration up at once (idle workers cost nothing)
            app_server, app_port = serve("bench.wsgi:app()", app_env, n)
            bare_server, bare_port = serve("bench.wsgi:bare()", base_env, n)
            servers += [app_server, bare_server]
            urls[n] = {
                "lesson": f"http://127.0.0.1:{app_port}{LESSON}",
                "route": f"http://127.0.0.1:{app_port}{BARE_PATH}",
                "signed-in": f"http://127.0.0.1:{app_port}{SIGNED_IN_PATH}",
                "minimal": f"http://127.0.0.1:{bare_port}{LESSON}",
            }
            for name in NAMES:  # warm up
                wrk(urls[n][name], cookie, 2)
        start, busy, ours = time.monotonic(), machine_busy(), our_cpu(servers)
        for _ in range(rounds):
            for n in counts:
                for name in NAMES:
                    results[n][name].append(wrk(urls[n][name], cookie, seconds))
        # What other processes took from the machine while we measured, in cores.
        others = (machine_busy() - busy - (our_cpu(servers) - ours)) / (time.monotonic() - start)
        load_after = load_average()
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)

    print(f"{os.cpu_count()} cores; gunicorn sync workers: {', '.join(map(str, counts))}; "
          f"wrk -t2 -c32; {rounds} rounds of {seconds} s, alternating")  # fmt: skip
    print(f"load average (1, 5, 15 min) at the start: {load_before}; at the end: {load_after}")
    print(f"CPU taken by other processes while measuring: {max(others, 0):.2f} of "
          f"{os.cpu_count()} cores on average")  # fmt: skip
    for n in counts:
        report(n, results[n])
    print()
    print("| workers | page | req/s | p50 ms | p99 ms | lesson/page throughput |")
    print("|---:|---|---:|---:|---:|---:|")
    for n in counts:
        for name in NAMES:
            runs = results[n][name]
            print(f"| {n} | {name} | {median(r['rps'] for r in runs):.0f} | "
                  f"{median(r['p50'] for r in runs):.1f} | {median(r['p99'] for r in runs):.1f} | "
                  f"{ratio(results[n], name):.2f} |")  # fmt: skip
    print()
    raw = len(html) + sum(len(asset) for asset in assets)
    compressed = len(gzip.compress(html)) + sum(len(gzip.compress(asset)) for asset in assets)
    assets_raw = sum(len(asset) for asset in assets)
    html_gzip = len(gzip.compress(html))
    print(f"page weight: HTML {len(html) / 1024:.1f} KB + CSS/JS {assets_raw / 1024:.1f} KB = "
          f"{raw / 1024:.1f} KB raw; {compressed / 1024:.1f} KB gzip "
          f"(HTML alone {html_gzip / 1024:.1f} KB)")  # fmt: skip


def ratio(runs: Runs, yardstick: str) -> float:
    """Median over rounds of the lesson page's throughput over the yardstick's, same round."""
    pairs = zip(runs["lesson"], runs[yardstick], strict=True)
    return median(lesson["rps"] / other["rps"] for lesson, other in pairs)


def report(workers: int, runs: Runs) -> None:
    print(f"{workers} workers:")
    for name in NAMES:
        for i, run in enumerate(runs[name], 1):
            print(f"  {name:9s} round {i}: {run['rps']:7.0f} req/s   p50 {run['p50']:6.2f} ms"
                  f"   p99 {run['p99']:6.2f} ms")  # fmt: skip
    for yardstick in ("route", "signed-in", "minimal"):
        pairs = zip(runs["lesson"], runs[yardstick], strict=True)
        each = ", ".join(f"{lesson['rps'] / other['rps']:.2f}" for lesson, other in pairs)
        print(f"  throughput lesson/{yardstick} per round: {each}; "
              f"median {ratio(runs, yardstick):.2f}")  # fmt: skip
    worst = max(run["p99"] for run in runs["lesson"])
    print(f"  lesson page p99, worst round: {worst:.2f} ms")
    # Issue 16's figures: against the signed-in route, what every learner's page pays.
    pairs = list(zip(runs["lesson"], runs["signed-in"], strict=True))
    throughput = median(lesson["rps"] / floor["rps"] for lesson, floor in pairs)
    p99 = median(lesson["p99"] / floor["p99"] for lesson, floor in pairs)
    each = ", ".join(f"{lesson['p99'] / floor['p99']:.2f}" for lesson, floor in pairs)
    print(f"  against the signed-in route (median of rounds): throughput {throughput:.2f} "
          f"(target ≥ 0.6), p99 {p99:.2f} (target ≤ 1.5); p99 per round: {each}")  # fmt: skip


if __name__ == "__main__":
    main()
