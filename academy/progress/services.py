"""What a learner has done and what is left, computed in one place.

Each lesson kind has a completion rule. Reading lessons are done when the learner marks them;
quiz and case lessons report their own state (passed, waiting for review, failed with retries
left…) through a provider registered with :func:`register_state_provider`. A course is complete
when every required, published lesson is done; the moment that first happens is recorded on
the enrolment and never taken back, even if a trainer later adds a lesson.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select, update

from academy.auth.models import User
from academy.courses.models import Course, CourseStatus, Lesson, LessonRevision, Unit
from academy.db import upsert, utcnow
from academy.extensions import db
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
class OutlineItem:
    """A published lesson as learners see it in the outline."""

    lesson_id: int
    slug: str
    kind: str
    required: bool
    title: str
    minutes: int
    unit_id: int
    unit_title: str


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

    @property
    def required(self) -> list[Requirement]:
        return [r for r in self.items if r.item.required]

    @property
    def left(self) -> list[Requirement]:
        return [r for r in self.required if not r.done]

    @property
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


# A provider answers, for one learner and some lessons of its kind, each lesson's state.
StateProvider = Callable[[int, Sequence[OutlineItem]], dict[int, tuple[State, str | None]]]
_providers: dict[str, StateProvider] = {}


def register_state_provider(kind: str, provider: StateProvider) -> None:
    _providers[kind] = provider


def published_outline(course_id: int) -> list[OutlineItem]:
    """Every published, live lesson of a course in order, in one query."""
    rows = db.session.execute(
        select(
            Lesson.id,
            Lesson.slug,
            Lesson.kind,
            Lesson.required,
            LessonRevision.title,
            LessonRevision.minutes,
            Unit.id,
            Unit.title,
        )
        .join(Unit, Unit.id == Lesson.unit_id)
        .join(LessonRevision, LessonRevision.id == Lesson.published_revision_id)
        .where(
            Lesson.course_id == course_id,
            Lesson.retired_at.is_(None),
            Unit.retired_at.is_(None),
        )
        .order_by(Unit.position, Lesson.position)
    )
    return [OutlineItem(*row) for row in rows]


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
    provided: dict[int, tuple[State, str | None]] = {}
    for kind, provider in _providers.items():
        mine = [item for item in outline if item.kind == kind]
        if mine:
            provided.update(provider(user_id, mine))
    items = []
    for item in outline:
        if item.lesson_id in provided:
            state, detail = provided[item.lesson_id]
        else:
            state, detail = _reading_state(marks.get(item.lesson_id)), None
        items.append(Requirement(item, state, detail))
    if enrolment is None:
        enrolment = get_enrolment(user_id, course_id)
    return CourseProgress(
        course_id, tuple(items), enrolment.completed_at if enrolment is not None else None
    )


def _reading_state(status: str | None) -> State:
    if status == ProgressStatus.DONE:
        return State.DONE
    if status == ProgressStatus.IN_PROGRESS:
        return State.IN_PROGRESS
    return State.PENDING


# Enrolment ----------------------------------------------------------------------------------


def get_enrolment(user_id: int, course_id: int) -> Enrolment | None:
    return db.session.scalar(
        select(Enrolment).where(Enrolment.user_id == user_id, Enrolment.course_id == course_id)
    )


def can_self_enrol(course: Course) -> bool:
    return course.status == CourseStatus.PUBLISHED and course.enrolment == "open"


def enrol(user_id: int, course: Course, *, by: int | None = None) -> Enrolment:
    """Enrol a learner (idempotent: enrolling twice returns the same enrolment)."""
    upsert(
        Enrolment.__table__,
        {"user_id": user_id, "course_id": course.id, "enrolled_at": utcnow(), "enrolled_by_id": by},
        conflict=["user_id", "course_id"],
    )
    enrolment = get_enrolment(user_id, course.id)
    assert enrolment is not None
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


def course_roster(course: Course) -> list[RosterRow]:
    """Everyone enrolled, with their progress (one query for all lesson states)."""
    outline = published_outline(course.id)
    required = {item.lesson_id for item in outline if item.required}
    done: dict[int, int] = {}
    rows = db.session.execute(
        select(LessonProgress.user_id, LessonProgress.lesson_id).where(
            LessonProgress.course_id == course.id, LessonProgress.status == ProgressStatus.DONE
        )
    )
    for user_id, lesson_id in rows:
        if lesson_id in required:
            done[user_id] = done.get(user_id, 0) + 1
    enrolments = db.session.execute(
        select(Enrolment, User)
        .join(User, User.id == Enrolment.user_id)
        .where(Enrolment.course_id == course.id)
        .order_by(User.full_name)
    )
    return [
        RosterRow(
            enrolment,
            user,
            100 if not required else done.get(user.id, 0) * 100 // len(required),
        )
        for enrolment, user in enrolments
    ]


def enrolments_of(user_id: int) -> list[Enrolment]:
    return list(
        db.session.scalars(
            select(Enrolment)
            .join(Course, Course.id == Enrolment.course_id)
            .where(Enrolment.user_id == user_id, Course.status != CourseStatus.ARCHIVED)
            .order_by(Enrolment.enrolled_at.desc())
        )
    )


# Recording progress -------------------------------------------------------------------------


def visit(enrolment: Enrolment, lesson_id: int, *, known: Iterable[int] = ()) -> None:
    """Note that the learner opened a lesson; writes only when something changes."""
    if lesson_id not in known:
        upsert(
            LessonProgress.__table__,
            {
                "user_id": enrolment.user_id,
                "lesson_id": lesson_id,
                "course_id": enrolment.course_id,
                "status": ProgressStatus.IN_PROGRESS.value,
                "started_at": utcnow(),
            },
            conflict=["user_id", "lesson_id"],
        )
    if enrolment.last_lesson_id != lesson_id:
        enrolment.last_lesson_id = lesson_id
        enrolment.last_seen_at = utcnow()


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


def update_completion(enrolment: Enrolment) -> CourseProgress:
    """Record the course's completion the first time every requirement is met."""
    progress = compute(enrolment.user_id, enrolment.course_id, enrolment=enrolment)
    if enrolment.completed_at is None and progress.required and not progress.left:
        now = utcnow()
        # Conditional update: of two simultaneous requests, only one sets the time.
        db.session.execute(
            update(Enrolment)
            .where(and_(Enrolment.id == enrolment.id, Enrolment.completed_at.is_(None)))
            .values(completed_at=now)
        )
        db.session.refresh(enrolment)
        progress = compute(enrolment.user_id, enrolment.course_id, enrolment=enrolment)
    return progress
