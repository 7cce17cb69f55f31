"""Certificates on the web: the admin's pages for a course, the learner's download, and the
public verification page that anyone may use without an account.

The public pages answer one certificate at a time, by its code or its link's token, and never
list certificates; they are rate-limited per address. PDFs are always the stored bytes.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from academy.auth.permissions import can_issue_certificates, require
from academy.certificates import archives, codes, rendering, services
from academy.certificates.forms import (
    IssueForm,
    ReissueForm,
    RevokeForm,
    RutForm,
    UploadForm,
    ValidityForm,
    VerifyForm,
)
from academy.certificates.models import Certificate, CertificateStatus
from academy.certificates.rendering import CertificateTemplateError
from academy.errors import render_error
from academy.extensions import db, limiter
from academy.inputs import whole_number
from academy.progress import cohorts as progress_cohorts
from academy.progress import services as progress
from academy.progress.models import Cohort
from academy.security import opened_as_page

bp = Blueprint("certificates", __name__, template_folder="templates")

STATUS_LABELS = {
    "valid": _l("Válido"),
    "expired": _l("Vencido"),
    "revoked": _l("Revocado"),
    "superseded": _l("Reemplazado"),
}


@bp.app_template_filter("certificate_code")
def code_filter(code: str) -> str:
    return codes.display(code)


@bp.app_template_filter("certificate_status")
def status_filter(certificate: Certificate) -> str:
    return str(STATUS_LABELS[services.verdict(certificate)])


def _verify_limit() -> str:
    return str(current_app.config["CERTIFICATE_VERIFY_LIMIT"])


def _admin() -> services.Actor:
    return services.Actor(current_user._get_current_object())


def _pdf_response(certificate: Certificate) -> Response:
    response = send_file(
        BytesIO(services.pdf_of(certificate)),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"certificado-{codes.display(certificate.code)}.pdf",
        etag=certificate.pdf_sha256,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


# The admin's pages ---------------------------------------------------------------------------


@bp.get("/admin/cursos/<slug>/certificados")
@require(can_issue_certificates)
def course(slug: str) -> str:
    found = progress.get_course_for_admin(slug) or abort(404)
    return _course_page(found, ValidityForm(months=found.certificate_validity_months))


def _course_page(found: Any, validity_form: ValidityForm) -> str:
    return render_template(
        "certificates/course.html",
        course=found,
        certificates=services.of_course(found),
        eligible=services.eligible(found),
        issue_form=IssueForm(),
        reissue_form=ReissueForm(),
        validity_form=validity_form,
        cohorts=progress_cohorts.of_courses([found.id]),
    )


@bp.post("/admin/cursos/<slug>/certificados/vigencia")
@require(can_issue_certificates)
def validity(slug: str) -> Any:
    found = progress.get_course_for_admin(slug) or abort(404)
    form = ValidityForm()
    if form.validate_on_submit():
        try:
            services.set_validity(found, form.months.data)
        except services.CertificateError as error:
            form.months.errors = [str(error)]
        else:
            flash(
                _(
                    "Desde ahora, los certificados de este curso vencen %(months)d meses después "
                    "de terminarlo.",
                    months=found.certificate_validity_months,
                )
                if found.certificate_validity_months
                else _("Desde ahora, los certificados de este curso no vencen."),
                "success",
            )
            return redirect(url_for("certificates.course", slug=found.slug), 303)
    return _course_page(found, form), 422


@bp.post("/admin/cursos/<slug>/certificados/emitir")
@require(can_issue_certificates)
def issue(slug: str) -> Any:
    found = progress.get_course_for_admin(slug) or abort(404)
    back = url_for("certificates.course", slug=found.slug)
    form = IssueForm()
    if not form.validate_on_submit():
        return render_error(400, _("Elige a quién emitir el certificado."), back=back)
    try:
        user_id = whole_number(form.user_id.data or "")
    except ValueError:
        return render_error(400, _("Elige a quién emitir el certificado."), back=back)
    try:
        certificate = services.issue(found, user_id, by=_admin())
    except (services.CertificateError, CertificateTemplateError) as error:
        return render_error(409, str(error), back=back)
    flash(
        _(
            "Certificado %(code)s emitido a %(name)s.",
            code=codes.display(certificate.code),
            name=certificate.full_name,
        ),
        "success",
    )
    return redirect(back, 303)


def _certificate(certificate_id: int) -> Certificate:
    return services.by_id(certificate_id) or abort(404)


@bp.route("/admin/certificados/<int:certificate_id>/revocar", methods=["GET", "POST"])
@require(can_issue_certificates)
def revoke(certificate_id: int) -> Any:
    certificate = _certificate(certificate_id)
    form = RevokeForm()
    if certificate.status != CertificateStatus.VALID:
        return render_error(
            409,
            _("Este certificado ya no está vigente: no se puede revocar."),
            back=url_for("certificates.course", slug=certificate.course.slug),
        )
    if form.validate_on_submit():
        try:
            services.revoke(certificate, form.reason.data or "", by=_admin())
        except services.CertificateError as error:
            form.reason.errors = [str(error)]
        else:
            flash(
                _("Certificado %(code)s revocado.", code=codes.display(certificate.code)),
                "success",
            )
            return redirect(url_for("certificates.course", slug=certificate.course.slug), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("certificates/revoke.html", certificate=certificate, form=form), status


@bp.post("/admin/certificados/<int:certificate_id>/reemitir")
@require(can_issue_certificates)
def reissue(certificate_id: int) -> Any:
    certificate = _certificate(certificate_id)
    back = url_for("certificates.course", slug=certificate.course.slug)
    if not ReissueForm().validate_on_submit():
        return render_error(400, back=back)
    try:
        new = services.reissue(certificate, by=_admin())
    except (services.CertificateError, CertificateTemplateError) as error:
        return render_error(409, str(error), back=back)
    flash(
        _(
            "Certificado %(new)s emitido en reemplazo de %(old)s.",
            new=codes.display(new.code),
            old=codes.display(certificate.code),
        ),
        "success",
    )
    return redirect(back, 303)


def _not_opened_by_the_admin(back: str) -> Response | None:
    """A download goes in the audit record, so only the admin's own click counts: an image or
    script of some other page pointing here (Sec-Fetch-Dest) gets nothing and records nothing."""
    if opened_as_page():
        return None
    return render_error(
        400, _("Descarga los certificados desde la página de certificados del curso."), back=back
    )


@bp.get("/admin/certificados/<int:certificate_id>/pdf")
@require(can_issue_certificates)
def admin_download(certificate_id: int) -> Response:
    certificate = _certificate(certificate_id)
    refused = _not_opened_by_the_admin(url_for("certificates.course", slug=certificate.course.slug))
    if refused is not None:
        return refused
    services.record_download(certificate, by=_admin())
    return _pdf_response(certificate)


@bp.get("/admin/cursos/<slug>/certificados.zip")
@require(can_issue_certificates)
def course_zip(slug: str) -> Response:
    """The course's certificates in force, or its cohort's (``?cohorte=ID``), as one ZIP."""
    found = progress.get_course_for_admin(slug) or abort(404)
    back = url_for("certificates.course", slug=found.slug)
    cohort = None
    if request.args.get("cohorte"):
        try:
            cohort = db.session.get(Cohort, whole_number(request.args["cohorte"]))
        except ValueError:
            abort(404)
        if cohort is None or cohort.course_id != found.id:
            abort(404)
    refused = _not_opened_by_the_admin(back)
    if refused is not None:
        return refused
    certificates = archives.in_force(found, cohort)
    if not certificates:
        return render_error(
            404,
            _("Este grupo no tiene certificados vigentes que descargar.")
            if cohort
            else _("Este curso no tiene certificados vigentes que descargar."),
            back=back,
        )
    name = archives.archive_name(found, cohort)
    archive, size = archives.write(certificates, by=_admin(), archive=name)
    return Response(
        archives.chunks(archive),
        mimetype="application/zip",
        headers={
            # ASCII by construction (archives.archive_name).
            "Content-Disposition": f'attachment; filename="{name}"',
            "Content-Length": str(size),
            "Cache-Control": "private, no-store",
        },
    )


# Templates ------------------------------------------------------------------------------------


@bp.get("/admin/certificados/plantillas")
@require(can_issue_certificates)
def templates() -> str:
    return render_template("certificates/templates.html", templates=rendering.available())


@bp.get("/admin/certificados/plantillas/<name>/vista-previa")
@require(can_issue_certificates)
def preview(name: str) -> Any:
    """The template rendered with made-up data, shown in the browser; a template that cannot
    be rendered gets the list back with what is wrong, where."""
    if name not in rendering.available():
        abort(404)
    try:
        pdf = services.preview(name)
    except CertificateTemplateError as error:
        return render_template(
            "certificates/templates.html",
            templates=rendering.available(),
            broken=name,
            problem=str(error),
        ), 422
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="vista-previa-{name}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# The learner's download ----------------------------------------------------------------------


@bp.get("/mis-cursos/certificados/<int:certificate_id>/pdf")
@login_required
def my_certificate(certificate_id: int) -> Response:
    certificate = services.by_id(certificate_id)
    # Someone else's, revoked or replaced: as if it did not exist.
    if (
        certificate is None
        or certificate.user_id != current_user.id
        or certificate.status != CertificateStatus.VALID
    ):
        abort(404)
    return _pdf_response(certificate)


# Public verification -------------------------------------------------------------------------


def _page(form: VerifyForm | None = None, **context: Any) -> str:
    """The verification page, with its three ways in (code, RUT, file) and ``context``'s
    answer."""
    context.setdefault("rut_form", RutForm(formdata=None))
    context.setdefault("upload_form", UploadForm(formdata=None))
    return render_template(
        "certificates/verify.html", form=form or VerifyForm(formdata=None), **context
    )


@bp.get(codes.LOOKUP_PATH)
@limiter.shared_limit(_verify_limit, scope="certificate-verification")
def verify() -> Any:
    form = VerifyForm(request.args)
    if "codigo" not in request.args:
        return _page(form)
    if not form.validate():
        return _page(form), 422
    try:
        certificate = services.by_code(form.codigo.data or "")
    except codes.CodeError as error:
        form.codigo.errors = [
            _(
                "El código tiene un error de tipeo: revisa cada carácter (el último es un "
                "dígito de control)."
            )
            if error.typo
            else _(
                "Eso no es un código de certificado: tiene %(n)d caracteres, letras y números, "
                "como 7K3M-Q9XA-R2TZ.",
                n=codes.LENGTH,
            )
        ]
        return _page(form), 422
    return _verdict_page(certificate, form)


@bp.get(codes.VERIFY_PATH + "<token>")
@limiter.shared_limit(_verify_limit, scope="certificate-verification")
def verify_link(token: str) -> Any:
    return _verdict_page(services.by_token(token), VerifyForm(formdata=None))


def _verdict_page(certificate: Certificate | None, form: VerifyForm, **context: Any) -> Any:
    if certificate is None:
        return _page(form, not_found=True, **context), 404
    return _page(
        form,
        certificate=certificate,
        verdict=services.verdict(certificate),
        code=codes.display(certificate.code),
        successor=(
            codes.display(certificate.superseded_by.code) if certificate.superseded_by else None
        ),
        **context,
    )


@bp.post(codes.LOOKUP_PATH + "/archivo")
@limiter.shared_limit(_verify_limit, scope="certificate-verification")
def verify_upload() -> Any:
    """Is this file byte for byte a certificate the academy issued, and does its signature
    hold?"""
    form = UploadForm()
    if not form.validate_on_submit():
        return _page(upload_form=form), 422
    data = form.archivo.data.read()
    try:
        found = services.verify_file(data)
    except services.NotAPdf as error:
        form.archivo.errors = [str(error)]
        return _page(upload_form=form), 422
    if found.certificate is None:
        return _page(upload_form=form, upload_rejected=True), 404
    return _verdict_page(found.certificate, VerifyForm(formdata=None), signature=found.signature)


@bp.get(codes.LOOKUP_PATH + "/rut")
@limiter.shared_limit(_verify_limit, scope="certificate-verification")
def verify_rut() -> Any:
    """A person's certificates, by the RUT printed on them; the RUT is shown masked."""
    form = RutForm(request.args)
    if not form.validate():
        return _page(rut_form=form), 422
    try:
        compact, found = services.by_rut(form.rut.data or "")
    except services.BadRut as error:
        form.rut.errors = [str(error)]
        return _page(rut_form=form), 422
    page = _page(
        rut_form=RutForm(formdata=None),  # the page shows the RUT masked, not in the box
        rut_masked=services.mask_rut(compact),
        rut_certificates=[(c, services.verdict(c)) for c in found],
    )
    return page, 200 if found else 404
