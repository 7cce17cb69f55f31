"""Submit-and-grade latency: 32 learners hand in a 20-question attempt at once (issue 5).

Run: ``.venv/bin/python bench/bench_quiz_submit.py`` (needs a PostgreSQL server; the script
creates its own database, ``academy_bench_quiz``, and drops it at the end).

What it does:

1. creates the database, migrates it, imports a course (one unit: five reading lessons and one
   quiz lesson) and its quiz, written here: exactly 20 questions of every type (single and
   multiple choice, true/false, short answer, numeric, matching, ordering), questions and options
   shuffled, unlimited attempts, no time limit; creates 32 learners enrolled in the course and
   signs each one in with the Flask test client to get their session cookie;
2. serves the application (``bench.wsgi:app()``) with gunicorn (sync workers, as deployed;
   CSRF checking off, since these requests carry no token and its cost is microseconds, not
   what is measured);
3. for each round (one warm-up round, not counted, then ``BENCH_ROUNDS``): starts a new attempt
   for every learner and saves answers to all 20 questions through the services, outside the
   timed part (some answers right, some wrong, so some attempts pass and some fail); then 32
   threads, released together by a ``threading.Barrier``, each open a connection and POST
   ``…/intentos/<n>/entregar`` with their own cookie, as the «Entregar» button does; each
   request is timed from just before it connects until its response has been read;
4. checks every submit: status 303 to the attempt's page, the "Entregamos tu intento" message in
   the session (so this request graded it), and in the database each round's 32 attempts
   submitted with the score the saved answers are worth, every answer scored, the quiz lesson
   done for those who passed, and no attempt left in progress or created beyond one per
   learner and round;
5. after each round's burst, the floor: the same 32 learners POST at once to ``/bench/submit-floor``
   (``bench.wsgi``), a route that signs the learner in, flashes a message and answers 303,
   as the submit does, and grades nothing: what the machine, gunicorn, Flask and signing in
   cost before any quiz work;
6. for comparison, one more round submitted one request at a time (no concurrency): the time a
   submit takes when it has the machine to itself.

Prints per-round and overall p50, p95, p99 and max latency (nearest-rank percentiles over all
counted submits), each burst's duration and throughput, the CPU time per submit spent in the
gunicorn workers and in PostgreSQL, the floor's latency and CPU per request, and the load
average before and after.

Environment: ACADEMY_BENCH_ADMIN_URL (an existing database to create and drop the bench database
from; default ``postgresql://postgres@127.0.0.1:5432/test``), BENCH_WORKERS (default 2 × cores
+ 1), BENCH_ROUNDS (default 10), BENCH_LEARNERS (default 32).
"""

from __future__ import annotations

import http.client
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

import psycopg
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from academy import create_app  # noqa: E402
from academy.auth import services as accounts  # noqa: E402
from academy.courses import content, services  # noqa: E402
from academy.courses.models import Lesson  # noqa: E402
from academy.extensions import db  # noqa: E402
from academy.progress import services as progress  # noqa: E402
from academy.progress.models import LessonProgress  # noqa: E402
from academy.quizzes import attempts  # noqa: E402
from academy.quizzes import services as quizzes  # noqa: E402
from academy.quizzes.format import load_quiz  # noqa: E402
from academy.quizzes.models import Answer, Attempt, AttemptStatus  # noqa: E402
from academy.quizzes.questions import (  # noqa: E402
    ChoiceQuestion,
    Matching,
    Numeric,
    Ordering,
    Question,
    RawResponse,
    ShortAnswer,
)
from bench import serving  # noqa: E402
from bench.serving import load_average  # noqa: E402
from bench.wsgi import FLOOR_PATH  # noqa: E402

SECRET = "bench-secret-key-0123456789-abcdefghijklmnop"
PASSWORD = "una clave de medición"
DATABASE = "academy_bench_quiz"
COURSE = "curso-cuestionario"
LESSON = "cuestionario-final"
QUIZ = "bench-20"
QUESTIONS = 20
SUBMIT = f"/cursos/{COURSE}/lecciones/{LESSON}/intentos/{{number}}/entregar"
# Each learner's browser: the one they signed in with (Flask-Login ties the session to it).
AGENT = "academy-bench"


