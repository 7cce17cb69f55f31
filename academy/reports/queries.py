"""Each report's aggregate SQL: counts, averages, medians and histograms computed by the
database (GROUP BY, window functions), never by a Python loop over people.

Every function takes a :class:`Scope` (which enrolments count) and returns a ``Select``; the
pages, the CSV files and ``bench/bench_reports.py`` run the same statements. A report counts
**enrolments**: a person in two courses is two enrolments, one learner.

Certified means a certificate in force (status ``valid``): a revoked one does not count, and a
re-issued one is counted once (its replacement).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    distinct,
    exists,
    func,
    literal,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from academy.auth.models import User
from academy.cases.models import CaseSubmission, SubmissionStatus
from academy.certificates.models import Certificate, CertificateStatus
from academy.courses.models import Course, Lesson
from academy.progress.models import Cohort, Enrolment, LessonProgress
from academy.quizzes.models import Attempt
from academy.schema import UTCDateTime

# Antártica (CUT 12202) is a comuna of the reference list with no municipality of its own:
# the municipality of Cabo de Hornos administers it. Coverage counts the 345 municipalities.
NO_MUNICIPALITY = frozenset({"12202"})
WAITING = (SubmissionStatus.SUBMITTED.value, SubmissionStatus.IN_REVIEW.value)
# Score buckets of ten points: 0-9, 10-19, ..., 90-100 (a perfect score is in the last).
BUCKETS = 10


# A condition on an enrolment's (or a cohort's) course and cohort columns: who may be seen.
Sees = Callable[[ColumnElement[int], ColumnElement[Any]], ColumnElement[bool]]


@dataclass(frozen=True)
class Scope:
    """Which enrolments a report counts.

    ``sees`` is None for everyone (admins), or the rule of who a trainer may see
    (``academy.progress.cohorts.sees_learner``: the courses they teach, the cohorts they
    follow), applied to the enrolment's course and cohort. ``cohort_ids`` narrows to a few
    cohorts (one page of them). ``start``/``end`` bound the enrolment date (``enrolled_at``),
    end excluded: the period chooses the enrolments, and everything about them (progress,
    completion, certificate) counts whenever it happened.
    """

    course_id: int | None = None
    cohort_id: int | None = None
    cohort_ids: tuple[int, ...] | None = None
    sees: Sees | None = None
    start: datetime | None = None
    end: datetime | None = None

    def where(self) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        if self.course_id is not None:
            clauses.append(Enrolment.course_id == self.course_id)
        if self.cohort_id is not None:
            clauses.append(Enrolment.cohort_id == self.cohort_id)
        if self.cohort_ids is not None:
            clauses.append(Enrolment.cohort_id.in_(self.cohort_ids))
        if self.sees is not None:
            clauses.append(self.sees(Enrolment.course_id, Enrolment.cohort_id))
        if self.start is not None:
            clauses.append(Enrolment.enrolled_at >= self.start)
        if self.end is not None:
            clauses.append(Enrolment.enrolled_at < self.end)
        return clauses


class seconds_between(FunctionElement[float]):
    """``later - earlier`` in seconds, on either database."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between)
def _seconds_postgresql(element: Any, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"EXTRACT(EPOCH FROM ({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)}))"
    )


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"((julianday({compiler.process(later, **kw)}) - "
        f"julianday({compiler.process(earlier, **kw)})) * 86400.0)"
    )


def _key(by: str) -> ColumnElement[Any]:
    """What rows are grouped by: the course, or the cohort within it."""
    return Enrolment.cohort_id if by == "cohort" else Enrolment.course_id


def _certificate_join() -> ColumnElement[bool]:
    return and_(
        Certificate.user_id == Enrolment.user_id,
        Certificate.course_id == Enrolment.course_id,
        Certificate.status == CertificateStatus.VALID.value,
    )


def _median(
    key: ColumnElement[Any], value: ColumnElement[Any], where: Sequence[Any]
) -> Select[Any]:
    """The median of ``value`` per ``key``: the middle row (or the mean of the two middle
    rows) of each group, by window functions both databases have."""
    ranked = (
        select(
            key.label("key"),
            value.label("value"),
            func.row_number().over(partition_by=key, order_by=value).label("n"),
            func.count().over(partition_by=key).label("size"),
        )
        .where(*where)
        .subquery()
    )
    return (
        select(ranked.c.key, func.avg(ranked.c.value).label("median"))
        .where(ranked.c.n * 2 >= ranked.c.size, ranked.c.n * 2 <= ranked.c.size + 2)
        .group_by(ranked.c.key)
    )


# Per course and cohort --------------------------------------------------------------------


def course_counts(scope: Scope, by: str = "course") -> Select[Any]:
    """Enrolled, started (any lesson opened), completed and certified, per course or cohort."""
    key = _key(by)
    started = exists().where(
        LessonProgress.user_id == Enrolment.user_id,
        LessonProgress.course_id == Enrolment.course_id,
    )
    return (
        select(
            key.label("key"),
            func.count().label("enrolled"),
            func.sum(case((started, 1), else_=0)).label("started"),
            func.count(Enrolment.completed_at).label("completed"),
            func.count(Certificate.id).label("certified"),
        )
        .select_from(Enrolment)
        .outerjoin(Certificate, _certificate_join())
        .where(*scope.where())
        .group_by(key)
    )


