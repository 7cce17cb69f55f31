"""What a learner has done and what is left, computed in one place.

Each lesson kind has a completion rule. Reading lessons are done when the learner marks them;
quiz and case lessons report their own state (passed, waiting for review, failed with retries
left…) through their plug-in's ``states`` (:mod:`academy.courses.kinds`). A course is complete
when every required, published lesson is done; the moment that first happens is recorded on
the enrolment and never taken back, even if a trainer later adds a lesson.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache, cached_property
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, bindparam, case, select, update
from sqlalchemy.orm import contains_eager

from academy import audit
from academy.auth.models import User
from academy.courses import kinds
from academy.courses import outline as outlines
from academy.courses.kinds import OutlineItem
from academy.courses.models import Course, CourseStatus
from academy.db import id_list, parse_ids, upsert, utcnow
from academy.extensions import db
from academy.i18n import lazy_gettext as _l
from academy.progress.models import Enrolment, LessonProgress, ProgressStatus


class State(enum.StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"  # submitted, waiting for a trainer
    RETURNED = "returned"  # sent back for revision
    FAILED = "failed"
    DONE = "done"


STATE_LABELS = {
    State.PENDING: _l("Pendiente"),
    State.IN_PROGRESS: _l("En curso"),
    State.WAITING: _l("Esperando revisión"),
    State.RETURNED: _l("Devuelto para corregir"),
    State.FAILED: _l("No aprobado"),
    State.DONE: _l("Completada"),
}


@dataclass(frozen=True)
class Requirement:
    item: OutlineItem
    state: State
    detail: str | None = None  # e.g. "Te quedan 2 intentos"

    @property
    def done(self) -> bool:
        return self.state is State.DONE

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self.state])


@dataclass(frozen=True)
class CourseProgress:
    course_id: int
    items: tuple[Requirement, ...]
    completed_at: datetime | None

    # Worked out once per object (its items never change): a page asks for them several
    # times per course, «Mis cursos» for every course the learner has.
    @cached_property
    def required(self) -> list[Requirement]:
        return [r for r in self.items if r.item.required]

    @cached_property
    def left(self) -> list[Requirement]:
        return [r for r in self.required if not r.done]

    @cached_property
    def percent(self) -> int:
        required = self.required
        if not required:
            return 100
        return len([r for r in required if r.done]) * 100 // len(required)

    @property
    def complete(self) -> bool:
        return self.completed_at is not None

    def state_of(self, lesson_id: int) -> Requirement | None:
        return next((r for r in self.items if r.item.lesson_id == lesson_id), None)

    def next_unfinished(self) -> Requirement | None:
        return next((r for r in self.items if r.item.required and not r.done), None) or next(
            (r for r in self.items if not r.done), None
        )


# Told when a learner completes a course, inside the transaction that records it (the
# certificates enqueue automatic issuance from here, after the commit).
_completion_listeners: list[Callable[[Enrolment], None]] = []


def register_completion_listener(listener: Callable[[Enrolment], None]) -> None:
    if listener not in _completion_listeners:
        _completion_listeners.append(listener)


def published_outline(course_id: int) -> list[OutlineItem]:
    """Every published, live lesson of a course in order (kept per version of the course's
    outline: one small query for the version, see :mod:`academy.courses.outline`)."""
    return list(course_outline(course_id).items)


def course_outline(course_id: int) -> outlines.Outline:
    """The course's published outline, as kept for its current version."""
    version = db.session.execute(_version_statement(), {"course_id": course_id}).scalar()
    return outlines.published(course_id, version or 0)


_courses = Course.__table__


@cache
def _version_statement() -> Select[Any]:
    return select(_courses.c.outline_version).where(_courses.c.id == bindparam("course_id"))


def progress_rows(user_id: int, course_id: int) -> dict[int, str]:
    rows = db.session.execute(
        select(LessonProgress.lesson_id, LessonProgress.status).where(
            LessonProgress.user_id == user_id, LessonProgress.course_id == course_id
        )
    )
    return {lesson_id: status for lesson_id, status in rows}


def compute(
    user_id: int,
    course_id: int,
    *,
    enrolment: Enrolment | None = None,
    outline: list[OutlineItem] | None = None,
) -> CourseProgress:
    """The learner's state in every published lesson of the course."""
    outline = published_outline(course_id) if outline is None else outline
    marks = progress_rows(user_id, course_id)
    if enrolment is None:
        enrolment = get_enrolment(user_id, course_id)
    completed_at = enrolment.completed_at if enrolment is not None else None
    return states(user_id, course_id, outline, marks, completed_at)