# The content ---------------------------------------------------------------------------------

QUIZ_HEAD = """---
titulo: Cuestionario de medición
aprobacion: 60
intentos: ilimitados
barajar_preguntas: true
barajar_opciones: true
cuenta: mejor
revision: completa
---

Veinte preguntas de todos los tipos sobre participación ciudadana en el municipio.
"""

SINGLE = """
## {title}
clave: unica-{n}
tipo: unica
puntos: {points}

¿Qué órgano municipal es **consultivo** y no resolutivo? (versión {n})

- [x] El consejo comunal de organizaciones de la sociedad civil (COSOC)
  > Correcto: opina, no decide.
- [ ] El concejo municipal
  > No: el concejo es normativo, resolutivo y fiscalizador.
- [ ] (-25%) La alcaldía
- [ ] La secretaría comunal de planificación

Retroalimentación: El COSOC **opina**; el concejo y la alcaldía **deciden**.
"""

MULTIPLE = """
## {title}
clave: multiple-{n}
tipo: multiple
puntos: {points}

¿Qué se necesita para que una consulta sea creíble? Marca todas las que correspondan.

- [x] (50%) Reglas y objetivos claros.
- [x] (50%) Rendir cuentas de cómo se usaron los aportes.
- [ ] (-50%) Decidir antes de consultar.
  > Así la consulta pierde sentido.
- [ ] (0%) Usar siempre encuestas en línea.
"""

TRUE_FALSE = """
## {title}
clave: vf-{n}
tipo: verdadero-falso

Según el espectro de IAP2, *informar* ya da al público influencia en la decisión.

- [ ] Verdadero
  > No: la información va en una sola dirección.
- [x] Falso
  > Correcto.
"""

SHORT = """
## {title}
clave: corta-{n}
tipo: corta
mayusculas: ignorar
tildes: ignorar

¿Con qué sigla se conoce al consejo comunal de organizaciones de la sociedad civil?

- [x] COSOC
- [x] (50%) consejo comunal
  > Es el nombre, pero se pedía la sigla.
"""

NUMERIC = """
## {title}
clave: numerica-{n}
tipo: numerica
puntos: {points}

¿Cuántos peldaños tiene la escalera de participación de Sherry Arnstein (1969)?

- [x] 8
- [x] (50%) 7..9
  > Cerca: cuenta de nuevo.
- [ ] *
  > Son ocho peldaños, agrupados en tres niveles.
"""

MATCHING = """
## {title}
clave: emparejar-{n}
tipo: emparejar
puntos: {points}

- Informar -> Te mantendremos informado.
- Consultar -> Escucharemos y diremos cómo influyó tu opinión.
- Involucrar -> Trabajaremos contigo para que tus preocupaciones se reflejen.
- Empoderar -> Implementaremos lo que decidas.
- (distractor) -> Decidiremos sin avisar.

Retroalimentación: Cada nivel del espectro hace una promesa distinta al público.
"""

ORDERING = """
## {title}
clave: ordenar-{n}
tipo: ordenar

De menor a mayor influencia del público en la decisión:

1. Informar
2. Consultar
3. Involucrar
4. Colaborar
5. Empoderar
"""

# 20 questions: 4 single choice, 3 multiple, 3 true/false, 3 short, 3 numeric, 2 matching,
# 2 ordering; points from 1 to 3.
KINDS = [SINGLE] * 4 + [MULTIPLE] * 3 + [TRUE_FALSE] * 3 + [SHORT] * 3 + [NUMERIC] * 3
KINDS += [MATCHING] * 2 + [ORDERING] * 2


def quiz_markdown() -> str:
    parts = [QUIZ_HEAD]
    for n, template in enumerate(KINDS, 1):
        parts.append(template.format(title=f"Pregunta {n}", n=n, points=1 + n % 3))
    return "".join(parts)


