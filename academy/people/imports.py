"""Bringing people in from a CSV file: the dry run and the import, one rule for the web and
``academy users import``.

:func:`check` reads the file (``academy/csvio.py``: UTF-8 with or without BOM, or Excel's
Windows-1252; ``,`` or ``;``) one row at a time and says, for every row, what importing it
would do (new, updated, unchanged) or every reason it cannot (row and column, in Spanish).
:func:`apply` checks again in the caller's transaction and, only if no row has an error,
writes them all: the caller commits once, so a file is imported whole or not at all. Rows are
keyed by email: importing the same file twice changes nothing the second time. New people get
an email with a link to choose their password, sent by the job queue once the transaction
commits (:func:`send_invitations`).

The columns are in ``docs/administracion.md``.
"""

from __future__ import annotations

import csv
import difflib
import enum
import hashlib
import hmac
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache

from email_validator import EmailNotValidError
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from stdnum import exceptions as stdnum_errors
from stdnum.cl import rut as rut_number

from academy import audit, comunas, csvio, mail, outbox
from academy.auth import emails
from academy.auth import services as accounts
from academy.auth.models import User
from academy.courses.models import Course
from academy.db import transaction, utcnow
from academy.extensions import db
from academy.jobs import enqueue_after_commit, job
from academy.people.models import PeopleImport
from academy.progress.models import Cohort, Enrolment
from academy.text import plain

# Rows looked up in the database together (emails and RUTs of this many rows per query).
BATCH = 500
NAME_MAX = 120
JOB_TITLE_MAX = 120


class Column(enum.StrEnum):
    EMAIL = "correo"
    NAME = "nombre"
    RUT = "rut"
    COMUNA = "comuna"
    JOB_TITLE = "cargo"
    COHORT = "cohorte"


REQUIRED = (Column.EMAIL, Column.NAME, Column.COMUNA)
# Other headers people write for the same column (compared without accents or case).
ALIASES = {
    "correo electronico": Column.EMAIL,
    "email": Column.EMAIL,
    "e-mail": Column.EMAIL,
    "mail": Column.EMAIL,
    "nombre completo": Column.NAME,
    "comuna cut": Column.COMUNA,
    "cut": Column.COMUNA,
    "codigo comuna": Column.COMUNA,
    "grupo": Column.COHORT,
}


class Outcome(enum.StrEnum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"
    ERROR = "error"


OUTCOME_LABELS = {
    Outcome.NEW: _l("Nueva"),
    Outcome.UPDATED: _l("Se actualiza"),
    Outcome.UNCHANGED: _l("Sin cambios"),
    Outcome.DUPLICATE: _l("Repetida (se omite)"),
    Outcome.ERROR: _l("Error"),
}


@dataclass(frozen=True)
class Problem:
    """``row`` is the spreadsheet's row number (the header is row 1); None for the file."""

    row: int | None
    column: str | None
    message: str
    error: bool = True

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(_("fila %(row)s", row=self.row))
        if self.column is not None:
            where.append(_("columna «%(column)s»", column=self.column))
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


@dataclass
class Person:
    """A row's values as they would be stored."""

    email: str = ""
    full_name: str = ""
    rut: str | None = None
    comuna_cut: str | None = None
    job_title: str | None = None
    cohort: Cohort | None = None


@dataclass
class RowResult:
    row: int
    person: Person
    outcome: Outcome = Outcome.NEW
    problems: list[Problem] = field(default_factory=list)
    # The columns an update changes.
    changes: list[str] = field(default_factory=list)
    existing_id: int | None = None

    @property
    def label(self) -> str:
        return str(OUTCOME_LABELS[self.outcome])


@dataclass
class Report:
    encoding: str = ""
    delimiter: str = ","
    columns: list[str] = field(default_factory=list)
    # Problems of the file as a whole (no header, a required column missing, extra columns).
    problems: list[Problem] = field(default_factory=list)
    rows: list[RowResult] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        found = [problem for problem in self.problems if problem.error]
        for result in self.rows:
            found.extend(problem for problem in result.problems if problem.error)
        return found

    @property
    def warnings(self) -> list[Problem]:
        found = [problem for problem in self.problems if not problem.error]
        for result in self.rows:
            found.extend(problem for problem in result.problems if not problem.error)
        return found

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for result in self.rows if result.outcome is outcome)


