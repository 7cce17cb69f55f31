"""Certificates as files: PDF/A-3 with their data attached, signed with the academy's key,
and recognised byte for byte when anyone uploads one (or types a RUT)."""

from __future__ import annotations

import io
import json
import os
import stat

import pypdf
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select

from academy.auth.models import User
from academy.certificates import codes, services, signing
from academy.certificates.models import Certificate
from academy.courses.models import Course
from academy.extensions import db
from tests.test_certificates import CLI, LONG_NAME, completed, issue_to

UPLOAD = "/certificados/verificar/archivo"
NOT_ISSUED = "no es un certificado emitido por la Academia, o fue modificado después de emitirse"


@pytest.fixture
def graduate(app, make_user, example_course) -> User:
    """A learner with a RUT who completed the example course."""
    user = make_user("learner", full_name=LONG_NAME, rut="123456785")
    with app.app_context():
        completed(example_course, user)
        db.session.commit()
    return user


def stored_pdf(app, certificate: Certificate) -> bytes:
    with app.app_context():
        return services.pdf_of(db.session.get(Certificate, certificate.id))


def upload(client, data: bytes, name: str = "certificado.pdf", **extra):
    return client.post(
        UPLOAD,
        data={"archivo": (io.BytesIO(data), name, "application/pdf"), **extra},
        content_type="multipart/form-data",
    )


# The file ------------------------------------------------------------------------------------


def test_the_stored_pdf_is_signed_over_the_whole_file(app, example_course, graduate):
    certificate = issue_to(app, example_course, graduate)
    pdf = stored_pdf(app, certificate)
    with app.app_context():
        academy_certificate = signing.current_key().certificates[0]
    signatures = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    assert len(signatures) == 1
    context = ValidationContext(trust_roots=[academy_certificate], allow_fetching=False)
    status = signing.blocking(async_validate_pdf_signature(signatures[0], context))
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert "Academia de prueba" in status.signing_cert.subject.human_friendly


def test_the_pdf_is_pdf_a_3_with_metadata_and_its_data_attached(app, example_course, graduate):
    certificate = issue_to(app, example_course, graduate)
    reader = pypdf.PdfReader(io.BytesIO(stored_pdf(app, certificate)))
    meta = reader.metadata
    code = codes.display(certificate.code)
    assert code in meta["/Title"] and LONG_NAME in meta["/Title"]
    assert meta["/Author"] == app.config["CERTIFICATE_ISSUER"]
    assert example_course.title in meta["/Subject"]
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "es"
    # PDF/A identification in the XMP metadata (still there after signing).
    xmp = reader.xmp_metadata
    assert xmp is not None
    packet = xmp.stream.get_data().decode()
    assert 'pdfaid:part="3"' in packet and 'pdfaid:conformance="B"' in packet
    # PDF/A: what the information dictionary says, the XMP says too.
    assert f'pdf:Producer="{meta["/Producer"]}"' in packet
    assert f'pdf:Keywords="{meta["/Keywords"]}"' in packet
    assert xmp.dc_title == {"x-default": meta["/Title"]}
    assert xmp.dc_creator == [meta["/Author"]]
    assert "/OutputIntents" in root
    # The data file, with the relationship PDF/A-3 asks of every attached file.
    attached = reader.attachments["certificado.json"]
    data = json.loads(attached[0])
    assert data["codigo"] == code and data["nombre"] == LONG_NAME
    assert data["rut"] == "12.345.678-5"
    assert data["curso"] == example_course.title and data["horas"] == example_course.hours
    assert data["version_curso"] == certificate.course_version
    assert data["url_verificacion"].endswith("/certificados/v/" + certificate.token)
    assert data["fecha_emision"] and data["fecha_termino"] and data["fecha_vencimiento"] is None
    specs = [spec.get_object() for spec in root["/AF"]]
    assert len(specs) == 1
    assert specs[0]["/AFRelationship"] == "/Data" and specs[0]["/F"] == "certificado.json"
    # Text stays text.
    assert LONG_NAME in " ".join(reader.pages[0].extract_text().split())


