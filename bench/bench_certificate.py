"""One certificate through the product against WeasyPrint alone on the same HTML (issue 13).

Run: ``.venv/bin/python bench/bench_certificate.py`` (a temporary SQLite database and signing
key; nothing else needed). In one process, round after round, interleaved so that a busy
machine slows them alike, it times:

- **weasyprint**: ``HTML(string=html).write_pdf()`` on the HTML the default template renders for
  a certificate, with the template's folder as base URL (WeasyPrint's own fetcher);
- **render**: the product's rendering of that certificate (sandboxed Jinja, the folder-only URL
  fetcher, PDF/A-3b with the ``certificado.json`` attachment), without signing;
- **sign**: pyHanko's PAdES signature of that PDF with the academy's key (loaded once);
- **issue**: ``services.issue`` for a learner who completed the course, committed: the lock on
  the completion, the render, the signature and the stored row (each round a new learner).

Prints, per step, the best and the median in milliseconds, the ratio render / weasyprint (the
issue's target: at most 1.3) and signing's share of an issue. Environment: BENCH_ROUNDS (20).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from academy import create_app  # noqa: E402
from academy.auth import services as accounts  # noqa: E402
from academy.certificates import rendering, services, signing  # noqa: E402
from academy.courses.content import load_course  # noqa: E402
from academy.courses.services import get_course, import_course  # noqa: E402
from academy.db import utcnow  # noqa: E402
from academy.extensions import db  # noqa: E402
from academy.progress import services as progress  # noqa: E402

COURSE = ROOT / "tests" / "fixtures" / "content" / "courses" / "curso-ejemplo"
NAME = "María José de los Ángeles Ñuñez-Fernández Valenzuela"


def main() -> None:
    rounds = int(os.environ.get("BENCH_ROUNDS", "20"))
    scratch = Path(tempfile.mkdtemp(prefix="bench-certificate-"))
    key, cert = signing.write_pair(scratch / "firma", "Academia", "Academia", force=False)
    app = create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": f"sqlite:///{scratch}/bench.db",
            "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
            "CERTIFICATE_KEY": str(key),
            "CERTIFICATE_CERT": str(cert),
            "MAIL_BACKEND": "console",
        }
    )
    with app.app_context():
        upgrade()
        source, problems = load_course(COURSE)
        assert source is not None and not problems, problems
        import_course(source)
        course = get_course("curso-ejemplo")
        assert course is not None
        learners = []
        for n in range(rounds + 1):
            user = accounts.create_user(
                email=f"persona{n}@muni.cl", full_name=NAME, password="x" * 12
            )
            db.session.flush()
            progress.enrol(user.id, course).completed_at = utcnow()
            learners.append(user.id)
        db.session.commit()

        # The HTML and data of a real certificate: the first learner's, issued once.
        first = services.issue(course, learners.pop(), by=services.Actor(None))
        db.session.commit()
        folder = rendering.template_folder(first.template)
        context = services.template_context(first)
        html = rendering.render_html(folder, context)
        metadata = services._metadata(first)
        data = services.certificate_data(first)
        unsigned = rendering.render(first.template, context, metadata, data=data)
        signing.current_key()

        def weasyprint() -> object:
            from weasyprint import HTML

            return HTML(string=html, base_url=folder.resolve().as_uri() + "/").write_pdf()

        def render() -> object:
            return rendering.render(first.template, context, metadata, data=data)

        def sign() -> object:
            return signing.sign(unsigned, reason="bench", location="Chile")

        def issue() -> object:
            certificate = services.issue(course, learners.pop(), by=services.Actor(None))
            db.session.commit()
            return certificate

        steps: dict[str, Callable[[], object]] = {
            "weasyprint": weasyprint,
            "render": render,
            "sign": sign,
            "issue": issue,
        }
        for step in steps.values():  # warm-up, not counted (issue uses its spare learner)
            if step is not issue:
                step()
        times: dict[str, list[float]] = {name: [] for name in steps}
        for _ in range(rounds):
            for name, step in steps.items():
                started = time.perf_counter()
                step()
                times[name].append((time.perf_counter() - started) * 1000)

    print(f"{rounds} rounds, interleaved; load average {os.getloadavg()[0]:.2f}")
    for name, values in times.items():
        print(f"{name:>10}: best {min(values):7.1f} ms, median {statistics.median(values):7.1f} ms")
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"render / weasyprint: {median['render'] / median['weasyprint']:.2f} (target ≤ 1.3)")
    print(f"signing's share of an issue: {median['sign'] / median['issue']:.0%}")


if __name__ == "__main__":
    main()
