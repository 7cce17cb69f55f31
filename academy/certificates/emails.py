"""The learner is told by email when a certificate is issued to them, revoked or re-issued.

Messages go through the outbox (academy/outbox.py): written in the issuing transaction, sent
once it commits, never for a certificate that was rolled back. In the learner's language, with
the verification link (from ``BASE_URL``, never a request's host) and, while the certificate
is in force, the link to download it.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import force_locale
from flask_babel import gettext as _

from academy import mail, outbox
from academy.certificates import codes
from academy.certificates.models import Certificate


def _send(
    certificate: Certificate, subject: Callable[[], str], template: str, **context: object
) -> None:
    learner = certificate.user
    with force_locale(learner.locale or "es"):
        message = mail.build_message(
            learner.email,
            subject(),
            template,
            user=learner,
            certificate=certificate,
            code=codes.display(certificate.code),
            verify_link=codes.verification_url(certificate.token),
            **context,
        )
    outbox.queue(message)


def _download_link(certificate: Certificate) -> str:
    return mail.external_url("certificates.my_certificate", certificate_id=certificate.id)


def issued(certificate: Certificate) -> None:
    _send(
        certificate,
        lambda: _("Tu certificado del curso «%(course)s»", course=certificate.course_title),
        "certificate_issued",
        download_link=_download_link(certificate),
    )


def revoked(certificate: Certificate) -> None:
    _send(
        certificate,
        lambda: _("Se revocó tu certificado %(code)s", code=codes.display(certificate.code)),
        "certificate_revoked",
    )


def reissued(old: Certificate, new: Certificate) -> None:
    _send(
        new,
        lambda: _(
            "Tu certificado del curso «%(course)s» fue emitido de nuevo",
            course=new.course_title,
        ),
        "certificate_reissued",
        old_code=codes.display(old.code),
        download_link=_download_link(new),
    )