def completion_medians(scope: Scope, by: str = "course") -> Select[Any]:
    """The median time from enrolment to completion, in seconds, per course or cohort."""
    return _median(
        _key(by),
        seconds_between(Enrolment.completed_at, Enrolment.enrolled_at),
        [Enrolment.completed_at.is_not(None), *scope.where()],
    )


def _best_scores(scope: Scope) -> Any:
    """Each learner's best graded score in each quiz of the courses in scope."""
    statement = (
        select(
            Attempt.user_id,
            Lesson.course_id,
            func.max(Attempt.percent).label("best"),
        )
        .join(Lesson, Lesson.id == Attempt.lesson_id)
        .where(Attempt.percent.is_not(None))
        .group_by(Attempt.user_id, Lesson.course_id, Attempt.lesson_id)
    )
    if scope.course_id is not None:
        statement = statement.where(Lesson.course_id == scope.course_id)
    return statement.subquery("best")


def score_histogram(scope: Scope, by: str = "course") -> Select[Any]:
    """How many best scores fall in each ten-point bucket (0 for 0-9 … 9 for 90-100), with
    their sum for the average, per course or cohort."""
    key = _key(by)
    best = _best_scores(scope)
    bucket = case(
        *((best.c.best >= 10 * n, n) for n in range(BUCKETS - 1, 0, -1)),
        else_=0,
    )
    return (
        select(
            key.label("key"),
            bucket.label("bucket"),
            func.count().label("scores"),
            func.sum(best.c.best).label("total"),
        )
        .select_from(Enrolment)
        .join(
            best,
            and_(best.c.user_id == Enrolment.user_id, best.c.course_id == Enrolment.course_id),
        )
        .where(*scope.where())
        .group_by(key, bucket)
    )


def _waiting_where(scope: Scope) -> list[Any]:
    return [
        CaseSubmission.status.in_(WAITING),
        CaseSubmission.submitted_at.is_not(None),
        Lesson.id == CaseSubmission.lesson_id,
        Enrolment.user_id == CaseSubmission.user_id,
        Enrolment.course_id == Lesson.course_id,
        *scope.where(),
    ]


def _wait(now: datetime) -> ColumnElement[float]:
    return seconds_between(literal(now, UTCDateTime()), CaseSubmission.submitted_at)


def waiting_cases(scope: Scope, now: datetime, by: str = "course") -> Select[Any]:
    """Case work waiting for a trainer (sent or being reviewed): how many, and the oldest
    wait in seconds, per course or cohort."""
    key = _key(by)
    return (
        select(
            key.label("key"),
            func.count().label("waiting"),
            func.max(_wait(now)).label("oldest"),
        )
        .select_from(CaseSubmission)
        .where(*_waiting_where(scope))
        .group_by(key)
    )


def waiting_medians(scope: Scope, now: datetime, by: str = "course") -> Select[Any]:
    """The median wait of the case work waiting for review, in seconds (the wait grows as
    the sending date goes back: ordered by that date, newest first)."""
    key = _key(by)
    wait = _wait(now)
    ranked = (
        select(
            key.label("key"),
            wait.label("value"),
            func.row_number()
            .over(partition_by=key, order_by=CaseSubmission.submitted_at.desc())
            .label("n"),
            func.count().over(partition_by=key).label("size"),
        )
        .select_from(CaseSubmission)
        .where(*_waiting_where(scope))
        .subquery()
    )
    return (
        select(ranked.c.key, func.avg(ranked.c.value).label("median"))
        .where(ranked.c.n * 2 >= ranked.c.size, ranked.c.n * 2 <= ranked.c.size + 2)
        .group_by(ranked.c.key)
    )


def cohorts_of(scope: Scope) -> Select[Any]:
    """The cohorts a course report lists (in scope), by name: the page is cut from this."""
    statement = select(Cohort.id, Cohort.name).order_by(Cohort.name, Cohort.id)
    if scope.course_id is not None:
        statement = statement.where(Cohort.course_id == scope.course_id)
    if scope.cohort_id is not None:
        statement = statement.where(Cohort.id == scope.cohort_id)
    if scope.sees is not None:
        statement = statement.where(scope.sees(Cohort.course_id, Cohort.id))
    return statement


# By region and comuna ---------------------------------------------------------------------


