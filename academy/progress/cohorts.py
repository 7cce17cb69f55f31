"""Cohorts: one run of a course, with its dates, its trainers and its learners.

Every change here goes to the audit log in the same transaction. Nothing is deleted: closing
stops new learners joining, archiving hides a cohort from the default lists, and both can be
undone; enrolments, progress and certificates keep their cohort throughout.

Who sees whom (the rule the pages and reports apply, through :func:`visible_cohorts`,
:func:`visible_learner_ids` and :func:`sees_learner`):

- admins see every cohort and every learner;
- a trainer who teaches a course (``CourseTrainer``) sees every cohort of that course and every
  learner enrolled in it, in a cohort or not: they review the whole course's case work;
- a trainer assigned to a cohort (``CohortTrainer``) sees that cohort and its learners only;
- anyone else sees no cohort and no learner.
"""

from __future__ import annotations

import csv
import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, Select, false, func, literal, or_, select, true
from sqlalchemy.orm import aliased, contains_eager, selectinload
from stdnum.cl import rut as rut_number

from academy import audit
from academy.auth.models import User
from academy.courses.models import Course
from academy.csvio import read_rows
from academy.db import Taken, unique_or_taken, upsert, utcnow
from academy.extensions import db
from academy.i18n import gettext as _
from academy.progress import services as progress
from academy.progress.models import Cohort, CohortStatus, CohortTrainer, CourseTrainer, Enrolment
from academy.text import plain

MAX_NAME = 120
# A CSV of people to enrol: at most this many rows (a cohort is a class, not the country).
MAX_CSV_ROWS = 5000


class CohortError(Exception):
    """A change the cohort refuses, with the reason in Spanish."""


# Creating and changing a cohort -------------------------------------------------------------


def clean_name(name: str) -> str:
    """The name as kept: single spaces, no blanks around; refused if empty or too long."""
    name = " ".join(name.split())
    if not name:
        raise CohortError(_("Escribe un nombre para el grupo."))
    if len(name) > MAX_NAME:
        raise CohortError(_("El nombre puede tener hasta %(n)s caracteres.", n=MAX_NAME))
    return name


def _name_taken(course_id: int, name: str, *, other_than: int | None = None) -> bool:
    """Whether another cohort of the course has the name, in any case (compared in Python:
    SQLite's lower() leaves accented letters alone, and a course has a handful of cohorts)."""
    names = db.session.scalars(
        select(Cohort.name).where(Cohort.course_id == course_id, Cohort.id != (other_than or 0))
    )
    return name.casefold() in {found.casefold() for found in names}


def _taken(name: str) -> CohortError:
    return CohortError(_("Ya hay un grupo llamado «%(name)s» en este curso.", name=name))


def _check_dates(starts_on: date | None, ends_on: date | None) -> None:
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise CohortError(_("La fecha de término no puede ser anterior a la de inicio."))


def _record(action: audit.AuditAction, cohort: Cohort, by: User | None, **detail: object) -> None:
    audit.record(
        action,
        actor=by,
        target_type="cohort",
        target_id=cohort.id,
        target_label=cohort.name,
        course=cohort.course.slug,
        **detail,
    )


def create(
    course: Course,
    name: str,
    *,
    starts_on: date | None = None,
    ends_on: date | None = None,
    by: User | None,
) -> Cohort:
    """A new, open cohort of the course; its name is unique in the course (any case)."""
    name = clean_name(name)
    _check_dates(starts_on, ends_on)
    if _name_taken(course.id, name):
        raise _taken(name)
    cohort = Cohort(
        course_id=course.id,
        course=course,
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        status=CohortStatus.OPEN.value,
        created_at=utcnow(),
    )
    try:
        # Two admins naming two cohorts alike at once: the unique constraint decides.
        with unique_or_taken():
            db.session.add(cohort)
    except Taken:
        raise _taken(name) from None
    _record(audit.AuditAction.COHORT_CREATED, cohort, by)
    return cohort


