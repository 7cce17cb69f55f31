"""Certificates in Chromium: an admin issues one, the learner downloads it from «Mis cursos»,
anyone verifies it by code (a typo is named), by the QR code's link and by uploading the file (a
modified copy is refused), and after the admin revokes it the same link says so. Every page is
audited with axe-core.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from academy.certificates import codes, services
from academy.certificates.models import Certificate
from academy.courses.services import get_course
from academy.db import utcnow
from academy.extensions import db
from academy.progress import services as progress
from tests.browser.conftest import Axe, LiveServer, heading, import_course_folder, log_in

pytestmark = pytest.mark.browser

NAME = "Ñuñoa Fernández-Villalobos, María de los Ángeles"


def test_issue_download_verify_and_revoke(
    page: Page, live: LiveServer, axe: Axe, tmp_path: Path
) -> None:
    import_course_folder(live)
    learner = live.create_user("learner", full_name=NAME)
    admin = live.create_user("admin")
    with live.app.app_context():
        course = get_course("curso-ejemplo")
        assert course is not None
        progress.enrol(learner.id, course).completed_at = utcnow()
        db.session.commit()

    log_in(page, admin)
    page.goto("/admin/cursos/curso-ejemplo/inscripciones")
    page.get_by_role("link", name="Certificados del curso").click()
    expect(heading(page)).to_have_text("Certificados de «Curso de ejemplo»")
    axe(page)
    page.get_by_role("button", name=f"Emitir certificado a {NAME}").click()
    expect(page.get_by_text("emitido a " + NAME)).to_be_visible()
    axe(page)
    with live.app.app_context():
        certificate = db.session.scalars(select(Certificate)).one()
        code, token, digest = certificate.code, certificate.token, certificate.pdf_sha256
        certificate_id = certificate.id
        link = services.verification_url(token)
    assert link.startswith(live.url)
    # The course's certificates as one ZIP: a real click is a download the server records.
    with page.expect_download() as download:
        page.get_by_role("link", name="Descargar los vigentes (ZIP)").click()
    with zipfile.ZipFile(download.value.path()) as bundle:
        (member,) = bundle.namelist()
        assert member.startswith(codes.display(code) + "-Nunoa-Fernandez-Villalobos")
        assert hashlib.sha256(bundle.read(member)).hexdigest() == digest
    with live.app.app_context():
        stored = db.session.get(Certificate, certificate_id)
        actions = [event.action for event in services.events_of(stored)]
    assert actions == ["certificate.issued", "certificate.downloaded"]
    # The templates, each with its preview.
    page.get_by_role("link", name="Ver las plantillas y su vista previa").click()
    expect(heading(page)).to_have_text("Plantillas de certificado")
    expect(page.get_by_role("link", name="Vista previa (PDF) default")).to_be_visible()
    axe(page)
    page.get_by_role("button", name="Cerrar sesión").click()

    # The learner downloads the very PDF that was issued.
    log_in(page, learner)
    page.goto("/mis-cursos")
    with page.expect_download() as download:
        page.get_by_role("link", name="Descargar el certificado (PDF) de Curso de ejemplo").click()
    path = download.value.path()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    axe(page)
    page.get_by_role("button", name="Cerrar sesión").click()

    # Anyone: a typo is a typo; the right code and the QR code's link say valid.
    page.get_by_role("link", name="Verificar un certificado").click()
    expect(heading(page)).to_have_text("Verificar un certificado")
    axe(page)
    wrong = code[:5] + next(s for s in codes.ALPHABET if s != code[5]) + code[6:]
    page.get_by_role("textbox", name="Código del certificado").fill(codes.display(wrong))
    page.get_by_role("button", name="Verificar", exact=True).click()
    expect(page.get_by_text("El código tiene un error de tipeo")).to_be_visible()
    axe(page)
    page.get_by_role("textbox", name="Código del certificado").fill(codes.display(code).lower())
    page.get_by_role("button", name="Verificar", exact=True).click()
    expect(page.get_by_role("heading", name="Certificado válido")).to_be_visible()
    expect(page.get_by_text(NAME)).to_be_visible()
    axe(page)
    page.goto(link)
    expect(page.get_by_role("heading", name="Certificado válido")).to_be_visible()

    # Anyone: the downloaded file is recognised, signature and all; a modified copy is not.
    page.goto("/certificados/verificar")
    page.get_by_label("Archivo PDF del certificado").set_input_files(str(path))
    page.get_by_role("button", name="Verificar archivo").click()
    expect(page.get_by_role("heading", name="Certificado válido")).to_be_visible()
    expect(page.get_by_text("Su firma digital es válida y cubre todo el documento")).to_be_visible()
    axe(page)
    modified = tmp_path / "certificado.pdf"
    original = path.read_bytes()
    modified.write_bytes(original.replace(b"pyHanko", b"pyHankO", 1))
    assert modified.read_bytes() != original
    page.get_by_label("Archivo PDF del certificado").set_input_files(str(modified))
    page.get_by_role("button", name="Verificar archivo").click()
    expect(page.get_by_role("heading", name="Archivo no reconocido")).to_be_visible()
    expect(page.get_by_text("fue modificado después de emitirse")).to_be_visible()
    axe(page)

    # Revoked: the same link now says when and why.
    log_in(page, admin)
    page.goto("/admin/cursos/curso-ejemplo/certificados")
    page.get_by_role("link", name=f"Revocar {codes.display(code)}").click()
    axe(page)
    page.get_by_label("Motivo de la revocación").fill("Emitido por error")
    page.get_by_role("button", name="Revocar").click()
    expect(page.get_by_text(f"Certificado {codes.display(code)} revocado.")).to_be_visible()
    page.goto(link)
    expect(page.get_by_role("heading", name="Certificado revocado")).to_be_visible()
    expect(page.get_by_text("Motivo: Emitido por error")).to_be_visible()
    axe(page)
