"""Certificates: codes, the template sandbox, issuance, revocation, re-issue and the PDF."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from pathlib import Path

import pypdf
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from academy.auth.models import User
from academy.certificates import codes, rendering, services
from academy.certificates.models import (
    AppendOnlyError,
    Certificate,
    CertificateEvent,
    CertificateStatus,
)
from academy.courses.models import Course
from academy.db import utcnow
from academy.extensions import db
from academy.progress import services as progress
from academy.progress.models import Enrolment

LONG_NAME = "María José de los Ángeles Ñuñez-Fernández Valenzuela y Sotomayor"
CLI = services.Actor(None)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def completed(course: Course, user: User) -> Enrolment:
    """The learner enrolled in ``course`` and finished it. Call inside an app context."""
    enrolment = progress.enrol(user.id, db.session.get(Course, course.id))
    enrolment.completed_at = utcnow() - timedelta(days=2)
    db.session.flush()
    return enrolment


@pytest.fixture
def graduate(app, make_user, example_course) -> User:
    user = make_user("learner", full_name=LONG_NAME, rut="123456785")
    with app.app_context():
        completed(example_course, user)
        db.session.commit()
    return user


def issue_to(app, course: Course, user: User) -> Certificate:
    with app.app_context():
        certificate = services.issue(db.session.get(Course, course.id), user.id, by=CLI)
        db.session.commit()
        return certificate


# Codes ---------------------------------------------------------------------------------------


def test_codes_are_random_with_a_check_symbol_that_catches_typos():
    code = codes.generate()
    assert len(code) == codes.LENGTH and set(code) <= set(codes.ALPHABET)
    shown = codes.display(code)
    assert shown.count("-") == 2
    assert codes.normalise(shown.lower()) == code
    assert codes.normalise(" ".join(shown)) == code
    for position in range(codes.LENGTH):
        for symbol in codes.ALPHABET:
            if symbol != code[position]:
                with pytest.raises(codes.CodeError) as caught:
                    codes.normalise(code[:position] + symbol + code[position + 1 :])
                assert caught.value.typo
    with pytest.raises(codes.CodeError) as caught:
        codes.normalise("ABC")
    assert not caught.value.typo
    assert len({codes.generate() for _ in range(200)}) == 200


def test_letters_read_as_digits_are_accepted():
    code = codes.generate()
    typed = code.replace("0", "O").replace("1", "l")
    assert codes.normalise(typed) == code


# The template sandbox ------------------------------------------------------------------------


def sample_context(url: str = "https://academia.example.cl/certificados/v/abc") -> dict:
    return {
        "academia": "Academia de Capacitación Municipal y Regional",
        "nombre": LONG_NAME,
        "rut": "12.345.678-5",
        "comuna": "Aysén",
        "region": "Región de Aysén del General Carlos Ibáñez del Campo",
        "curso": "Participación ciudadana en el municipio",
        "horas": 40,
        "fecha_termino": "24 de noviembre de 2026",
        "fecha_emision": "4 de diciembre de 2026",
        "fecha_vencimiento": None,
        "codigo": "7K3M-Q9XA-R2TZ",
        "url_verificacion": url,
        "qr_svg": rendering.qr_svg(url),
        "firmantes": [{"nombre": "Juana Soto Rojas", "cargo": "Directora"}],
    }


@pytest.fixture
def template_dir(app, tmp_path):
    app.config["CERTIFICATE_TEMPLATES_DIR"] = str(tmp_path)
    yield tmp_path
    app.config["CERTIFICATE_TEMPLATES_DIR"] = None


def write_template(root: Path, html: str, name: str = "prueba") -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "certificate.html").write_text(html, "utf-8")
    return folder


def render(app, folder: Path) -> bytes:
    with app.app_context():
        html = rendering.render_html(folder, sample_context())
        return rendering.render_pdf(folder, html, rendering.PdfMetadata("t", "a", "s"))


def test_the_default_template_fits_a_long_name_on_one_a4_landscape_page(app):
    with app.app_context():
        pdf = rendering.render("default", sample_context(), rendering.PdfMetadata("T", "A", "S"))
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert round(float(box.width)) == 842 and round(float(box.height)) == 595  # A4 landscape
    words = " ".join(pdf_text(pdf).split())
    assert LONG_NAME in words
    assert "7K3M-Q9XA-R2TZ" in words and "Juana Soto Rojas" in words
    assert reader.metadata["/Title"] == "T" and reader.metadata["/Author"] == "A"
    assert reader.trailer["/Root"]["/Lang"] == "es"


@pytest.mark.parametrize(
    "html",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ nombre.__class__ }}",
        "{{ nombre.format.__globals__ }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    ],
)
def test_the_sandbox_refuses_python_internals(app, template_dir, html):
    folder = write_template(template_dir, html)
    with app.app_context(), pytest.raises(rendering.CertificateTemplateError) as caught:
        rendering.render_html(folder, sample_context())
    assert "prueba/certificate.html" in str(caught.value)


def test_an_undefined_field_names_itself_and_its_line(app, template_dir):
    folder = write_template(template_dir, "<p>{{ nombre }}</p>\n<p>{{ apellido }}</p>")
    with app.app_context(), pytest.raises(rendering.CertificateTemplateError) as caught:
        rendering.render_html(folder, sample_context())
    assert "prueba/certificate.html:2" in str(caught.value)
    assert "apellido" in str(caught.value)


def test_a_syntax_error_names_its_line(app, template_dir):
    folder = write_template(template_dir, "<p>ok</p>\n{% if nombre %}\n")
    with app.app_context(), pytest.raises(rendering.CertificateTemplateError) as caught:
        rendering.render_html(folder, sample_context())
    assert str(caught.value).startswith("prueba/certificate.html:")


@pytest.mark.parametrize(
    "reference",
    [
        '<img src="file:///etc/passwd">',
        '<img src="../otra/logo.png">',
        '<link rel="stylesheet" href="http://127.0.0.1:9/x.css">',
        '<img src="https://example.com/logo.png">',
        "<style>@import url('/etc/hostname');</style>",
    ],
)
def test_a_template_reads_only_its_own_folder(app, template_dir, reference):
    (template_dir / "otra").mkdir()
    (template_dir / "otra/logo.png").write_bytes(b"\x89PNG")
    folder = write_template(template_dir, f"<html><body>{reference}<p>{{{{ nombre }}}}</p>")
    with pytest.raises(rendering.CertificateTemplateError) as caught:
        render(app, folder)
    assert "no está en su carpeta" in str(caught.value)


def test_a_template_uses_its_own_images_and_css(app, template_dir):
    folder = write_template(
        template_dir,
        '<html><head><link rel="stylesheet" href="style.css"></head>'
        '<body><img src="firma.svg"><p>{{ nombre }}</p></body></html>',
    )
    (folder / "style.css").write_text("p { color: #123456 }", "utf-8")
    (folder / "firma.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>', "utf-8"
    )
    assert LONG_NAME in " ".join(pdf_text(render(app, folder)).split())


def test_unknown_template_names_are_refused(app):
    with app.app_context():
        for name in ("../etc", "no-existe"):
            with pytest.raises(rendering.CertificateTemplateError):
                rendering.template_folder(name)


# Issuance ------------------------------------------------------------------------------------


def test_issuing_records_what_was_printed_and_stores_the_pdf(app, example_course, graduate):
    certificate = issue_to(app, example_course, graduate)
    with app.app_context():
        stored = db.session.get(Certificate, certificate.id)
        assert stored.full_name == LONG_NAME and stored.rut == "123456785"
        assert stored.comuna == "Santiago" and stored.region
        assert stored.course_title == example_course.title
        assert stored.hours == example_course.hours
        assert stored.course_revisions and len(stored.course_version) == 64
        assert stored.status == CertificateStatus.VALID
        pdf = services.pdf_of(stored)
        assert hashlib.sha256(pdf).hexdigest() == stored.pdf_sha256
        text_ = " ".join(pdf_text(pdf).split())
        assert LONG_NAME in text_ and codes.display(stored.code) in text_
        assert "12.345.678-5" in text_
        meta = pypdf.PdfReader(io.BytesIO(pdf)).metadata
        assert codes.display(stored.code) in meta["/Title"]
        assert meta["/Author"] == app.config["ACADEMY_NAME"]
        assert example_course.title in meta["/Subject"]
        events = services.events_of(stored)
        assert [e.action for e in events] == ["issued"]
        assert events[0].actor.startswith("cli:")


def test_a_learner_who_has_not_completed_gets_nothing(app, make_user, example_course):
    user = make_user("learner")
    with app.app_context():
        progress.enrol(user.id, db.session.get(Course, example_course.id))
        course = db.session.get(Course, example_course.id)
        with pytest.raises(services.NotEligible):
            services.issue(course, user.id, by=CLI)
        stranger = make_user("learner")
        with pytest.raises(services.NotEligible):
            services.issue(course, stranger.id, by=CLI)
        assert db.session.scalar(select(Certificate.id)) is None


def test_never_twice(app, example_course, graduate):
    issue_to(app, example_course, graduate)
    with app.app_context():
        course = db.session.get(Course, example_course.id)
        with pytest.raises(services.AlreadyIssued) as caught:
            services.issue(course, graduate.id, by=CLI)
        assert LONG_NAME in str(caught.value)


def test_the_database_refuses_a_second_valid_certificate(app, example_course, graduate):
    first = issue_to(app, example_course, graduate)
    with app.app_context():
        original = db.session.get(Certificate, first.id)
        copy = Certificate(
            **{
                column.key: getattr(original, column.key)
                for column in Certificate.__table__.columns
                if column.key not in ("id", "code", "token")
            },
            code=codes.generate(),
            token="another-token",
        )
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.add(copy)


def test_revoke_and_reissue_keep_history(app, example_course, graduate):
    first = issue_to(app, example_course, graduate)
    with app.app_context():
        old = db.session.get(Certificate, first.id)
        new = services.reissue(old, by=CLI)
        db.session.commit()
        assert old.status == CertificateStatus.SUPERSEDED and old.superseded_by_id == new.id
        assert new.status == CertificateStatus.VALID and new.code != old.code
        with pytest.raises(services.NotValid):
            services.revoke(old, "otra vez", by=CLI)
        with pytest.raises(services.CertificateError):
            services.revoke(new, "   ", by=CLI)
        services.revoke(new, "Error en el nombre", by=CLI)
        db.session.commit()
        assert services.verdict(new) == "revoked" and new.revocation_reason == "Error en el nombre"
        assert [e.action for e in services.events_of(old)] == ["issued", "reissued"]
        assert [e.action for e in services.events_of(new)] == ["issued", "revoked"]
        # After a revocation, a new certificate may be issued.
        again = services.issue(db.session.get(Course, example_course.id), graduate.id, by=CLI)
        assert again.status == CertificateStatus.VALID


def test_expired_certificates_say_so(app, example_course, graduate):
    certificate = issue_to(app, example_course, graduate)
    with app.app_context():
        stored = db.session.get(Certificate, certificate.id)
        assert services.verdict(stored) == "valid"
        stored.expires_at = utcnow() - timedelta(days=1)
        assert services.verdict(stored) == "expired"


def test_audit_events_are_append_only(app, example_course, graduate):
    issue_to(app, example_course, graduate)
    with app.app_context():
        event = db.session.scalar(select(CertificateEvent))
        event.actor = "alguien más"
        with pytest.raises(AppendOnlyError):
            db.session.flush()
        db.session.rollback()
    with app.app_context(), pytest.raises(DBAPIError), db.session.begin_nested():
        # Below the ORM too: the database's trigger.
        db.session.execute(text("DELETE FROM certificate_events"))


def test_a_broken_template_issues_nothing(app, template_dir, example_course, graduate):
    write_template(template_dir, "{{ apellido }}", name="rota")
    with app.app_context():
        course = db.session.get(Course, example_course.id)
        course.certificate_template = "rota"
        with pytest.raises(rendering.CertificateTemplateError):
            services.issue(course, graduate.id, by=CLI)
        assert db.session.scalar(select(Certificate.id)) is None