def rename(cohort: Cohort, name: str, *, by: User | None) -> bool:
    """Give the cohort a new name (unique in its course); False if it already had it."""
    name = clean_name(name)
    if name == cohort.name:
        return False
    if _name_taken(cohort.course_id, name, other_than=cohort.id):
        raise _taken(name)
    before = cohort.name
    try:
        with unique_or_taken():
            cohort.name = name
    except Taken:
        raise _taken(name) from None
    _record(audit.AuditAction.COHORT_RENAMED, cohort, by, before=before, after=name)
    return True


def set_dates(cohort: Cohort, starts_on: date | None, ends_on: date | None) -> None:
    """When the cohort runs (either date may be unknown). Not audited: a planning detail."""
    _check_dates(starts_on, ends_on)
    cohort.starts_on = starts_on
    cohort.ends_on = ends_on


def close(cohort: Cohort, *, by: User | None) -> bool:
    """No one new joins; its learners stay and carry on. False if it was closed already."""
    if cohort.status == CohortStatus.CLOSED:
        return False
    cohort.status = CohortStatus.CLOSED.value
    _record(audit.AuditAction.COHORT_CLOSED, cohort, by)
    return True


def reopen(cohort: Cohort, *, by: User | None) -> bool:
    if cohort.status == CohortStatus.OPEN:
        return False
    if cohort.archived_at is not None:
        raise CohortError(_("Un grupo archivado no se puede reabrir; restáuralo primero."))
    cohort.status = CohortStatus.OPEN.value
    _record(audit.AuditAction.COHORT_REOPENED, cohort, by)
    return True


def archive(cohort: Cohort, *, by: User | None) -> bool:
    """Hide the cohort from the default lists (it is closed too). Its learners, their progress
    and certificates, and the log keep it: nothing is deleted."""
    if cohort.archived_at is not None:
        return False
    cohort.archived_at = utcnow()
    cohort.status = CohortStatus.CLOSED.value
    _record(audit.AuditAction.COHORT_ARCHIVED, cohort, by)
    return True


def restore(cohort: Cohort, *, by: User | None) -> bool:
    """Bring an archived cohort back to the lists, closed (reopen it to take learners)."""
    if cohort.archived_at is None:
        return False
    cohort.archived_at = None
    _record(audit.AuditAction.COHORT_RESTORED, cohort, by)
    return True


# Trainers -----------------------------------------------------------------------------------


def trainers_of(cohort: Cohort) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(CohortTrainer, CohortTrainer.user_id == User.id)
            .where(CohortTrainer.cohort_id == cohort.id)
            .order_by(User.full_name, User.id)
        )
    )


def assign_trainer(cohort: Cohort, user: User, *, by: User | None) -> bool:
    """The trainer follows the cohort from now on; False if they already did. Only trainers and
    admins with an active account can be assigned."""
    if not user.is_trainer:
        raise CohortError(
            _(
                "%(name)s no es relator ni administrador: cambia su rol antes de asignarle "
                "un grupo.",
                name=user.full_name,
            )
        )
    if not user.active:
        raise CohortError(_("La cuenta de %(name)s está desactivada.", name=user.full_name))
    if db.session.get(CohortTrainer, (cohort.id, user.id)) is not None:
        return False
    # Two admins assigning the same person at once both succeed: the row is there once.
    upsert(
        CohortTrainer.__table__,
        {"cohort_id": cohort.id, "user_id": user.id, "added_at": utcnow()},
        conflict=["cohort_id", "user_id"],
    )
    db.session.expire(cohort, ["trainers"])
    _record(audit.AuditAction.COHORT_TRAINER_ADDED, cohort, by, trainer=user.email)
    return True


def unassign_trainer(cohort: Cohort, user_id: int, *, by: User | None) -> User | None:
    """The trainer stops following the cohort; None if they did not."""
    link = db.session.get(CohortTrainer, (cohort.id, user_id))
    if link is None:
        return None
    user = link.user
    db.session.delete(link)
    db.session.flush()
    db.session.expire(cohort, ["trainers"])
    _record(audit.AuditAction.COHORT_TRAINER_REMOVED, cohort, by, trainer=user.email)
    return user


# Course trainers: who teaches a course (reviews its case work, sees all its learners) --------


