"""Who sees which report, the period it covers, and each report's rows (from the aggregate
SQL of ``queries.py``), for the pages, the CSV files and the command line alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import literal, null, or_, select

from academy import comunas, csvio
from academy.auth.models import User
from academy.courses.models import Course
from academy.db import utcnow
from academy.extensions import db
from academy.progress.cohorts import sees_learner
from academy.progress.models import Cohort, Enrolment
from academy.reports import queries
from academy.reports.queries import BUCKETS, NO_MUNICIPALITY, Scope

PAGE_SIZE = 50
# Rows made into Python objects and written at a time when a long CSV file is streamed. Few
# hundred, so that a part is freed before the garbage collector's next pass: with parts of
# 5,000 rows each part's objects outlived two passes, and each export of 45,000 people paid
# one or two full collections of every object of the process (60-140 ms of 300).
STREAM_ROWS = 500


# The period -------------------------------------------------------------------------------


class BadDate(ValueError):
    """A date the reader typed that is not one; the message says so in Spanish."""


def parse_date(text: str, label: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadDate(
            _("«%(field)s» no es una fecha: escríbela como AAAA-MM-DD.", field=label)
        ) from None


@dataclass(frozen=True)
class Period:
    """Enrolments from ``since`` to ``until``, both days included, in the academy's zone."""

    since: date | None = None
    until: date | None = None

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
        start = datetime.combine(self.since, time.min, tzinfo=zone) if self.since else None
        end = (
            datetime.combine(self.until + timedelta(days=1), time.min, tzinfo=zone)
            if self.until
            else None
        )
        return start, end

    def args(self) -> dict[str, str]:
        names = {
            "desde": self.since.isoformat() if self.since else "",
            "hasta": self.until.isoformat() if self.until else "",
        }
        return {name: value for name, value in names.items() if value}


def make_period(since: str, until: str) -> Period:
    """The period from two typed dates; raises :class:`BadDate` with every problem."""
    errors: list[str] = []
    dates: list[date | None] = []
    for text, label in ((since, _("Desde")), (until, _("Hasta"))):
        try:
            dates.append(parse_date(text, label))
        except BadDate as error:
            errors.append(str(error))
            dates.append(None)
    first, last = dates
    if first and last and first > last:
        errors.append(_("La fecha «Desde» es posterior a «Hasta»."))
    if errors:
        raise BadDate(" ".join(errors))
    return Period(first, last)


def read_period(args: Mapping[str, str]) -> tuple[Period, list[str]]:
    """The period from the query string, and what was wrong with it (the page then shows
    every enrolment and says why)."""
    try:
        return make_period(args.get("desde", ""), args.get("hasta", "")), []
    except BadDate as error:
        return Period(), [str(error)]


# Who sees what ----------------------------------------------------------------------------


def visibility(user: User) -> queries.Sees | None:
    """None for admins (every enrolment); for a trainer, the cohorts helper's rule of whom
    they see (the courses they teach, the cohorts they follow), as a condition on an
    enrolment's or a cohort's course and cohort columns."""
    if user.is_admin:
        return None
    return lambda course_id, cohort_id: sees_learner(user, course_id, cohort_id)


def scope_for(
    user: User,
    period: Period = Period(),
    *,
    course: Course | None = None,
    cohort: Cohort | None = None,
) -> Scope:
    start, end = period.bounds()
    return Scope(
        course_id=course.id if course is not None else None,
        cohort_id=cohort.id if cohort is not None else None,
        sees=visibility(user),
        start=start,
        end=end,
    )


def courses_for(scope: Scope) -> list[Course]:
    """The courses with at least one enrolment the reader may see, by title."""
    ids = select(Enrolment.course_id).where(*scope.where()).distinct()
    return list(db.session.scalars(select(Course).where(Course.id.in_(ids)).order_by(Course.title)))


def find_course(slug: str) -> Course | None:
    return db.session.scalar(select(Course).where(Course.slug == slug))


