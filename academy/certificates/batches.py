"""Certificates for many learners at once, and on completion, issued in the background.

An admin sees the eligible learners of a course (or of one of its cohorts), confirms, and a
:class:`CertificateBatch` is saved with that list; a job (:func:`run_batch`, below) issues
them one per transaction, moving the batch's ``position`` in the same transaction as the
certificate. So a worker killed half-way loses nothing and repeats nothing: the next run starts
at the first learner not yet committed, and the database's "one valid certificate per learner
and course" index would refuse a duplicate anyway (counted as skipped, not issued twice).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from huey import crontab
from sqlalchemy import exists, select

from academy.auth.models import User
from academy.certificates import render_process, rendering, services
from academy.certificates.models import (
    BatchStatus,
    Certificate,
    CertificateBatch,
    CertificateStatus,
)
from academy.certificates.rendering import CertificateTemplateError
from academy.courses.models import Course
from academy.db import after_commit, transaction, utcnow
from academy.extensions import db
from academy.jobs import UNREACHABLE, enqueue_after_commit, job, periodic_job, queue, stopping
from academy.progress.models import Cohort, Enrolment

# A batch that has committed nothing for this long lost its worker: it is enqueued again.
STALLED = timedelta(minutes=5)
# Who issues a certificate on completion, in the audit record.
AUTOMATIC = services.Actor(None, system="automático")
# The sweep (issue_missed) leaves a completion this recent to its own job and that job's retries.
MISSED_AFTER = timedelta(minutes=5)
# Learners the sweep issues to in one run, at most: a long backlog (the queue down for a day)
# is cleared over several runs, none of which holds a worker for long.
MISSED_PER_RUN = 100


class BatchError(services.CertificateError):
    pass


def cohort_named(course: Course, name: str) -> Cohort | None:
    return db.session.scalar(
        select(Cohort).where(Cohort.course_id == course.id, Cohort.name == name.strip())
    )


def eligible(course: Course, cohort: Cohort | None = None) -> list[Enrolment]:
    """Learners of the course (of the cohort, if given) who completed it and hold no valid
    certificate for it."""
    found = services.eligible(course)
    if cohort is None:
        return found
    return [enrolment for enrolment in found if enrolment.cohort_id == cohort.id]


def create(
    course: Course, user_ids: Sequence[int], *, cohort: Cohort | None, by: services.Actor
) -> CertificateBatch:
    """A batch for these learners, all of whom must be eligible now; enqueued once committed."""
    batch = create_here(course, user_ids, cohort=cohort, by=by)
    enqueue_after_commit(run_batch, batch.id)
    return batch


def create_here(
    course: Course, user_ids: Sequence[int], *, cohort: Cohort | None, by: services.Actor
) -> CertificateBatch:
    """A batch that the caller runs itself (the command line, with its progress bar)."""
    if not user_ids:
        raise BatchError(_("Elige al menos a una persona."))
    allowed = {enrolment.user_id for enrolment in eligible(course, cohort)}
    if not set(user_ids) <= allowed:
        raise BatchError(
            _(
                "La lista cambió mientras la revisabas: alguien ya recibió su certificado o "
                "dejó de cumplir los requisitos. Revísala de nuevo."
            )
        )
    batch = CertificateBatch(
        course_id=course.id,
        cohort_id=cohort.id if cohort is not None else None,
        created_by_id=by.id,
        user_ids=list(dict.fromkeys(user_ids)),
        status=BatchStatus.QUEUED.value,
    )
    db.session.add(batch)
    db.session.flush()
    return batch


def get(batch_id: int) -> CertificateBatch | None:
    return db.session.get(CertificateBatch, batch_id)


def of_course(course: Course, limit: int = 10) -> list[CertificateBatch]:
    return list(
        db.session.scalars(
            select(CertificateBatch)
            .where(CertificateBatch.course_id == course.id)
            .order_by(CertificateBatch.id.desc())
            .limit(limit)
        )
    )


def run(
    batch_id: int,
    *,
    on_step: Callable[[CertificateBatch], None] | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> bool:
    """Issue the batch's certificates from where it stands, one learner per transaction;
    whether it is done (False: ``stop`` said to stop between two learners).

    Call it outside any transaction. Safe to run again, and at once in two workers: each step
    locks the batch's row, so they take turns and never issue the same learner twice."""
    render_process.CHILD.start()  # before any lock: see rendering.in_child_process
    while True:
        if stop():
            return False
        with transaction():
            batch = db.session.get(CertificateBatch, batch_id, with_for_update=True)
            if batch is None or batch.status == BatchStatus.DONE:
                return True
            now = utcnow()
            batch.updated_at = now
            if batch.position >= batch.total:
                batch.status = BatchStatus.DONE.value
                batch.finished_at = now
                finished = True
            else:
                batch.status = BatchStatus.RUNNING.value
                _step(batch)
                finished = False
        if finished:
            return True
        if on_step is not None:
            on_step(batch)