def states(
    user_id: int,
    course_id: int,
    outline: list[OutlineItem],
    marks: dict[int, str],
    completed_at: datetime | None,
) -> CourseProgress:
    """:func:`compute` from rows already read: the reading marks and the outline."""
    provided = provided_states(user_id, outlines.by_kind(outline))
    return _states(course_id, outline, marks, completed_at, provided)


def provided_states(
    user_id: int, by_kind: Mapping[str, Sequence[OutlineItem]]
) -> dict[int, tuple[State, str | None]]:
    """The states the lesson kinds give (lessons grouped by kind, as ``Outline.by_kind``),
    each kind asked once for all its lessons."""
    provided: dict[int, tuple[State, str | None]] = {}
    for name, items in by_kind.items():
        for lesson_id, (state, detail) in kinds.get(name).states(user_id, items).items():
            provided[lesson_id] = (State(state), detail)
    return provided


def _states(
    course_id: int,
    outline: list[OutlineItem],
    marks: dict[int, str],
    completed_at: datetime | None,
    provided: dict[int, tuple[State, str | None]],
) -> CourseProgress:
    items = []
    for item in outline:
        if item.lesson_id in provided:
            state, detail = provided[item.lesson_id]
        else:
            state, detail = _READING_STATES.get(marks.get(item.lesson_id), State.PENDING), None
        items.append(Requirement(item, state, detail))
    return CourseProgress(course_id, tuple(items), completed_at)


# A reading lesson's state by its progress row's status (None: no row).
_READING_STATES: dict[str | None, State] = {
    None: State.PENDING,
    ProgressStatus.IN_PROGRESS.value: State.IN_PROGRESS,
    ProgressStatus.DONE.value: State.DONE,
}


def lesson_states(user_id: int, outline: outlines.Outline, marks: dict[int, str]) -> list[State]:
    """The learner's state in each lesson of the outline, in order: what :func:`states`
    works out, without a :class:`Requirement` per lesson (the lesson page shows 200 in a long
    course and needs only the states). ``marks``: the reading marks (lesson id → status)."""
    provided = provided_states(user_id, outline.by_kind)
    reading = _READING_STATES
    return [
        provided[item.lesson_id][0]
        if item.lesson_id in provided
        else reading[marks.get(item.lesson_id)]
        for item in outline.items
    ]


def percent(outline: outlines.Outline, states: Sequence[State]) -> int:
    """The share of the required lessons done, as :attr:`CourseProgress.percent` counts it."""
    required = outline.required_positions
    if not required:
        return 100
    done = sum(1 for index in required if states[index] is State.DONE)
    return done * 100 // len(required)


# The lesson player ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reading:
    """A learner opening one lesson of a published course: all the player reads."""

    course_id: int
    course_slug: str
    course_title: str
    outline: outlines.Outline  # the course's, as kept for its version
    position: int  # of the lesson in the outline
    # The learner's reading marks (lesson id → status) and enrolment, if enrolled.
    marks: dict[int, str]
    enrolment_id: int | None
    completed_at: datetime | None
    last_lesson_id: int | None

    @property
    def lesson(self) -> OutlineItem:
        return self.outline.items[self.position]

    @property
    def revision(self) -> tuple[int, datetime]:
        """The lesson's published revision: its id and creation time (see
        :func:`academy.courses.revisions.revision_text`)."""
        return self.outline.revisions[self.position]


def open_lesson(user_id: int, course_slug: str, lesson_slug: str) -> Reading | None:
    """The lesson if learners may see it, with its course's outline and the learner's marks.

    None for unknown, draft and archived courses, and for lessons not in the outline: not
    published, retired, or in a retired unit. One query, one row whatever the course's size:
    the published course with its outline's version, the learner's enrolment, and the ids of
    the lessons the learner has done and started, each list aggregated in the database; the
    outline itself is kept per version (:mod:`academy.courses.outline`).
    """
    # On the session's connection: a Core statement, no ORM entity to load.
    row = (
        db.session.connection()
        .execute(_reading_statement(), {"course_slug": course_slug, "user_id": user_id})
        .first()
    )
    if row is None:
        return None
    outline = outlines.published(row.course_id, row.outline_version)
    position = outline.positions.get(lesson_slug)
    if position is None:
        return None
    marks = dict.fromkeys(parse_ids(row.started), ProgressStatus.IN_PROGRESS.value)
    marks.update(dict.fromkeys(parse_ids(row.done), ProgressStatus.DONE.value))
    return Reading(
        row.course_id,
        row.course_slug,
        row.course_title,
        outline,
        position,
        marks,
        row.enrolment_id,
        row.completed_at,
        row.last_lesson_id,
    )