def find_cohort(course: Course | None, name: str) -> list[Cohort]:
    """The cohorts with this name (in the course, if given): more than one is ambiguous."""
    statement = select(Cohort).where(Cohort.name == name)
    if course is not None:
        statement = statement.where(Cohort.course_id == course.id)
    return list(db.session.scalars(statement.limit(2)))


def sees_course(scope: Scope) -> bool:
    """True for admins; for a trainer, whether they teach the scope's course or follow one of
    its cohorts (otherwise it has no report for them)."""
    if scope.sees is None or scope.course_id is None:
        return True
    taught = scope.sees(literal(scope.course_id), null())
    followed = queries.cohorts_of(scope).exists()
    return bool(db.session.scalar(select(or_(taught, followed))))


def cohort_in_scope(cohort_id: int, scope: Scope) -> Cohort | None:
    statement = select(Cohort).where(Cohort.id == cohort_id)
    if scope.course_id is not None:
        statement = statement.where(Cohort.course_id == scope.course_id)
    if scope.sees is not None:
        statement = statement.where(scope.sees(Cohort.course_id, Cohort.id))
    return db.session.scalar(statement)


# Pages ------------------------------------------------------------------------------------


@dataclass
class Page:
    """One page of a report's rows, with what the pager macro reads."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


# Per course and cohort --------------------------------------------------------------------


@dataclass
class CourseRow:
    key: Any
    label: str
    enrolled: int = 0
    started: int = 0
    completed: int = 0
    certified: int = 0
    histogram: list[int] = field(default_factory=lambda: [0] * BUCKETS)
    score_total: float = 0.0
    median_completion: float | None = None  # seconds
    waiting: int = 0
    oldest_wait: float | None = None  # seconds
    median_wait: float | None = None  # seconds

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.enrolled if self.enrolled else None

    @property
    def scores(self) -> int:
        return sum(self.histogram)

    @property
    def average_score(self) -> float | None:
        return self.score_total / self.scores if self.scores else None


def course_rows(scope: Scope, by: str, labels: Mapping[Any, str]) -> list[CourseRow]:
    """One row per course or cohort in ``labels`` (in its order), from five GROUP BY
    statements; the caller's scope already limits them to those keys."""
    rows = {key: CourseRow(key, label) for key, label in labels.items()}
    now = utcnow()
    for key, enrolled, started, completed, certified in db.session.execute(
        queries.course_counts(scope, by)
    ):
        if key in rows:
            row = rows[key]
            row.enrolled, row.started = enrolled, int(started or 0)
            row.completed, row.certified = completed, certified
    for key, median in db.session.execute(queries.completion_medians(scope, by)):
        if key in rows:
            rows[key].median_completion = float(median)
    for key, bucket, scores, total in db.session.execute(queries.score_histogram(scope, by)):
        if key in rows:
            rows[key].histogram[bucket] = scores
            rows[key].score_total += float(total)
    for key, waiting, oldest in db.session.execute(queries.waiting_cases(scope, now, by)):
        if key in rows:
            rows[key].waiting, rows[key].oldest_wait = waiting, float(oldest)
    for key, median in db.session.execute(queries.waiting_medians(scope, now, by)):
        if key in rows:
            rows[key].median_wait = float(median)
    return list(rows.values())


def courses_report(scope: Scope) -> list[CourseRow]:
    courses = courses_for(scope)
    return course_rows(scope, "course", {course.id: course.title for course in courses})


def course_total(scope: Scope, course: Course) -> CourseRow:
    return course_rows(scope, "course", {course.id: course.title})[0]


def cohort_page(scope: Scope, number: int) -> Page:
    """One page of a course's cohorts with their figures: the cohorts of the page first,
    then the aggregates of those cohorts only."""
    total = db.session.scalar(
        select(db.func.count()).select_from(queries.cohorts_of(scope).subquery())
    )
    page = Page([], max(number, 1), PAGE_SIZE, total or 0)
    cohorts = db.session.execute(
        queries.cohorts_of(scope).limit(PAGE_SIZE).offset(page.offset)
    ).all()
    if cohorts:
        ids = [cohort_id for cohort_id, _name in cohorts]
        # The page's cohorts (a trainer's come from those they see already).
        page_scope = Scope(
            course_id=scope.course_id,
            cohort_ids=tuple(ids),
            sees=scope.sees,
            start=scope.start,
            end=scope.end,
        )
        page.items = course_rows(page_scope, "cohort", dict(cohorts))
    return page