def test_development_generates_one_key_into_the_instance_folder(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    monkeypatch.setitem(app.config, "CERTIFICATE_KEY", None)
    monkeypatch.setitem(app.config, "CERTIFICATE_CERT", None)
    first = signing.configured_paths(app)
    second = signing.configured_paths(app)
    assert (
        first
        == second
        == (
            tmp_path / "certificados" / "academia.key",
            tmp_path / "certificados" / "academia.crt",
        )
    )
    assert stat.S_IMODE(os.stat(first[0]).st_mode) == 0o600
    key = signing.load_key(*first, passphrase=None)
    assert app.config["CERTIFICATE_ISSUER"] in key.subject


def test_a_configured_key_is_used_and_a_mismatched_pair_refused(app, tmp_path, monkeypatch):
    one = signing.write_pair(tmp_path / "uno", "Academia Uno", "Academia", force=False)
    two = signing.write_pair(tmp_path / "dos", "Academia Dos", "Academia", force=False)
    with pytest.raises(signing.SigningKeyError, match="not the key's"):
        signing.load_key(one[0], two[1], passphrase=None)
    with pytest.raises(signing.SigningKeyError, match="cannot load"):
        signing.load_key(tmp_path / "no-existe.key", one[1], passphrase=None)
    monkeypatch.setitem(app.config, "CERTIFICATE_KEY", str(one[0]))
    monkeypatch.setitem(app.config, "CERTIFICATE_CERT", str(one[1]))
    monkeypatch.delitem(app.extensions, "academy_signing_key", raising=False)
    try:
        with app.test_request_context():
            signed = signing.sign(_plain_pdf(), reason="prueba", location="Chile")
            check = signing.check(signed)
    finally:
        app.extensions.pop("academy_signing_key", None)
    assert check.holds and check.trusted and "Academia Uno" in (check.signer or "")


def test_a_pkcs12_key_with_a_passphrase_signs(app, tmp_path, monkeypatch):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    key_path, cert_path = signing.write_pair(tmp_path, "Academia PKCS12", "A", force=False)
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    bundle = tmp_path / "firma.p12"
    bundle.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"firma", key, cert, None, serialization.BestAvailableEncryption(b"clave secreta")
        )
    )
    loaded = signing.load_key(bundle, None, passphrase="clave secreta")
    assert "Academia PKCS12" in loaded.subject
    monkeypatch.setitem(app.config, "CERTIFICATE_KEY", str(bundle))
    monkeypatch.setitem(app.config, "CERTIFICATE_KEY_PASSPHRASE", "clave secreta")
    monkeypatch.delitem(app.extensions, "academy_signing_key", raising=False)
    try:
        with app.test_request_context():
            check = signing.check(signing.sign(_plain_pdf(), reason="prueba", location="Chile"))
    finally:
        app.extensions.pop("academy_signing_key", None)
    assert check.holds and "Academia PKCS12" in (check.signer or "")
    with pytest.raises(signing.SigningKeyError):
        signing.load_key(bundle, None, passphrase="otra")


def test_the_key_is_parsed_once_not_for_every_signature(app, monkeypatch):
    from cryptography.hazmat.primitives import serialization

    parse = serialization.load_der_private_key
    calls = []

    def counting(*args, **kwargs):
        calls.append(1)
        return parse(*args, **kwargs)

    monkeypatch.setattr(serialization, "load_der_private_key", counting)
    monkeypatch.delitem(app.extensions, "academy_signing_key", raising=False)
    try:
        with app.test_request_context():
            for _ in range(3):
                assert signing.check(signing.sign(_plain_pdf(), reason="r", location="l")).holds
    finally:
        app.extensions.pop("academy_signing_key", None)
    # pyHanko's own signer parsed it twice per signature (once to size it): 6 here.
    assert len(calls) == 1


def test_signing_and_checking_work_where_an_event_loop_already_runs(app):
    """pyHanko's synchronous calls use asyncio.run(), which an async server, or Playwright in
    this very suite, would refuse: every certificate test after a browser test failed so."""
    import asyncio
    import concurrent.futures

    async def from_a_coroutine() -> bool:
        with app.test_request_context():
            return signing.check(signing.sign(_plain_pdf(), reason="r", location="l")).holds

    # A thread of its own, so that its loop is the only one whatever ran before this test.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(asyncio.run, from_a_coroutine()).result()


