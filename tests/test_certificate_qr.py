"""The QR code printed on a certificate, read as a phone reads it: the stored PDF's page
rasterised (pypdfium2), decoded by a real QR decoder (zxing-cpp), its link followed."""

from __future__ import annotations

from urllib.parse import urlsplit

import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from academy.auth.models import User
from academy.certificates import services
from academy.certificates.models import Certificate
from academy.extensions import db
from tests.test_certificates import CLI, LONG_NAME, completed, issue_to

DPI = 200  # about what a phone's camera sees of an A4 page held at reading distance
PDF_POINTS_PER_INCH = 72


@pytest.fixture
def graduate(app, make_user, example_course) -> User:
    user = make_user("learner", full_name=LONG_NAME)
    with app.app_context():
        completed(example_course, user)
        db.session.commit()
    return user


def first_page_image(pdf: bytes) -> Image.Image:
    document = pypdfium2.PdfDocument(pdf)
    try:
        bitmap = document[0].render(scale=DPI / PDF_POINTS_PER_INCH, grayscale=True)
        return bitmap.to_pil().copy()  # the bitmap's memory belongs to the document
    finally:
        document.close()


def qr_codes(image: Image.Image) -> list[str]:
    return [
        found.text
        for found in zxingcpp.read_barcodes(image)
        if found.format == zxingcpp.BarcodeFormat.QRCode
    ]


def test_the_printed_qr_code_leads_to_the_certificates_verdict(
    client, app, query, example_course, graduate
):
    certificate = issue_to(app, example_course, graduate)
    stored = query(lambda: services.pdf_of(db.session.get(Certificate, certificate.id)))
    image = first_page_image(stored)
    assert image.width > 2000  # A4 landscape at 200 dpi: 2339 × 1654

    (link,) = qr_codes(image)
    with app.app_context():
        assert link == services.verification_url(certificate.token)
    base = str(app.config["BASE_URL"]).rstrip("/")
    assert link.startswith(base + "/")

    page = client.get(urlsplit(link).path)
    assert page.status_code == 200
    assert "Certificado válido" in page.text and LONG_NAME in page.text

    with app.app_context():
        services.revoke(db.session.get(Certificate, certificate.id), "Emitido por error", by=CLI)
        db.session.commit()
    page = client.get(urlsplit(link).path)
    assert page.status_code == 200
    assert "Certificado revocado" in page.text and "Certificado válido" not in page.text