def _geography(scope: Scope, key: ColumnElement[Any]) -> Select[Any]:
    covered = case(
        (
            and_(Certificate.id.is_not(None), User.comuna_cut.not_in(NO_MUNICIPALITY)),
            User.comuna_cut,
        )
    )
    return (
        select(
            key.label("key"),
            func.count(distinct(Enrolment.user_id)).label("learners"),
            func.count(Enrolment.completed_at).label("completions"),
            func.count(Certificate.id).label("certificates"),
            func.count(distinct(covered)).label("covered"),
        )
        .select_from(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .outerjoin(Certificate, _certificate_join())
        .where(*scope.where())
        .group_by(key)
    )


def by_region(scope: Scope) -> Select[Any]:
    """Learners, completions, certificates and municipalities with at least one certified
    person, per region (a comuna's CUT code starts with its region's; NULL: no comuna)."""
    return _geography(scope, func.substr(User.comuna_cut, 1, 2))


def by_comuna(scope: Scope, cuts: Sequence[str]) -> Select[Any]:
    """The same per comuna, for the comunas of one page."""
    return _geography(scope, User.comuna_cut).where(User.comuna_cut.in_(list(cuts)))


# Per learner ------------------------------------------------------------------------------


def learners(scope: Scope) -> Select[Any]:
    """One row per person with an enrolment in scope: courses, completed, certificates.
    Ordered by name; the page is cut by LIMIT/OFFSET."""
    return (
        select(
            User.id,
            User.full_name,
            User.email,
            User.rut,
            User.comuna_cut,
            func.count(Enrolment.id).label("courses"),
            func.count(Enrolment.completed_at).label("completed"),
            func.count(Certificate.id).label("certificates"),
        )
        .select_from(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .outerjoin(Certificate, _certificate_join())
        .where(*scope.where())
        .group_by(User.id, User.full_name, User.email, User.rut, User.comuna_cut)
        .order_by(User.full_name, User.id)
    )


def learner_count(scope: Scope) -> Select[Any]:
    return select(func.count(distinct(Enrolment.user_id))).where(*scope.where())


# The one person's statement takes the person as a bound parameter: run with
# ``{LEARNER: user_id}``.
LEARNER = "learner_id"


def _learner() -> Any:
    return bindparam(LEARNER, type_=Integer())


def learner_courses(scope: Scope) -> Select[Any]:
    """One learner's enrolments in scope with their progress: required lessons done of
    those published, quiz attempts and best score, case work sent and approved, and the
    certificate in force; each row also carries the person (``full_name``, ``email``,
    ``rut``, ``comuna_cut``), so that one statement answers both who they are and whether
    the reader may see them (no row: they have no enrolment in scope). The person is the
    bound parameter :data:`LEARNER`.

    Without a scope (an admin, no period) the statement is the same object every time:
    building it (seven subqueries) and computing its cache key took twice as long as the
    database takes to answer it; a scope adds its conditions to a copy."""
    clauses = scope.where()
    return _learner_courses().where(*clauses) if clauses else _learner_courses()


@cache
def _learner_courses() -> Select[Any]:
    required = and_(
        Lesson.course_id == Enrolment.course_id,
        Lesson.required.is_(True),
        Lesson.retired_at.is_(None),
        Lesson.published_revision_id.is_not(None),
    )
    lessons = select(func.count(Lesson.id)).where(required).scalar_subquery()
    done = (
        select(func.count(LessonProgress.id))
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(
            LessonProgress.user_id == Enrolment.user_id,
            LessonProgress.status == "done",
            required,
        )
        .scalar_subquery()
    )
    in_course = and_(Lesson.id == Attempt.lesson_id, Lesson.course_id == Enrolment.course_id)
    attempts = (
        select(func.count(Attempt.id))
        .where(Attempt.user_id == Enrolment.user_id, in_course)
        .scalar_subquery()
    )
    best = (
        select(func.max(Attempt.percent))
        .where(Attempt.user_id == Enrolment.user_id, in_course)
        .scalar_subquery()
    )
    in_course_case = and_(
        Lesson.id == CaseSubmission.lesson_id, Lesson.course_id == Enrolment.course_id
    )
    sent = (
        select(func.count(CaseSubmission.id))
        .where(
            CaseSubmission.user_id == Enrolment.user_id,
            CaseSubmission.submitted_at.is_not(None),
            in_course_case,
        )
        .scalar_subquery()
    )
    approved = (
        select(func.count(CaseSubmission.id))
        .where(
            CaseSubmission.user_id == Enrolment.user_id,
            CaseSubmission.status == SubmissionStatus.APPROVED.value,
            in_course_case,
        )
        .scalar_subquery()
    )
    return (
        select(
            User.full_name,
            User.email,
            User.rut,
            User.comuna_cut,
            Course.slug,
            Course.title,
            Cohort.name.label("cohort"),
            Enrolment.enrolled_at,
            Enrolment.completed_at,
            done.label("done"),
            lessons.label("lessons"),
            attempts.label("attempts"),
            best.label("best"),
            sent.label("sent"),
            approved.label("approved"),
            Certificate.code.label("certificate"),
            Certificate.issued_at.label("certified_at"),
        )
        .select_from(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .join(Course, Course.id == Enrolment.course_id)
        .outerjoin(Cohort, Cohort.id == Enrolment.cohort_id)
        .outerjoin(Certificate, _certificate_join())
        .where(Enrolment.user_id == _learner())
        .order_by(Course.title)
    )
