"""Admins see the mail that could not be sent (academy/outbox.py) and ask for it to be sent
again. Only who it was for, its subject and what went wrong: never its body, which may hold a
password-reset link."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from academy import outbox
from academy.auth.permissions import can_manage_mail, require
from academy.jobs import UNREACHABLE
from academy.outbox import MailStatus
from academy.pagination import paginate

bp = Blueprint(
    "outbox", __name__, url_prefix="/admin/correo-no-enviado", template_folder="templates"
)

PAGE_SIZE = 50

STATUS_LABELS = {
    MailStatus.QUEUED: _l("En espera"),
    MailStatus.SENDING: _l("Enviándose"),
    MailStatus.FAILED: _l("No se pudo enviar"),
}


@bp.get("/")
@require(can_manage_mail)
def index() -> str:
    return render_template(
        "outbox/index.html",
        page=paginate(outbox.unsent(), per_page=PAGE_SIZE),
        status_labels=STATUS_LABELS,
        max_attempts=outbox.MAX_ATTEMPTS,
    )


@bp.post("/reintentar")
@require(can_manage_mail)
def retry() -> Any:
    """Enqueue the worker's retry (the job that runs every five minutes) now."""
    try:
        outbox.retry_mail()
    except UNREACHABLE as error:
        current_app.logger.warning("could not enqueue the mail retry: %s", error)
        flash(
            _(
                "No pudimos pedir el reintento ahora. El sistema vuelve a intentarlo solo "
                "cada cinco minutos."
            ),
            "error",
        )
    else:
        flash(
            _(
                "Pedimos reintentar el envío del correo pendiente. Vuelve a esta página en "
                "unos minutos para ver el resultado."
            ),
            "success",
        )
    return redirect(url_for(".index"), 303)
