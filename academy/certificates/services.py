"""Issuing, revoking, re-issuing and finding certificates. No Flask request in here.

Issuance is refused, with a message that says why, to a learner who has not completed the
course (read on the enrolment's locked row) and to one who already holds a valid certificate
for it (the database's partial unique index has the last word). The PDF is rendered once,
here, and stored with its SHA-256; every issue, revocation, re-issue and admin download adds a
line to the audit record. Callers commit (academy/db.py).
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import json
import secrets
from calendar import monthrange
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from stdnum.cl import rut as rut_number
from stdnum.exceptions import ValidationError

from academy import audit, comunas, config
from academy.auth.models import User
from academy.certificates import codes, emails, rendering, signing

# The verification links are made beside the codes (the emails need them too); they stay part
# of this module's interface.
from academy.certificates.codes import LOOKUP_PATH as LOOKUP_PATH
from academy.certificates.codes import VERIFY_PATH as VERIFY_PATH
from academy.certificates.codes import lookup_url, verification_url
from academy.certificates.models import Certificate, CertificateStatus
from academy.courses.models import Course, Lesson, LessonRevision, Unit
from academy.db import utcnow
from academy.extensions import db
from academy.inputs import is_one_line
from academy.progress.models import Enrolment

MAX_REASON = 500
CERTIFICATE_LANGUAGE = "es"
# How the audit log names a certificate as the target of an event.
CERTIFICATE_TARGET = "certificate"


class CertificateError(Exception):
    """Issuing or revoking was refused; ``str(error)`` says why, for the person who asked."""


class NotEligible(CertificateError):
    pass


class AlreadyIssued(CertificateError):
    pass


class NotValid(CertificateError):
    pass


# Who acted -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """An admin's account, the command line (no account), or the academy itself (``system``:
    a certificate issued automatically on completion)."""

    user: User | None
    system: str | None = None

    @property
    def id(self) -> int | None:
        return self.user.id if self.user is not None else None

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.email
        if self.system is not None:
            return self.system
        return f"cli:{getpass.getuser()}"


def _record(certificate: Certificate, action: audit.AuditAction, by: Actor, **detail: Any) -> None:
    audit.record(
        action,
        actor=by.user,
        actor_name=by.label,
        target_type=CERTIFICATE_TARGET,
        target_id=certificate.id,
        target_label=certificate.code,
        **detail,
    )


def events_of(certificate: Certificate) -> list[audit.AuditEvent]:
    """The certificate's history in the audit log, oldest first."""
    return list(
        db.session.scalars(
            select(audit.AuditEvent)
            .where(
                audit.AuditEvent.target_type == CERTIFICATE_TARGET,
                audit.AuditEvent.target_id == certificate.id,
            )
            .order_by(audit.AuditEvent.id)
        )
    )


# The course as it was ------------------------------------------------------------------------


def course_version(course: Course) -> tuple[str, dict[str, int]]:
    """The published revision of each live lesson ({slug: number}) and a digest of them."""
    rows = db.session.execute(
        select(Lesson.id, Lesson.slug, LessonRevision.id, LessonRevision.number)
        .join(Unit, Unit.id == Lesson.unit_id)
        .join(LessonRevision, LessonRevision.id == Lesson.published_revision_id)
        .where(Lesson.course_id == course.id, Lesson.retired_at.is_(None))
        .where(Unit.retired_at.is_(None))
        .order_by(Lesson.id)
    ).all()
    revisions = {slug: number for _id, slug, _rev, number in rows}
    identity = [[course.id, course.hours, course.title]] + [[lid, rev] for lid, _s, rev, _n in rows]
    digest = hashlib.sha256(json.dumps(identity, ensure_ascii=False).encode()).hexdigest()
    return digest, revisions


# Eligibility ---------------------------------------------------------------------------------


def eligible(course: Course) -> list[Enrolment]:
    """Learners who completed the course and hold no valid certificate for it."""
    certified = select(Certificate.user_id).where(
        Certificate.course_id == course.id, Certificate.status == CertificateStatus.VALID.value
    )
    return list(
        db.session.scalars(
            select(Enrolment)
            .join(User, User.id == Enrolment.user_id)
            .where(
                Enrolment.course_id == course.id,
                Enrolment.completed_at.is_not(None),
                Enrolment.user_id.not_in(certified),
            )
            .options(selectinload(Enrolment.user))
            .order_by(User.full_name, User.id)
        )
    )