def all_cohort_rows(scope: Scope) -> list[CourseRow]:
    """Every cohort of the scope (for the CSV file: a course has at most a few hundred)."""
    cohorts = db.session.execute(queries.cohorts_of(scope)).all()
    return course_rows(scope, "cohort", dict(cohorts))


# By region and comuna ---------------------------------------------------------------------


@dataclass
class PlaceRow:
    code: str | None
    name: str
    region: str = ""
    municipalities: int = 0
    learners: int = 0
    completions: int = 0
    certificates: int = 0
    covered: int = 0

    @property
    def coverage(self) -> float | None:
        return self.covered / self.municipalities if self.municipalities else None


def region_names() -> dict[str, str]:
    return {c.region_code: c.region for c in comunas.all_comunas().values()}


def municipalities_by_region() -> dict[str, int]:
    """How many municipalities each region has: its comunas less Antártica, administered by
    Cabo de Hornos (346 comunas in the reference list, 345 municipalities)."""
    counts = dict.fromkeys(comunas.REGION_ORDER, 0)
    for comuna in comunas.all_comunas().values():
        if comuna.cut not in NO_MUNICIPALITY:
            counts[comuna.region_code] += 1
    return counts


def regions_report(scope: Scope) -> tuple[list[PlaceRow], PlaceRow]:
    """Every region north to south (those with nobody too), a row for people with no comuna
    when there are any, and the country's totals."""
    names = region_names()
    municipalities = municipalities_by_region()
    rows: dict[str | None, PlaceRow] = {
        code: PlaceRow(code, names[code], names[code], municipalities[code])
        for code in comunas.REGION_ORDER
    }
    for key, learners, completions, certificates, covered in db.session.execute(
        queries.by_region(scope)
    ):
        if key not in rows:
            rows[key] = PlaceRow(None, _("Sin comuna"))
        row = rows[key]
        row.learners, row.completions = learners, completions
        row.certificates, row.covered = certificates, covered
    total = PlaceRow(None, _("Total"), municipalities=sum(municipalities.values()))
    for row in rows.values():
        total.learners += row.learners
        total.completions += row.completions
        total.certificates += row.certificates
        total.covered += row.covered
    listed = [row for code, row in rows.items() if code is not None or row.learners]
    return listed, total


def comuna_list(region_code: str | None) -> list[comunas.Comuna]:
    """The reference list's comunas (of one region, or all), north to south, by name."""
    every = comunas.all_comunas().values()
    chosen = [c for c in every if region_code is None or c.region_code == region_code]
    return sorted(
        chosen,
        key=lambda c: (comunas.REGION_ORDER.index(c.region_code), comunas.sort_key(c.name)),
    )


def comuna_rows(scope: Scope, chosen: list[comunas.Comuna]) -> list[PlaceRow]:
    rows = {
        c.cut: PlaceRow(c.cut, c.name, c.region, 0 if c.cut in NO_MUNICIPALITY else 1)
        for c in chosen
    }
    if rows:
        for key, learners, completions, certificates, covered in db.session.execute(
            queries.by_comuna(scope, list(rows))
        ):
            row = rows[key]
            row.learners, row.completions = learners, completions
            row.certificates, row.covered = certificates, covered
    return list(rows.values())


def comuna_page(scope: Scope, region_code: str | None, number: int) -> Page:
    chosen = comuna_list(region_code)
    page = Page([], max(number, 1), PAGE_SIZE, len(chosen))
    page.items = comuna_rows(scope, chosen[page.offset : page.offset + PAGE_SIZE])
    return page


# Per learner ------------------------------------------------------------------------------