def teaches(user: User, course_id: int) -> bool:
    """Whether the user teaches the course (admins teach every course)."""
    if user.is_admin:
        return True
    if not user.is_trainer:
        return False
    return db.session.get(CourseTrainer, (course_id, user.id)) is not None


def taught_course_ids(user: User) -> list[int] | None:
    """The courses the user teaches; None means all (admins)."""
    if user.is_admin:
        return None
    return list(db.session.scalars(_taught_courses(user)))


def courses_followed(user: User) -> list[Course]:
    """The courses the user teaches and those of the cohorts they follow, by title (every
    course, for admins)."""
    query = select(Course).order_by(Course.title)
    if not user.is_admin:
        followed = select(Cohort.course_id).where(Cohort.id.in_(_followed_cohorts(user)))
        query = query.where(or_(Course.id.in_(_taught_courses(user)), Course.id.in_(followed)))
    return list(db.session.scalars(query))


def course_trainers(course_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(CourseTrainer, CourseTrainer.user_id == User.id)
            .where(CourseTrainer.course_id == course_id)
            .order_by(User.full_name)
        )
    )


def add_course_trainer(course: Course, email: str) -> tuple[User, bool]:
    """Let a trainer (or admin) account teach the course; False if they already did."""
    address = email.strip().lower()
    user = db.session.scalar(select(User).where(User.email == address))
    if user is None:
        raise CohortError(_("No hay ninguna cuenta con el correo %(email)s.", email=address))
    if not user.is_trainer:
        raise CohortError(
            _(
                "%(name)s tiene una cuenta de participante. Solo las cuentas de relator o de "
                "administración pueden revisar casos: cambia su rol en «Personas» y vuelve a "
                "intentarlo.",
                name=user.full_name,
            )
        )
    if not user.active:
        raise CohortError(_("La cuenta de %(name)s está desactivada.", name=user.full_name))
    if db.session.get(CourseTrainer, (course.id, user.id)) is not None:
        return user, False
    # Two admins adding the same person at once both succeed: the row is there once.
    upsert(
        CourseTrainer.__table__,
        {"course_id": course.id, "user_id": user.id, "added_at": utcnow()},
        conflict=["course_id", "user_id"],
    )
    return user, True


def remove_course_trainer(course: Course, user_id: int) -> User | None:
    """The trainer stops teaching the course; their past reviews stay signed with their name."""
    link = db.session.get(CourseTrainer, (course.id, user_id))
    if link is None:
        return None
    user = link.user
    db.session.delete(link)
    db.session.flush()
    return user


# Learners -----------------------------------------------------------------------------------


@dataclass
class Enrolled:
    """What enrolling a list of people in a cohort did."""

    new: int = 0  # enrolled in the course now, in this cohort
    moved: int = 0  # enrolled in the course already: put in this cohort (from another or none)
    already: int = 0  # in this cohort already: nothing changed

    @property
    def changed(self) -> int:
        return self.new + self.moved


def enrol(cohort: Cohort, user_ids: Iterable[int], *, by: User | None) -> Enrolled:
    """Put these people in the cohort, enrolling them in its course where they are not yet
    (through :func:`academy.progress.services.enrol`, which logs the enrolment). A learner in
    another cohort of the course moves to this one (a learner has one enrolment per course).

    All or nothing: a closed cohort, an unknown or deactivated account refuses the whole list.
    """
    if cohort.status != CohortStatus.OPEN or cohort.archived_at is not None:
        raise CohortError(
            _(
                "El grupo «%(name)s» está cerrado: no recibe nuevas inscripciones. Reábrelo "
                "para inscribir a más personas.",
                name=cohort.name,
            )
        )
    wanted = list(dict.fromkeys(user_ids))
    users = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(wanted)))}
    if len(users) < len(wanted):
        raise CohortError(_("Una de las personas elegidas ya no existe. Recarga la página."))
    inactive = sorted(user.full_name for user in users.values() if not user.active)
    if inactive:
        raise CohortError(
            _(
                "Estas cuentas están desactivadas: %(names)s. No inscribimos a nadie.",
                names=", ".join(inactive),
            )
        )
    current = {
        enrolment.user_id: enrolment
        for enrolment in db.session.scalars(
            select(Enrolment).where(
                Enrolment.course_id == cohort.course_id, Enrolment.user_id.in_(wanted)
            )
        )
    }
    result = Enrolled()
    by_id = by.id if by is not None else None
    for user_id in wanted:
        enrolment = current.get(user_id)
        if enrolment is None:
            enrolment = progress.enrol(user_id, cohort.course, by=by_id)
            result.new += 1
        elif enrolment.cohort_id == cohort.id:
            result.already += 1
            continue
        else:
            result.moved += 1
        enrolment.cohort_id = cohort.id
        audit.record(
            audit.AuditAction.COHORT_JOINED,
            actor=by,
            target_type="enrolment",
            target_id=enrolment.id,
            target_label=users[user_id].email,
            course=cohort.course.slug,
            group=cohort.name,
        )
    db.session.flush()
    return result