@dataclass(frozen=True)
class Applied:
    created: int
    updated: int
    unchanged: int


class ImportRefused(Exception):
    """The file has errors: nothing was imported."""

    def __init__(self, report: Report) -> None:
        super().__init__(f"{len(report.errors)} errors")
        self.report = report


# Reading ----------------------------------------------------------------------------------


@cache
def _comunas_by_name() -> dict[str, str]:
    return {plain(comuna.name): comuna.cut for comuna in comunas.all_comunas().values()}


def find_comuna(value: str) -> str | None:
    """The CUT code of a comuna written by name (any case, with or without accents) or by
    code (Excel drops the leading zero of 01101: four digits are read as five)."""
    text = value.strip()
    if text.isdigit() and len(text) in (4, 5):
        cut = text.zfill(5)
        return cut if comunas.get(cut) else None
    return _comunas_by_name().get(plain(text))


def _suggest_comuna(value: str) -> str | None:
    names = _comunas_by_name()
    close = difflib.get_close_matches(plain(value), list(names), n=1, cutoff=0.8)
    if not close:
        return None
    found = comunas.get(names[close[0]])
    return found.name if found else None


def _header(cells: list[str]) -> tuple[list[Column | None], list[Problem]]:
    columns: list[Column | None] = []
    problems: list[Problem] = []
    seen: set[Column] = set()
    known = {column.value: column for column in Column} | ALIASES
    for cell in cells:
        name = plain(cell)
        column = known.get(name)
        if column is None:
            if name:
                problems.append(
                    Problem(
                        1,
                        cell.strip(),
                        _("columna desconocida: se ignora."),
                        error=False,
                    )
                )
            columns.append(None)
            continue
        if column in seen:
            problems.append(Problem(1, cell.strip(), _("la columna está repetida.")))
            columns.append(None)
            continue
        seen.add(column)
        columns.append(column)
    for column in REQUIRED:
        if column not in seen:
            problems.append(Problem(1, column.value, _("falta esta columna, que es obligatoria.")))
    return columns, problems


def _records(data: bytes, report: Report) -> Iterator[tuple[int, dict[Column, str], int]]:
    """Each data row as {column: cell}, its row number and how many cells it had beyond the
    header's; nothing when the header is unusable (its problems are on ``report``)."""
    reader, dialect = csvio.read_rows(data)  # any bytes read: Latin-1 is the last resort
    report.encoding, report.delimiter = dialect.encoding, dialect.delimiter
    number = 0
    columns: list[Column | None] = []
    try:
        for number, cells in enumerate(reader, start=1):
            if number == 1:
                columns, problems = _header(cells)
                report.columns = [column.value for column in columns if column is not None]
                report.problems.extend(problems)
                if any(problem.error for problem in problems):
                    return
                continue
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, or a row of empty cells Excel left behind
            record = {
                column: csvio.unsafe_cell(cells[index].strip()) if index < len(cells) else ""
                for index, column in enumerate(columns)
                if column is not None
            }
            extra = sum(1 for cell in cells[len(columns) :] if cell.strip())
            yield number, record, extra
    except csv.Error as error:
        report.problems.append(
            Problem(number + 1, None, _("el archivo no es un CSV válido (%(why)s).", why=error))
        )
    if number == 0:
        report.problems.append(Problem(None, None, _("El archivo está vacío.")))


