"""Admin operations on accounts."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select

from academy import audit
from academy.auth.models import Role, User
from academy.extensions import db

PAGE_SIZE = 50


def search(query: str = "", role: str = "") -> Select[tuple[User]]:
    statement = select(User).order_by(User.full_name, User.id)
    if query:
        pattern = f"%{query.strip().lower()}%"
        statement = statement.where(
            or_(func.lower(User.full_name).like(pattern), User.email.like(pattern))
        )
    if role in {r.value for r in Role}:
        statement = statement.where(User.role == role)
    return statement


def lock_active_admins() -> set[int]:
    """The active admins, their rows locked until the transaction ends.

    Two admins demoting each other at the same moment would each count two admins and leave
    none. Locking every active admin's row before counting makes the second request wait for
    the first to commit and then count again (PostgreSQL re-reads a locked row once it is
    released, so an admin demoted meanwhile is no longer counted). SQLite lets one writer at
    a time, and write transactions take the lock up front (``academy/db.py``).
    """
    statement = (
        select(User.id)
        .where(User.role == Role.ADMIN.value, User.active)
        .order_by(User.id)  # always in the same order: two lockers cannot deadlock
        .with_for_update(key_share=True)
    )
    return set(db.session.scalars(statement))


def update_account(actor: User, person: User, *, role: str, active: bool) -> str | None:
    """Change a person's role and status; the reason it cannot be done, or None."""
    if person.id == actor.id and not active:
        return _("No puedes desactivar tu propia cuenta.")
    if person.is_admin and (role != Role.ADMIN or not active):
        admins = lock_active_admins()
        if person.id in admins and len(admins) <= 1:
            return _("Debe quedar al menos una cuenta de administración activa.")
    role = Role(role).value
    target = {"target_type": "user", "target_id": person.id, "target_label": person.email}
    if person.role != role:
        audit.record(
            audit.AuditAction.ROLE_CHANGED, actor=actor, **target, before=person.role, after=role
        )
    if person.active != active:
        action = (
            audit.AuditAction.PERSON_REACTIVATED if active else audit.AuditAction.PERSON_DEACTIVATED
        )
        audit.record(action, actor=actor, **target)
    person.role = role
    if person.active and not active:
        person.session_version += 1  # signs the person out everywhere
    person.active = active
    return None
