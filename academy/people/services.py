"""Admin operations on accounts."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select

from academy.auth import services as accounts
from academy.auth.models import Role, User

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


def update_account(actor: User, person: User, *, role: str, active: bool) -> str | None:
    """Change a person's role and status; the reason it cannot be done, or None."""
    losing_admin = person.is_admin and (role != Role.ADMIN or not active)
    if losing_admin and person.active and accounts.count_admins() <= 1:
        return _("Debe quedar al menos una cuenta de administración activa.")
    if person.id == actor.id and not active:
        return _("No puedes desactivar tu propia cuenta.")
    person.role = Role(role).value
    if person.active and not active:
        person.session_version += 1  # signs the person out everywhere
    person.active = active
    return None