def learner_page(scope: Scope, number: int) -> Page:
    total = db.session.scalar(queries.learner_count(scope)) or 0
    page = Page([], max(number, 1), PAGE_SIZE, total)
    page.items = list(
        db.session.execute(queries.learners(scope).limit(PAGE_SIZE).offset(page.offset))
    )
    return page


@dataclass(frozen=True)
class Person:
    """Who one person's report is about, as its statement gives them."""

    id: int
    full_name: str
    email: str
    rut: str | None
    comuna_cut: str | None


@dataclass(frozen=True)
class LearnerReport:
    person: Person
    rows: list[Any]


def learner_report(scope: Scope, user_id: int) -> LearnerReport | None:
    """One person and their courses in scope, or None if they have no enrolment the reader
    may see (one person's page shows nobody else). One statement answers both (each row
    carries the person), through the session's Core connection: plain rows, no ORM entities
    (the ORM's handling of the statement cost as much as the query)."""
    statement = queries.learner_courses(scope)
    rows = list(db.session.connection().execute(statement, {queries.LEARNER: user_id}))
    if not rows:
        return None
    first = rows[0]
    person = Person(user_id, first.full_name, first.email, first.rut, first.comuna_cut)
    return LearnerReport(person, rows)


# CSV files --------------------------------------------------------------------------------


def _percent(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}"


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _days(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 86400:.1f}"


def _moment(value: datetime | None) -> str:
    if value is None:
        return ""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def course_header(first: str) -> list[str]:
    return [
        first,
        _("Inscritos"),
        _("Iniciaron"),
        _("Completaron"),
        _("Certificados"),
        _("Tasa de término (%)"),
        _("Nota promedio (%)"),
        *(
            _("Notas %(low)s-%(high)s", low=10 * n, high=10 * n + 9 if n < 9 else 100)
            for n in range(BUCKETS)
        ),
        _("Mediana para completar (días)"),
        _("Casos esperando revisión"),
        _("Espera más larga (días)"),
        _("Espera mediana (días)"),
    ]


def course_cells(row: CourseRow) -> list[Any]:
    return [
        row.label,
        row.enrolled,
        row.started,
        row.completed,
        row.certified,
        _percent(row.completion_rate),
        _number(row.average_score),
        *row.histogram,
        _days(row.median_completion),
        row.waiting,
        _days(row.oldest_wait),
        _days(row.median_wait),
    ]


def place_header(first: str, with_region: bool) -> list[str]:
    return [
        first,
        *([_("Código CUT"), _("Región")] if with_region else []),
        _("Personas"),
        _("Cursos completados"),
        _("Certificados vigentes"),
        _("Municipios"),
        _("Municipios con al menos una persona certificada"),
        _("Cobertura (%)"),
    ]


def place_cells(row: PlaceRow, with_region: bool) -> list[Any]:
    return [
        row.name,
        *([row.code or "", row.region] if with_region else []),
        row.learners,
        row.completions,
        row.certificates,
        row.municipalities,
        row.covered,
        _percent(row.coverage),
    ]


def learner_header() -> list[str]:
    return [
        _("Nombre"),
        _("Correo"),
        _("RUT"),
        _("Comuna"),
        _("Región"),
        _("Cursos"),
        _("Completados"),
        _("Certificados vigentes"),
    ]


def learner_columns(scope: Scope) -> Iterator[list[Sequence[Any]]]:
    """Every person of the scope for the CSV file, a few hundred at a time, each part as its
    columns (name, email, RUT, comuna, region, three counts): the comuna and region are
    looked up by ``map`` over a part's codes, with no Python call per person. The rows come
    through the Core connection, plain rows with nothing of the ORM around them; the driver
    receives the whole result at once (a client-side cursor: for 45,000 people a few MB,
    and faster than a server-side cursor, whose fetches cost PostgreSQL a third more)."""
    places = comunas.all_comunas()
    names = {cut: comuna.name for cut, comuna in places.items()}
    regions = {cut: comuna.region for cut, comuna in places.items()}
    result = db.session.connection().execute(queries.learners(scope))
    for rows in result.partitions(STREAM_ROWS):
        _ids, name, email, rut, cuts, courses, completed, certificates = zip(*rows, strict=True)
        yield [
            name,
            email,
            rut,
            list(map(names.get, cuts)),
            list(map(regions.get, cuts)),
            courses,
            completed,
            certificates,
        ]


