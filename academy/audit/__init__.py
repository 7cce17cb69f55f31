"""The audit log (academy/audit/models.py): ``audit.record(...)`` beside the work it records.

The admin page that reads it is ``academy/audit/views.py``, registered by the factory."""

from academy.audit.models import (
    ANONYMOUS,
    AppendOnlyError,
    AuditAction,
    AuditEvent,
    actor_label,
    record,
)

__all__ = ["ANONYMOUS", "AppendOnlyError", "AuditAction", "AuditEvent", "actor_label", "record"]
