"""The certificates' background jobs (academy/jobs.py): batches, automatic issuance, and the
periodic check that re-enqueues a batch whose worker died."""

from __future__ import annotations

from flask import current_app
from huey import crontab

from academy.certificates import batches
from academy.jobs import job, periodic_job, queue, stopping


@job()
def run_batch(batch_id: int) -> None:
    # A worker asked to stop (a restart) stops between two learners and leaves the rest to
    # the next one, which finds the batch in the queue again.
    if not batches.run(batch_id, stop=stopping) and not queue.immediate:
        run_batch(batch_id)


@job(retries=3, retry_delay=60)
def issue_on_completion(user_id: int, course_id: int) -> None:
    # Retried: a template or key problem fixed meanwhile, or the database back, issues it;
    # the admin's list of eligible learners shows it meanwhile.
    batches.issue_on_completion(user_id, course_id)


@periodic_job(crontab(minute="*"))
def resume_stalled_batches() -> None:
    """A batch whose worker was killed is run again from where it stopped."""
    for batch_id in batches.stalled():
        current_app.logger.warning("certificate batch %s stalled: running it again", batch_id)
        run_batch(batch_id)