def _locked_completion(user_id: int, course: Course) -> Enrolment:
    """The learner's enrolment, locked until the transaction ends, if they completed."""
    enrolment = db.session.scalar(
        select(Enrolment)
        .where(Enrolment.user_id == user_id, Enrolment.course_id == course.id)
        .with_for_update()
    )
    if enrolment is None:
        raise NotEligible(_("Esta persona no está inscrita en el curso."))
    if enrolment.completed_at is None:
        raise NotEligible(
            _("Esta persona todavía no termina el curso: no se le puede emitir un certificado.")
        )
    return enrolment


def valid_certificate(user_id: int, course_id: int) -> Certificate | None:
    return db.session.scalar(
        select(Certificate).where(
            Certificate.user_id == user_id,
            Certificate.course_id == course_id,
            Certificate.status == CertificateStatus.VALID.value,
        )
    )


# Issuing -------------------------------------------------------------------------------------


def _long_date(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    zone = current_app.config.get("BABEL_DEFAULT_TIMEZONE", "UTC")
    return format_date(moment.astimezone(ZoneInfo(zone)), "long", locale=CERTIFICATE_LANGUAGE)


def signatories() -> list[dict[str, str | None]]:
    """Who signs, from the configuration (``CERTIFICATE_SIGNATORIES``), each with ``firma``:
    the signature image as a ``data:`` URL (or None), so that the template shows it with
    ``<img src>`` while WeasyPrint still opens no file outside the template's folder."""
    return [
        {
            "nombre": str(entry.get("name", "")),
            "cargo": str(entry.get("position", "")),
            "firma": _signature_image(entry.get("signature")),
        }
        for entry in current_app.config.get("CERTIFICATE_SIGNATORIES") or []
    ]


def _signature_image(value: str | None) -> str | None:
    """The configured signature image (checked at start, see academy/config.py) as a
    ``data:`` URL."""
    if not value:
        return None
    path = config.signature_path(value, current_app.instance_path)
    mime = "image/svg+xml" if path.suffix.lower() == ".svg" else "image/png"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def template_context(certificate: Certificate) -> dict[str, Any]:
    """What a template sees: plain data only (documented in docs/autoria.md)."""
    url = verification_url(certificate.token)
    return {
        "academia": current_app.config["CERTIFICATE_ISSUER"],
        "nombre": certificate.full_name,
        "rut": rut_number.format(certificate.rut) if certificate.rut else None,
        "comuna": certificate.comuna,
        "region": certificate.region,
        "curso": certificate.course_title,
        "horas": certificate.hours,
        "fecha_termino": _long_date(certificate.completed_at),
        "fecha_emision": _long_date(certificate.issued_at),
        "fecha_vencimiento": _long_date(certificate.expires_at),
        "codigo": codes.display(certificate.code),
        "url_verificacion": url,
        "url_consulta": lookup_url(),
        "qr_svg": rendering.qr_svg(url),
        "firmantes": signatories(),
        "logo": rendering.logo(rendering.template_folder(certificate.template)),
    }


def sample_context() -> dict[str, Any]:
    """Made-up data for previewing a template: a long name with accents and ñ, every optional
    field filled, so that what can overflow does."""
    code = codes.generate()
    url = verification_url("vista-previa")
    now = utcnow()
    return {
        "academia": current_app.config["CERTIFICATE_ISSUER"],
        "nombre": "María José de los Ángeles Ñuñez-Fernández Valenzuela",
        "rut": "12.345.678-5",
        "comuna": "Coyhaique",
        "region": "Región de Aysén del General Carlos Ibáñez del Campo",
        "curso": "Participación ciudadana en el municipio: marcos, mecanismos y casos",
        "horas": 40,
        "fecha_termino": _long_date(now),
        "fecha_emision": _long_date(now),
        "fecha_vencimiento": _long_date(now + timedelta(days=730)),
        "codigo": codes.display(code),
        "url_verificacion": url,
        "url_consulta": lookup_url(),
        "qr_svg": rendering.qr_svg(url),
        "firmantes": signatories()
        or [{"nombre": "Nombre Apellido", "cargo": "Cargo", "firma": None}],
    }


def preview(template: str) -> bytes:
    """The template rendered with :func:`sample_context`; raises CertificateTemplateError."""
    metadata = rendering.PdfMetadata(
        title="Vista previa", author=str(current_app.config["CERTIFICATE_ISSUER"]), subject=""
    )
    return rendering.render(template, sample_context(), metadata)


def _metadata(certificate: Certificate) -> rendering.PdfMetadata:
    return rendering.PdfMetadata(
        title=f"Certificado {codes.display(certificate.code)}: {certificate.full_name}",
        author=str(current_app.config["CERTIFICATE_ISSUER"]),
        subject=f"{certificate.course_title} ({certificate.hours} h)",
        keywords=["certificado", codes.display(certificate.code)],
        lang=CERTIFICATE_LANGUAGE,
    )


def certificate_data(certificate: Certificate) -> dict[str, Any]:
    """The certificate's own record, attached to its PDF as certificado.json: what a program
    reading the file needs, without scraping the page."""

    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment is not None else None

    return {
        "formato": "academy-certificado/1",
        "emisor": str(current_app.config["CERTIFICATE_ISSUER"]),
        "codigo": codes.display(certificate.code),
        "nombre": certificate.full_name,
        "rut": rut_number.format(certificate.rut) if certificate.rut else None,
        "comuna": certificate.comuna,
        "region": certificate.region,
        "curso": certificate.course_title,
        "horas": certificate.hours,
        "version_curso": certificate.course_version,
        "revisiones_curso": dict(certificate.course_revisions),
        "fecha_termino": iso(certificate.completed_at),
        "fecha_emision": iso(certificate.issued_at),
        "fecha_vencimiento": iso(certificate.expires_at),
        "url_verificacion": verification_url(certificate.token),
    }


def _signature_reason(certificate: Certificate) -> str:
    return f"Certificado {codes.display(certificate.code)}: {certificate.course_title}"


MAX_VALIDITY_MONTHS = 240


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` ``months`` calendar months later; the 31st becomes the month's last day."""
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, monthrange(year, month)[1]))


def expiry(course: Course, completed_at: datetime) -> datetime | None:
    """When a certificate of ``course`` expires: its validity counted from the completion, not
    from the issue. The retraining cycle starts when the person was trained, so a certificate
    issued late (a batch weeks after, an automatic one re-run) never lasts longer, and every
    learner who finished the same day expires the same day."""
    months = course.certificate_validity_months
    return add_months(completed_at, months) if months else None


def set_validity(course: Course, months: int | None) -> None:
    """How long the course's future certificates are valid (None: forever). Certificates
    already issued keep the expiry they were printed with."""
    if months is not None and not 1 <= months <= MAX_VALIDITY_MONTHS:
        raise CertificateError(
            _("La vigencia va de 1 a %(max)d meses, o se deja vacía.", max=MAX_VALIDITY_MONTHS)
        )
    course.certificate_validity_months = months


def issue(
    course: Course,
    user_id: int,
    *,
    by: Actor,
    expires_at: datetime | None = None,
    replaces: Certificate | None = None,
) -> Certificate:
    """A new certificate for a learner who completed ``course``; raises CertificateError."""
    enrolment = _locked_completion(user_id, course)
    if valid_certificate(user_id, course.id) is not None:
        raise AlreadyIssued(_already_issued_message(enrolment.user))
    learner = enrolment.user
    comuna = comunas.get(learner.comuna_cut)
    version, revisions = course_version(course)
    now = utcnow()
    assert enrolment.completed_at is not None  # checked under the lock
    if expires_at is None and replaces is None:
        expires_at = expiry(course, enrolment.completed_at)
    certificate = Certificate(
        code=codes.generate(),
        token=secrets.token_urlsafe(32),
        user_id=user_id,
        course_id=course.id,
        course_version=version,
        course_revisions=revisions,
        template=course.certificate_template or rendering.DEFAULT,
        full_name=learner.full_name,
        rut=learner.rut,
        comuna=comuna.name if comuna else None,
        region=comuna.region if comuna else None,
        course_title=course.title,
        hours=course.hours,
        completed_at=enrolment.completed_at,
        issued_at=now,
        issued_by_id=by.id,
        expires_at=expires_at,
        status=CertificateStatus.VALID.value,
    )
    # Rendered and signed before anything is written: a template or key that fails issues
    # nothing. The stored bytes are the signed ones, served identically ever after.
    rendered = rendering.render(
        certificate.template,
        template_context(certificate),
        _metadata(certificate),
        data=certificate_data(certificate),
        created=now,
    )
    try:
        pdf = signing.sign(
            rendered,
            reason=_signature_reason(certificate),
            location=str(current_app.config["CERTIFICATE_SIGNATURE_LOCATION"]),
            contact=codes.base_url() or None,
        )
    except signing.SigningKeyError as error:
        current_app.logger.error("certificate signing key: %s", error)
        raise CertificateError(
            _(
                "No se pudo firmar el certificado: la llave de firma de la academia no se "
                "puede usar. Avisa a quien administra el servidor (el registro dice por qué)."
            )
        ) from error
    certificate.pdf = pdf
    certificate.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    try:
        with db.session.begin_nested():
            db.session.add(certificate)
    except IntegrityError as error:
        if valid_certificate(user_id, course.id) is not None:
            raise AlreadyIssued(_already_issued_message(learner)) from error
        raise
    detail: dict[str, Any] = {"code": certificate.code, "sha256": certificate.pdf_sha256}
    if replaces is not None:
        detail["replaces"] = replaces.code
    _record(certificate, audit.AuditAction.CERTIFICATE_ISSUED, by, **detail)
    if replaces is None:  # a re-issue's learner gets one message, from reissue()
        emails.issued(certificate)
    return certificate


def _already_issued_message(learner: User) -> str:
    return _(
        "%(name)s ya tiene un certificado válido de este curso. Para corregirlo, vuelve a "
        "emitirlo desde su certificado; para anularlo, revócalo.",
        name=learner.full_name,
    )


def issue_all(course: Course, *, by: Actor) -> list[Certificate]:
    """A certificate for every eligible learner of the course."""
    return [issue(course, enrolment.user_id, by=by) for enrolment in eligible(course)]


def revoke(certificate: Certificate, reason: str, *, by: Actor) -> None:
    reason = " ".join(reason.split())
    if not is_one_line(reason):
        raise CertificateError(
            _("El motivo tiene caracteres de control: escríbelo de nuevo, como texto simple.")
        )
    if not reason:
        raise CertificateError(_("Escribe el motivo de la revocación."))
    if len(reason) > MAX_REASON:
        raise CertificateError(_("El motivo puede tener hasta %(max)d caracteres.", max=MAX_REASON))
    _lock(certificate)
    if certificate.status != CertificateStatus.VALID:
        raise NotValid(_("Este certificado ya no está vigente: no se puede revocar."))
    certificate.status = CertificateStatus.REVOKED.value
    certificate.revoked_at = utcnow()
    certificate.revoked_by_id = by.id
    certificate.revocation_reason = reason
    _record(certificate, audit.AuditAction.CERTIFICATE_REVOKED, by, reason=reason)
    emails.revoked(certificate)


def reissue(certificate: Certificate, *, by: Actor) -> Certificate:
    """A new certificate, with the learner's and course's data as they are now, that
    supersedes ``certificate``."""
    _lock(certificate)
    if certificate.status != CertificateStatus.VALID:
        raise NotValid(_("Solo un certificado vigente se puede volver a emitir."))
    course = db.session.get(Course, certificate.course_id)
    assert course is not None
    certificate.status = CertificateStatus.SUPERSEDED.value
    db.session.flush()  # the old one leaves the "one valid" index before the new one enters
    new = issue(course, certificate.user_id, by=by, expires_at=certificate.expires_at,
                replaces=certificate)  # fmt: skip
    certificate.superseded_by = new
    _record(certificate, audit.AuditAction.CERTIFICATE_REISSUED, by, new_code=new.code)
    emails.reissued(certificate, new)
    return new


def _lock(certificate: Certificate) -> None:
    db.session.refresh(certificate, with_for_update=True)


def record_download(certificate: Certificate, *, by: Actor, archive: str | None = None) -> None:
    """An admin's download, alone or inside the ZIP named ``archive``."""
    if archive is None:
        _record(certificate, audit.AuditAction.CERTIFICATE_DOWNLOADED, by)
    else:
        _record(certificate, audit.AuditAction.CERTIFICATE_DOWNLOADED, by, archive=archive)


def pdf_of(certificate: Certificate) -> bytes:
    """The PDF exactly as issued; its SHA-256 is checked against the stored one."""
    return _checked(certificate, certificate.pdf)


def stored_pdf(certificate: Certificate) -> bytes:
    """Like :func:`pdf_of`, but the bytes are not kept on the certificate: reading many in a
    row holds one PDF in memory at a time."""
    pdf = db.session.scalar(select(Certificate.pdf).where(Certificate.id == certificate.id))
    assert pdf is not None
    return _checked(certificate, pdf)


def _checked(certificate: Certificate, pdf: bytes) -> bytes:
    if hashlib.sha256(pdf).hexdigest() != certificate.pdf_sha256:
        raise RuntimeError(f"certificate {certificate.code}: stored PDF does not match its hash")
    return pdf


# Finding -------------------------------------------------------------------------------------


def by_code(typed: str) -> Certificate | None:
    """The certificate with this code; :class:`codes.CodeError` if it cannot be a code."""
    code = codes.normalise(typed)
    return db.session.scalar(select(Certificate).where(Certificate.code == code))


def by_token(token: str) -> Certificate | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.token == token))


def by_id(certificate_id: int) -> Certificate | None:
    return db.session.get(Certificate, certificate_id)


def of_course(course: Course) -> Sequence[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.course_id == course.id)
            .options(selectinload(Certificate.superseded_by))
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        )
    )


def valid_of_learner(user_id: int) -> dict[int, Certificate]:
    """A learner's certificates in force, by course id (for "Mis cursos")."""
    rows = db.session.scalars(
        select(Certificate).where(
            Certificate.user_id == user_id, Certificate.status == CertificateStatus.VALID.value
        )
    )
    return {certificate.course_id: certificate for certificate in rows}


def verdict(certificate: Certificate) -> str:
    """valid, expired, revoked or superseded: what the public page says."""
    if certificate.status == CertificateStatus.VALID:
        return "expired" if certificate.expired() else "valid"
    return certificate.status


# Verifying a file or a RUT -------------------------------------------------------------------


class NotAPdf(CertificateError):
    pass


class BadRut(CertificateError):
    pass


@dataclass(frozen=True)
class FileVerdict:
    """What an uploaded file is: the certificate whose stored PDF it is byte for byte (None
    if no certificate's is), and what that PDF's signature says."""

    certificate: Certificate | None
    signature: signing.SignatureCheck | None = None


def looks_like_pdf(data: bytes) -> bool:
    # A PDF's header may follow up to 1 KB of other bytes (PDF 1.7, annex H.3).
    return b"%PDF-" in data[:1024]


def by_sha256(digest: str) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(Certificate.pdf_sha256 == digest))


def verify_file(data: bytes) -> FileVerdict:
    """Whether ``data`` is exactly a PDF the academy issued, and whether its signature holds.

    Only the academy's own stored bytes are handed to the PDF parser: a file that matches no
    stored certificate is answered from its hash alone, so hostile uploads are never parsed.
    Raises :class:`NotAPdf` for anything that is not a PDF."""
    if not looks_like_pdf(data):
        raise NotAPdf(_("Ese archivo no es un PDF. Sube el certificado tal como lo descargaste."))
    certificate = by_sha256(hashlib.sha256(data).hexdigest())
    if certificate is None:
        return FileVerdict(None)
    return FileVerdict(certificate, signing.check(data, _trust_anchors()))


def _trust_anchors() -> tuple[Any, ...]:
    try:
        return signing.current_key().certificates
    except signing.SigningKeyError:
        current_app.logger.exception("certificate signing key unavailable for verification")
        return ()


def mask_rut(compact: str) -> str:
    """A RUT showing only its last three digits and check digit: ••.•••.678-5."""
    formatted = rut_number.format(compact).lstrip(".")  # python-stdnum: ".100.000-5"
    head, tail = formatted[:-5], formatted[-5:]
    return "".join("•" if c.isdigit() else c for c in head) + tail


def by_rut(typed: str) -> tuple[str, list[Certificate]]:
    """The RUT (compact) and every certificate printed with it, newest first; :class:`BadRut`
    if it is not a RUT."""
    try:
        compact = rut_number.validate(typed)
    except ValidationError as error:
        raise BadRut(
            _("Ese RUT no es válido: revisa los números y el dígito verificador (12.345.678-5).")
        ) from error
    return compact, list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.rut == compact)
            .options(selectinload(Certificate.superseded_by))
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        )
    )
