"""A CSV of people uploaded by an admin, kept between its dry run and its confirmation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from academy.db import utcnow
from academy.extensions import db


class PeopleImport(db.Model):  # type: ignore[name-defined,misc]
    """The uploaded file lives in the database, not on one host's disk: the dry run and the
    confirmation may reach different app servers. The admin confirms this id and this hash,
    so what is imported is byte for byte what the dry run showed. Once imported, the file's
    bytes (personal data) are dropped; the record of what was done stays."""

    __tablename__ = "people_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    applied_at: Mapped[datetime | None]
    created_count: Mapped[int | None]
    updated_count: Mapped[int | None]
    # The people it created, to invite, and how many of them have their invitation queued:
    # the job that writes the invitations resumes there if it is stopped half-way.
    invite_user_ids: Mapped[list[int] | None] = mapped_column(JSON)
    invited: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<PeopleImport {self.id} {self.filename!r}>"
