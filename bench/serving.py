"""What the gunicorn benchmarks share: serving an app on a free port, and the machine's load."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(target: str, env: dict[str, str], workers: int) -> tuple[subprocess.Popen, int]:
    """gunicorn with ``workers`` sync workers (as deployed) serving ``target`` on 127.0.0.1;
    returns once it accepts connections."""
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


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


TICKS = os.sysconf("SC_CLK_TCK")


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (all cores), from /proc/stat."""
    user, nice, system, _idle, _iowait, irq, softirq = map(
        int, Path("/proc/stat").read_text().split("\n")[0].split()[1:8]
    )
    return (user + nice + system + irq + softirq) / TICKS


def tree_cpu(roots: set[int], database: str = "") -> tuple[float, float]:
    """CPU seconds used so far by the processes ``roots`` and all their descendants, and by
    the PostgreSQL server processes serving ``database``."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    serving: set[int] = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes() if database else b""
        except OSError:
            continue  # the process ended meanwhile
        pid = int(stat.parent.name)
        parents[pid], ticks[pid] = int(fields[1]), int(fields[11]) + int(fields[12])
        if database and command.startswith(b"postgres: ") and f" {database} ".encode() in command:
            serving.add(pid)

    def descends(pid: int) -> bool:
        while pid > 1:
            if pid in roots:
                return True
            pid = parents.get(pid, 0)
        return False

    ours = sum(n for pid, n in ticks.items() if descends(pid))
    return ours / TICKS, sum(ticks[pid] for pid in serving) / TICKS
