"""Background work for people: an import's invitations, written and sent after it commits."""

from __future__ import annotations

from academy import outbox
from academy.db import transaction
from academy.jobs import job
from academy.people import imports


@job(retries=3, retry_delay=60)
def send_invitations(import_id: int) -> None:
    """Write an import's invitations into the outbox a few at a time, each step committed with
    the import's pointer (so a worker stopped half-way resumes where it was, and nobody gets
    two), and send each step's messages once it commits. A message that cannot be sent stays
    for ``academy mail retry`` (every five minutes in the worker)."""
    while True:
        with transaction():
            ids = imports.queue_invitations(import_id)
        if ids is None:
            return
        outbox.deliver(ids)