@dataclass(frozen=True)
class CsvProblem:
    row: int
    value: str
    message: str


@dataclass
class CsvMatch:
    """A CSV of people read against the accounts: who each row is, and every row that is not."""

    user_ids: list[int] = field(default_factory=list)
    problems: list[CsvProblem] = field(default_factory=list)
    rows: int = 0


class Key(enum.StrEnum):
    EMAIL = "correo"
    RUT = "rut"


# Header cells that name a column of emails or of RUTs (compared without accents or case).
_HEADERS = {"correo": Key.EMAIL, "email": Key.EMAIL, "e-mail": Key.EMAIL, "mail": Key.EMAIL}
_HEADERS |= {"correo electronico": Key.EMAIL, "rut": Key.RUT, "run": Key.RUT}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def read_people_csv(data: bytes) -> CsvMatch:
    """Match a CSV of emails or RUTs (one a row; a header row ``correo`` or ``rut`` is optional
    and, with several columns, says which one to read) to active accounts. Each row that names
    no one, an invalid RUT, a deactivated account or a repeated person is a problem, by row."""
    match = CsvMatch()
    wanted: list[tuple[int, str]] = []  # (row number, value)
    try:
        rows, _dialect = read_rows(data)
        column = 0
        for number, cells in enumerate(rows, start=1):
            if number > MAX_CSV_ROWS + 1:
                raise CohortError(
                    _("El archivo tiene más de %(n)s filas; divídelo en partes.", n=MAX_CSV_ROWS)
                )
            cells = [cell.strip() for cell in cells]
            if number == 1:
                keys = [_HEADERS.get(plain(cell)) for cell in cells]
                if any(keys):
                    column = next(n for n, key in enumerate(keys) if key)
                    continue
            if any(cells):
                wanted.append((number, cells[column] if column < len(cells) else ""))
    except csv.Error:
        raise CohortError(_("No pudimos leer el archivo como CSV.")) from None
    if not wanted:
        raise CohortError(_("El archivo no tiene filas con correos ni RUT."))
    match.rows = len(wanted)
    users = _accounts([value for _number, value in wanted])
    seen: dict[int, int] = {}
    for number, value in wanted:
        message = _row_problem(value, users, seen)
        if message is not None:
            match.problems.append(CsvProblem(number, value, message))
            continue
        user = users[_key(value)]
        seen[user.id] = number
        match.user_ids.append(user.id)
    return match


def _key(value: str) -> str:
    """How a row's value is looked up: an email in lower case, a RUT compact."""
    return value.lower() if "@" in value else rut_number.compact(value)


def _accounts(values: list[str]) -> dict[str, User]:
    """The accounts the values name, by :func:`_key`, a few hundred at a time."""
    emails = sorted({_key(v) for v in values if "@" in v and _EMAIL.fullmatch(v)})
    ruts = sorted({_key(v) for v in values if "@" not in v and v and rut_number.is_valid(v)})
    found: dict[str, User] = {}
    for chunk in range(0, len(emails), 500):
        part = emails[chunk : chunk + 500]
        # Stored emails are lower case already (the users_email_lowercase check): the index serves.
        for user in db.session.scalars(select(User).where(User.email.in_(part))):
            found[user.email] = user
    for chunk in range(0, len(ruts), 500):
        part = ruts[chunk : chunk + 500]
        for user in db.session.scalars(select(User).where(User.rut.in_(part))):
            found[str(user.rut)] = user
    return found