def _step(batch: CertificateBatch) -> None:
    user_id = batch.user_ids[batch.position]
    by = services.Actor(batch.created_by)
    try:
        # A batch renders one certificate after another: in the recycled child process, so
        # that the worker's memory stays flat however long the batch.
        with db.session.begin_nested(), rendering.in_child_process():
            services.issue(batch.course, user_id, by=by)
    except services.AlreadyIssued:
        batch.skipped += 1
    except (services.CertificateError, CertificateTemplateError) as error:
        user = db.session.get(User, user_id)
        batch.failed += 1
        batch.errors = [
            *batch.errors,
            {"user_id": user_id, "name": user.full_name if user else "?", "message": str(error)},
        ]
    else:
        batch.issued += 1
    batch.position += 1


def certificates_of(batch: CertificateBatch) -> list[Certificate]:
    """The certificates in force of the batch's learners issued since it began."""
    return list(
        db.session.scalars(
            select(Certificate)
            .where(
                Certificate.course_id == batch.course_id,
                Certificate.user_id.in_(batch.user_ids),
                Certificate.status == CertificateStatus.VALID.value,
                Certificate.issued_at >= batch.created_at,
            )
            .order_by(Certificate.full_name, Certificate.id)
        )
    )


def stalled(now: datetime | None = None) -> list[int]:
    """Batches not done whose worker has committed nothing for :data:`STALLED`."""
    limit = (now or utcnow()) - STALLED
    return list(
        db.session.scalars(
            select(CertificateBatch.id).where(
                CertificateBatch.status != BatchStatus.DONE.value,
                CertificateBatch.updated_at < limit,
            )
        )
    )


# Automatic issuance --------------------------------------------------------------------------


def on_completion(enrolment: Enrolment) -> None:
    """A learner just completed a course: if it issues automatically, a job does it once this
    transaction commits (the completion must be visible to the worker)."""
    course = db.session.get(Course, enrolment.course_id)
    if course is None or not course.certificate_automatic:
        return
    user_id, course_id = enrolment.user_id, enrolment.course_id
    after_commit(lambda: _enqueue_issue(user_id, course_id))


def _enqueue_issue(user_id: int, course_id: int) -> None:
    """Enqueue the job, the completion already committed. A queue out of reach (Redis down)
    fails nobody's request: the sweep (:func:`issue_missed`) issues the certificate later."""
    try:
        issue_automatically(user_id, course_id)
    except UNREACHABLE as error:
        current_app.logger.warning(
            "automatic certificate of user %s in course %s not enqueued (%s: %s): the sweep "
            "of missed certificates will issue it",
            user_id,
            course_id,
            type(error).__name__,
            error,
        )
        db.session.rollback()  # whatever the failure left open


