"""Lesson-page throughput and latency under gunicorn, against a bare Flask route (issue 4).

Run: ``.venv/bin/python bench/bench_lesson_page.py`` (needs ``wrk``: ``apt-get install wrk``).

In one run, on 127.0.0.1: gunicorn with sync workers (as deployed) serves (a) the real lesson
page to a signed-in, enrolled learner, and (b) a bare Flask app returning the same HTML. wrk
drives 32 concurrent connections for a fixed time; rounds alternate a/b/a/b so that machine
noise falls on both. Prints requests per second, p50 and p99 latency, the ratio a/b, and the
page weight (HTML + CSS + scripts, raw and gzip-compressed).

Environment: ACADEMY_BENCH_DATABASE_URL (default: a temporary SQLite file),
BENCH_WORKERS (default: 2 × cores + 1), BENCH_SECONDS (default 10), BENCH_ROUNDS (default 3).
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from academy import create_app  # noqa: E402
from academy.auth import services as accounts  # noqa: E402
from academy.courses import content, services  # noqa: E402
from academy.extensions import db  # noqa: E402
from academy.progress import services as progress  # noqa: E402
from bench.bench_content import make_course  # noqa: E402

SECRET = "bench-secret-key-0123456789-abcdefghijklmnop"
PASSWORD = "una clave de medición"
LESSON = "/cursos/curso-bench/lecciones/leccion-7"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(database_url: str, work: Path) -> tuple[str, bytes, int]:
    """Import a 20-lesson course, enrol a learner; return their cookie, the page, CSS size."""
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
    client.post("/entrar", data={"email": "bench@muni.cl", "password": PASSWORD})
    for slug in ("leccion-1", "leccion-2", "leccion-3"):
        client.post(f"/cursos/curso-bench/lecciones/{slug}/completar")
    page = client.get(LESSON)
    assert page.status_code == 200, page.status_code
    cookie = client.get_cookie("academy_session")
    assert cookie is not None
    css = sum(
        len(client.get(href).data) for href in re.findall(r'href="(/static/[^"]+\.css)"', page.text)
    )
    scripts = sum(
        len(client.get(src).data) for src in re.findall(r'src="(/static/[^"]+\.js)"', page.text)
    )
    return f"academy_session={cookie.value}", page.data, css + scripts


def wrk(url: str, cookie: str | None, seconds: int) -> dict[str, float]:
    command = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"errors while measuring {url}:\n{out}")

    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return {"rps": rps, "p50": ms("50%"), "p99": ms("99%")}


def serve(target: str, env: dict[str, str], workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "--workers", str(workers), "--worker-class", "sync",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", target],
        cwd=ROOT, env=env,
    )  # fmt: skip
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="academy-bench-"))
    database_url = os.environ.get("ACADEMY_BENCH_DATABASE_URL") or f"sqlite:///{work}/bench.db"
    workers = int(os.environ.get("BENCH_WORKERS", 2 * (os.cpu_count() or 1) + 1))
    seconds = int(os.environ.get("BENCH_SECONDS", 10))
    rounds = int(os.environ.get("BENCH_ROUNDS", 3))
    try:
        cookie, html, assets = prepare(database_url, work)
        (work / "page.html").write_bytes(html)
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("ACADEMY_")}
        app_env = {**base_env, "ACADEMY_DATABASE_URL": database_url, "ACADEMY_SECRET_KEY": SECRET,
                   "ACADEMY_RATELIMIT_ENABLED": "false"}  # fmt: skip
        bare_env = {**base_env, "ACADEMY_BENCH_BARE_HTML": str(work / "page.html")}
        app_server, app_port = serve("bench.wsgi:app", app_env, workers)
        bare_server, bare_port = serve("bench.wsgi:bare", bare_env, workers)
        try:
            results: dict[str, list[dict[str, float]]] = {"lesson": [], "bare": []}
            wrk(f"http://127.0.0.1:{app_port}{LESSON}", cookie, 2)  # warm up
            wrk(f"http://127.0.0.1:{bare_port}{LESSON}", None, 2)
            for _ in range(rounds):
                results["lesson"].append(
                    wrk(f"http://127.0.0.1:{app_port}{LESSON}", cookie, seconds)
                )
                results["bare"].append(wrk(f"http://127.0.0.1:{bare_port}{LESSON}", None, seconds))
        finally:
            for server in (app_server, bare_server):
                server.terminate()
                server.wait(timeout=10)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"gunicorn sync workers: {workers}; wrk -t2 -c32, {rounds} rounds of {seconds} s each")
    for name, runs in results.items():
        for i, run in enumerate(runs, 1):
            print(f"  {name:6s} round {i}: {run['rps']:7.0f} req/s   p50 {run['p50']:6.2f} ms"
                  f"   p99 {run['p99']:6.2f} ms")  # fmt: skip
    pairs = zip(results["lesson"], results["bare"], strict=True)
    ratios = [lesson["rps"] / bare["rps"] for lesson, bare in pairs]
    median = sorted(ratios)[len(ratios) // 2]
    print(f"throughput ratio lesson/bare per round: {', '.join(f'{r:.2f}' for r in ratios)}; "
          f"median {median:.2f}")  # fmt: skip
    worst_p99 = max(run["p99"] for run in results["lesson"])
    print(f"lesson page p99 (worst round): {worst_p99:.2f} ms")
    compressed = len(gzip.compress(html))
    total = (len(html) + assets) / 1024
    print(f"page weight: HTML {len(html) / 1024:.1f} KB + CSS/JS {assets / 1024:.1f} KB = "
          f"{total:.1f} KB raw; HTML gzip {compressed / 1024:.1f} KB")  # fmt: skip


if __name__ == "__main__":
    main()
