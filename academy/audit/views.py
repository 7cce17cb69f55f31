"""The audit log's page for admins: newest first, filtered by person, action and dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select

from academy.audit.models import AuditAction, AuditEvent
from academy.auth.models import ROLE_LABELS
from academy.auth.permissions import can_read_audit_log, require
from academy.pagination import paginate

bp = Blueprint("audit", __name__, url_prefix="/admin/auditoria", template_folder="templates")

PAGE_SIZE = 50
MAX_QUERY = 100

ACTION_LABELS = {
    AuditAction.SIGN_IN_FAILED: _l("Inicio de sesión fallido"),
    AuditAction.PERSON_CREATED: _l("Cuenta creada"),
    AuditAction.ROLE_CHANGED: _l("Cambio de rol"),
    AuditAction.PERSON_DEACTIVATED: _l("Cuenta desactivada"),
    AuditAction.PERSON_REACTIVATED: _l("Cuenta reactivada"),
    AuditAction.PEOPLE_IMPORTED: _l("Importación de personas"),
    AuditAction.COURSE_PUBLISHED: _l("Curso publicado"),
    AuditAction.LESSON_PUBLISHED: _l("Lección publicada"),
    AuditAction.QUIZ_PUBLISHED: _l("Cuestionario publicado"),
    AuditAction.ENROLLED: _l("Inscripción"),
    AuditAction.COHORT_CREATED: _l("Grupo creado"),
    AuditAction.COHORT_RENAMED: _l("Grupo renombrado"),
    AuditAction.COHORT_CLOSED: _l("Grupo cerrado"),
    AuditAction.COHORT_REOPENED: _l("Grupo reabierto"),
    AuditAction.COHORT_ARCHIVED: _l("Grupo archivado"),
    AuditAction.COHORT_RESTORED: _l("Grupo restaurado"),
    AuditAction.COHORT_TRAINER_ADDED: _l("Relator asignado a un grupo"),
    AuditAction.COHORT_TRAINER_REMOVED: _l("Relator quitado de un grupo"),
    AuditAction.COHORT_JOINED: _l("Inscripción en un grupo"),
    AuditAction.CERTIFICATE_ISSUED: _l("Certificado emitido"),
    AuditAction.CERTIFICATE_REVOKED: _l("Certificado revocado"),
    AuditAction.CERTIFICATE_REISSUED: _l("Certificado reemitido"),
    AuditAction.CERTIFICATE_DOWNLOADED: _l("Certificado descargado"),
    AuditAction.DATA_EXPORTED: _l("Exportación de datos personales"),
}

# The detail's keys and some of its values, as admins read them; others are shown as stored.
DETAIL_LABELS = {
    "reason": _l("Motivo"),
    "before": _l("Antes"),
    "after": _l("Después"),
    "course": _l("Curso"),
    "group": _l("Grupo"),
    "trainer": _l("Relator"),
    "lesson": _l("Lección"),
    "revision": _l("Revisión"),
    "code": _l("Código"),
    "new_code": _l("Código nuevo"),
    "replaces": _l("Reemplaza a"),
    "archive": _l("Archivo"),
    "report": _l("Informe"),
    "filters": _l("Filtros"),
    "role": _l("Rol"),
    "created": _l("Creadas"),
    "updated": _l("Actualizadas"),
    "unchanged": _l("Sin cambios"),
    "sha256": _l("SHA-256"),
    "people_import": _l("Importación n.º"),
    "cohort": _l("Cohorte n.º"),
    "via": _l("Origen"),
}
VALUE_LABELS = {
    "bad-credentials": _l("correo o contraseña incorrectos"),
    "inactive": _l("cuenta desactivada"),
    "import": _l("importación de archivos"),
    **ROLE_LABELS,
}


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_shown(item)}" for key, item in value.items()) or "—"
    return str(VALUE_LABELS.get(str(value), value))


def detail_items(event: AuditEvent) -> list[tuple[str, str]]:
    """The event's detail as (label, text) pairs, in Spanish where the key is known."""
    return [
        (str(DETAIL_LABELS.get(key, key)), _shown(value)) for key, value in event.detail.items()
    ]


@dataclass(frozen=True)
class Filters:
    person: str = ""
    action: str = ""
    since: date | None = None
    until: date | None = None

    def args(self) -> dict[str, str]:
        """The query string that asks for these filters (for the pager)."""
        names = {
            "persona": self.person,
            "accion": self.action,
            "desde": self.since.isoformat() if self.since else "",
            "hasta": self.until.isoformat() if self.until else "",
        }
        return {name: value for name, value in names.items() if value}


def read_filters(args: Any) -> tuple[Filters, list[str]]:
    """The filters from the query string, and what was wrong with it (in Spanish). An unknown
    action or an unreadable date is named and left out, never an error page."""
    errors: list[str] = []
    action = args.get("accion", "")
    if action and action not in set(AuditAction):
        errors.append(_("Esa acción no existe: elige una de la lista."))
        action = ""
    dates: dict[str, date | None] = {}
    for name, label in (("desde", _("Desde")), ("hasta", _("Hasta"))):
        value = args.get(name, "").strip()
        dates[name] = None
        if value:
            try:
                dates[name] = date.fromisoformat(value)
            except ValueError:
                errors.append(
                    _("«%(field)s» no es una fecha: escríbela como AAAA-MM-DD.", field=label)
                )
    since, until = dates["desde"], dates["hasta"]
    if since and until and since > until:
        errors.append(_("La fecha «Desde» es posterior a «Hasta»."))
        since = until = None
    person = " ".join(args.get("persona", "").split())[:MAX_QUERY]
    return Filters(person=person, action=action, since=since, until=until), errors


def _start_of(day: date) -> datetime:
    """The first instant of ``day`` where the academy is (its configured time zone; Babel
    gives a pytz zone, whose name ZoneInfo reads)."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(str(get_timezone())))


def events(filters: Filters) -> Select[tuple[AuditEvent]]:
    """The events the filters ask for, newest first. The person is matched, as part of an
    email or name, against who acted and what it was done to."""
    statement = select(AuditEvent).order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    if filters.person:
        # autoescape: a "%" or "_" typed is matched as itself, not as a wildcard.
        text = filters.person.lower()
        statement = statement.where(
            or_(
                func.lower(AuditEvent.actor).contains(text, autoescape=True),
                func.lower(AuditEvent.target_label).contains(text, autoescape=True),
            )
        )
    if filters.action:
        statement = statement.where(AuditEvent.action == filters.action)
    if filters.since:
        statement = statement.where(AuditEvent.occurred_at >= _start_of(filters.since))
    if filters.until:
        statement = statement.where(
            AuditEvent.occurred_at < _start_of(filters.until + timedelta(days=1))
        )
    return statement


@bp.get("/")
@require(can_read_audit_log)
def index() -> tuple[str, int]:
    filters, errors = read_filters(request.args)
    page = paginate(events(filters), per_page=PAGE_SIZE)
    return render_template(
        "audit/index.html",
        page=page,
        filters=filters,
        errors=errors,
        action_labels=ACTION_LABELS,
        actions=[(action.value, ACTION_LABELS.get(action, action.value)) for action in AuditAction],
        detail_items=detail_items,
    ), 400 if errors else 200