def _parse(row: int, record: dict[Column, str], extra: int, cohorts: CohortIndex) -> RowResult:
    person = Person()
    result = RowResult(row, person)
    problem = result.problems.append

    if extra:
        problem(Problem(row, None, _("la fila tiene más celdas que el encabezado.")))

    raw_email = record.get(Column.EMAIL, "")
    if not raw_email:
        problem(Problem(row, Column.EMAIL, _("falta el correo.")))
    else:
        try:
            person.email = emails.normalise(raw_email)
        except EmailNotValidError:
            problem(
                Problem(
                    row, Column.EMAIL, _("«%(value)s» no es un correo válido.", value=raw_email)
                )
            )

    name = " ".join(record.get(Column.NAME, "").split())
    if not name:
        problem(Problem(row, Column.NAME, _("falta el nombre.")))
    elif len(name) > NAME_MAX or not name.isprintable():
        problem(
            Problem(
                row,
                Column.NAME,
                _("el nombre debe ser una línea de hasta %(max)s caracteres.", max=NAME_MAX),
            )
        )
    person.full_name = name

    raw_rut = record.get(Column.RUT, "")
    if raw_rut:
        try:
            person.rut = rut_number.validate(raw_rut)
        except stdnum_errors.InvalidChecksum:
            problem(
                Problem(
                    row,
                    Column.RUT,
                    _("el dígito verificador del RUT %(value)s no corresponde.", value=raw_rut),
                )
            )
        except stdnum_errors.ValidationError:
            problem(Problem(row, Column.RUT, _("«%(value)s» no es un RUT válido.", value=raw_rut)))

    raw_comuna = record.get(Column.COMUNA, "")
    if not raw_comuna:
        problem(Problem(row, Column.COMUNA, _("falta la comuna.")))
    else:
        person.comuna_cut = find_comuna(raw_comuna)
        if person.comuna_cut is None:
            suggestion = _suggest_comuna(raw_comuna)
            message = (
                _(
                    "no hay una comuna «%(value)s»; ¿quisiste decir %(suggestion)s?",
                    value=raw_comuna,
                    suggestion=suggestion,
                )
                if suggestion
                else _(
                    "no hay una comuna «%(value)s» (escribe su nombre o su código CUT).",
                    value=raw_comuna,
                )
            )
            problem(Problem(row, Column.COMUNA, message))

    job_title = " ".join(record.get(Column.JOB_TITLE, "").split())
    if len(job_title) > JOB_TITLE_MAX or not job_title.isprintable():
        problem(
            Problem(
                row,
                Column.JOB_TITLE,
                _("el cargo debe ser una línea de hasta %(max)s caracteres.", max=JOB_TITLE_MAX),
            )
        )
    person.job_title = job_title or None

    cohort_name = record.get(Column.COHORT, "")
    if cohort_name:
        found = cohorts.find(cohort_name)
        if isinstance(found, Cohort):
            person.cohort = found
        else:
            problem(Problem(row, Column.COHORT, found))

    if result.problems and any(p.error for p in result.problems):
        result.outcome = Outcome.ERROR
    return result


class CohortIndex:
    """The cohorts, by name (any case, with or without accents), read once per file."""

    def __init__(self) -> None:
        self._by_name: dict[str, list[Cohort]] | None = None

    def find(self, name: str) -> Cohort | str:
        if self._by_name is None:
            self._by_name = {}
            for cohort in db.session.scalars(select(Cohort).order_by(Cohort.id)):
                self._by_name.setdefault(plain(cohort.name), []).append(cohort)
        found = self._by_name.get(plain(name), [])
        if not found:
            return _("no hay una cohorte «%(value)s».", value=name)
        if len(found) > 1:
            return _(
                "hay %(count)s cohortes «%(value)s» en cursos distintos; cambia el nombre de "
                "una para poder elegirla.",
                count=len(found),
                value=name,
            )
        return found[0]


# Checking ---------------------------------------------------------------------------------


def check(data: bytes) -> Report:
    """What importing ``data`` would do, row by row. Reads the database, writes nothing."""
    report = Report()
    cohorts = CohortIndex()
    first_row_of: dict[str, RowResult] = {}
    rut_rows: dict[str, RowResult] = {}
    batch: list[RowResult] = []
    for row, record, extra in _records(data, report):
        result = _parse(row, record, extra, cohorts)
        report.rows.append(result)
        _against_file(result, first_row_of, rut_rows)
        if result.outcome is not Outcome.DUPLICATE:
            batch.append(result)
        if len(batch) >= BATCH:
            _against_database(batch)
            batch = []
    _against_database(batch)
    if not report.rows and not report.errors:
        report.problems.append(Problem(None, None, _("El archivo no tiene filas de personas.")))
    return report


def _against_file(
    result: RowResult, first_row_of: dict[str, RowResult], rut_rows: dict[str, RowResult]
) -> None:
    person = result.person
    if not person.email:
        return
    earlier = first_row_of.get(person.email)
    if earlier is not None:
        if earlier.person == person and not result.problems:
            result.outcome = Outcome.DUPLICATE
            result.problems.append(
                Problem(
                    result.row,
                    None,
                    _("repite la fila %(row)s: se omite.", row=earlier.row),
                    error=False,
                )
            )
        else:
            result.outcome = Outcome.ERROR
            result.problems.append(
                Problem(
                    result.row,
                    Column.EMAIL,
                    _(
                        "el correo %(email)s ya está en la fila %(row)s con otros datos.",
                        email=person.email,
                        row=earlier.row,
                    ),
                )
            )
        return
    first_row_of[person.email] = result
    if person.rut:
        other = rut_rows.setdefault(person.rut, result)
        if other is not result:
            result.outcome = Outcome.ERROR
            result.problems.append(
                Problem(
                    result.row,
                    Column.RUT,
                    _("el RUT ya está en la fila %(row)s, con otro correo.", row=other.row),
                )
            )