@cache
def _reading_statement() -> Select[Any]:
    enrolments, marks = Enrolment.__table__, LessonProgress.__table__
    user_id = bindparam("user_id")

    def lessons_marked(status: ProgressStatus) -> Any:
        return (
            select(id_list(marks.c.lesson_id))
            .where(
                marks.c.user_id == user_id,
                marks.c.course_id == _courses.c.id,
                marks.c.status == status.value,
            )
            .scalar_subquery()
        )

    return (
        select(
            _courses.c.id.label("course_id"),
            _courses.c.slug.label("course_slug"),
            _courses.c.title.label("course_title"),
            _courses.c.outline_version,
            enrolments.c.id.label("enrolment_id"),
            enrolments.c.last_lesson_id,
            enrolments.c.completed_at,
            lessons_marked(ProgressStatus.DONE).label("done"),
            lessons_marked(ProgressStatus.IN_PROGRESS).label("started"),
        )
        .select_from(_courses)
        .outerjoin(
            enrolments,
            and_(enrolments.c.course_id == _courses.c.id, enrolments.c.user_id == user_id),
        )
        .where(
            _courses.c.slug == bindparam("course_slug"),
            _courses.c.status == CourseStatus.PUBLISHED.value,
        )
    )


# Enrolment ----------------------------------------------------------------------------------


def get_enrolment(user_id: int, course_id: int) -> Enrolment | None:
    return db.session.scalar(
        select(Enrolment).where(Enrolment.user_id == user_id, Enrolment.course_id == course_id)
    )


def can_self_enrol(course: Course) -> bool:
    return course.status == CourseStatus.PUBLISHED and course.enrolment == "open"


def enrol(user_id: int, course: Course, *, by: int | None = None) -> Enrolment:
    """Enrol a learner (idempotent: enrolling twice returns the same enrolment). A new
    enrolment goes to the audit log, by ``by`` (an admin or trainer) or the learner."""
    result = upsert(
        Enrolment.__table__,
        {"user_id": user_id, "course_id": course.id, "enrolled_at": utcnow(), "enrolled_by_id": by},
        conflict=["user_id", "course_id"],
    )
    # Whether this call inserted the row: on PostgreSQL the statement returns the new key
    # (none when the enrolment was there; rowcount says -1), SQLite counts the rows written.
    inserted = (
        result.inserted_primary_key is not None if result.returns_rows else result.rowcount == 1
    )
    enrolment = get_enrolment(user_id, course.id)
    assert enrolment is not None
    if inserted:
        learner = db.session.get(User, user_id)
        audit.record(
            audit.AuditAction.ENROLLED,
            actor=db.session.get(User, by) if by is not None else learner,
            target_type="enrolment",
            target_id=enrolment.id,
            target_label=learner.email if learner is not None else None,
            course=course.slug,
        )
    return enrolment


def get_course_for_admin(slug: str) -> Course | None:
    return db.session.scalar(select(Course).where(Course.slug == slug))


def unknown_emails(emails: list[str]) -> list[str]:
    known = set(db.session.scalars(select(User.email).where(User.email.in_(emails))))
    return [email for email in emails if email not in known]


def enrol_by_email(course: Course, emails: list[str], *, by: int) -> int:
    """Enrol every address that has an account; return how many."""
    users = db.session.scalars(select(User.id).where(User.email.in_(emails))).all()
    for user_id in users:
        enrol(user_id, course, by=by)
    return len(users)


@dataclass(frozen=True)
class RosterRow:
    enrolment: Enrolment
    user: User
    percent: int


