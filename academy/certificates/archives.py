"""A course's (or a cohort's) certificates as one ZIP, for the admin who must hand them over.

The archive holds each certificate in force (valid or expired; not revoked, not replaced)
exactly as stored, named ``<código>-<nombre-ascii>.pdf``. It is written into a spooled
temporary file, one PDF at a time read from the database and let go: a course with thousands
of certificates never has them all in memory, and the file spills to disk once it is large.
Every certificate in it counts as an admin download in the audit record.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from tempfile import SpooledTemporaryFile
from typing import IO

from sqlalchemy import select
from werkzeug.utils import secure_filename

from academy.certificates import codes, services
from academy.certificates.models import Certificate, CertificateStatus
from academy.courses.models import Course
from academy.extensions import db
from academy.progress.models import Cohort, Enrolment

# Kept in memory up to this size, then on disk.
IN_MEMORY = 16 * 1024 * 1024
MAX_NAME = 80


def in_force(course: Course, cohort: Cohort | None = None) -> list[Certificate]:
    """The course's certificates in force (of the cohort's learners, if given), by name; their
    PDFs are not loaded."""
    query = select(Certificate).where(
        Certificate.course_id == course.id, Certificate.status == CertificateStatus.VALID.value
    )
    if cohort is not None:
        query = query.join(
            Enrolment,
            (Enrolment.user_id == Certificate.user_id) & (Enrolment.course_id == course.id),
        ).where(Enrolment.cohort_id == cohort.id)
    return list(db.session.scalars(query.order_by(Certificate.full_name, Certificate.id)))


def member_name(certificate: Certificate) -> str:
    """``7K3M-Q9XA-R2TZ-Maria-Jose-Nunez-Fernandez.pdf``: the code makes it unique, the name in
    ASCII lets any unzip program and any file system keep it as it is."""
    ascii_name = secure_filename(certificate.full_name).replace("_", "-")[:MAX_NAME].strip("-.")
    code = codes.display(certificate.code)
    return f"{code}-{ascii_name}.pdf" if ascii_name else f"{code}.pdf"


def archive_name(course: Course, cohort: Cohort | None = None) -> str:
    cohort_part = secure_filename(cohort.name).replace("_", "-") if cohort else ""
    return "-".join(p for p in ("certificados", course.slug, cohort_part) if p) + ".zip"


def write(
    certificates: list[Certificate], *, by: services.Actor, archive: str
) -> tuple[IO[bytes], int]:
    """The ZIP of ``certificates`` and its size, rewound, in a temporary file that
    :func:`chunks` closes. Records each as downloaded by ``by``."""
    out: IO[bytes] = SpooledTemporaryFile(max_size=IN_MEMORY)  # noqa: SIM115  # sent, then closed
    try:
        # Stored, not deflated: a PDF is compressed already, and the bytes stay the stored ones.
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as bundle:
            for certificate in certificates:
                bundle.writestr(member_name(certificate), services.stored_pdf(certificate))
                services.record_download(certificate, by=by, archive=archive)
    except BaseException:
        out.close()
        raise
    size = out.tell()
    out.seek(0)
    return out, size


def chunks(archive: IO[bytes], size: int = 64 * 1024) -> Iterator[bytes]:
    """The file's bytes, piece by piece, closing it when sent or when the client goes away
    (the server closes the response, and so this generator)."""
    try:
        while chunk := archive.read(size):
            yield chunk
    finally:
        archive.close()