def _plain_pdf() -> bytes:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_keygen_writes_a_private_key_and_refuses_to_overwrite(runner, tmp_path):
    target = tmp_path / "firma"
    result = runner.invoke(args=["certificates", "keygen", "--dir", str(target)])
    assert result.exit_code == 0, result.output
    key, cert = target / "academia.key", target / "academia.crt"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert "ACADEMY_CERTIFICATE_KEY=" in result.output
    before = key.read_bytes()
    result = runner.invoke(args=["certificates", "keygen", "--dir", str(target)])
    assert result.exit_code == 1 and "--force" in result.output
    assert key.read_bytes() == before
    result = runner.invoke(args=["certificates", "keygen", "--dir", str(target), "--force"])
    assert result.exit_code == 0 and key.read_bytes() != before
    assert signing.load_key(key, cert, passphrase=None).subject


# Verification by upload ----------------------------------------------------------------------


def test_the_issued_file_is_recognised_with_its_status_and_signature(
    client, app, query, example_course, graduate
):
    certificate = issue_to(app, example_course, graduate)
    pdf = stored_pdf(app, certificate)
    page = upload(client, pdf)
    assert page.status_code == 200
    assert "Certificado válido" in page.text and "byte por byte" in page.text
    assert "firma digital es válida" in page.text and LONG_NAME in page.text
    with app.app_context():
        services.revoke(db.session.get(Certificate, certificate.id), "Error de datos", by=CLI)
        db.session.commit()
    page = upload(client, pdf)
    assert "Certificado revocado" in page.text and "Error de datos" in page.text


@pytest.mark.parametrize(
    "change",
    [
        lambda pdf: pdf.replace(b"pyHanko", b"pyHankO", 1),
        lambda pdf: pdf + b"\n%%EOF\n",  # re-saved: one more byte, same content
        lambda pdf: pdf[:-1],
        lambda pdf: (
            pdf[: len(pdf) // 2] + bytes([pdf[len(pdf) // 2] ^ 1]) + pdf[len(pdf) // 2 + 1 :]
        ),
    ],
)
def test_a_modified_file_is_not_a_certificate(client, app, example_course, graduate, change):
    certificate = issue_to(app, example_course, graduate)
    pdf = stored_pdf(app, certificate)
    modified = change(pdf)
    assert modified != pdf
    page = upload(client, modified)
    assert page.status_code == 404
    assert NOT_ISSUED in page.text and "Certificado válido" not in page.text


def test_a_pdf_resaved_by_another_program_is_not_the_certificate(
    client, app, example_course, graduate
):
    certificate = issue_to(app, example_course, graduate)
    resaved = io.BytesIO()
    pypdf.PdfWriter(clone_from=io.BytesIO(stored_pdf(app, certificate))).write(resaved)
    page = upload(client, resaved.getvalue())
    assert page.status_code == 404 and NOT_ISSUED in page.text


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"", "vacio.pdf"),
        (b"GIF89a\x01\x00\x01\x00", "foto.pdf"),
        (b"<html><script>alert(1)</script></html>", "pagina.pdf"),
        (b"\x00" * 5000, "ceros.pdf"),
        ("texto con ñ".encode(), "../../etc/passwd"),
        (b"%PDF-1.7\n" + b"1 0 obj << /Length 999999999 >> stream\n" * 200, "roto.pdf"),
        (b"%PDF-1.7\ntrailer << /Root 1 0 R /Size 1 >>\n%%EOF", "minimo.pdf"),
    ],
)
def test_hostile_uploads_get_a_clear_answer(client, data, name):
    page = upload(client, data, name)
    assert page.status_code in (404, 422)
    if page.status_code == 422:
        assert "no es un PDF" in page.text or "Elige el archivo PDF" in page.text
    else:
        assert NOT_ISSUED in page.text


def test_an_upload_without_a_file_or_too_large_is_refused_clearly(client, app):
    page = client.post(UPLOAD, data={}, content_type="multipart/form-data")
    assert page.status_code == 422 and "Elige el archivo PDF del certificado" in page.text
    # A raw body: the test client spools a large form to a file it never closes.
    too_large = b"--x\r\n" + b"0" * app.config["MAX_CONTENT_LENGTH"] + b"\r\n--x--\r\n"
    page = client.post(UPLOAD, data=too_large, content_type="multipart/form-data; boundary=x")
    assert page.status_code == 413 and "supera el tamaño permitido" in page.text


def test_the_upload_form_needs_its_csrf_token(client, app, example_course, graduate):
    certificate = issue_to(app, example_course, graduate)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = upload(client, stored_pdf(app, certificate))
        form = client.get("/certificados/verificar")
        token = form.text.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        accepted = upload(client, stored_pdf(app, certificate), csrf_token=token)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert refused.status_code == 400
    assert accepted.status_code == 200 and "Certificado válido" in accepted.text