def write_content(folder: Path) -> Path:
    """The course folder (courses/curso-cuestionario) next to quizzes/bench-20.md."""
    (folder / "quizzes").mkdir(parents=True)
    (folder / "quizzes" / f"{QUIZ}.md").write_text(quiz_markdown(), encoding="utf-8")
    root = folder / "courses" / COURSE
    unit = root / "01-unidad-1"
    unit.mkdir(parents=True)
    (root / "curso.md").write_text(
        "---\ntitulo: Curso con cuestionario\nresumen: Para medir.\nhoras: 4\n"
        "resultados:\n  - Medir.\n---\n\nDescripción.\n",
        encoding="utf-8",
    )
    (unit / "unidad.md").write_text("---\ntitulo: Unidad 1\n---\n", encoding="utf-8")
    for n in range(1, 6):
        (unit / f"{n:02d}-leccion-{n}.md").write_text(
            f"---\ntitulo: Lección {n}\nminutos: 10\n---\n\nTexto de la lección {n}.\n",
            encoding="utf-8",
        )
    (unit / f"06-{LESSON}.md").write_text(
        f"---\ntitulo: Cuestionario final\ntipo: cuestionario\nminutos: 20\n"
        f"cuestionario: {QUIZ}\n---\n\nComprueba lo que aprendiste.\n",
        encoding="utf-8",
    )
    return root


# Answers -------------------------------------------------------------------------------------


def response_for(question: Question, right: bool) -> RawResponse:
    """What a learner sends for ``question``: the right answer or a wrong one."""
    if right:
        correct = question.correct_response()
        return correct if isinstance(correct, list | dict) else [str(correct)]
    if isinstance(question, ChoiceQuestion):  # single, multiple, true/false: a wrong option
        return [next(c.id for c in question.choices if not c.correct)]
    if isinstance(question, ShortAnswer):
        return ["concejo"]
    if isinstance(question, Numeric):
        return ["12"]
    if isinstance(question, Matching):
        lefts = [p.left_id for p in question.scored_pairs() if p.left_id is not None]
        rights = [p.right_id for p in question.scored_pairs()]
        return dict(zip(lefts, rights[1:] + rights[:1], strict=True))
    if isinstance(question, Ordering):
        return [item.id for item in reversed(question.items)]
    raise TypeError(type(question).__name__)


@dataclass
class Prepared:
    user_id: int
    cookie: str
    number: int  # the attempt's number for this learner
    attempt_id: int
    expected_score: Any  # Decimal
    passes: bool


def start_attempts(
    app: Any, learners: list[tuple[int, str]], skill: dict[int, float], rng: random.Random
) -> list[Prepared]:
    """A new attempt for every learner, with all 20 questions answered and saved."""
    prepared: list[Prepared] = []
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.slug == LESSON))
        context = attempts.context_for(lesson)
        assert context is not None
        for user_id, cookie in learners:
            attempt = attempts.start(user_id, context)
            db.session.flush()
            pairs = attempts.questions_of(attempt)
            assert len(pairs) == QUESTIONS, len(pairs)
            raw = {q.key: response_for(q, rng.random() < skill[user_id]) for q, _order in pairs}
            errors = attempts.save_answers(attempt, raw)
            assert not errors, errors
            questions = [question for question, _order in pairs]
            _scores, total, maximum = attempts.grade_responses(
                questions, attempts.responses_of(attempt)
            )
            passes = total * 100 / maximum >= context.quiz.settings.passing
            prepared.append(
                Prepared(
                    user_id, cookie, attempt.number, attempt.id, attempts.to_decimal(total), passes
                )
            )
        db.session.commit()
    return prepared


# The database and the server -----------------------------------------------------------------


