"""What the gunicorn benchmarks share: serving an app on a free port, and the machine's load."""

from __future__ import annotations

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
