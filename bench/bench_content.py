"""Course-format figures for docs/performance.md (issue 3).

Run: ``.venv/bin/python bench/bench_content.py``. Measures, in one run on a temporary SQLite
database (and PostgreSQL too when ACADEMY_BENCH_DATABASE_URL points at an empty database):

1. the time to render a 3,000-word lesson through academy.markdown (see bench_markdown.py);
2. the time to check and import a generated 20-lesson course, and to re-import it unchanged;
3. lesson-page throughput in-process (Flask test client, no network) for three variants of the
   same page, interleaved round by round so machine noise hits all alike:
   - ``stored``: the real view, which serves the HTML stored when the lesson was saved;
   - ``precomputed``: the same view with the lesson HTML taken from a dict filled beforehand;
   - ``render``: the same view rendering the Markdown on every request (what we avoid).
   ``stored`` within a few percent of ``precomputed`` shows no request renders Markdown.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from markupsafe import Markup

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from academy import create_app, markdown  # noqa: E402
from academy.auth import services as accounts  # noqa: E402
from academy.courses import content, services  # noqa: E402
from academy.extensions import db  # noqa: E402
from academy.learning import catalogue as views  # noqa: E402
from academy.progress import services as progress  # noqa: E402
from bench.bench_markdown import long_lesson  # noqa: E402

LESSON_TEXT = (ROOT / "tests/fixtures/markdown/leccion.md").read_text(encoding="utf-8")
LESSONS = 20


def make_course(folder: Path) -> Path:
    """A 20-lesson course in 4 units, each lesson the ~570-word fixture lesson."""
    root = folder / "courses" / "curso-bench"
    root.mkdir(parents=True)
    (root / "curso.md").write_text(
        "---\ntitulo: Curso de medición\nresumen: Para medir.\nhoras: 10\n"
        "resultados:\n  - Medir.\n---\n\nDescripción.\n",
        encoding="utf-8",
    )
    # The fixture's own link and image become a link to the first lesson and a real image.
    body = LESSON_TEXT.replace("(mecanismos.md)", "(../01-unidad-1/01-leccion-1.md)")
    image = ROOT / "tests/fixtures/content/courses/curso-ejemplo/01-primeros-pasos/niveles.png"
    for unit in range(1, 5):
        unit_dir = root / f"{unit:02d}-unidad-{unit}"
        unit_dir.mkdir()
        (unit_dir / "unidad.md").write_text(f"---\ntitulo: Unidad {unit}\n---\n", "utf-8")
        shutil.copy(image, unit_dir / "niveles.png")
        for n in range(1, LESSONS // 4 + 1):
            number = (unit - 1) * (LESSONS // 4) + n
            text = f"---\ntitulo: Lección {number}\nminutos: 10\n---\n\n{body}"
            (unit_dir / f"{n:02d}-leccion-{number}.md").write_text(text, encoding="utf-8")
    return root


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def bench(database_url: str, label: str) -> None:
    work = Path(tempfile.mkdtemp(prefix="academy-bench-"))
    try:
        course_root = make_course(work)
        app = create_app(
            {"ENV": "testing", "DATABASE_URL": database_url, "SECRET_KEY": "b" * 40,
             "PASSWORD_HASH_METHOD": "scrypt:1024:8:1", "WTF_CSRF_ENABLED": False,
             "RATELIMIT_ENABLED": False}
        )  # fmt: skip
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            check_time, (source, problems) = timed(lambda: content.load_course(course_root))
            assert source is not None and not problems, problems

            def do_import():
                report = services.import_course(source)
                db.session.commit()
                return report

            start = time.perf_counter()
            do_import()
            first_import = time.perf_counter() - start
            again, report = timed(do_import)
            assert not report.changed
            user = accounts.create_user(email="b@muni.cl", full_name="Bench", password="x" * 12)
            progress.enrol(user.id, services.get_course("curso-bench"))  # lessons need it
            db.session.commit()
            words = sum(len(lesson.body_md.split()) for lesson in source.lessons())
        print(f"[{label}] check 20-lesson course ({words} words): {check_time * 1000:.0f} ms")
        print(f"[{label}] first import: {first_import * 1000:.0f} ms; unchanged re-import: "
              f"{again * 1000:.0f} ms")  # fmt: skip
        page_variants(app)
        with app.app_context():
            db.drop_all()
            db.session.execute(db.text("DROP TABLE IF EXISTS alembic_version"))
            db.session.commit()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def page_variants(app) -> None:
    client = app.test_client()
    client.post("/entrar", data={"email": "b@muni.cl", "password": "x" * 12})
    url = "/cursos/curso-bench/lecciones/leccion-7"
    real = views.lesson_body
    with app.app_context():
        from academy.courses.models import LessonRevision

        stored = {r.id: r.body_html for r in db.session.scalars(db.select(LessonRevision))}
        sources = {r.id: r.body_md for r in db.session.scalars(db.select(LessonRevision))}
    variants = {
        "stored": real,
        "precomputed": lambda revision: Markup(stored[revision.id]),  # noqa: S704
        "render": lambda revision: Markup(markdown.render(sources[revision.id]).html),  # noqa: S704
    }
    results: dict[str, list[float]] = {name: [] for name in variants}
    requests = 200
    for fn in variants.values():  # warm up
        views.lesson_body = fn
        assert client.get(url).status_code == 200
    for _round in range(5):
        for name, fn in variants.items():
            views.lesson_body = fn
            start = time.perf_counter()
            for _ in range(requests):
                client.get(url)
            results[name].append(requests / (time.perf_counter() - start))
    views.lesson_body = real
    best = {name: max(values) for name, values in results.items()}
    for name, values in results.items():
        print(f"  lesson page, {name:12s}: {best[name]:7.0f} req/s best, "
              f"{statistics.median(values):7.0f} median")  # fmt: skip
    print(f"  stored / precomputed = {best['stored'] / best['precomputed']:.3f}; "
          f"render / precomputed = {best['render'] / best['precomputed']:.3f}")  # fmt: skip


def main() -> None:
    text = long_lesson()
    seconds, _rendered = timed(lambda: markdown.render(text), repeat=10)
    print(
        f"render 3,000-word lesson ({len(text.split())} words): {seconds * 1000:.1f} ms best of 10"
    )
    with tempfile.TemporaryDirectory() as folder:
        bench(f"sqlite:///{folder}/bench.db", "sqlite")
    pg = os.environ.get("ACADEMY_BENCH_DATABASE_URL")
    if pg:
        bench(pg, "postgresql")


if __name__ == "__main__":
    main()