def _against_database(batch: list[RowResult]) -> None:
    """New, updated or unchanged, and RUTs that belong to another account."""
    if not batch:
        return
    addresses = {result.person.email for result in batch if result.person.email}
    ruts = {result.person.rut for result in batch if result.person.rut}
    users = {
        user.email: user
        for user in db.session.scalars(select(User).where(User.email.in_(addresses)))
    }
    rut_owners: dict[str, str] = (
        dict(db.session.execute(select(User.rut, User.email).where(User.rut.in_(ruts))).all())  # type: ignore[arg-type]
        if ruts
        else {}
    )
    enrolled = _cohorts_of(
        [user.id for user in users.values()],
        {result.person.cohort.course_id for result in batch if result.person.cohort},
    )
    for result in batch:
        person = result.person
        owner = rut_owners.get(person.rut) if person.rut else None
        if owner is not None and owner != person.email:
            result.outcome = Outcome.ERROR
            result.problems.append(
                Problem(
                    result.row,
                    Column.RUT,
                    _("el RUT ya pertenece a otra cuenta (%(email)s).", email=owner),
                )
            )
        user = users.get(person.email)
        if user is not None:
            result.existing_id = user.id
            if not user.active:
                result.problems.append(
                    Problem(
                        result.row,
                        Column.EMAIL,
                        _("la cuenta está desactivada; la importación no la reactiva."),
                        error=False,
                    )
                )
        if result.outcome is Outcome.ERROR:
            continue
        if user is None:
            result.outcome = Outcome.NEW
        else:
            result.changes = _changes(user, person, enrolled)
            result.outcome = Outcome.UPDATED if result.changes else Outcome.UNCHANGED
        joins = result.outcome is Outcome.NEW or Column.COHORT.value in result.changes
        if person.cohort is not None and joins and not _takes_learners(person.cohort, result):
            result.outcome = Outcome.ERROR


def _takes_learners(cohort: Cohort, result: RowResult) -> bool:
    """Whether the cohort accepts someone new; if not, why goes on the row. (Someone already
    in a cohort that has since closed is left there: their row is unchanged, not an error.)"""
    if cohort.archived:
        message = _(
            "la cohorte «%(name)s» está archivada: no recibe nuevas inscripciones.",
            name=cohort.name,
        )
    elif not cohort.is_open:
        message = _(
            "la cohorte «%(name)s» está cerrada: no recibe nuevas inscripciones.",
            name=cohort.name,
        )
    else:
        return True
    result.problems.append(Problem(result.row, Column.COHORT, message))
    return False


def _cohorts_of(user_ids: list[int], course_ids: set[int]) -> dict[tuple[int, int], int | None]:
    """(user, course) → cohort of their enrolment, for these people in these courses."""
    if not user_ids or not course_ids:
        return {}
    rows = db.session.execute(
        select(Enrolment.user_id, Enrolment.course_id, Enrolment.cohort_id).where(
            Enrolment.user_id.in_(user_ids), Enrolment.course_id.in_(course_ids)
        )
    )
    return {(user_id, course_id): cohort_id for user_id, course_id, cohort_id in rows}


def _changes(user: User, person: Person, enrolled: dict[tuple[int, int], int | None]) -> list[str]:
    """The columns whose values differ. A blank optional cell keeps what is stored."""
    changed = []
    if user.full_name != person.full_name:
        changed.append(Column.NAME.value)
    if person.rut and user.rut != person.rut:
        changed.append(Column.RUT.value)
    if user.comuna_cut != person.comuna_cut:
        changed.append(Column.COMUNA.value)
    if person.job_title and user.job_title != person.job_title:
        changed.append(Column.JOB_TITLE.value)
    if person.cohort is not None:
        key = (user.id, person.cohort.course_id)
        if key not in enrolled or enrolled[key] != person.cohort.id:
            changed.append(Column.COHORT.value)
    return changed