def missed(limit: int = MISSED_PER_RUN, now: datetime | None = None) -> list[tuple[int, int]]:
    """(user_id, course_id) of learners who completed a course while it issued automatically
    (and not in the last :data:`MISSED_AFTER`) and hold no certificate of it at all, oldest
    completion first: the ones whose job was lost. One query.

    A revoked (or superseded) certificate counts as held: an admin revoked it on purpose, and
    only an admin issues it again (the course's list of eligible learners shows them)."""
    recent = (now or utcnow()) - MISSED_AFTER
    held = exists().where(
        Certificate.user_id == Enrolment.user_id, Certificate.course_id == Enrolment.course_id
    )
    rows = db.session.execute(
        select(Enrolment.user_id, Enrolment.course_id)
        .join(Course, Course.id == Enrolment.course_id)
        .where(
            Course.certificate_automatic.is_(True),
            Enrolment.completed_at.is_not(None),
            Enrolment.completed_at >= Course.certificate_automatic_since,
            Enrolment.completed_at < recent,
            ~held,
        )
        .order_by(Enrolment.completed_at, Enrolment.id)
        .limit(limit)
    )
    return [(user_id, course_id) for user_id, course_id in rows]


def issue_missed(limit: int = MISSED_PER_RUN) -> int:
    """Issue the certificates of :func:`missed`, each as its job would (one transaction each,
    nothing twice); how many were issued. One learner's failure (a broken template) is logged
    and does not stop the others; the next run tries them again."""
    render_process.CHILD.start()  # before any lock (SQLite's reads take the write lock)
    with transaction():
        found = missed(limit)
    issued = 0
    for user_id, course_id in found:
        if stopping():
            break
        try:
            issued += issue_on_completion(user_id, course_id, unless_held=True)
        except (services.CertificateError, CertificateTemplateError) as error:
            current_app.logger.warning(
                "missed automatic certificate of user %s in course %s not issued: %s",
                user_id,
                course_id,
                error,
            )
    return issued


def issue_on_completion(user_id: int, course_id: int, *, unless_held: bool = False) -> bool:
    """The job's work: the certificate, unless the course stopped issuing automatically or the
    learner already holds one (the job may run twice); whether it issued one.

    ``unless_held`` (the sweep): nor if the learner holds a revoked or superseded one, which
    may have been issued and revoked since the sweep looked."""
    render_process.CHILD.start()  # before the completion's lock
    with transaction():
        course = db.session.get(Course, course_id)
        if course is None or not course.certificate_automatic:
            return False
        if services.valid_certificate(user_id, course_id) is not None:
            return False
        if unless_held and _holds_any(user_id, course_id):
            return False
        try:
            with rendering.in_child_process():  # a worker runs these all day long
                services.issue(course, user_id, by=AUTOMATIC)
        except services.AlreadyIssued:
            return False
    return True


def _holds_any(user_id: int, course_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(
                exists().where(Certificate.user_id == user_id, Certificate.course_id == course_id)
            )
        )
    )


def set_automatic(course: Course, automatic: bool) -> None:
    """From now on (or no longer): earlier completions stay the admin's to certify."""
    if not automatic:
        course.certificate_automatic_since = None
    elif not course.certificate_automatic or course.certificate_automatic_since is None:
        course.certificate_automatic_since = utcnow()
    course.certificate_automatic = automatic


# The jobs (academy/jobs.py): declared here, beside the work they do, so that this module is
# all the worker needs to import to find them (the factory imports it with the batch pages).


@job()
def run_batch(batch_id: int) -> None:
    # A worker asked to stop (a restart) stops between two learners and leaves the rest to
    # the next one, which finds the batch in the queue again.
    if not run(batch_id, stop=stopping) and not queue.immediate:
        run_batch(batch_id)


@job(retries=3, retry_delay=60)
def issue_automatically(user_id: int, course_id: int) -> None:
    # Retried: a template or key problem fixed meanwhile, or the database back, issues it;
    # the admin's list of eligible learners shows it meanwhile.
    issue_on_completion(user_id, course_id)


@periodic_job(crontab(minute="*/10"))
def issue_missed_certificates() -> None:
    """Certificates whose job was lost (the queue unreachable when the learner completed):
    issued every ten minutes, :data:`MISSED_PER_RUN` at most each time."""
    issued = issue_missed()
    if issued:
        current_app.logger.warning("issued %s missed automatic certificates", issued)


@periodic_job(crontab(minute="*"))
def resume_stalled_batches() -> None:
    """A batch whose worker was killed is run again from where it stopped."""
    for batch_id in stalled():
        current_app.logger.warning("certificate batch %s stalled: running it again", batch_id)
        run_batch(batch_id)