def _row_problem(value: str, users: dict[str, User], seen: dict[int, int]) -> str | None:
    """What is wrong with the row, in Spanish; None when it names an active account once."""
    if not value:
        return _("la fila no tiene correo ni RUT.")
    if "@" in value:
        if not _EMAIL.fullmatch(value):
            return _("«%(value)s» no es un correo válido.", value=value)
        missing = _("no hay una cuenta con el correo «%(value)s».", value=value)
    else:
        if not rut_number.is_valid(value):
            return _("«%(value)s» no es un RUT válido (revisa el dígito verificador).", value=value)
        missing = _("no hay una cuenta con el RUT %(value)s.", value=rut_number.format(value))
    user = users.get(_key(value))
    if user is None:
        return missing
    if not user.active:
        return _("la cuenta de %(name)s está desactivada.", name=user.full_name)
    if user.id in seen:
        return _("repite a %(name)s (fila %(row)s).", name=user.full_name, row=seen[user.id])
    return None


def enrol_csv(cohort: Cohort, data: bytes, *, by: User | None) -> tuple[CsvMatch, Enrolled | None]:
    """Enrol the people a CSV names; if any row is a problem, no one (the report says why, by
    row, so the admin fixes the file and sends it again)."""
    match = read_people_csv(data)
    if match.problems:
        return match, None
    return match, enrol(cohort, match.user_ids, by=by)


def of_courses(course_ids: Sequence[int]) -> list[Cohort]:
    """Every cohort of these courses (archived ones too), by course and name."""
    return list(
        db.session.scalars(
            select(Cohort)
            .where(Cohort.course_id.in_(course_ids))
            .options(selectinload(Cohort.course))
            .order_by(Cohort.course_id, Cohort.name)
        )
    )


def assign(course: Course, choices: Mapping[int, int | None], *, by: User | None) -> int:
    """Put enrolled learners (by user id) in a cohort of the course, or in none; how many moved.
    Each move into a cohort is logged.

    All or nothing: a cohort of another course, or a closed one someone would join, refuses
    the whole list.
    """
    known = {cohort.id: cohort for cohort in of_courses([course.id])}
    if any(cohort_id is not None and cohort_id not in known for cohort_id in choices.values()):
        raise CohortError(_("Uno de los grupos elegidos no es de este curso. Recarga la página."))
    moved = 0
    for enrolment in db.session.scalars(
        select(Enrolment)
        .where(Enrolment.course_id == course.id, Enrolment.user_id.in_(list(choices)))
        .options(selectinload(Enrolment.user))
    ):
        wanted = choices[enrolment.user_id]
        if enrolment.cohort_id == wanted:
            continue
        if wanted is not None:
            cohort = known[wanted]
            if not cohort.is_open or cohort.archived:
                raise CohortError(
                    _(
                        "El grupo «%(name)s» está cerrado: no recibe nuevas inscripciones. "
                        "No cambiamos ningún grupo.",
                        name=cohort.name,
                    )
                )
            audit.record(
                audit.AuditAction.COHORT_JOINED,
                actor=by,
                target_type="enrolment",
                target_id=enrolment.id,
                target_label=enrolment.user.email,
                course=course.slug,
                group=cohort.name,
            )
        enrolment.cohort_id = wanted
        moved += 1
    return moved


