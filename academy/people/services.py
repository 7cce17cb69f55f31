"""Admin operations on accounts."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select
from stdnum.cl import rut as rut_number

from academy import audit, comunas
from academy.auth.models import Role, User
from academy.extensions import db

PAGE_SIZE = 50


STATUSES = {"activa": True, "desactivada": False}


@dataclass(frozen=True)
class Filters:
    """What the admin asked for in the list of people (and its CSV export)."""

    query: str = ""
    role: str = ""
    comuna: str = ""  # CUT code
    region: str = ""  # region code
    status: str = ""  # "activa" or "desactivada"

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        """From a query string; values that are not among the choices are ignored."""
        role = args.get("rol", "")
        comuna = args.get("comuna", "")
        region = args.get("region", "")
        status = args.get("estado", "")
        return cls(
            query=args.get("q", "")[:100],
            role=role if role in {r.value for r in Role} else "",
            comuna=comuna if comunas.get(comuna) else "",
            region=region if region in comunas.REGION_ORDER else "",
            status=status if status in STATUSES else "",
        )

    def args(self) -> dict[str, str]:
        """The query string that asks for these filters (for the pager and the export)."""
        names = {
            "q": self.query,
            "rol": self.role,
            "comuna": self.comuna,
            "region": self.region,
            "estado": self.status,
        }
        return {name: value for name, value in names.items() if value}


def search(filters: Filters | str = "", role: str = "") -> Select[tuple[User]]:
    """People matching the filters, by name. The text matches name, email or RUT (written
    with or without dots and dash)."""
    if isinstance(filters, str):
        filters = Filters(query=filters, role=role)
    statement = select(User).order_by(User.full_name, User.id)
    text = filters.query.strip()
    if text:
        lowered = text.lower()
        matches = [
            func.lower(User.full_name).contains(lowered, autoescape=True),
            User.email.contains(lowered, autoescape=True),
        ]
        rut = rut_number.compact(text) if RUT_LIKE.fullmatch(text) else ""
        if rut:
            matches.append(User.rut.startswith(rut, autoescape=True))
        statement = statement.where(or_(*matches))
    if filters.role:
        statement = statement.where(User.role == filters.role)
    if filters.comuna:
        statement = statement.where(User.comuna_cut == filters.comuna)
    elif filters.region:
        in_region = [
            comuna.cut
            for comuna in comunas.all_comunas().values()
            if comuna.region_code == filters.region
        ]
        statement = statement.where(User.comuna_cut.in_(in_region))
    if filters.status:
        statement = statement.where(User.active.is_(STATUSES[filters.status]))
    return statement


# Digits with dots, a dash and a check digit: "12.345.678-5", "12345678", "12345678-k".
RUT_LIKE = re.compile(r"[0-9][0-9.]*-?[0-9kK]?")


EXPORT_COLUMNS = (
    "correo",
    "nombre",
    "rut",
    "comuna",
    "cargo",
    "region",
    "rol",
    "estado",
    "creada",
    "ultimo_ingreso",
)


def export_rows(filters: Filters) -> Iterator[list[str]]:
    """The people of the list as CSV rows, read from the database a batch at a time. The first
    five columns are the import's: the file can be edited and imported back."""
    statement = search(filters).execution_options(yield_per=500)
    for user in db.session.scalars(statement):
        comuna = comunas.get(user.comuna_cut)
        yield [
            user.email,
            user.full_name,
            user.rut_display or "",
            comuna.name if comuna else "",
            user.job_title or "",
            comuna.region if comuna else "",
            user.role,
            "activa" if user.active else "desactivada",
            user.created_at.strftime("%Y-%m-%d %H:%M"),
            user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "",
        ]


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
