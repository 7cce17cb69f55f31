"""A synthetic academy for the figures of issues 14 and 16: many learners, real content.

Run (an empty database; PostgreSQL or SQLite; migrated here)::

    .venv/bin/python -m bench.generate --database-url URL --learners 50000 [--seed 1]
        [--lessons-course 200]

or, from another bench, inside an application context on a migrated database::

    from bench.generate import generate
    summary = generate(learners=50_000, seed=1, lessons_course=200)
    db.session.commit()  # generate() writes; its caller commits (one place commits)

What it writes, deterministically for a seed (only the wall-clock times move with "now"):

- **People.** One admin (:data:`ADMIN_EMAIL`), trainers (one for every three cohorts) and
  ``learners`` learners, each with a unique valid RUT (check digit from python-stdnum), a name
  with accents, a job title and a comuna. Every account's email is confirmed, so every one can
  sign in, and **every account has the same password, :data:`PASSWORD`**: its hash is computed
  once (with the app's ``PASSWORD_HASH_METHOD``) and shared, because hashing 50,000 passwords
  with scrypt would take longer than everything else together. Emails end in ``.example``
  (RFC 2606): nothing generated can reach a real mailbox.
- **Comunas by population.** ``academy/data/comunas-cut.csv`` (the reference data) has no
  population, so a proxy is used: each region gets learners in proportion to its population in
  the 2017 census (INE, :data:`REGION_POPULATION_2017`), and inside a region the regional
  capital weighs 6, other provincial capitals and the comunas of the province of Santiago 3,
  every other comuna 1. Antártica (12202) gets nobody: it has no municipality of its own.
- **The participation course** (``courses/participacion-ciudadana``) imported with its quizzes
  through the product's own importer (``academy content import``'s code), published; the
  admin and the trainers teach it.
- **Enrolments** for :data:`ENROLLED` of the learners; most of them in **cohorts** of about
  :data:`COHORT_SIZE` people of one region (a few hundred cohorts for 50,000 learners), each
  a run of :data:`COHORT_RUN` that started in the last ten months (closed once it ended), with
  one trainer assigned (``cohort_trainers``; the summary maps cohort id → trainer id) who also
  teaches the course; its learners enrolled by the admin in its first days.
- **Progress** in the proportions of :data:`STAGES`: not started (an enrolment and nothing
  else), part-way (every lesson before the current one dealt with, the current one in progress
  and still required, so the course cannot count as complete), completed (every required lesson
  done and the completion recorded on the enrolment at the time of the last one). Reading
  lessons are marked done; quiz lessons are done when an attempt passed; case lessons when a
  trainer approved the case (the course's rule, ``casos_se_completan: al-aprobar``).
- **Quiz attempts** drawn with the product's own ``draw_layout`` (:data:`LAYOUTS` draws per
  quiz, each attempt takes one) and graded with the question types' own grading (each
  question's possible responses are graded once by ``Question.grade`` and reused), pass or
  fail decided by the quiz's own rule; failed attempts before a pass within the attempt limit;
  some attempts in progress with answers saved.
- **Case submissions** whose texts have each prompt's minimum number of words: approved (some
  after being returned once), waiting for review (submitted or in review, for 0 to 45 days),
  returned, and drafts; reviews score every rubric criterion with one of its levels.
- **Certificates** for :data:`CERTIFIED` of the completed learners, consistent with the model
  (name, RUT, comuna and region as printed, the course's version digest, completion date).
  **The PDFs are synthetic**: the first certificate is issued for real through
  ``certificates.services.issue`` (rendered, signed, its audit event and its email queued),
  and every other certificate stores *that same PDF and its SHA-256*, with the learner's own
  data in the row. Nothing here verifies the PDFs, and no bench should: opening one shows the
  first learner's name, and verification by upload finds the first certificate with that
  hash. Each certificate has its "issued" audit event.
- Optionally (``lessons_course=N``) a course of N reading lessons with synthetic texts
  (``curso-lecciones-N``, units of 20 lessons) with :data:`LESSONS_COURSE_SHARE` of the
  learners enrolled and part-way through it: the "200 lessons and 50,000 learners" side of
  issue 16's lesson-page ratio.

Rows go in with Core ``insert()`` of many rows at once (executemany, and ``RETURNING`` where
the ids are needed), learner by learner in chunks so memory stays flat.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import Table, func, insert, select
from stdnum.cl import rut as rut_number
from stdnum.iso7064 import mod_37_36
from werkzeug.security import generate_password_hash

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from academy import audit, comunas, create_app  # noqa: E402
from academy.auth.models import User  # noqa: E402
from academy.cases.definition import from_data  # noqa: E402
from academy.certificates import services as certificates  # noqa: E402
from academy.certificates.codes import ALPHABET, RANDOM_LENGTH  # noqa: E402
from academy.cli.content import import_content, load_all  # noqa: E402
from academy.courses.content import load_course  # noqa: E402
from academy.courses.models import Course, Lesson  # noqa: E402
from academy.courses.services import get_course, import_course  # noqa: E402
from academy.extensions import db  # noqa: E402
from academy.progress import services as progress  # noqa: E402
from academy.quizzes import attempts  # noqa: E402
from academy.quizzes import questions as q  # noqa: E402
from academy.quizzes.attempts import draw_layout, to_decimal  # noqa: E402

PASSWORD = "una clave de medición"  # every generated account's password
ADMIN_EMAIL = "admin@bench-academia.example"
COURSE_DIR = ROOT / "courses" / "participacion-ciudadana"
COURSE_SLUG = "participacion-ciudadana"

ENROLLED = 0.90  # of the learners, in the participation course
IN_COHORT = 0.85  # of the enrolled; the others enrolled themselves
COHORT_SIZE = 180
COHORTS_PER_TRAINER = 3
COHORT_RUN = timedelta(days=120)
# Of the enrolled: (stage, share).
STAGES = (("not_started", 0.15), ("part_way", 0.55), ("completed", 0.30))
CERTIFIED = 0.70  # of the completed learners
LESSONS_COURSE_SHARE = 0.10  # of the learners, in the optional long course
CHUNK = 1_000  # learners generated and inserted at a time
LAYOUTS = 64  # drawn per quiz (question draw and option order), shared by the attempts

# Census 2017 (INE, resultados definitivos), population by region (CUT region code).
REGION_POPULATION_2017 = {
    "15": 226_068,
    "01": 330_558,
    "02": 607_534,
    "03": 286_168,
    "04": 757_586,
    "05": 1_815_902,
    "13": 7_112_808,
    "06": 914_555,
    "07": 1_044_950,
    "16": 480_609,
    "08": 1_556_805,
    "09": 957_224,
    "14": 384_837,
    "10": 828_708,
    "11": 103_158,
    "12": 166_533,
}
NO_MUNICIPALITY = {"12202"}  # Antártica: administered by Cabo de Hornos

FIRST_NAMES = (
    "María", "José", "Sofía", "Inés", "Ramón", "Andrés", "Verónica", "Héctor", "Tomás",
    "Martín", "Ángela", "Julián", "Matías", "Lucía", "Valentina", "Catalina", "Ignacio",
    "Nicolás", "Joaquín", "Agustín", "Francisca", "Constanza", "Camila", "Benjamín",
    "Cristóbal", "Sebastián", "Raúl", "Óscar", "Iván", "Mónica", "Beatriz", "Rocío", "Noemí",
    "Germán", "Patricio", "Rubén", "Marcela", "Ximena", "Jesús", "Carolina", "Daniela",
    "Fernanda", "Gonzalo", "Rodrigo", "Paula", "Javiera", "Begoña", "Efraín", "Zoé", "Elías",
)  # fmt: skip
SURNAMES = (
    "González", "Muñoz", "Rojas", "Díaz", "Pérez", "Soto", "Contreras", "Silva", "Martínez",
    "Sepúlveda", "Morales", "Rodríguez", "López", "Fuentes", "Hernández", "Torres", "Araya",
    "Flores", "Espinoza", "Valenzuela", "Castillo", "Tapia", "Reyes", "Gutiérrez", "Castro",
    "Pizarro", "Álvarez", "Vásquez", "Sánchez", "Fernández", "Ramírez", "Carrasco", "Gómez",
    "Cortés", "Herrera", "Núñez", "Jara", "Vergara", "Rivera", "Figueroa", "Riquelme", "García",
    "Miranda", "Bravo", "Vera", "Molina", "Vega", "Campos", "Sandoval", "Orellana", "Zúñiga",
    "Gallardo", "Olivares", "Alarcón", "Salazar", "Ñanculef", "Huenchumilla", "Millalén",
    "Quispe", "Peña", "Ibáñez", "Méndez", "Lagos", "Aguilera", "Cárdenas", "Yáñez",
)  # fmt: skip
JOB_TITLES = (
    "Profesional DIDECO", "Encargada de participación ciudadana", "Encargado OIRS",
    "Secretaria municipal", "Profesional SECPLAN", "Encargado de transparencia",
    "Directora de desarrollo comunitario", "Técnico social", "Concejal", "Asistente social",
    "Coordinadora territorial", "Administrativo municipal", None,
)  # fmt: skip
WORDS = (
    "participación", "comunidad", "vecinos", "municipio", "consulta", "diagnóstico", "plaza",
    "presupuesto", "COSOC", "ordenanza", "proceso", "información", "decisión", "taller",
    "devolución", "inclusión", "jóvenes", "organizaciones", "territorio", "propuesta", "plazo",
    "costos", "beneficios", "riesgos", "concejo", "alcaldía", "transparencia", "indicadores",
    "cuenta", "pública", "votación", "acuerdo", "equipo", "calendario", "convocatoria", "sector",
    "el", "la", "los", "las", "de", "del", "con", "para", "que", "se", "y", "en", "por", "un",
    "una", "como", "más", "cada", "según", "también", "después", "antes", "cuándo", "según",
)  # fmt: skip
COMMENTS = (
    "Buen trabajo: la propuesta usa los datos del caso.",
    "Revisa los plazos legales y la devolución a la comunidad.",
    "Bien argumentado; falta detallar los costos del personal.",
    "Clara y completa. Felicitaciones.",
)
RETURN_COMMENT = "Falta justificar el nivel de participación elegido; corrígelo y reenvía."


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


# Reference data ------------------------------------------------------------------------------


def comuna_weights() -> tuple[list[str], list[float]]:
    """Every comuna with a municipality and its share of learners (see the module's doc)."""
    by_region: dict[str, list[comunas.Comuna]] = {}
    for comuna in comunas.all_comunas().values():
        if comuna.cut not in NO_MUNICIPALITY:
            by_region.setdefault(comuna.region_code, []).append(comuna)
    cuts, weights = [], []
    for region, members in sorted(by_region.items()):
        local = [_local_weight(comuna) for comuna in members]
        total = sum(local)
        for comuna, weight in zip(members, local, strict=True):
            cuts.append(comuna.cut)
            weights.append(REGION_POPULATION_2017[region] * weight / total)
    return cuts, weights


def _local_weight(comuna: comunas.Comuna) -> int:
    if comuna.cut.endswith("101"):
        return 6  # the regional capital
    if comuna.cut.endswith("01") or comuna.cut.startswith("131"):
        return 3  # a provincial capital, or Greater Santiago
    return 1


def make_rut(body: int) -> str:
    """The compact RUT (digits and check digit) of a RUT number."""
    return f"{body}{rut_number.calc_check_digit(str(body))}"


def ascii_slug(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "-".join("".join(ch if ch.isalnum() else " " for ch in plain).split())


# Content -------------------------------------------------------------------------------------


def import_participation_course(counts: Counter[str]) -> Course:
    """The bundled course and its quizzes, through ``academy content import``'s code, which
    also records what it publishes in the audit log (counted in ``counts``)."""

    found = load_all([COURSE_DIR])
    if found.problems:
        raise RuntimeError(f"the bundled course has problems: {found.problems[:3]}")
    events = db.metadata.tables["audit_events"]
    before = db.session.scalar(select(func.count()).select_from(events)) or 0
    import_content(found, force=True, publish=True)
    db.session.flush()
    counts["audit_events"] += (
        db.session.scalar(select(func.count()).select_from(events)) or 0
    ) - before
    course = get_course(COURSE_SLUG)
    assert course is not None
    return course


def write_lessons_course(folder: Path, lessons: int) -> Path:
    """A course of ``lessons`` synthetic reading lessons (units of 20) as Markdown files."""
    slug = f"curso-lecciones-{lessons}"
    root = folder / slug
    root.mkdir(parents=True)
    (root / "curso.md").write_text(
        f"---\ntitulo: Curso de {lessons} lecciones\nresumen: Lecciones sintéticas para medir."
        "\nhoras: 40\nresultados:\n  - Medir páginas de lección en un curso largo.\n---\n\n"
        "Curso generado por bench/generate.py.\n",
        encoding="utf-8",
    )
    paragraph = (
        "La participación ciudadana en la gestión municipal requiere información oportuna, "
        "consultas bien diseñadas y una devolución clara a la comunidad sobre qué se hizo con "
        "sus aportes. "
    ) * 4
    per_unit = 20
    for unit in range(1, math.ceil(lessons / per_unit) + 1):
        unit_dir = root / f"{unit:02d}-unidad-{unit}"
        unit_dir.mkdir()
        (unit_dir / "unidad.md").write_text(f"---\ntitulo: Unidad {unit}\n---\n", "utf-8")
        for n in range(1, per_unit + 1):
            number = (unit - 1) * per_unit + n
            if number > lessons:
                break
            text = (
                f"---\ntitulo: Lección {number}\nminutos: 10\n---\n\n## Idea central\n\n"
                f"{paragraph}\n\n## Para aplicar\n\n{paragraph}\n"
            )
            (unit_dir / f"{n:02d}-leccion-{number}.md").write_text(text, encoding="utf-8")
    return root


def import_lessons_course(lessons: int) -> Course:

    with tempfile.TemporaryDirectory(prefix="academy-generate-") as folder:
        root = write_lessons_course(Path(folder), lessons)
        source, problems = load_course(root)
        if source is None or problems:
            raise RuntimeError(f"the synthetic course has problems: {problems[:3]}")
        import_course(source, force=True, publish=True)
    course = get_course(root.name)
    assert course is not None
    return course


# The course as the generator sees it ---------------------------------------------------------


@dataclass
class QuizPlan:
    """A quiz lesson: its published revision and, per question, responses graded once."""

    revision_id: int
    quiz: Any  # academy.quizzes.format.Quiz
    # key -> [(response, score, score as stored)], the first one the correct response.
    menu: dict[str, list[tuple[Any, Fraction, Decimal]]]
    points: dict[str, Fraction]
    # Layouts drawn once by the product's draw_layout; each attempt takes one of them.
    layouts: list[list[dict[str, Any]]]


@dataclass
class CasePlan:
    revision_id: int
    prompt_words: list[int]
    # Each criterion's level points, in rubric order.
    levels: list[list[int]]


@dataclass
class LessonPlan:
    id: int
    kind: str
    required: bool
    quiz: QuizPlan | None = None
    case: CasePlan | None = None


def _response_menu(question: Any) -> list[tuple[Any, Fraction, Decimal]]:
    """The correct response and a few wrong ones, each as stored and with its score."""

    raws: list[Any] = []
    if isinstance(question, q.ChoiceQuestion):
        raws = [[choice.id] for choice in question.choices]
    elif isinstance(question, q.ShortAnswer):
        raws = [["no lo recuerdo"]]
    elif isinstance(question, q.Numeric):
        raws = [["0"], ["1000000"]]
    elif isinstance(question, q.Matching):
        right = question.correct_response()
        keys, values = list(right), list(right.values())
        raws = [dict(zip(keys, values[1:] + values[:1], strict=True))] if len(keys) > 1 else []
    elif isinstance(question, q.Ordering):
        ids = question.correct_response()
        raws = [list(reversed(ids)), ids[1:2] + ids[:1] + ids[2:]]
    correct = question.correct_response()
    menu = [(correct, question.grade(correct))]
    for raw in raws:
        response = question.parse_response(raw)
        if response != correct:
            menu.append((response, question.grade(response)))
    return [(response, score, to_decimal(score)) for response, score in menu]


def course_plan(course: Course, rng: random.Random) -> list[LessonPlan]:
    """The course's published lessons in order, with what attempts and submissions need."""

    plans = []
    for item in progress.published_outline(course.id):
        plan = LessonPlan(item.lesson_id, item.kind, item.required)
        lesson = db.session.get(Lesson, item.lesson_id)
        assert lesson is not None
        if item.kind == "quiz":
            context = attempts.context_for(lesson)
            assert context is not None, f"quiz lesson {item.slug} has no published quiz"
            plan.quiz = QuizPlan(
                context.revision.id,
                context.quiz,
                {question.key: _response_menu(question) for question in context.quiz.questions},
                {question.key: question.points for question in context.quiz.questions},
                [draw_layout(context.quiz, rng) for _n in range(LAYOUTS)],
            )
        elif item.kind == "case":
            assert lesson.published is not None
            definition = from_data(lesson.published.extra)
            plan.case = CasePlan(
                lesson.published.id,
                [prompt.min_words for prompt in definition.prompts],
                [[level.points for level in c.levels] for c in definition.criteria],
            )
        plans.append(plan)
    return plans


# The result ----------------------------------------------------------------------------------


@dataclass
class Summary:
    """What was generated: counts by table, timings, and people to sign in as."""

    seed: int
    learners: int
    course_id: int
    course_slug: str
    lessons_course_slug: str | None = None
    admin_email: str = ADMIN_EMAIL
    password: str = PASSWORD
    trainer_emails: list[str] = field(default_factory=list)
    # One learner of each stage ("not_started", "part_way", "completed", "certified").
    sample_learners: dict[str, str] = field(default_factory=dict)
    cohort_trainers: dict[int, int] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    regions: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)

    def report(self) -> str:
        lines = [f"Synthetic academy (seed {self.seed}): {self.learners:,} learners"]
        lines += [f"  {table:<20} {count:>10,}" for table, count in sorted(self.counts.items())]
        lines.append(f"  regions with learners: {len(self.regions)}")
        lines += [f"  {step:<20} {seconds:>9.1f} s" for step, seconds in self.seconds.items()]
        lines.append(f"  sign in as {self.admin_email} or any learner, password «{self.password}»")
        lines += [f"  {stage}: {email}" for stage, email in self.sample_learners.items()]
        return "\n".join(lines)


# Generation ----------------------------------------------------------------------------------


def table(name: str) -> Table:
    return db.metadata.tables[name]


def insert_many(name: str, rows: list[dict[str, Any]], counts: Counter[str]) -> None:
    if rows:
        db.session.execute(insert(table(name)), rows)
        counts[name] += len(rows)


def insert_returning_ids(name: str, rows: list[dict[str, Any]], counts: Counter[str]) -> list[int]:
    """Insert the rows; their ids, in the rows' order."""
    if not rows:
        return []
    target = table(name)
    statement = insert(target).returning(target.c.id, sort_by_parameter_order=True)
    ids = list(db.session.scalars(statement, rows))
    counts[name] += len(rows)
    return ids


def audit_row(
    action: str, actor_id: int, actor: str, target_type: str, target_id: int, label: str,
    at: datetime, **detail: Any,
) -> dict[str, Any]:  # fmt: skip
    """An audit_events row as ``audit.record`` writes it (outside a request: no address)."""
    return {
        "action": str(action), "actor_id": actor_id, "actor": actor, "target_type": target_type,
        "target_id": target_id, "target_label": label, "occurred_at": at, "detail": detail,
        "ip": None,
    }  # fmt: skip


def enrol(
    course: Course,
    rows: list[dict[str, Any]],
    enrolled_by: list[tuple[int, str, str]],
    counts: Counter[str],
) -> None:
    """Insert enrolments and their "enrolment.created" audit events (as ``progress.enrol``)."""
    ids = insert_returning_ids("enrolments", rows, counts)
    events = [
        audit_row(audit.AuditAction.ENROLLED, actor_id, actor, "enrolment", enrolment_id,
                  learner, row["enrolled_at"], course=course.slug)
        for enrolment_id, row, (actor_id, actor, learner) in zip(ids, rows, enrolled_by,
                                                                 strict=True)
    ]  # fmt: skip
    insert_many("audit_events", events, counts)


@dataclass
class Person:
    index: int
    email: str
    full_name: str
    rut: str
    comuna_cut: str
    created_at: datetime
    id: int = 0


class Generator:
    def __init__(self, learners: int, seed: int, now: datetime) -> None:
        self.learners = learners
        self.seed = seed
        self.now = now
        self.rng = random.Random(seed)
        self.counts: Counter[str] = Counter()
        self.password_hash = ""

    # People ----------------------------------------------------------------------------------

    def people(
        self, count: int, rng: random.Random, start: int, ruts: range = range(5_000_000, 26_000_000)
    ) -> list[Person]:
        """``count`` people with RUT numbers drawn from ``ruts`` (unique within one call)."""
        cuts, weights = comuna_weights()
        chosen = rng.choices(cuts, weights=weights, k=count)
        bodies = rng.sample(ruts, count)
        result = []
        for n in range(count):
            first = rng.choice(FIRST_NAMES)
            if rng.random() < 0.3:
                first = f"{first} {rng.choice(FIRST_NAMES)}"
            last1, last2 = rng.choice(SURNAMES), rng.choice(SURNAMES)
            comuna = comunas.get(chosen[n])
            assert comuna is not None
            local = f"{ascii_slug(first.split()[0])}.{ascii_slug(last1)}.{start + n}"
            result.append(
                Person(
                    start + n,
                    f"{local}@{ascii_slug(comuna.name)}.muni.example",
                    f"{first} {last1} {last2}",
                    make_rut(bodies[n]),
                    comuna.cut,
                    self.now - timedelta(days=rng.uniform(30, 400)),
                )
            )
        return result

    def user_row(self, person: Person, role: str, rng: random.Random) -> dict[str, Any]:
        return {
            "email": person.email,
            "password_hash": self.password_hash,
            "full_name": person.full_name,
            "rut": person.rut,
            "comuna_cut": person.comuna_cut,
            "job_title": rng.choice(JOB_TITLES),
            "role": role,
            "active": True,
            "session_version": 1,
            "created_at": person.created_at,
            "email_confirmed_at": person.created_at,
        }


def generate(
    learners: int = 50_000,
    *,
    seed: int = 1,
    lessons_course: int | None = None,
    now: datetime | None = None,
    log: Callable[[str], None] = print,
) -> Summary:
    """Fill an empty, migrated database with a synthetic academy; returns what it made.

    Call inside an application context; writes through ``db.session`` and commits nothing.
    ``lessons_course``: also a course of that many reading lessons (issue 16's ratio).
    """

    if db.session.scalar(select(func.count()).select_from(User)):
        raise RuntimeError("the database already has people: generate into an empty one")
    now = utc(now or datetime.now(UTC)).replace(microsecond=0)
    gen = Generator(learners, seed, now)
    started, cpu_started = time.perf_counter(), time.process_time()
    mark = started
    summary = Summary(seed, learners, 0, COURSE_SLUG)
    summary.counts = gen.counts

    def step(name: str) -> None:
        nonlocal mark
        moment = time.perf_counter()
        summary.seconds[name] = moment - mark
        log(f"  {name}: {moment - mark:.1f} s")
        mark = moment

    course = import_participation_course(gen.counts)
    summary.course_id = course.id
    plans = course_plan(course, random.Random(f"{seed}:layouts"))
    long_course = import_lessons_course(lessons_course) if lessons_course else None
    if long_course is not None:
        summary.lessons_course_slug = long_course.slug
    step("content")

    gen.password_hash = generate_password_hash(
        PASSWORD, method=current_app.config["PASSWORD_HASH_METHOD"]
    )
    rng = gen.rng
    # Separate streams: adding a trainer never changes who the learners are.
    people_rng, plan_rng, life_rng = (random.Random(f"{seed}:{s}") for s in ("p", "c", "l"))
    learners_list = gen.people(learners, people_rng, 1)
    summary.regions = Counter(comunas.get(p.comuna_cut).region for p in learners_list)  # type: ignore[union-attr]

    enrolled = [p for p in learners_list if plan_rng.random() < ENROLLED]
    grouped = [p for p in enrolled if plan_rng.random() < IN_COHORT]
    by_region: dict[str, list[Person]] = {}
    for person in grouped:
        by_region.setdefault(person.comuna_cut[:2], []).append(person)
    cohort_names: list[str] = []
    cohort_of: dict[int, int] = {}  # person index -> cohort position
    for region in comunas.REGION_ORDER:
        members = by_region.get(region, [])
        if not members:
            continue
        count = max(1, round(len(members) / COHORT_SIZE))
        first = len(cohort_names)
        region_name = comunas.get(members[0].comuna_cut).region  # type: ignore[union-attr]
        cohort_names += [f"{region_name} · grupo {k + 1:02d}" for k in range(count)]
        for n, person in enumerate(members):
            cohort_of[person.index] = first + n % count
    trainer_count = max(1, math.ceil(len(cohort_names) / COHORTS_PER_TRAINER))

    # Staff RUTs from numbers no learner has.
    staff_people = gen.people(trainer_count + 1, random.Random(f"{seed}:staff"), learners + 1,
                              range(26_000_000, 27_000_000))  # fmt: skip
    admin, trainers = staff_people[0], staff_people[1:]
    admin.email = ADMIN_EMAIL
    for n, trainer in enumerate(trainers, start=1):
        trainer.email = f"relator{n}@bench-academia.example"
    staff_rows = [gen.user_row(admin, "admin", rng)]
    staff_rows += [gen.user_row(t, "trainer", rng) for t in trainers]
    staff_rows[0]["comuna_cut"] = None
    staff_ids = insert_returning_ids("users", staff_rows, gen.counts)
    admin.id, trainer_ids = staff_ids[0], staff_ids[1:]
    for trainer, trainer_id in zip(trainers, trainer_ids, strict=True):
        trainer.id = trainer_id
    summary.trainer_emails = [t.email for t in trainers]
    for start in range(0, learners, CHUNK * 5):
        part = learners_list[start : start + CHUNK * 5]
        ids = insert_returning_ids("users", [gen.user_row(p, "learner", rng) for p in part],
                                   gen.counts)  # fmt: skip
        for person, user_id in zip(part, ids, strict=True):
            person.id = user_id
    step("people")

    course_trainer_rows = [
        {"course_id": c.id, "user_id": t, "added_at": now - timedelta(days=400)}
        for c in (course, long_course)
        if c is not None
        for t in [admin.id, *trainer_ids]
    ]
    insert_many("course_trainers", course_trainer_rows, gen.counts)
    # Runs of 120 days that started in the last ten months; those that ended are closed.
    dates_rng = random.Random(f"{seed}:cohorts")
    starts = [now - timedelta(days=dates_rng.uniform(10, 300)) for _name in cohort_names]
    cohort_rows = [
        {"course_id": course.id, "name": name, "created_at": start - timedelta(days=7),
         "starts_on": start.date(), "ends_on": (start + COHORT_RUN).date(),
         "status": "closed" if start + COHORT_RUN < now else "open", "archived_at": None}
        for name, start in zip(cohort_names, starts, strict=True)
    ]  # fmt: skip
    cohort_ids = insert_returning_ids("cohorts", cohort_rows, gen.counts)
    summary.cohort_trainers = {
        cohort_id: trainer_ids[n % len(trainer_ids)] for n, cohort_id in enumerate(cohort_ids)
    }
    insert_many(
        "cohort_trainers",
        [{"cohort_id": c, "user_id": t, "added_at": row["created_at"]}
         for (c, t), row in zip(summary.cohort_trainers.items(), cohort_rows, strict=True)],
        gen.counts,
    )  # fmt: skip
    step("cohorts")

    life = Lives(gen, course, plans, admin, trainer_ids, summary, life_rng)
    life.cohort_starts = dict(zip(cohort_ids, starts, strict=True))
    stages = [s for s, _share in STAGES]
    shares = [share for _s, share in STAGES]
    for start in range(0, len(enrolled), CHUNK):
        for person in enrolled[start : start + CHUNK]:
            stage = life_rng.choices(stages, weights=shares)[0]
            cohort = cohort_of.get(person.index)
            life.live(person, stage, None if cohort is None else cohort_ids[cohort])
        life.flush()
    life.issue_pending()
    life.flush()
    step("learning records")

    if long_course is not None:
        long_life = LongCourse(gen, long_course, life_rng)
        for person in learners_list:
            if life_rng.random() < LESSONS_COURSE_SHARE:
                long_life.live(person)
            if len(long_life.progress) > 20_000:
                long_life.flush()
        long_life.flush()
        step("long course")
    summary.seconds["total"] = time.perf_counter() - started
    # This process's CPU (not the database server's): on a shared machine, the wall-clock
    # time above also counts waiting for the cores.
    summary.seconds["cpu"] = time.process_time() - cpu_started
    return summary


def spread(rng: random.Random, start: datetime, end: datetime, count: int) -> list[datetime]:
    """``count`` moments between ``start`` and ``end``, in order."""
    span = (end - start).total_seconds()
    return [start + timedelta(seconds=x * span) for x in sorted(rng.random() for _ in range(count))]


class Lives:
    """What each enrolled learner did in the participation course, as rows to insert."""

    def __init__(
        self,
        gen: Generator,
        course: Course,
        plans: list[LessonPlan],
        admin: Person,
        trainer_ids: list[int],
        summary: Summary,
        rng: random.Random,
    ) -> None:
        self.gen, self.course, self.plans, self.admin = gen, course, plans, admin
        self.trainer_ids, self.summary, self.rng = trainer_ids, summary, rng
        self.required_positions = [n for n, plan in enumerate(plans) if plan.required]
        self.enrolments: list[dict[str, Any]] = []
        # (actor id, actor email, learner email) of each enrolment, for the audit log.
        self.enrolled_by: list[tuple[int, str, str]] = []
        self.progress: list[dict[str, Any]] = []
        self.attempts: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
        self.submissions: list[dict[str, Any]] = []
        self.to_certify: list[tuple[Person, datetime]] = []
        self.real_pdf: tuple[bytes, str] | None = None
        self.version: tuple[str, dict[str, int]] | None = None
        self.texts: dict[int, list[str]] = {}
        self.cohort_starts: dict[int, datetime] = {}

    # One learner ----------------------------------------------------------------------------

    def live(self, person: Person, stage: str, cohort_id: int | None) -> None:
        rng, now = self.rng, self.gen.now
        if cohort_id is None:  # enrolled themselves, any time
            enrolled_at = now - timedelta(days=rng.uniform(2, 300))
        else:  # by an admin, in the cohort's first days
            enrolled_at = self.cohort_starts[cohort_id] + timedelta(days=rng.uniform(0, 5))
        enrolled_at = min(max(person.created_at, enrolled_at), now - timedelta(hours=1))
        reviewer = (
            self.summary.cohort_trainers[cohort_id]
            if cohort_id is not None
            else rng.choice(self.trainer_ids)
        )
        enrolment: dict[str, Any] = {
            "user_id": person.id,
            "course_id": self.course.id,
            "enrolled_at": enrolled_at,
            "enrolled_by_id": self.admin.id if cohort_id is not None else None,
            "cohort_id": cohort_id,
            "completed_at": None,
            "last_lesson_id": None,
            "last_seen_at": None,
        }
        self.enrolments.append(enrolment)
        if cohort_id is not None:
            self.enrolled_by.append((self.admin.id, self.admin.email, person.email))
        else:
            self.enrolled_by.append((person.id, person.email, person.email))
        if stage != "completed":  # completed learners: with and without a certificate, below
            self.summary.sample_learners.setdefault(stage, person.email)
        if stage == "not_started":
            return
        if stage == "completed":
            current = len(self.plans)
            last_active = enrolled_at + (now - enrolled_at) * rng.uniform(0.3, 0.95)
        else:
            current = rng.choice(self.required_positions)
            last_active = max(enrolled_at, now - timedelta(days=rng.uniform(0, 45)))
        moments = spread(rng, enrolled_at, last_active, current + 1)
        completed_at = None
        for position in range(current):
            plan = self.plans[position]
            if not plan.required and rng.random() < 0.5:
                continue
            finished = moments[position + 1]
            done = self.deal_with(person, plan, moments[position], finished, reviewer,
                                  complete=stage == "completed")  # fmt: skip
            if stage == "completed" and plan.required:
                assert done is not None
                completed_at = max(completed_at or done, done)
        if stage == "completed":
            assert completed_at is not None
            enrolment["completed_at"] = completed_at
            enrolment["last_lesson_id"] = self.plans[-1].id
            enrolment["last_seen_at"] = max(completed_at, moments[-1])
            if rng.random() < CERTIFIED:
                self.to_certify.append((person, completed_at))
                self.summary.sample_learners.setdefault("certified", person.email)
            else:
                self.summary.sample_learners.setdefault("completed", person.email)
        else:
            plan = self.plans[current]
            self.start(person, plan, moments[-1], reviewer)
            enrolment["last_lesson_id"] = plan.id
            enrolment["last_seen_at"] = moments[-1]

    def mark(
        self, person: Person, plan: LessonPlan, began: datetime, done: datetime | None
    ) -> None:
        self.progress.append({
            "user_id": person.id, "lesson_id": plan.id, "course_id": self.course.id,
            "status": "done" if done else "in_progress", "started_at": began,
            "completed_at": done,
        })  # fmt: skip

    def deal_with(
        self,
        person: Person,
        plan: LessonPlan,
        began: datetime,
        finished: datetime,
        reviewer: int,
        *,
        complete: bool,
    ) -> datetime | None:
        """A lesson the learner went through; when it became done (None: it is not)."""
        rng = self.rng
        done: datetime | None = finished
        if plan.kind == "quiz":
            assert plan.quiz is not None
            done = self.take_quiz(person, plan, began, finished, must_pass=complete)
        elif plan.kind == "case":
            assert plan.case is not None
            outcome = "approved" if complete else rng.choices(
                ("approved", "waiting", "returned", "draft"), weights=(65, 20, 10, 5)
            )[0]  # fmt: skip
            done = self.submit_case(person, plan, began, finished, reviewer, outcome)
        self.mark(person, plan, began, done)
        return done

    def start(self, person: Person, plan: LessonPlan, moment: datetime, reviewer: int) -> None:
        """The lesson the learner is on: opened, perhaps an attempt or a draft begun."""
        self.mark(person, plan, moment, None)
        if plan.kind == "quiz" and self.rng.random() < 0.4:
            self.attempt(person, plan, 1, moment, outcome="open")
        elif plan.kind == "case" and self.rng.random() < 0.5:
            self.submit_case(person, plan, moment, moment, reviewer, "draft")

    # Quizzes ---------------------------------------------------------------------------------

    def take_quiz(
        self, person: Person, plan: LessonPlan, began: datetime, finished: datetime, *,
        must_pass: bool,
    ) -> datetime | None:  # fmt: skip
        rng = self.rng
        assert plan.quiz is not None
        limit = plan.quiz.quiz.settings.attempts or 3
        failures = rng.choices((0, 1, 2), weights=(70, 22, 8))[0]
        passes = must_pass or rng.random() < 0.92
        failures = min(failures, limit - 1) if passes else rng.randint(1, limit)
        count = failures + (1 if passes else 0)
        times = spread(rng, began, finished, count)
        for number in range(1, failures + 1):
            self.attempt(person, plan, number, times[number - 1], outcome="fail")
        if passes:
            self.attempt(person, plan, count, times[-1], outcome="pass")
            return times[-1]
        return None

    def attempt(
        self, person: Person, plan: LessonPlan, number: int, finished: datetime, *, outcome: str
    ) -> None:

        rng, quiz = self.rng, plan.quiz
        assert quiz is not None
        layout = rng.choice(quiz.layouts)
        keys = [entry["key"] for entry in layout]
        maximum = sum((quiz.points[key] for key in keys), Fraction(0))
        started = finished - timedelta(minutes=rng.uniform(4, 25))
        minutes = quiz.quiz.settings.time_limit
        row: dict[str, Any] = {
            "user_id": person.id, "lesson_id": plan.id, "revision_id": quiz.revision_id,
            "number": number, "status": "in_progress", "started_at": started,
            "deadline": started + timedelta(minutes=minutes) if minutes else None,
            "finished_at": None, "layout": layout, "max_score": to_decimal(maximum),
            "score": None, "percent": None, "passed": None,
        }  # fmt: skip
        if outcome == "open":
            answered = keys[: rng.randint(0, len(keys))]
            answers = [
                {"question_key": key, "response": self.pick(quiz, key, 0.7)[0],
                 "saved_at": started, "score": None}
                for key in answered
            ]  # fmt: skip
            self.attempts.append((row, answers))
            return
        skill = 0.9 if outcome == "pass" else 0.45
        for tries in range(8):
            picked = {key: self.pick(quiz, key, skill) for key in keys}
            total = sum((score for _r, score, _s in picked.values()), Fraction(0))
            passed = quiz.quiz.settings.passed(total, maximum)
            if passed == (outcome == "pass"):
                break
            skill = 1.0 if outcome == "pass" and tries >= 5 else skill
            skill = 0.0 if outcome == "fail" and tries >= 5 else skill
        # Lesson progress was decided from the outcome: the grade must agree with it.
        assert passed == (outcome == "pass"), f"could not make a {outcome} of {plan.id}"
        share = total / maximum if maximum else Fraction(0)
        row.update(status="submitted", finished_at=finished, score=to_decimal(total),
                   percent=to_decimal(share * 100, "0.001"), passed=passed)  # fmt: skip
        answers = [
            {"question_key": key, "response": response, "saved_at": finished,
             "score": stored}
            for key, (response, _score, stored) in picked.items()
        ]  # fmt: skip
        self.attempts.append((row, answers))

    def pick(self, quiz: QuizPlan, key: str, skill: float) -> tuple[Any, Fraction, Decimal]:
        menu = quiz.menu[key]
        if self.rng.random() < skill or len(menu) == 1:
            return menu[0]
        return self.rng.choice(menu[1:])

    # Cases -----------------------------------------------------------------------------------

    def text(self, words: int) -> str:
        variants = self.texts.setdefault(words, [])
        if len(variants) < 6:
            variants.append(" ".join(self.rng.choice(WORDS) for _ in range(words)).capitalize())
            return variants[-1]
        return self.rng.choice(variants)

    def submit_case(
        self, person: Person, plan: LessonPlan, began: datetime, finished: datetime,
        reviewer: int, outcome: str,
    ) -> datetime | None:  # fmt: skip
        """The learner's submissions of a case ending in ``outcome``; when it was approved."""
        rng, case, now = self.rng, plan.case, self.gen.now
        assert case is not None
        responses = {str(n): self.text(words) for n, words in enumerate(case.prompt_words, 1)}
        base: dict[str, Any] = {
            "user_id": person.id, "lesson_id": plan.id, "revision_id": case.revision_id,
            "responses": responses, "created_at": began, "updated_at": began,
            "submitted_at": None, "reviewer_id": None, "review_started_at": None,
            "reviewed_at": None, "levels": {}, "points": None, "criterion_feedback": {},
            "comments": "", "seen_at": None, "version": 1,
        }  # fmt: skip
        number = 1
        if outcome == "approved" and rng.random() < 0.2:
            # Returned once, then approved.
            middle = began + (finished - began) / 2
            self.submissions.append(self.reviewed(base, case, 1, began, middle, reviewer, False))
            began, number = middle, 2
        if outcome == "approved":
            self.submissions.append(
                self.reviewed(base, case, number, began, finished, reviewer, True)
            )
            return finished
        if outcome == "returned":
            self.submissions.append(self.reviewed(base, case, 1, began, finished, reviewer, False))
        elif outcome == "waiting":
            # Waiting since the learner handed it in, somewhere in the last 45 days.
            submitted = max(began, now - timedelta(days=rng.uniform(0, 45)))
            row = {**base, "number": 1, "status": "submitted", "submitted_at": submitted,
                   "updated_at": submitted, "version": 2}  # fmt: skip
            if rng.random() < 0.25:
                opened = submitted + (now - submitted) * rng.random()
                row.update(status="in_review", reviewer_id=reviewer, review_started_at=opened,
                           version=3)  # fmt: skip
            self.submissions.append(row)
        else:
            self.submissions.append({**base, "number": 1, "status": "draft"})
        return None

    def reviewed(
        self, base: dict[str, Any], case: CasePlan, number: int, began: datetime,
        finished: datetime, reviewer: int, approve: bool,
    ) -> dict[str, Any]:  # fmt: skip
        """A submission a trainer reviewed: every criterion scored with one of its levels."""
        rng = self.rng
        submitted = began + (finished - began) * rng.uniform(0.1, 0.6)
        opened = submitted + (finished - submitted) * rng.uniform(0.1, 0.9)
        chosen: dict[str, int] = {}
        points = 0
        for n, levels in enumerate(case.levels, start=1):
            low = 1 if approve else 0
            index = rng.randint(min(low, len(levels) - 1), len(levels) - 1)
            if not approve and n == 1:
                index = 0
            chosen[str(n)] = index
            points += levels[index]
        seen = finished + (self.gen.now - finished) * rng.random() if rng.random() < 0.7 else None
        return {
            **base, "number": number, "status": "approved" if approve else "returned",
            "created_at": began, "updated_at": submitted, "submitted_at": submitted,
            "reviewer_id": reviewer, "review_started_at": opened, "reviewed_at": finished,
            "levels": chosen, "points": points,
            "criterion_feedback": {} if approve else {"1": RETURN_COMMENT},
            "comments": rng.choice(COMMENTS) if approve else RETURN_COMMENT,
            "seen_at": seen, "version": 4,
        }  # fmt: skip

    # Certificates ----------------------------------------------------------------------------

    def issue_pending(self) -> None:
        if not self.to_certify:
            return

        if self.version is None:
            self.version = certificates.course_version(self.course)
        if self.real_pdf is None:
            person, _completed = self.to_certify.pop(0)
            admin = db.session.get(User, self.admin.id)
            real = certificates.issue(self.course, person.id, by=certificates.Actor(admin))
            self.real_pdf = (real.pdf, real.pdf_sha256)
            self.gen.counts["certificates"] += 1
            self.gen.counts["audit_events"] += 1
        rows = [self.certificate_row(person, completed) for person, completed in self.to_certify]
        ids = insert_returning_ids("certificates", rows, self.gen.counts)
        events = [
            audit_row(audit.AuditAction.CERTIFICATE_ISSUED, self.admin.id, self.admin.email,
                      certificates.CERTIFICATE_TARGET, cid, row["code"], row["issued_at"],
                      code=row["code"], sha256=row["pdf_sha256"], synthetic=True)
            for cid, row in zip(ids, rows, strict=True)
        ]  # fmt: skip
        insert_many("audit_events", events, self.gen.counts)
        self.to_certify = []

    def certificate_row(self, person: Person, completed_at: datetime) -> dict[str, Any]:

        assert self.real_pdf is not None and self.version is not None
        rng = self.rng
        body = "".join(rng.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
        comuna = comunas.get(person.comuna_cut)
        assert comuna is not None
        issued = completed_at + (self.gen.now - completed_at) * rng.uniform(0.01, 0.5)
        return {
            "code": body + mod_37_36.calc_check_digit(body, alphabet=ALPHABET),
            "token": f"{rng.getrandbits(256):064x}",
            "user_id": person.id, "course_id": self.course.id,
            "course_version": self.version[0], "course_revisions": self.version[1],
            "template": self.course.certificate_template, "full_name": person.full_name,
            "rut": person.rut, "comuna": comuna.name, "region": comuna.region,
            "course_title": self.course.title, "hours": self.course.hours,
            "completed_at": completed_at, "issued_at": issued, "issued_by_id": self.admin.id,
            "expires_at": None, "status": "valid", "revoked_at": None,
            "pdf": self.real_pdf[0], "pdf_sha256": self.real_pdf[1],
        }  # fmt: skip

    # Writing ---------------------------------------------------------------------------------

    def flush(self) -> None:
        counts = self.gen.counts
        enrol(self.course, self.enrolments, self.enrolled_by, counts)
        insert_many("lesson_progress", self.progress, counts)
        ids = insert_returning_ids("quiz_attempts", [row for row, _a in self.attempts], counts)
        answers = [
            {**answer, "attempt_id": attempt_id}
            for attempt_id, (_row, mine) in zip(ids, self.attempts, strict=True)
            for answer in mine
        ]
        for start in range(0, len(answers), 10_000):
            insert_many("quiz_answers", answers[start : start + 10_000], counts)
        insert_many("case_submissions", self.submissions, counts)
        self.enrolments, self.progress, self.attempts, self.submissions = [], [], [], []
        self.enrolled_by = []
        # Certificates need the enrolments (completion) in the database: issued after them.
        self.issue_pending()


class LongCourse:
    """Learners part-way through the optional course of many reading lessons."""

    def __init__(self, gen: Generator, course: Course, rng: random.Random) -> None:

        self.gen, self.course, self.rng = gen, course, rng
        self.lesson_ids = [item.lesson_id for item in progress.published_outline(course.id)]
        self.enrolments: list[dict[str, Any]] = []
        self.enrolled_by: list[tuple[int, str, str]] = []
        self.progress: list[dict[str, Any]] = []

    def live(self, person: Person) -> None:
        rng, now = self.rng, self.gen.now
        enrolled_at = max(person.created_at, now - timedelta(days=rng.uniform(2, 200)))
        # Part-way: never the last lesson, so no completion to record.
        done = rng.randint(0, len(self.lesson_ids) - 1)
        moments = spread(rng, enrolled_at, now, done + 1)
        self.progress += [
            {"user_id": person.id, "lesson_id": lesson_id, "course_id": self.course.id,
             "status": "done", "started_at": moments[n], "completed_at": moments[n + 1]}
            for n, lesson_id in enumerate(self.lesson_ids[:done])
        ]  # fmt: skip
        current = self.lesson_ids[done]
        self.progress.append({
            "user_id": person.id, "lesson_id": current, "course_id": self.course.id,
            "status": "in_progress", "started_at": moments[-1], "completed_at": None,
        })  # fmt: skip
        self.enrolments.append({
            "user_id": person.id, "course_id": self.course.id, "enrolled_at": enrolled_at,
            "last_lesson_id": current, "last_seen_at": moments[-1],
        })  # fmt: skip
        self.enrolled_by.append((person.id, person.email, person.email))

    def flush(self) -> None:
        enrol(self.course, self.enrolments, self.enrolled_by, self.gen.counts)
        insert_many("lesson_progress", self.progress, self.gen.counts)
        self.enrolments, self.progress, self.enrolled_by = [], [], []


# Command line --------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--database-url", required=True, help="an empty database (migrated here)")
    parser.add_argument("--learners", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--lessons-course", type=int, metavar="N", help="also a course of N reading lessons"
    )
    args = parser.parse_args(argv)
    if args.learners < 1:
        parser.error("--learners must be at least 1")
    if args.lessons_course is not None and args.lessons_course < 2:
        parser.error("--lessons-course must be at least 2")
    return args


def main(argv: Sequence[str] | None = None) -> int:

    args = parse_args(argv)
    app = create_app({"DATABASE_URL": args.database_url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        began = time.perf_counter()
        upgrade()
        print(f"migrated in {time.perf_counter() - began:.1f} s; generating…")
        try:
            summary = generate(args.learners, seed=args.seed, lessons_course=args.lessons_course)
            began = time.perf_counter()
            db.session.commit()
        except RuntimeError as error:
            db.session.rollback()
            print(f"bench.generate: {error}", file=sys.stderr)
            return 1
        summary.seconds["commit"] = time.perf_counter() - began
        summary.seconds["total"] += summary.seconds["commit"]
        for key in ("total", "cpu"):  # last in the report
            summary.seconds[key] = summary.seconds.pop(key)
        print(summary.report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