# Importing --------------------------------------------------------------------------------


def apply(data: bytes, *, actor: User | None, upload: PeopleImport) -> tuple[Report, Applied]:
    """Import every row of ``data`` in the caller's transaction, or nothing: raises
    :class:`ImportRefused` (having written nothing) if any row has an error. ``upload``
    records what was done. The caller commits; the invitations are written and sent by a job
    once it has (5,000 messages take longer to compose than the accounts take to save)."""
    report = check(data)
    if not report.ok:
        raise ImportRefused(report)
    rows = [r for r in report.rows if r.outcome in (Outcome.NEW, Outcome.UPDATED)]
    existing = _users_by_id([r.existing_id for r in rows if r.existing_id is not None])
    created: list[User] = []
    for result in rows:
        person = result.person
        if result.outcome is Outcome.NEW:
            user = User(
                email=person.email,
                full_name=person.full_name,
                rut=person.rut,
                comuna_cut=person.comuna_cut,
                job_title=person.job_title,
                role="learner",
                # No password until they choose one with the mailed link: a value no password
                # hashes to (and no KDF run per row: 5,000 scrypt hashes take minutes).
                password_hash=f"!{secrets.token_hex(16)}",
                # The admin vouches for the address, as for accounts made in the CLI.
                email_confirmed_at=utcnow(),
            )
            db.session.add(user)
            created.append(user)
        else:
            user = existing[result.existing_id]  # type: ignore[index]
            user.full_name = person.full_name
            user.comuna_cut = person.comuna_cut
            if person.rut:
                user.rut = person.rut
            if person.job_title:
                user.job_title = person.job_title
    db.session.flush()
    enrolments = _enrol(rows, created, actor)
    emails_by_id = {user.id: user.email for user in created} | {
        user.id: user.email for user in existing.values()
    }
    applied = Applied(
        created=len(created),
        updated=report.count(Outcome.UPDATED),
        unchanged=report.count(Outcome.UNCHANGED),
    )
    upload.applied_at = utcnow()
    upload.created_count = applied.created
    upload.updated_count = applied.updated
    upload.content = None
    upload.invite_user_ids = [user.id for user in created]
    upload.invited = 0
    db.session.flush()
    _record(upload, created, enrolments, emails_by_id, actor)
    if created:
        enqueue_after_commit(send_invitations, upload.id)
    return report, applied


def _users_by_id(ids: list[int]) -> dict[int, User]:
    found: dict[int, User] = {}
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        found.update((u.id, u) for u in db.session.scalars(select(User).where(User.id.in_(chunk))))
    return found


def _enrol(rows: list[RowResult], created: list[User], actor: User | None) -> list[Enrolment]:
    """Enrol each row's person in its cohort's course, in that cohort (moving an enrolment
    already in the course to this cohort); the new enrolments."""
    new_ids = iter(user.id for user in created)
    wanted: list[tuple[int, Cohort]] = []
    for result in rows:
        user_id = next(new_ids) if result.outcome is Outcome.NEW else result.existing_id
        if result.person.cohort is not None and user_id is not None:
            wanted.append((user_id, result.person.cohort))
    if not wanted:
        return []
    current = {
        (e.user_id, e.course_id): e
        for start in range(0, len(wanted), BATCH)
        for e in db.session.scalars(
            select(Enrolment).where(
                Enrolment.user_id.in_([uid for uid, _c in wanted[start : start + BATCH]])
            )
        )
    }
    added = []
    for user_id, cohort in wanted:
        enrolment = current.get((user_id, cohort.course_id))
        if enrolment is None:
            enrolment = Enrolment(
                user_id=user_id,
                course_id=cohort.course_id,
                cohort_id=cohort.id,
                enrolled_by_id=actor.id if actor is not None else None,
            )
            db.session.add(enrolment)
            added.append(enrolment)
        elif enrolment.cohort_id != cohort.id:
            enrolment.cohort_id = cohort.id
    db.session.flush()
    return added