def database_urls() -> tuple[str, str]:
    admin = os.environ.get("ACADEMY_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
    return admin, admin.rsplit("/", 1)[0] + "/" + DATABASE


def recreate_database(admin: str, drop_only: bool = False) -> None:
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        if not drop_only:
            connection.execute(f"CREATE DATABASE {DATABASE}")


def prepare(database_url: str, work: Path, learners: int) -> tuple[Any, list[tuple[int, str]]]:
    """Migrate, import the course and quiz, enrol and sign in the learners."""
    config = {"ENV": "testing", "DATABASE_URL": database_url, "SECRET_KEY": SECRET,
              "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False,
              "PASSWORD_HASH_METHOD": "scrypt:1024:8:1"}  # fmt: skip
    app = create_app(config)
    root = write_content(work)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        quiz, problems = load_quiz(work / "quizzes" / f"{QUIZ}.md")
        assert quiz is not None and not problems, problems
        assert len(quiz.questions) == QUESTIONS
        quizzes.import_quiz(quiz)
        source, problems = content.load_course(root)
        assert source is not None and not problems, problems
        services.import_course(source)
        course = services.get_course(COURSE)
        ids = []
        for n in range(1, learners + 1):
            user = accounts.create_user(
                email=f"participante{n}@muni.cl", full_name=f"Participante {n}", password=PASSWORD
            )
            progress.enrol(user.id, course)
            ids.append(user.id)
        db.session.commit()
    signed_in = []
    for n, user_id in enumerate(ids, 1):
        client = app.test_client()
        client.environ_base["HTTP_USER_AGENT"] = AGENT
        response = client.post("/entrar", data={"email": f"participante{n}@muni.cl",
                                                "password": PASSWORD})  # fmt: skip
        assert response.status_code == 302, response.status_code
        cookie = client.get_cookie("academy_session")
        assert cookie is not None
        signed_in.append((user_id, f"academy_session={cookie.value}"))
    return app, signed_in


def serve(database_url: str, workers: int) -> tuple[subprocess.Popen, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACADEMY_")}
    env |= {"ACADEMY_DATABASE_URL": database_url, "ACADEMY_SECRET_KEY": SECRET,
            "ACADEMY_RATELIMIT_ENABLED": "false", "ACADEMY_WTF_CSRF_ENABLED": "false"}  # fmt: skip
    return serving.serve("bench.wsgi:app()", env, workers)


# Measuring -----------------------------------------------------------------------------------


@dataclass
class Result:
    prepared: Prepared
    status: int = 0
    location: str = ""
    set_cookie: str = ""
    start: float = 0.0
    end: float = 0.0
    error: str = ""

    @property
    def ms(self) -> float:
        return (self.end - self.start) * 1000


def submit(port: int, result: Result, path: str | None = None) -> None:
    path = path or SUBMIT.format(number=result.prepared.number)
    result.start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(
            "POST",
            path,
            body=b"",
            headers={"Cookie": result.prepared.cookie, "User-Agent": AGENT,
                     "Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        response = connection.getresponse()
        response.read()
        result.end = time.perf_counter()
        result.status = response.status
        result.location = response.getheader("Location", "")
        cookies = response.msg.get_all("Set-Cookie") or []
        result.set_cookie = next((c for c in cookies if c.startswith("academy_session=")), "")
    except OSError as error:
        result.end = time.perf_counter()
        result.error = repr(error)
    finally:
        connection.close()


def burst(
    port: int, prepared: list[Prepared], path: str | None = None
) -> tuple[list[Result], float, float]:
    """All submits at once (to ``path``, if given, instead of each one's attempt); the results,
    the release instant and the last response's end."""
    results = [Result(p) for p in prepared]
    released: list[float] = []
    barrier = threading.Barrier(len(results), action=lambda: released.append(time.perf_counter()))

    def run(result: Result) -> None:
        barrier.wait(timeout=30)
        submit(port, result, path)

    threads = [threading.Thread(target=run, args=(r,)) for r in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, released[0], max(r.end for r in results)


def one_by_one(port: int, prepared: list[Prepared]) -> list[Result]:
    results = [Result(p) for p in prepared]
    for result in results:
        submit(port, result)
    return results


def check(app: Any, results: list[Result], rounds_so_far: int, learners: int) -> None:
    """Every submit answered 303 and graded its attempt, once, with the right score."""
    serializer = app.session_interface.get_signing_serializer(app)
    for r in results:
        p = r.prepared
        expected = SUBMIT.format(number=p.number).removesuffix("/entregar")
        if r.error or r.status != 303 or not r.location.endswith(expected):
            raise AssertionError(f"submit failed: {r.status} {r.location} {r.error}")
        cookie = r.set_cookie.split(";", 1)[0].removeprefix("academy_session=")
        flashes = serializer.loads(cookie).get("_flashes", [])
        if [category for category, _message in flashes] != ["success"]:
            raise AssertionError(f"attempt {p.attempt_id} was not graded by its submit: {flashes}")
    with app.app_context():
        for r in results:
            p = r.prepared
            attempt = db.session.get(Attempt, p.attempt_id)
            assert attempt is not None
            if attempt.status != AttemptStatus.SUBMITTED or attempt.finished_at is None:
                raise AssertionError(f"attempt {attempt.id} not submitted: {attempt.status}")
            if attempt.score != p.expected_score or attempt.passed is not p.passes:
                raise AssertionError(
                    f"attempt {attempt.id}: score {attempt.score} (expected {p.expected_score})"
                )
            scored = db.session.scalar(
                select(func.count(Answer.id)).where(
                    Answer.attempt_id == attempt.id, Answer.score.is_not(None)
                )
            )
            if scored != QUESTIONS:
                raise AssertionError(f"attempt {attempt.id}: {scored} answers scored")
        total = db.session.scalar(select(func.count(Attempt.id)))
        still_open = db.session.scalar(
            select(func.count(Attempt.id)).where(Attempt.status == AttemptStatus.IN_PROGRESS)
        )
        if total != rounds_so_far * learners or still_open:
            raise AssertionError(f"{total} attempts, {still_open} in progress")
        ever_passed = set(
            db.session.scalars(select(Attempt.user_id).where(Attempt.passed.is_(True)))
        )
        done = set(
            db.session.scalars(
                select(LessonProgress.user_id)
                .join(Lesson, Lesson.id == LessonProgress.lesson_id)
                .where(Lesson.slug == LESSON, LessonProgress.status == "done")
            )
        )
        if done != ever_passed:
            raise AssertionError(f"quiz lesson done for {len(done)}, passed {len(ever_passed)}")
        db.session.rollback()


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(server: subprocess.Popen) -> tuple[float, float]:
    """CPU seconds so far of the gunicorn workers and of the bench database's backends."""
    app_ticks = db_ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue  # the process ended meanwhile
        ticks = int(fields[11]) + int(fields[12])
        if int(fields[1]) == server.pid:
            app_ticks += ticks
        elif command.startswith(b"postgres: ") and f" {DATABASE} ".encode() in command:
            db_ticks += ticks
    return app_ticks / TICKS, db_ticks / TICKS


def main() -> None:
    workers = int(os.environ.get("BENCH_WORKERS", 2 * (os.cpu_count() or 1) + 1))
    rounds = int(os.environ.get("BENCH_ROUNDS", 10))
    learners = int(os.environ.get("BENCH_LEARNERS", 32))
    admin, database_url = database_urls()
    work = Path(tempfile.mkdtemp(prefix="academy-bench-quiz-"))
    rng = random.Random(5)
    server: subprocess.Popen | None = None
    app = None
    recreate_database(admin)
    try:
        app, signed_in = prepare(database_url, work, learners)
        # Each learner gets most answers right with their own probability: most pass, some fail.
        skill = {user_id: 0.35 + 0.6 * n / learners for n, (user_id, _c) in enumerate(signed_in)}
        server, port = serve(database_url, workers)
        done_rounds = 0

        def next_round() -> list[Prepared]:
            nonlocal done_rounds
            done_rounds += 1
            return start_attempts(app, signed_in, skill, rng)

        results, _released, _end = burst(port, next_round())  # warm-up, not counted
        check(app, results, done_rounds, learners)
        warm_up = [r.ms for r in results]
        load_before = load_average()
        per_round: list[tuple[list[float], float, float]] = []  # latencies, burst s, spread ms
        cpu_app = cpu_db = 0.0
        floor: list[float] = []  # the same bursts, to a route that does no grading
        floor_cpu = 0.0
        for _ in range(rounds):
            prepared = next_round()
            app_before, db_before = cpu_seconds(server)
            results, released, end = burst(port, prepared)
            app_after, db_after = cpu_seconds(server)
            cpu_app += app_after - app_before
            cpu_db += db_after - db_before
            check(app, results, done_rounds, learners)
            spread = (max(r.start for r in results) - released) * 1000
            per_round.append(([r.ms for r in results], end - released, spread))
            app_before, db_before = cpu_seconds(server)
            floor_results, _released, _end = burst(port, prepared, FLOOR_PATH)
            app_after, db_after = cpu_seconds(server)
            floor_cpu += app_after - app_before + db_after - db_before
            if any(r.status != 303 or r.error for r in floor_results):
                raise AssertionError(f"floor requests failed: {floor_results[0]}")
            floor.extend(r.ms for r in floor_results)
        load_after = load_average()
        results = one_by_one(port, next_round())
        check(app, results, done_rounds, learners)
        alone = [r.ms for r in results]
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        if app is not None:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        recreate_database(admin, drop_only=True)
        shutil.rmtree(work, ignore_errors=True)

    report(workers, rounds, learners, warm_up, per_round, alone, cpu_app, cpu_db, floor, floor_cpu)
    print(f"load average (1, 5, 15 min) before: {load_before}; after: {load_after}")


def report(
    workers: int,
    rounds: int,
    learners: int,
    warm_up: list[float],
    per_round: list[tuple[list[float], float, float]],
    alone: list[float],
    cpu_app: float,
    cpu_db: float,
    floor: list[float],
    floor_cpu: float,
) -> None:
    print(f"{os.cpu_count()} cores; gunicorn sync workers: {workers}; PostgreSQL; "
          f"{learners} learners submit a {QUESTIONS}-question attempt at once; "
          f"{rounds} rounds (+1 warm-up)")  # fmt: skip
    print(f"warm-up round (not counted): p50 {median(warm_up):.1f} ms, max {max(warm_up):.1f} ms")
    for i, (latencies, seconds, spread) in enumerate(per_round, 1):
        print(f"  round {i:2d}: p50 {median(latencies):6.1f} ms   max {max(latencies):6.1f} ms"
              f"   burst {seconds * 1000:6.1f} ms = {len(latencies) / seconds:5.0f} submits/s"
              f"   (last thread sent {spread:.1f} ms after release)")  # fmt: skip
    every = [ms for latencies, _s, _sp in per_round for ms in latencies]
    submits = len(every)
    bursts = [len(latencies) / seconds for latencies, seconds, _sp in per_round]
    p99 = percentile(every, 0.99)
    print(f"all {submits} submits: p50 {percentile(every, 0.50):.1f} ms, "
          f"p95 {percentile(every, 0.95):.1f} ms, p99 {p99:.1f} ms, max {max(every):.1f} ms; "
          f"burst throughput median {median(bursts):.0f} submits/s")  # fmt: skip
    print(f"p99 < 100 ms: {'met' if p99 < 100 else 'NOT met'}")
    print(f"one at a time ({len(alone)} submits, no concurrency): p50 "
          f"{percentile(alone, 0.50):.1f} ms, p99 {percentile(alone, 0.99):.1f} ms")  # fmt: skip
    print(f"CPU per submit while bursting: gunicorn worker {cpu_app / submits * 1000:.1f} ms, "
          f"PostgreSQL {cpu_db / submits * 1000:.1f} ms")  # fmt: skip
    print(f"floor, the same bursts to {FLOOR_PATH} (signed in, flash, 303; no grading): "
          f"p50 {percentile(floor, 0.50):.1f} ms, p99 {percentile(floor, 0.99):.1f} ms, "
          f"max {max(floor):.1f} ms; CPU per request {floor_cpu / len(floor) * 1000:.1f} ms "
          f"(gunicorn worker and PostgreSQL)")  # fmt: skip
    ratio = p99 / percentile(floor, 0.99)
    print(f"submit p99 / floor p99 (issue 16): {ratio:.2f} "
          f"(target ≤ 2: {'met' if ratio <= 2 else 'NOT met'})")  # fmt: skip


if __name__ == "__main__":
    main()