def learners(cohort: Cohort) -> Select[tuple[Enrolment]]:
    """The cohort's enrolments by name, each with its user: a statement to paginate."""
    return (
        select(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .where(Enrolment.cohort_id == cohort.id)
        .order_by(User.full_name, User.id)
        .options(contains_eager(Enrolment.user))
    )


def sizes(cohort_ids: Sequence[int]) -> dict[int, int]:
    """How many learners each cohort has (cohort id → count)."""
    if not cohort_ids:
        return {}
    rows = db.session.execute(
        select(Enrolment.cohort_id, func.count())
        .where(Enrolment.cohort_id.in_(cohort_ids))
        .group_by(Enrolment.cohort_id)
    )
    return {cohort_id: count for cohort_id, count in rows}


# Who sees which cohorts and learners ----------------------------------------------------------


def _taught_courses(user: User) -> Select[tuple[int]]:
    return select(CourseTrainer.course_id).where(CourseTrainer.user_id == user.id)


def _followed_cohorts(user: User) -> Select[tuple[int]]:
    return select(CohortTrainer.cohort_id).where(CohortTrainer.user_id == user.id)


def visible_cohorts(
    user: User,
    *,
    course_id: int | None = None,
    status: str | None = None,
    include_archived: bool = False,
) -> Select[tuple[Cohort]]:
    """The cohorts the user may see (see the module's rule), by course and name; archived ones
    only when asked."""
    query = (
        select(Cohort)
        .join(Course, Course.id == Cohort.course_id)
        .options(contains_eager(Cohort.course), selectinload(Cohort.trainers))
        .order_by(Course.title, Cohort.name, Cohort.id)
    )
    if not user.is_admin:
        if not user.is_trainer:
            return query.where(false())
        query = query.where(
            or_(
                Cohort.course_id.in_(_taught_courses(user)),
                Cohort.id.in_(_followed_cohorts(user)),
            )
        )
    if course_id is not None:
        query = query.where(Cohort.course_id == course_id)
    if status in {s.value for s in CohortStatus}:
        query = query.where(Cohort.status == status)
    if not include_archived:
        query = query.where(Cohort.archived_at.is_(None))
    return query


def can_see(user: User, cohort: Cohort) -> bool:
    """Whether the user may open the cohort and see its learners."""
    if user.is_admin:
        return True
    if not user.is_trainer:
        return False
    return (
        db.session.get(CourseTrainer, (cohort.course_id, user.id)) is not None
        or db.session.get(CohortTrainer, (cohort.id, user.id)) is not None
    )


def visible_learner_ids(user: User, course_id: int | None = None) -> Select[tuple[int]] | None:
    """The ids of the learners the user may see (in one course, if given), as a subquery for
    ``User.id.in_(...)``; None for admins, who see everyone."""
    if user.is_admin:
        return None
    query = select(Enrolment.user_id).where(
        sees_learner(user, Enrolment.course_id, Enrolment.cohort_id)
    )
    if course_id is not None:
        query = query.where(Enrolment.course_id == course_id)
    return query


def sees_learner(
    user: User, course_id: ColumnElement[int], cohort_id: ColumnElement[int | None]
) -> ColumnElement[bool]:
    """A condition on an enrolment's course and cohort columns: the user may see that learner
    in that course."""
    if user.is_admin:
        return true()
    if not user.is_trainer:
        return false()
    return or_(course_id.in_(_taught_courses(user)), cohort_id.in_(_followed_cohorts(user)))


def sees_learner_of(
    user: User, learner_id: ColumnElement[int], course_id: ColumnElement[int]
) -> ColumnElement[bool]:
    """A condition on a learner's and a course's columns (a submission, an attempt): the user
    may see that learner's work in that course."""
    if user.is_admin:
        return true()
    if not user.is_trainer:
        return false()
    # An alias of its own, correlated to nothing else: the outer query may join enrolments too.
    enrolment = aliased(Enrolment)
    in_followed_cohort = (
        select(enrolment.id)
        .where(
            enrolment.user_id == learner_id,
            enrolment.course_id == course_id,
            enrolment.cohort_id.in_(_followed_cohorts(user)),
        )
        .correlate_except(enrolment)
        .exists()
    )
    return or_(course_id.in_(_taught_courses(user)), in_followed_cohort)


def may_see_learner(user: User, learner_id: int, course_id: int) -> bool:
    if user.is_admin:
        return True
    return bool(
        db.session.scalar(select(sees_learner_of(user, literal(learner_id), literal(course_id))))
    )