# Name, email and RUT: what people typed (the rest are counts and the reference list's names).
LEARNER_TEXT_COLUMNS = (0, 1, 2)


def learner_course_header() -> list[str]:
    return [
        _("Curso"),
        _("Grupo"),
        _("Inscripción"),
        _("Lecciones obligatorias hechas"),
        _("Lecciones obligatorias"),
        _("Intentos de cuestionario"),
        _("Mejor nota (%)"),
        _("Casos enviados"),
        _("Casos aprobados"),
        _("Completado"),
        _("Certificado"),
        _("Emitido"),
    ]


def learner_course_cells(row: Any) -> list[Any]:
    return [
        row.title,
        row.cohort or "",
        _moment(row.enrolled_at),
        row.done,
        row.lessons,
        row.attempts,
        _number(float(row.best)) if row.best is not None else "",
        row.sent,
        row.approved,
        _moment(row.completed_at),
        row.certificate or "",
        _moment(row.certified_at),
    ]


@dataclass(frozen=True)
class Export:
    """A report as a CSV file: its name, header and rows; ``personal`` when it lists people
    (its export is then audited)."""

    name: str
    header: list[str]
    rows: Iterator[list[Any]] | list[list[Any]]
    personal: bool = False
    # A long list instead, read a part at a time, each part as its columns (then rows is
    # empty), with the only columns that can hold typed text (see csvio.column_chunks).
    parts: Iterator[list[Sequence[Any]]] | None = None
    text_columns: tuple[int, ...] = ()

    def chunks(self) -> Iterator[str]:
        """The file's text, a chunk at a time."""
        if self.parts is not None:
            return csvio.column_chunks(self.header, self.parts, text_columns=self.text_columns)
        return csvio.csv_chunks(self.header, self.rows)


def export(report: str, scope: Scope, *, region: str | None = None) -> Export:
    """One of :data:`REPORTS` for the scope."""
    return EXPORTS[report](scope, region)


def _courses_export(scope: Scope, _region: str | None) -> Export:
    if scope.course_id is not None:
        course = db.session.get(Course, scope.course_id)
        rows = [course_cells(course_total(scope, course))] if course else []
    else:
        rows = [course_cells(row) for row in courses_report(scope)]
    return Export("cursos", course_header(_("Curso")), rows)


def _cohorts_export(scope: Scope, _region: str | None) -> Export:
    return Export(
        "grupos", course_header(_("Grupo")), [course_cells(r) for r in all_cohort_rows(scope)]
    )


def _regions_export(scope: Scope, _region: str | None) -> Export:
    rows, total = regions_report(scope)
    return Export(
        "regiones",
        place_header(_("Región"), False),
        [place_cells(row, False) for row in [*rows, total]],
    )


def _comunas_export(scope: Scope, region: str | None) -> Export:
    rows = comuna_rows(scope, comuna_list(region))
    return Export(
        "comunas", place_header(_("Comuna"), True), [place_cells(row, True) for row in rows]
    )


def _learners_export(scope: Scope, _region: str | None) -> Export:
    return Export(
        "personas",
        learner_header(),
        [],
        personal=True,
        parts=learner_columns(scope),
        text_columns=LEARNER_TEXT_COLUMNS,
    )


EXPORTS: dict[str, Callable[[Scope, str | None], Export]] = {
    "cursos": _courses_export,
    "grupos": _cohorts_export,
    "regiones": _regions_export,
    "comunas": _comunas_export,
    "personas": _learners_export,
}
REPORTS = tuple(EXPORTS)
REPORT_LABELS = {
    "cursos": _l("Por curso"),
    "grupos": _l("Por grupo"),
    "regiones": _l("Por región"),
    "comunas": _l("Por comuna"),
    "personas": _l("Por persona"),
}
