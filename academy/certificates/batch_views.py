"""The admin's pages for issuing a course's (or a cohort's) certificates at once, in the
background, and for issuing them automatically on completion.

The list of eligible learners is shown first; the admin confirms it (POST, CSRF) and a job
issues them (academy/certificates/batches.py) while a progress page follows it. The page works
without JavaScript (an "Actualizar" link); a script, served from static/ as the CSP requires,
polls a small JSON answer and updates the bar.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectMultipleField
from wtforms.validators import DataRequired
from wtforms.widgets import CheckboxInput, ListWidget

from academy.auth.permissions import can_issue_certificates, require
from academy.certificates import batches, services
from academy.certificates.models import BatchStatus, CertificateBatch
from academy.courses.models import Course
from academy.errors import render_error
from academy.extensions import db
from academy.inputs import whole_number
from academy.progress import cohorts as progress_cohorts
from academy.progress import services as progress
from academy.progress.models import Cohort

bp = Blueprint("certificate_batches", __name__, template_folder="templates")

progress.register_completion_listener(batches.on_completion)


class BatchForm(FlaskForm):
    cohort_id = HiddenField()
    user_ids = SelectMultipleField(
        coerce=int,
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
        validate_choice=False,  # the service checks each against the eligible list
        validators=[DataRequired()],
    )


class AutomaticForm(FlaskForm):
    automatic = BooleanField(_l("Emitir el certificado automáticamente al terminar el curso"))


def _course(slug: str) -> Course:
    return progress.get_course_for_admin(slug) or abort(404)


def _cohort(course: Course, raw: str | None) -> Cohort | None:
    """The cohort chosen (by id), if any; 404 for one that is not the course's."""
    if not raw:
        return None
    try:
        cohort_id = whole_number(raw)
    except ValueError:
        abort(404)
    cohort = db.session.get(Cohort, cohort_id)
    if cohort is None or cohort.course_id != course.id:
        abort(404)
    return cohort


@bp.get("/admin/cursos/<slug>/certificados/lote")
@require(can_issue_certificates)
def confirm(slug: str) -> str:
    course = _course(slug)
    cohort = _cohort(course, request.args.get("cohorte"))
    return _confirm_page(course, cohort, BatchForm(formdata=None))


def _confirm_page(course: Course, cohort: Cohort | None, form: BatchForm) -> str:
    return render_template(
        "certificates/batch_confirm.html",
        course=course,
        cohort=cohort,
        cohorts=progress_cohorts.of_courses([course.id]),
        eligible=batches.eligible(course, cohort),
        form=form,
    )


@bp.post("/admin/cursos/<slug>/certificados/lote")
@require(can_issue_certificates)
def start(slug: str) -> Any:
    course = _course(slug)
    form = BatchForm()
    cohort = _cohort(course, form.cohort_id.data)
    back = url_for(".confirm", slug=course.slug, cohorte=cohort.id if cohort else None)
    if not form.validate_on_submit():
        return render_error(400, _("Elige a quién emitir los certificados."), back=back)
    try:
        batch = batches.create(
            course,
            form.user_ids.data or [],
            cohort=cohort,
            by=services.Actor(current_user._get_current_object()),
        )
    except batches.BatchError as error:
        flash(str(error), "error")
        return _confirm_page(course, cohort, BatchForm(formdata=None)), 409
    return redirect(url_for(".progress_page", batch_id=batch.id), 303)


def _batch(batch_id: int) -> CertificateBatch:
    return batches.get(batch_id) or abort(404)


@bp.get("/admin/certificados/lotes/<int:batch_id>")
@require(can_issue_certificates)
def progress_page(batch_id: int) -> str:
    batch = _batch(batch_id)
    return render_template("certificates/batch.html", batch=batch, done=_is_done(batch))


@bp.get("/admin/certificados/lotes/<int:batch_id>/estado")
@require(can_issue_certificates)
def status(batch_id: int) -> dict[str, Any]:
    batch = _batch(batch_id)
    return {
        "status": batch.status,
        "done": _is_done(batch),
        "total": batch.total,
        "position": batch.position,
        "percent": batch.percent,
        "issued": batch.issued,
        "skipped": batch.skipped,
        "failed": batch.failed,
    }


def _is_done(batch: CertificateBatch) -> bool:
    return batch.status == BatchStatus.DONE


@bp.post("/admin/cursos/<slug>/certificados/automatico")
@require(can_issue_certificates)
def automatic(slug: str) -> Any:
    course = _course(slug)
    form = AutomaticForm()
    back = url_for("certificates.course", slug=course.slug)
    if not form.validate_on_submit():
        return render_error(400, back=back)
    batches.set_automatic(course, bool(form.automatic.data))
    flash(
        _("Desde ahora, quien termine el curso recibe su certificado automáticamente.")
        if course.certificate_automatic
        else _("Desde ahora, los certificados de este curso se emiten a mano."),
        "success",
    )
    return redirect(back, 303)
