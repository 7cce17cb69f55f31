"""Case work logic: drafts, submission, the review queue and reviews. Nothing here commits."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from academy.auth.models import User
from academy.cases.definition import CaseDefinition, from_data
from academy.cases.models import CaseSubmission, SubmissionStatus
from academy.courses.models import CaseCompletion, Course, Lesson, LessonRevision
from academy.db import utcnow
from academy.extensions import db
from academy.progress import cohorts
from academy.progress import services as progress
from academy.progress.models import Enrolment
from academy.text import unix_newlines

MAX_RESPONSE_CHARS = 40_000
WORD_RE = re.compile(r"\w+(?:[-'’]\w+)*")
WAITING = (SubmissionStatus.SUBMITTED.value, SubmissionStatus.IN_REVIEW.value)
REVIEWED = (SubmissionStatus.RETURNED.value, SubmissionStatus.APPROVED.value)


class CaseError(Exception):
    """Why the action cannot be done; ``str()`` is for the person, in their language."""


class ReviewConflict(CaseError):
    """Someone else saved a review of this submission first."""


def word_count(text: str) -> int:
    return len(WORD_RE.findall(text))


def definition_of(revision: LessonRevision) -> CaseDefinition:
    return from_data(revision.extra)


# Who may see what --------------------------------------------------------------------------


def can_review(user: User, submission: CaseSubmission) -> bool:
    """A course's trainers review all its case work; a cohort's trainers, its learners' work."""
    course_id = submission.lesson.course_id
    return cohorts.teaches(user, course_id) or cohorts.may_see_learner(
        user, submission.user_id, course_id
    )


# The learner's side --------------------------------------------------------------------------


def submissions_of(user_id: int, lesson_id: int) -> list[CaseSubmission]:
    return list(
        db.session.scalars(
            select(CaseSubmission)
            .where(CaseSubmission.user_id == user_id, CaseSubmission.lesson_id == lesson_id)
            .order_by(CaseSubmission.number)
        )
    )


def current(user_id: int, lesson_id: int) -> CaseSubmission | None:
    mine = submissions_of(user_id, lesson_id)
    return mine[-1] if mine else None


def check_responses(
    definition: CaseDefinition, responses: Mapping[str, str], *, final: bool
) -> dict[str, str]:
    """Problems by prompt number. Drafts only need to fit; a submission needs every answer."""
    problems: dict[str, str] = {}
    for index, prompt in enumerate(definition.prompts, start=1):
        text = responses.get(str(index), "")
        words = word_count(text)
        if len(text) > MAX_RESPONSE_CHARS:
            problems[str(index)] = _(
                "La respuesta es demasiado larga (más de %(n)s caracteres).", n=MAX_RESPONSE_CHARS
            )
        elif final and not text.strip():
            problems[str(index)] = _("Falta esta respuesta.")
        elif final and words < prompt.min_words:
            problems[str(index)] = ngettext(
                "Tiene %(num)d palabra; se piden al menos %(min)s.",
                "Tiene %(num)d palabras; se piden al menos %(min)s.",
                words,
                min=prompt.min_words,
            )
        elif words > prompt.max_words:
            problems[str(index)] = _(
                "Tiene %(words)s palabras; el máximo es %(max)s.", words=words, max=prompt.max_words
            )
    return problems


def clean_responses(definition: CaseDefinition, raw: Mapping[str, object]) -> dict[str, str]:
    """Only the prompts the case has; text normalised (line endings, outer spaces, NFC).

    NFC so that "é" typed on one keyboard and pasted from another counts as the same word
    here and in the browser's counter. Anything but a string (a forged JSON list) is empty.
    """
    cleaned = {}
    for index in range(1, len(definition.prompts) + 1):
        value = raw.get(str(index))
        text = value if isinstance(value, str) else ""
        text = unix_newlines(text).strip()
        cleaned[str(index)] = unicodedata.normalize("NFC", text)
    return cleaned


