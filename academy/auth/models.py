"""People who use the academy, and what they may do."""

from __future__ import annotations

import enum
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column, validates
from stdnum.cl import rut as rut_number
from werkzeug.security import check_password_hash, generate_password_hash

from academy.db import utcnow
from academy.extensions import db
from academy.i18n import lazy_gettext as _l


class Role(enum.StrEnum):
    LEARNER = "learner"
    TRAINER = "trainer"
    ADMIN = "admin"


# A role's name as people read it (the people pages and the audit log).
ROLE_LABELS = {
    "learner": _l("Participante"),
    "trainer": _l("Relator o relatora"),
    "admin": _l("Administración"),
}


class User(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('learner', 'trainer', 'admin')", name="role_known"),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        # No RUT is NULL: the column is unique, and many people have none but only one ''.
        CheckConstraint("rut IS NULL OR rut <> ''", name="rut_not_blank"),
        # Lists of people (Personas, rosters) are by name, a page at a time.
        Index("ix_users_full_name_id", "full_name", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Printed on certificates exactly as written here.
    full_name: Mapped[str] = mapped_column(String(120))
    # Compact form (digits and check digit, no dots or dash), validated with python-stdnum.
    rut: Mapped[str | None] = mapped_column(String(12), unique=True)
    # Código Único Territorial of the comuna, from academy/data/comunas-cut.csv.
    comuna_cut: Mapped[str | None] = mapped_column(String(5))
    job_title: Mapped[str | None] = mapped_column(String(120))
    locale: Mapped[str | None] = mapped_column(String(5))
    role: Mapped[str] = mapped_column(String(16), default=Role.LEARNER.value)
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped when the password changes: every session and remember-me cookie that carries
    # the old value stops being valid.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # When the owner of the address proved it (the link mailed at registration, or a password
    # reset). Until then the account cannot sign in. Accounts made by an admin or the CLI are
    # confirmed from the start.
    email_confirmed_at: Mapped[datetime | None]

    @validates("rut", "job_title")
    def _blank_is_null(self, _key: str, value: str | None) -> str | None:
        # Whatever the caller (form, CLI, import), an absent optional value is stored as NULL.
        return (value.strip() or None) if isinstance(value, str) else value

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"

    # Flask-Login -------------------------------------------------------------------------
    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    # Roles -------------------------------------------------------------------------------
    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_trainer(self) -> bool:
        """Trainers and admins: everyone who may author content and review work."""
        return self.role in (Role.TRAINER, Role.ADMIN)

    # Passwords ---------------------------------------------------------------------------
    def set_password(self, password: str) -> None:
        # scrypt by default: a memory-hard KDF with a per-hash random salt.
        method = current_app.config["PASSWORD_HASH_METHOD"]
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def rut_display(self) -> str | None:
        return rut_number.format(self.rut) if self.rut else None
