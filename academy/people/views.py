"""Admins manage people: find them, change their role, deactivate or reactivate them, import
them from a CSV file (upload, dry run, confirm) and export them as CSV."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from academy import audit, comunas, csvio
from academy.auth.models import User
from academy.auth.permissions import can_manage_people, require
from academy.db import Taken, unique_or_taken, utcnow
from academy.errors import render_error
from academy.extensions import db
from academy.pagination import paginate
from academy.people import imports, services
from academy.people.forms import ROLE_LABELS, ConfirmImportForm, ImportForm, PersonForm
from academy.people.imports import Outcome

bp = Blueprint("people", __name__, url_prefix="/admin/personas", template_folder="templates")


@bp.url_value_preprocessor
def _request_limits(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    # Before every before_request function (CSRFProtect's reads the body first): an upload of
    # people may be larger than other requests; beyond its own limit it is refused unread.
    if endpoint == "people.import_upload":
        request.max_content_length = current_app.config["PEOPLE_IMPORT_MAX_BYTES"] + FORM_SLACK


# The multipart wrapping around the file (boundary, headers, the CSRF token).
FORM_SLACK = 16 * 1024


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error: RequestEntityTooLarge) -> Any:
    if request.endpoint != "people.import_upload" or not can_manage_people(current_user):
        return render_error(413)
    form = ImportForm(formdata=None)
    form.file.errors = [_too_large_message()]
    return render_template("people/import.html", form=form), 413


def _too_large_message() -> str:
    limit = current_app.config["PEOPLE_IMPORT_MAX_BYTES"]
    return _(
        "El archivo pesa más de %(mb)s MB, el máximo permitido. Divídelo en varios archivos "
        "y súbelos uno a la vez.",
        mb=format_decimal(round(limit / 1024 / 1024, 1)),
    )


@bp.get("/")
@require(can_manage_people)
def index() -> str:
    filters = services.Filters.from_args(request.args)
    page = paginate(services.search(filters), per_page=services.PAGE_SIZE)
    return render_template(
        "people/index.html",
        page=page,
        filters=filters,
        role_labels=ROLE_LABELS,
        comunas_by_region=comunas.choices_by_region(),
        regions=_regions(),
        comunas=comunas,
    )


def _regions() -> list[tuple[str, str]]:
    names = {c.region_code: c.region for c in comunas.all_comunas().values()}
    return [(code, names[code]) for code in comunas.REGION_ORDER]


@bp.get("/exportar.csv")
@require(can_manage_people)
def export() -> Response:
    """The list as filtered, as CSV; an export of personal data, so it is audited."""
    filters = services.Filters.from_args(request.args)
    audit.record(
        audit.AuditAction.DATA_EXPORTED,
        actor=_me(),
        target_type="people",
        target_label=_("Personas"),
        report="personas",
        filters=filters.args(),
    )
    # The event commits when the view returns (the request's commit), before the first row.
    day = utcnow().strftime("%Y-%m-%d")
    return csvio.csv_response(
        f"personas-{day}.csv", services.EXPORT_COLUMNS, services.export_rows(filters)
    )


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


# Import from CSV --------------------------------------------------------------------------


@bp.route("/importar", methods=["GET", "POST"])
@require(can_manage_people)
def import_upload() -> Any:
    """Step 1: upload the file; it is kept in the database, and the dry run is shown next."""
    form = ImportForm()
    if form.validate_on_submit():
        data = form.file.data.read()
        if not data.strip():
            form.file.errors.append(_("El archivo está vacío."))
        else:
            upload = imports.store(data, form.file.data.filename or "", actor=_me())
            return redirect(url_for("people.import_review", import_id=upload.id), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("people/import.html", form=form), status


@bp.get("/importar/<int:import_id>")
@require(can_manage_people)
def import_review(import_id: int) -> Any:
    """Step 2: the dry run, every row and every problem; confirm if there are no errors."""
    upload = imports.pending(import_id, _me()) or abort(404)
    if upload.applied_at is not None or upload.content is None:
        return render_template("people/import_done.html", upload=upload)
    report = imports.check(upload.content)
    form = ConfirmImportForm(formdata=None, sha256=upload.sha256)
    return render_template(
        "people/import_review.html", upload=upload, report=report, form=form, Outcome=Outcome
    )


@bp.post("/importar/<int:import_id>")
@require(can_manage_people)
def import_confirm(import_id: int) -> Any:
    """Step 3: import the file the admin reviewed (its id and hash), all rows or none."""
    upload = imports.pending(import_id, _me()) or abort(404)
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        done = imports.confirm(upload, form.sha256.data, actor=_me())
    except imports.ImportRefused as refused:  # nothing was written; the 422 rolls back
        flash(
            _("No se importó nada: el archivo tiene errores. Corrígelos y vuelve a subirlo."),
            "error",
        )
        return render_template(
            "people/import_review.html",
            upload=upload,
            report=refused.report,
            form=form,
            Outcome=Outcome,
        ), 422
    if done is None:
        flash(_("Este archivo ya se importó o cambió; súbelo de nuevo."), "error")
        return redirect(url_for("people.import_upload"), 303)
    _report, applied = done
    audit.record(
        audit.AuditAction.PEOPLE_IMPORTED,
        actor=_me(),
        target_type="people_import",
        target_id=upload.id,
        target_label=upload.filename,
        created=applied.created,
        updated=applied.updated,
        unchanged=applied.unchanged,
        sha256=upload.sha256,
    )
    flash(
        _(
            "Importación lista: %(created)s personas nuevas (les enviamos un correo para "
            "elegir su contraseña), %(updated)s actualizadas y %(unchanged)s sin cambios.",
            created=applied.created,
            updated=applied.updated,
            unchanged=applied.unchanged,
        ),
        "success",
    )
    return redirect(url_for("people.index"), 303)


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@require(can_manage_people)
def edit(user_id: int) -> Any:
    person = db.session.get(User, user_id) or abort(404)
    form = PersonForm(
        user_id=person.id,
        data={
            "full_name": person.full_name,
            "email": person.email,
            "rut": person.rut_display,
            "comuna": person.comuna_cut or "",
            "job_title": person.job_title,
            "role": person.role,
            "active": person.active,
        },
    )
    if form.validate_on_submit():
        try:
            with unique_or_taken():
                person.full_name = form.full_name.data
                person.email = form.email.data
                person.rut = form.rut.data
                person.comuna_cut = form.comuna.data
                person.job_title = form.job_title.data or None
        except Taken:
            form.taken_now()  # another account took the email or RUT since the check
        else:
            # A refusal answers 422, and the request's changes are rolled back with it.
            problem = services.update_account(
                _me(), person, role=form.role.data, active=form.active.data
            )
            if problem is None:
                flash(_("Guardamos los cambios de %(name)s.", name=person.full_name), "success")
                return redirect(url_for("people.edit", user_id=person.id))
            form.form_errors.append(problem)
    status = 422 if form.is_submitted() else 200
    return render_template(
        "people/edit.html", form=form, person=person, comuna=comunas.get(person.comuna_cut)
    ), status