def _record(
    upload: PeopleImport,
    created: list[User],
    enrolments: list[Enrolment],
    emails_by_id: dict[int, str],
    actor: User | None,
) -> None:
    """One audit event per account and per enrolment the import made, as when an admin makes
    them one by one (the import's own event is the caller's: it knows who and how)."""
    for user in created:
        audit.record(
            audit.AuditAction.PERSON_CREATED,
            actor=actor,
            target_type="user",
            target_id=user.id,
            target_label=user.email,
            role=user.role,
            people_import=upload.id,
        )
    courses = {}
    for enrolment in enrolments:
        if enrolment.course_id not in courses:
            courses[enrolment.course_id] = db.session.get(Course, enrolment.course_id).slug
        audit.record(
            audit.AuditAction.ENROLLED,
            actor=actor,
            target_type="enrolment",
            target_id=enrolment.id,
            target_label=emails_by_id.get(enrolment.user_id),
            course=courses[enrolment.course_id],
            cohort=enrolment.cohort_id,
            people_import=upload.id,
        )


INVITATIONS_PER_STEP = 200


def queue_invitations(import_id: int) -> list[int] | None:
    """Write the next few invitations of an import into the outbox, in the caller's
    transaction, and move its pointer past them; the outbox rows to send once committed, or
    None when every invitation is written."""
    upload = db.session.scalar(
        select(PeopleImport).where(PeopleImport.id == import_id).with_for_update()
    )
    if upload is None or not upload.invite_user_ids:
        return None
    start = upload.invited
    ids = upload.invite_user_ids[start : start + INVITATIONS_PER_STEP]
    if not ids:
        return None
    days = current_app.config["INVITATION_MAX_AGE"] // 86400
    login = mail.external_url("auth.login")
    rows = []
    for user in db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.id)):
        if not user.active:
            continue
        message = mail.build_message(
            user.email,
            _("Te damos la bienvenida a la Academia: elige tu contraseña"),
            "invitation",
            user=user,
            link=mail.external_url(
                "auth.accept_invitation", token=accounts.make_invitation_token(user)
            ),
            login=login,
            days=days,
        )
        rows.append(outbox.queue(message, send_after_commit=False))
    upload.invited = start + len(ids)
    return rows


# Declared here, beside the work it does, so that the worker finds it: the factory imports this
# module with the people pages.
@job(retries=3, retry_delay=60)
def send_invitations(import_id: int) -> None:
    """Write an import's invitations into the outbox a few at a time, each step committed with
    the import's pointer (so a worker stopped half-way resumes where it was, and nobody gets
    two), and send each step's messages once it commits. A message that cannot be sent stays
    for ``academy mail retry`` (every five minutes in the worker)."""
    while True:
        with transaction():
            ids = queue_invitations(import_id)
        if ids is None:
            return
        outbox.deliver(ids)


# Files waiting between their dry run and their confirmation -----------------------------

# An upload not confirmed within a day is dropped (the next upload clears it): it holds
# personal data nobody decided to import.
PENDING_FOR = timedelta(days=1)


def store(data: bytes, filename: str, *, actor: User) -> PeopleImport:
    """Keep an uploaded file for its dry run and confirmation; drop stale ones."""
    db.session.execute(
        delete(PeopleImport).where(
            PeopleImport.applied_at.is_(None), PeopleImport.created_at < utcnow() - PENDING_FOR
        )
    )
    pending = PeopleImport(
        created_by_id=actor.id,
        filename=(filename or "personas.csv")[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        content=data,
    )
    db.session.add(pending)
    db.session.flush()
    return pending


def pending(import_id: int, actor: User) -> PeopleImport | None:
    """The upload ``actor`` made, still waiting (or already imported: its summary)."""
    found = db.session.get(PeopleImport, import_id)
    if found is None or found.created_by_id != actor.id:
        return None
    return found


def confirm(upload: PeopleImport, sha256: str, *, actor: User) -> tuple[Report, Applied] | None:
    """Import the stored file if it is the one the admin saw (same hash) and not imported yet;
    None otherwise. Raises :class:`ImportRefused` on errors (nothing written)."""
    locked = db.session.scalar(
        select(PeopleImport).where(PeopleImport.id == upload.id).with_for_update()
    )
    if locked is None or locked.applied_at is not None or locked.content is None:
        return None
    if not hmac.compare_digest(locked.sha256, sha256):
        return None
    return apply(locked.content, actor=actor, upload=locked)


def record_file(data: bytes, filename: str, *, actor: User | None) -> PeopleImport:
    """The record of a file imported without a dry run in between (the command line)."""
    done = PeopleImport(
        created_by_id=actor.id if actor is not None else None,
        filename=filename[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        content=None,
    )
    db.session.add(done)
    db.session.flush()
    return done