def roster(course: Course) -> Select[tuple[Enrolment]]:
    """Everyone enrolled in the course, by name, each enrolment with its user: a statement to
    paginate (the roster can be the whole municipality's staff)."""
    return (
        select(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .where(Enrolment.course_id == course.id)
        .order_by(User.full_name, User.id)
        .options(contains_eager(Enrolment.user))
    )


def roster_rows(course: Course, enrolments: Sequence[Enrolment]) -> list[RosterRow]:
    """The progress of some enrolments of the course (a page of :func:`roster`): one query
    for all their marks, on the index that starts with the course."""
    outline = published_outline(course.id)
    required = {item.lesson_id for item in outline if item.required}
    done: dict[int, int] = {}
    user_ids = [enrolment.user_id for enrolment in enrolments]
    rows = db.session.execute(
        select(LessonProgress.user_id, LessonProgress.lesson_id).where(
            LessonProgress.course_id == course.id,
            LessonProgress.status == ProgressStatus.DONE,
            LessonProgress.user_id.in_(user_ids),
        )
    )
    for user_id, lesson_id in rows:
        if lesson_id in required:
            done[user_id] = done.get(user_id, 0) + 1
    return [
        RosterRow(
            enrolment,
            enrolment.user,
            100 if not required else done.get(enrolment.user_id, 0) * 100 // len(required),
        )
        for enrolment in enrolments
    ]


def enrolled_course_ids(user_id: int) -> set[int]:
    """The ids of the courses the learner is enrolled in (the catalogue marks them)."""
    return set(db.session.scalars(select(Enrolment.course_id).where(Enrolment.user_id == user_id)))


class EnrolledCourse(NamedTuple):
    """One of a learner's courses as «Mis cursos» lists it (see :func:`enrolled_courses`)."""

    id: int
    slug: str
    title: str
    completed_at: datetime | None
    # For a course not completed yet: its required lessons and how many of them the learner
    # has not done (as CourseProgress.required and .left count them); 0 and 0 for a completed
    # course, whose progress the page does not show.
    required: int = 0
    left: int = 0

    @property
    def percent(self) -> int:
        """The share of the required lessons done, as :attr:`CourseProgress.percent`."""
        if not self.required:
            return 100
        return (self.required - self.left) * 100 // self.required


def enrolled_courses(user_id: int) -> list[EnrolledCourse]:
    """The learner's enrolments in published courses, newest first, each course not completed
    yet with its required lessons and how many are left («Mis cursos»).

    The same statements however many courses: one row per enrolment with only what the page
    shows of the course, its outline's version and the ids of the lessons the learner has
    done, aggregated in the database (no Course or Enrolment object: a course's description
    and outcomes are long); the outlines as kept per version; each lesson kind asked once,
    for all the courses, for the states it decides.
    """
    rows = db.session.connection().execute(_enrolled_statement(), {"user_id": user_id}).all()
    found = outlines.published_outlines(
        [(row[0], row[3]) for row in rows if row[4] is None]  # id, version; not completed
    )
    decided = _done_by_kind(user_id, found.values())
    courses = []
    for course_id, slug, title, _version, completed_at, done_ids in rows:
        if completed_at is not None:
            courses.append(EnrolledCourse(course_id, slug, title, completed_at))
            continue
        required = found[course_id].required
        marked = parse_ids(done_ids)
        if decided:
            marked_set = set(marked)
            done = sum(1 for id_ in required if decided.get(id_, id_ in marked_set))
        else:
            done = len(required.intersection(marked))
        courses.append(
            EnrolledCourse(course_id, slug, title, None, len(required), len(required) - done)
        )
    return courses


def _done_by_kind(user_id: int, found: Iterable[outlines.Outline]) -> dict[int, bool]:
    """Whether each lesson whose kind decides its state (a quiz, a case) is done, by lesson
    id; each kind asked once for its lessons in all the outlines."""
    grouped = outlines.by_kind(item for outline in found for item in outline.items)
    return {
        lesson_id: state is State.DONE
        for lesson_id, (state, _detail) in provided_states(user_id, grouped).items()
    }


@cache
def _enrolled_statement() -> Select[Any]:
    enrolments, marks = Enrolment.__table__, LessonProgress.__table__
    done = (
        select(id_list(marks.c.lesson_id))
        .where(
            marks.c.user_id == enrolments.c.user_id,
            marks.c.course_id == enrolments.c.course_id,
            marks.c.status == ProgressStatus.DONE.value,
        )
        .scalar_subquery()
    )
    return (
        select(
            _courses.c.id,
            _courses.c.slug,
            _courses.c.title,
            _courses.c.outline_version,
            enrolments.c.completed_at,
            # Read for the courses not completed only: the page shows no progress for the others.
            case((enrolments.c.completed_at.is_(None), done)).label("done"),
        )
        .select_from(enrolments)
        .join(_courses, _courses.c.id == enrolments.c.course_id)
        .where(
            enrolments.c.user_id == bindparam("user_id"),
            _courses.c.status == CourseStatus.PUBLISHED.value,
        )
        .order_by(enrolments.c.enrolled_at.desc())
    )


# Recording progress -------------------------------------------------------------------------


def visit(
    user_id: int,
    course_id: int,
    lesson_id: int,
    *,
    enrolment_id: int,
    last_lesson_id: int | None,
    started: bool,
) -> None:
    """Note that the learner opened a lesson; writes only when something changes.

    ``started``: the learner already has a state in the lesson (no row to add);
    ``last_lesson_id``: the enrolment's lesson as read in this request.
    """
    if not started:
        upsert(
            LessonProgress.__table__,
            {
                "user_id": user_id,
                "lesson_id": lesson_id,
                "course_id": course_id,
                "status": ProgressStatus.IN_PROGRESS.value,
                "started_at": utcnow(),
            },
            conflict=["user_id", "lesson_id"],
        )
    if last_lesson_id != lesson_id:
        enrolments = Enrolment.__table__
        db.session.execute(
            update(enrolments)
            .where(enrolments.c.id == enrolment_id)
            .values(last_lesson_id=lesson_id, last_seen_at=utcnow())
        )


def is_done(user_id: int, lesson_id: int) -> bool:
    """Whether the learner's progress row for the lesson says done (one indexed lookup)."""
    status = db.session.scalar(
        select(LessonProgress.status).where(
            LessonProgress.user_id == user_id, LessonProgress.lesson_id == lesson_id
        )
    )
    return status == ProgressStatus.DONE


def mark_done(enrolment: Enrolment, lesson_id: int) -> CourseProgress:
    """Record a lesson as done (once, however often it is asked) and update completion."""
    now = utcnow()
    table = LessonProgress.__table__
    upsert(
        table,
        {
            "user_id": enrolment.user_id,
            "lesson_id": lesson_id,
            "course_id": enrolment.course_id,
            "status": ProgressStatus.DONE.value,
            "started_at": now,
            "completed_at": now,
        },
        conflict=["user_id", "lesson_id"],
        update={
            "status": ProgressStatus.DONE.value,
            "completed_at": db.func.coalesce(table.c.completed_at, now),
        },
    )
    return update_completion(enrolment)


def undo_done(user_id: int, lesson_id: int) -> None:
    """The lesson is no longer done: a quiz counting its last attempt, failed after a pass.

    The course's completion, if already recorded on the enrolment, is not taken back.
    """
    table = LessonProgress.__table__
    db.session.execute(
        update(table)
        .where(
            table.c.user_id == user_id,
            table.c.lesson_id == lesson_id,
            table.c.status == ProgressStatus.DONE.value,
        )
        .values(status=ProgressStatus.IN_PROGRESS.value, completed_at=None)
    )


def update_completion(enrolment: Enrolment) -> CourseProgress:
    """Record the course's completion the first time every requirement is met.

    The enrolment's row is locked first, so that of two transactions finishing the last two
    requirements at once (two tabs; a quiz handed in while a trainer approves a case) the
    second waits for the first to commit and then reads both marks. Without the lock, each
    sees only its own mark on PostgreSQL and neither records the completion. SQLite lets one
    writer at a time, which serialises them alike. Every caller writes its progress row
    before this lock, in that order (as :func:`visit` does), so two of them cannot deadlock.
    """
    db.session.refresh(enrolment, with_for_update={"key_share": True})
    progress = compute(enrolment.user_id, enrolment.course_id, enrolment=enrolment)
    if enrolment.completed_at is None and progress.required and not progress.left:
        now = utcnow()
        # Conditional update: of two simultaneous requests, only one sets the time.
        completed = db.session.execute(
            update(Enrolment)
            .where(and_(Enrolment.id == enrolment.id, Enrolment.completed_at.is_(None)))
            .values(completed_at=now)
        )
        db.session.refresh(enrolment)
        # The requirements are as just computed; only the completion time is new.
        progress = replace(progress, completed_at=enrolment.completed_at)
        if completed.rowcount == 1:  # type: ignore[attr-defined]  # this transaction set it
            for listener in _completion_listeners:
                listener(enrolment)
    return progress