def save_draft(
    user_id: int, lesson: Lesson, raw: Mapping[str, object], *, now: datetime | None = None
) -> tuple[CaseSubmission, dict[str, str]]:
    """Save the learner's draft (starting one, or a revision of a returned case).

    ``raw`` maps prompt numbers ("1", "2", …) to text; returns the draft and the problems by
    prompt number. With problems nothing is saved and the draft returned is the previous one.
    """
    now = now or utcnow()
    revision = lesson.published
    if revision is None:
        raise CaseError(_("Este caso no está publicado."))
    latest = current(user_id, lesson.id)
    if latest is not None and latest.status in (*WAITING, SubmissionStatus.APPROVED.value):
        if latest.status == SubmissionStatus.APPROVED:
            raise CaseError(_("Este caso ya fue aprobado; no se puede volver a enviar."))
        raise CaseError(_("Ya enviaste este caso; espera la revisión antes de cambiarlo."))
    definition = definition_of(latest.revision if latest and latest.editable else revision)
    # Prompts left out of ``raw`` keep the text they had (the draft's, or the returned one's).
    responses = clean_responses(definition, {**(latest.responses if latest else {}), **raw})
    problems = check_responses(definition, responses, final=False)
    if problems:
        return latest or CaseSubmission(responses=responses), problems  # nothing saved
    if latest is None or latest.status == SubmissionStatus.RETURNED:
        submission = CaseSubmission(
            user_id=user_id,
            lesson_id=lesson.id,
            revision_id=revision.id,
            number=(latest.number if latest else 0) + 1,
            responses=responses,
            created_at=now,
            updated_at=now,
        )
        try:
            with db.session.begin_nested():
                db.session.add(submission)
        except IntegrityError:
            raise CaseError(
                _("Se guardó otro borrador al mismo tiempo. Recarga la página.")
            ) from None
        return submission, {}
    # Conditional: a draft handed in from another tab a moment ago must keep its text.
    changed = db.session.execute(
        update(CaseSubmission)
        .where(CaseSubmission.id == latest.id, CaseSubmission.status == SubmissionStatus.DRAFT)
        .values(responses=responses, updated_at=now, version=CaseSubmission.version + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(latest)
    if changed.rowcount != 1:
        raise CaseError(_("Ya enviaste este caso; espera la revisión antes de cambiarlo."))
    return latest, {}


def submit(
    submission: CaseSubmission, *, version: int | None = None, now: datetime | None = None
) -> dict[str, str]:
    """Hand in a draft; returns problems (nothing changes) or an empty dict.

    ``version``: the draft as the learner last saw it; if it changed since (another tab), the
    learner must look again before handing it in.
    """
    now = now or utcnow()
    if not submission.editable:
        raise CaseError(_("Este caso ya se envió."))
    if version is not None and version != submission.version:
        raise CaseError(
            _("Tu borrador cambió desde que abriste esta página. Revísalo y vuelve a enviarlo.")
        )
    definition = definition_of(submission.revision)
    problems = check_responses(definition, submission.responses, final=True)
    if problems:
        return problems
    claimed = db.session.execute(
        update(CaseSubmission)
        .where(
            CaseSubmission.id == submission.id,
            CaseSubmission.status == SubmissionStatus.DRAFT,
            CaseSubmission.version == submission.version,
        )
        .values(
            status=SubmissionStatus.SUBMITTED.value,
            submitted_at=now,
            version=CaseSubmission.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(submission)
    if claimed.rowcount != 1:
        raise CaseError(_("Este caso ya se envió."))
    if _course_of(submission).case_completion == CaseCompletion.SUBMISSION:
        _complete(submission)
    return {}


def answered_revision(lesson: Lesson, latest: CaseSubmission | None) -> LessonRevision | None:
    """The revision whose prompts the learner sees: their own draft's or submission's, or
    the published one when they start (or restart, after a return)."""
    if latest is not None and latest.status != SubmissionStatus.RETURNED:
        return latest.revision
    return lesson.published


def get_submission(submission_id: int) -> CaseSubmission | None:
    return db.session.get(CaseSubmission, submission_id)


def mark_seen(submission: CaseSubmission, *, now: datetime | None = None) -> None:
    """The learner has seen the review (it leaves "Revisiones recientes")."""
    if submission.reviewed_at is not None and submission.seen_at is None:
        submission.seen_at = now or utcnow()


def unseen_reviews(user_id: int, *, limit: int = 10) -> list[CaseSubmission]:
    """Reviewed submissions the learner has not opened yet, newest first."""
    return list(
        db.session.scalars(
            select(CaseSubmission)
            .where(
                CaseSubmission.user_id == user_id,
                CaseSubmission.status.in_(REVIEWED),
                CaseSubmission.seen_at.is_(None),
            )
            .options(
                selectinload(CaseSubmission.revision),
                selectinload(CaseSubmission.lesson).selectinload(Lesson.course),
            )
            .order_by(CaseSubmission.reviewed_at.desc())
            .limit(limit)
        )
    )


# The trainer's side --------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    course_id: int | None = None
    cohort_id: int | None = None
    status: str | None = None  # None: waiting (submitted or in review)


def queue(user: User, filters: QueueFilters) -> Select[tuple[CaseSubmission]]:
    """Submissions the user reviews, oldest first."""
    query = (
        select(CaseSubmission)
        .join(Lesson, Lesson.id == CaseSubmission.lesson_id)
        .where(CaseSubmission.status != SubmissionStatus.DRAFT)
        .order_by(CaseSubmission.submitted_at, CaseSubmission.id)
    )
    if not user.is_admin:
        query = query.where(cohorts.sees_learner_of(user, CaseSubmission.user_id, Lesson.course_id))
    if filters.course_id is not None:
        query = query.where(Lesson.course_id == filters.course_id)
    if filters.status in {s.value for s in SubmissionStatus} - {SubmissionStatus.DRAFT.value}:
        query = query.where(CaseSubmission.status == filters.status)
    else:
        query = query.where(CaseSubmission.status.in_(WAITING))
    if filters.cohort_id is not None:
        query = query.join(
            Enrolment,
            (Enrolment.user_id == CaseSubmission.user_id)
            & (Enrolment.course_id == Lesson.course_id),
        ).where(Enrolment.cohort_id == filters.cohort_id)
    return query


def open_review(submission: CaseSubmission, reviewer: User, *, now: datetime | None = None) -> None:
    """A trainer opens a submitted case: it shows as "in review" to the learner."""
    if submission.status == SubmissionStatus.SUBMITTED:
        submission.status = SubmissionStatus.IN_REVIEW.value
        submission.reviewer_id = reviewer.id
        submission.review_started_at = now or utcnow()
        submission.version += 1


MAX_FEEDBACK_CHARS = 5_000
MAX_COMMENTS_CHARS = 10_000


def review_problems(
    definition: CaseDefinition,
    levels: Mapping[str, object],
    feedback: Mapping[str, str],
    comments: str,
    *,
    approve: bool,
) -> dict[str, str]:
    """What is wrong with a review as the trainer filled it in, by field ("nivel-2", ...)."""
    problems: dict[str, str] = {}
    for index, criterion in enumerate(definition.criteria, start=1):
        level = levels.get(str(index))
        if not isinstance(level, int) or isinstance(level, bool):
            problems[f"nivel-{index}"] = _(
                "Elige un nivel para «%(criterion)s».", criterion=criterion.name
            )
        elif not 0 <= level < len(criterion.levels):
            problems[f"nivel-{index}"] = _(
                "El nivel elegido para «%(criterion)s» no existe en la rúbrica.",
                criterion=criterion.name,
            )
        if len(feedback.get(str(index), "")) > MAX_FEEDBACK_CHARS:
            problems[f"comentario-{index}"] = _(
                "El comentario es demasiado largo (más de %(n)s caracteres).", n=MAX_FEEDBACK_CHARS
            )
    if len(comments) > MAX_COMMENTS_CHARS:
        problems["comentarios"] = _(
            "Los comentarios son demasiado largos (más de %(n)s caracteres).",
            n=MAX_COMMENTS_CHARS,
        )
    elif not approve and not comments.strip() and not any(v.strip() for v in feedback.values()):
        problems["comentarios"] = _(
            "Para devolver el caso, explica qué debe corregir: escribe un comentario general o "
            "uno en algún criterio."
        )
    return problems


def save_review(
    submission: CaseSubmission,
    reviewer: User,
    *,
    version: int,
    levels: Mapping[str, object],
    feedback: Mapping[str, str],
    comments: str,
    approve: bool,
    now: datetime | None = None,
) -> int:
    """Record the review and decide; returns the points.

    Raises :class:`ReviewConflict` when the submission changed since the trainer opened it
    (``version``), which is how a second trainer learns that someone else reviewed it first,
    and :class:`CaseError` when the review itself is incomplete (see :func:`review_problems`).
    """
    now = now or utcnow()
    if submission.version != version:
        raise _conflict(submission)
    if submission.status not in WAITING:
        raise CaseError(_("Este envío ya no espera revisión."))
    definition = definition_of(submission.revision)
    problems = review_problems(definition, levels, feedback, comments, approve=approve)
    if problems:
        raise CaseError(" ".join(problems.values()))
    # review_problems() made sure each is an int in range.
    chosen = {str(i): cast(int, levels[str(i)]) for i in range(1, len(definition.criteria) + 1)}
    points = sum(
        criterion.levels[chosen[str(index)]].points
        for index, criterion in enumerate(definition.criteria, start=1)
    )
    notes = {
        str(index): text.strip()
        for index in range(1, len(definition.criteria) + 1)
        if (text := feedback.get(str(index), "")).strip()
    }
    status = SubmissionStatus.APPROVED if approve else SubmissionStatus.RETURNED
    saved = db.session.execute(
        update(CaseSubmission)
        .where(
            CaseSubmission.id == submission.id,
            CaseSubmission.version == version,
            CaseSubmission.status.in_(WAITING),
        )
        .values(
            status=status.value,
            reviewer_id=reviewer.id,
            reviewed_at=now,
            levels=chosen,
            points=points,
            criterion_feedback=notes,
            comments=comments.strip(),
            seen_at=None,
            version=CaseSubmission.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(submission)
    if saved.rowcount != 1:
        raise _conflict(submission)
    if approve:
        _complete(submission)
    return points


def _conflict(submission: CaseSubmission) -> ReviewConflict:
    db.session.refresh(submission)
    reviewer = submission.reviewer
    if submission.status in WAITING:
        return ReviewConflict(
            _(
                "%(name)s abrió o cambió este envío mientras tú revisabas. Revisa lo que hay "
                "ahora y vuelve a guardar.",
                name=reviewer.full_name if reviewer else _("Otra persona"),
            )
        )
    return ReviewConflict(
        _(
            "%(name)s guardó una revisión de este envío mientras tú revisabas. Lee su revisión "
            "antes de cambiar nada: tu texto sigue abajo, sin guardar.",
            name=reviewer.full_name if reviewer else _("Otra persona"),
        )
    )


def _course_of(submission: CaseSubmission) -> Course:
    return submission.lesson.course


def _complete(submission: CaseSubmission) -> None:
    enrolment = progress.get_enrolment(submission.user_id, submission.lesson.course_id)
    if enrolment is not None:
        progress.mark_done(enrolment, submission.lesson_id)


# What the progress service shows -------------------------------------------------------------


def case_states(
    user_id: int, items: Sequence[progress.OutlineItem]
) -> dict[int, tuple[progress.State, str | None]]:
    """Each case lesson's state: by the latest submission, and the course's completion rule.

    When cases count on submission, a case once handed in stays done (completion is never
    taken back) even if a trainer returns it; the detail then says what happened.
    """
    lesson_ids = [item.lesson_id for item in items]
    latest: dict[int, CaseSubmission] = {}
    handed_in: set[int] = set()
    for submission in db.session.scalars(
        select(CaseSubmission)
        .where(CaseSubmission.user_id == user_id, CaseSubmission.lesson_id.in_(lesson_ids))
        .order_by(CaseSubmission.number)
    ):
        latest[submission.lesson_id] = submission
        if submission.status != SubmissionStatus.DRAFT:
            handed_in.add(submission.lesson_id)
    completion = dict(
        db.session.execute(
            select(Lesson.id, Course.case_completion)
            .join(Course, Course.id == Lesson.course_id)
            .where(Lesson.id.in_(lesson_ids))
        ).all()
    )
    states: dict[int, tuple[progress.State, str | None]] = {}
    for lesson_id in lesson_ids:
        submission = latest.get(lesson_id)
        on_submission = completion.get(lesson_id) == CaseCompletion.SUBMISSION
        if submission is None:
            states[lesson_id] = (progress.State.PENDING, None)
        elif submission.status == SubmissionStatus.APPROVED:
            states[lesson_id] = (progress.State.DONE, _("aprobado"))
        elif on_submission and lesson_id in handed_in:
            states[lesson_id] = (progress.State.DONE, status_detail(submission.status))
        elif submission.status in WAITING:
            states[lesson_id] = (progress.State.WAITING, None)
        elif submission.status == SubmissionStatus.RETURNED:
            states[lesson_id] = (progress.State.RETURNED, None)
        else:
            states[lesson_id] = (progress.State.IN_PROGRESS, _("borrador"))
    return states


def status_detail(status: str) -> str:
    """The status in a few lowercase words, for "Completada (enviado)"."""
    return {
        SubmissionStatus.DRAFT: _("corrigiendo"),
        SubmissionStatus.SUBMITTED: _("enviado"),
        SubmissionStatus.IN_REVIEW: _("en revisión"),
        SubmissionStatus.RETURNED: _("devuelto para corregir"),
        SubmissionStatus.APPROVED: _("aprobado"),
    }[SubmissionStatus(status)]