def test_uploads_share_the_verification_rate_limit(client, app):
    app.config["CERTIFICATE_VERIFY_LIMIT"] = "2 per minute"
    try:
        answers = [upload(client, b"%PDF-1.7 nada").status_code for _ in range(3)]
        rut = client.get("/certificados/verificar/rut", query_string={"rut": "1-9"})
        answers.append(rut.status_code)
    finally:
        app.config["CERTIFICATE_VERIFY_LIMIT"] = "30 per minute"
    assert answers == [404, 404, 429, 429]


# Verification by RUT -------------------------------------------------------------------------


def test_a_rut_shows_its_certificates_with_the_rut_masked(client, app, example_course, graduate):
    certificate = issue_to(app, example_course, graduate)
    with app.app_context():
        services.reissue(db.session.get(Certificate, certificate.id), by=CLI)
        db.session.commit()
    page = client.get("/certificados/verificar/rut", query_string={"rut": "12.345.678-5"})
    assert page.status_code == 200
    assert "••.•••.678-5" in page.text and 'value="12.345.678-5"' not in page.text
    assert "12345678" not in page.text
    assert LONG_NAME in page.text and example_course.title in page.text
    assert "Válido" in page.text and "Reemplazado" in page.text
    assert codes.display(certificate.code) in page.text


@pytest.mark.parametrize(
    ("typed", "status", "message"),
    [
        ("12.345.678-9", 422, "no es válido"),
        ("hola", 422, "no es válido"),
        ("", 422, "Escribe el RUT"),
        ("1" * 500, 422, "no es válido"),
        ("11.111.111-1", 404, "no ha emitido certificados a ese RUT"),
    ],
)
def test_a_bad_or_unknown_rut_is_answered_clearly(client, typed, status, message):
    page = client.get("/certificados/verificar/rut", query_string={"rut": typed})
    assert page.status_code == status and message in page.text


def test_masking_keeps_only_the_last_digits():
    assert services.mask_rut("123456785") == "••.•••.678-5"
    assert services.mask_rut("12345670") == "•.•••.567-0"
    assert services.mask_rut("1000005") == "•••.000-5"


# Command line --------------------------------------------------------------------------------


def test_the_command_line_verifies_a_file(runner, app, query, example_course, graduate, tmp_path):
    certificate = issue_to(app, example_course, graduate)
    good = tmp_path / "certificado.pdf"
    good.write_bytes(stored_pdf(app, certificate))
    result = runner.invoke(args=["certificates", "verify", str(good)])
    assert result.exit_code == 0, result.output
    assert "idéntico al emitido" in result.output and "firma digital válida" in result.output
    assert "válido" in result.output
    bad = tmp_path / "otro.pdf"
    bad.write_bytes(good.read_bytes() + b"\n")
    result = runner.invoke(args=["certificates", "verify", str(bad)])
    assert result.exit_code == 1 and "fue modificado" in result.output
    text = tmp_path / "nota.pdf"
    text.write_text("hola")
    result = runner.invoke(args=["certificates", "verify", str(text)])
    assert result.exit_code == 1 and "no es un PDF" in result.output
    assert query(lambda: db.session.scalar(select(Certificate.id))) == certificate.id


def test_an_unusable_key_issues_nothing_and_says_so(app, tmp_path, example_course, graduate):
    one = signing.write_pair(tmp_path / "uno", "Uno", "Uno", force=False)
    two = signing.write_pair(tmp_path / "dos", "Dos", "Dos", force=False)
    saved = dict(app.config)
    app.config.update(CERTIFICATE_KEY=str(one[0]), CERTIFICATE_CERT=str(two[1]))
    app.extensions.pop("academy_signing_key", None)
    try:
        with app.app_context():
            with pytest.raises(services.CertificateError, match="llave de firma"):
                services.issue(db.session.get(Course, example_course.id), graduate.id, by=CLI)
            assert db.session.scalar(select(Certificate.id)) is None
    finally:
        app.config.update(
            CERTIFICATE_KEY=saved["CERTIFICATE_KEY"], CERTIFICATE_CERT=saved["CERTIFICATE_CERT"]
        )
        app.extensions.pop("academy_signing_key", None)
