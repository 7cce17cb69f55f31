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

from academy.audit import AppendOnlyError, AuditEvent
from academy.auth.models import User
from academy.certificates import codes, rendering, services
from academy.certificates.models import Certificate, CertificateStatus
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
        "url_consulta": "https://academia.example.cl/certificados/verificar",
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
        "{% include '../../../../etc/passwd' %}",
        "{% include '/etc/passwd' %}",
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


def test_a_link_inside_the_folder_to_a_file_outside_is_refused(app, template_dir):
    folder = write_template(template_dir, '<img src="secreto.png"><p>{{ nombre }}</p>')
    (folder / "secreto.png").symlink_to("/etc/passwd")
    with pytest.raises(rendering.CertificateTemplateError) as caught:
        render(app, folder)
    assert "secreto.png" in str(caught.value)


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
        assert meta["/Author"] == app.config["CERTIFICATE_ISSUER"]
        assert example_course.title in meta["/Subject"]
        events = services.events_of(stored)
        assert [e.action for e in events] == ["certificate.issued"]
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
        assert [e.action for e in services.events_of(old)] == [
            "certificate.issued",
            "certificate.reissued",
        ]
        assert [e.action for e in services.events_of(new)] == [
            "certificate.issued",
            "certificate.revoked",
        ]
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
        event = db.session.scalar(select(AuditEvent))
        event.actor = "alguien más"
        with pytest.raises(AppendOnlyError):
            db.session.flush()
        db.session.rollback()
    with app.app_context(), pytest.raises(DBAPIError), db.session.begin_nested():
        # Below the ORM too: the database's trigger.
        db.session.execute(text("DELETE FROM audit_events"))


def test_a_broken_template_issues_nothing(app, template_dir, example_course, graduate):
    write_template(template_dir, "{{ apellido }}", name="rota")
    with app.app_context():
        course = db.session.get(Course, example_course.id)
        course.certificate_template = "rota"
        with pytest.raises(rendering.CertificateTemplateError):
            services.issue(course, graduate.id, by=CLI)
        assert db.session.scalar(select(Certificate.id)) is None


# The admin's pages ---------------------------------------------------------------------------

COURSE_PAGE = "/admin/cursos/curso-ejemplo/certificados"


@pytest.fixture
def admin(auth, make_user) -> User:
    return auth.as_role(make_user, "admin")


def only_certificate(query) -> Certificate:
    return query(lambda: db.session.scalars(select(Certificate)).one())


def test_an_admin_issues_from_the_list_of_eligible_learners(client, query, admin, graduate):
    page = client.get(COURSE_PAGE)
    assert page.status_code == 200
    assert LONG_NAME in page.text and "Emitir" in page.text
    response = client.post(COURSE_PAGE + "/emitir", data={"user_id": graduate.id})
    assert response.status_code == 303
    certificate = only_certificate(query)
    assert certificate.issued_by_id == admin.id
    page = client.get(COURSE_PAGE)
    assert codes.display(certificate.code) in page.text
    assert "Nadie espera certificado" in page.text
    again = client.post(COURSE_PAGE + "/emitir", data={"user_id": graduate.id})
    assert again.status_code == 409
    assert "ya tiene un certificado válido" in again.text
    assert query(lambda: db.session.scalar(select(text("count(*)")).select_from(Certificate)))


def test_an_ineligible_learner_is_refused_with_a_clear_message(
    client, app, query, admin, make_user, example_course
):
    user = make_user("learner")

    def enrol() -> None:
        progress.enrol(user.id, db.session.get(Course, example_course.id))
        db.session.commit()

    query(enrol)
    response = client.post(COURSE_PAGE + "/emitir", data={"user_id": user.id})
    assert response.status_code == 409
    assert "todavía no termina el curso" in response.text
    for bad in ("abc", "9" * 30, "-1"):
        assert client.post(COURSE_PAGE + "/emitir", data={"user_id": bad}).status_code in (400, 409)
    assert query(lambda: db.session.scalar(select(Certificate.id))) is None


def test_the_stored_pdf_is_served_byte_for_byte(
    client, app, query, admin, example_course, graduate
):
    certificate = issue_to(app, example_course, graduate)
    stored = query(lambda: (c := db.session.get(Certificate, certificate.id), c.pdf)[1])
    response = client.get(f"/admin/certificados/{certificate.id}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data == stored
    assert hashlib.sha256(response.data).hexdigest() == certificate.pdf_sha256
    again = client.get(f"/admin/certificados/{certificate.id}/pdf")
    assert again.data == stored  # never re-rendered
    actions = query(
        lambda: [e.action for e in services.events_of(db.session.get(Certificate, certificate.id))]
    )
    assert actions == ["certificate.issued", "certificate.downloaded", "certificate.downloaded"]


def test_revoke_then_verify_shows_revoked_with_when_and_why(
    client, app, query, admin, example_course, graduate
):
    certificate = issue_to(app, example_course, graduate)
    revoke = f"/admin/certificados/{certificate.id}/revocar"
    assert client.get(revoke).status_code == 200
    assert client.post(revoke, data={"reason": "  "}).status_code == 422
    assert client.post(revoke, data={"reason": "a\x1bb"}).status_code == 422
    response = client.post(revoke, data={"reason": "Emitido por error"})
    assert response.status_code == 303
    assert client.get(revoke).status_code == 409
    page = client.get(f"/certificados/v/{certificate.token}")
    assert page.status_code == 200
    assert "Certificado revocado" in page.text and "Emitido por error" in page.text
    by_code = client.get("/certificados/verificar", query_string={"codigo": certificate.code})
    assert "Certificado revocado" in by_code.text
    events = query(lambda: services.events_of(db.session.get(Certificate, certificate.id)))
    assert [(e.action, e.actor_id) for e in events] == [
        ("certificate.issued", None),
        ("certificate.revoked", admin.id),
    ]


def test_reissue_supersedes_and_the_old_code_names_the_new_one(
    client, app, query, admin, example_course, graduate
):
    old = issue_to(app, example_course, graduate)
    response = client.post(f"/admin/certificados/{old.id}/reemitir")
    assert response.status_code == 303
    new = query(
        lambda: db.session.scalars(select(Certificate).where(Certificate.status == "valid")).one()
    )
    page = client.get(f"/certificados/v/{old.token}")
    assert "Certificado reemplazado" in page.text and codes.display(new.code) in page.text
    assert client.post(f"/admin/certificados/{old.id}/reemitir").status_code == 409


# The learner ---------------------------------------------------------------------------------


def test_a_learner_downloads_their_certificate_from_my_courses(
    client, app, auth, make_user, example_course
):
    user = auth.as_role(make_user, "learner")
    with app.app_context():
        completed(example_course, user)
        db.session.commit()
    assert "Descargar el certificado" not in client.get("/mis-cursos").text
    certificate = issue_to(app, example_course, user)
    page = client.get("/mis-cursos")
    link = f"/mis-cursos/certificados/{certificate.id}/pdf"
    assert link in page.text
    response = client.get(link)
    assert response.status_code == 200
    assert hashlib.sha256(response.data).hexdigest() == certificate.pdf_sha256
    auth.logout()
    auth.as_role(make_user, "learner")
    assert client.get(link).status_code == 404  # someone else's


# Public verification -------------------------------------------------------------------------


def test_verification_by_code_and_by_link(client, app, example_course, graduate):
    certificate = issue_to(app, example_course, graduate)
    assert "Escribe el código" in client.get("/certificados/verificar").text
    shown = codes.display(certificate.code)
    for typed in (shown, shown.lower(), certificate.code):
        page = client.get("/certificados/verificar", query_string={"codigo": typed})
        assert page.status_code == 200
        assert "Certificado válido" in page.text and LONG_NAME in page.text
        assert example_course.title in page.text
    page = client.get(f"/certificados/v/{certificate.token}")
    assert "Certificado válido" in page.text and shown in page.text
    assert str(certificate.hours) in page.text


def test_a_typo_in_the_code_is_named_as_a_typo(client, app, example_course, graduate):
    certificate = issue_to(app, example_course, graduate)
    code = certificate.code
    wrong = code[:3] + next(s for s in codes.ALPHABET if s != code[3]) + code[4:]
    page = client.get("/certificados/verificar", query_string={"codigo": wrong})
    assert page.status_code == 422
    assert "El código tiene un error de tipeo" in page.text
    assert LONG_NAME not in page.text
    page = client.get("/certificados/verificar", query_string={"codigo": "hola"})
    assert page.status_code == 422 and "no es un código de certificado" in page.text


def test_an_unknown_code_or_token_is_not_found(client, app):
    page = client.get("/certificados/verificar", query_string={"codigo": codes.generate()})
    assert page.status_code == 404 and "No encontramos ese certificado" in page.text
    assert client.get("/certificados/v/" + "x" * 43).status_code == 404
    assert client.get("/certificados/v/" + "x" * 500).status_code == 404


def test_an_expired_certificate_shows_as_expired(client, app, query, example_course, graduate):
    certificate = issue_to(app, example_course, graduate)

    def expire() -> None:
        db.session.get(Certificate, certificate.id).expires_at = utcnow() - timedelta(days=1)
        db.session.commit()

    query(expire)
    page = client.get(f"/certificados/v/{certificate.token}")
    assert "Certificado vencido" in page.text


def test_verification_is_rate_limited(client, app):
    app.config["CERTIFICATE_VERIFY_LIMIT"] = "3 per minute"
    try:
        answers = [
            client.get("/certificados/verificar", query_string={"codigo": codes.generate()})
            for _ in range(4)
        ]
        answers.append(client.get("/certificados/v/abc"))
    finally:
        app.config["CERTIFICATE_VERIFY_LIMIT"] = "30 per minute"
    assert [a.status_code for a in answers] == [404, 404, 404, 429, 429]


# Command line --------------------------------------------------------------------------------


def test_the_command_line_issues_revokes_and_verifies(
    app, runner, query, make_user, example_course, graduate
):
    other = make_user("learner")
    with app.app_context():
        completed(example_course, other)
        db.session.commit()
    result = runner.invoke(
        args=["certificates", "issue", "--course", "curso-ejemplo", "--email", other.email]
    )
    assert result.exit_code == 0, result.output
    assert "Certificados emitidos: 1." in result.output
    result = runner.invoke(args=["certificates", "issue", "--course", "curso-ejemplo"])
    assert result.exit_code == 0, result.output
    assert LONG_NAME in result.output and "Certificados emitidos: 1." in result.output
    result = runner.invoke(args=["certificates", "issue", "--course", "curso-ejemplo"])
    assert "Nadie espera certificado" in result.output
    result = runner.invoke(
        args=["certificates", "issue", "--course", "curso-ejemplo", "--email", other.email]
    )
    assert result.exit_code == 1 and "ya tiene un certificado válido" in result.output
    code = query(
        lambda: db.session.scalar(select(Certificate.code).where(Certificate.user_id == other.id))
    )
    result = runner.invoke(args=["certificates", "verify", codes.display(code)])
    assert result.exit_code == 0 and "válido" in result.output
    typo = code[:-1] + next(s for s in codes.ALPHABET if s != code[-1])
    result = runner.invoke(args=["certificates", "verify", typo])
    assert result.exit_code == 1 and "error de tipeo" in result.output
    result = runner.invoke(args=["certificates", "revoke", code, "--reason", "Duplicado"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["certificates", "verify", code])
    assert result.exit_code == 1 and "revocado" in result.output and "Duplicado" in result.output
    result = runner.invoke(args=["certificates", "issue", "--course", "no-existe"])
    assert result.exit_code == 1 and "no existe el curso" in result.output


# Configuration -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        '[{"name": "Ana"}]',
        '{"name": "Ana", "position": "Directora"}',
        '[{"name": " ", "position": "x"}]',
        "Ana",
    ],
)
def test_signatories_must_be_names_and_positions(monkeypatch, tmp_path, value):
    from academy import create_app
    from academy.config import ConfigError

    monkeypatch.setenv("ACADEMY_CERTIFICATE_SIGNATORIES", value)
    with pytest.raises(ConfigError, match="CERTIFICATE_SIGNATORIES"):
        create_app({"SECRET_KEY": "x" * 40, "DATABASE_URL": f"sqlite:///{tmp_path}/a.db"})


def test_configured_signatories_are_printed(app, example_course, graduate):
    app.config["CERTIFICATE_SIGNATORIES"] = [
        {"name": "Rosa Aravena Muñoz", "position": "Directora"}
    ]
    try:
        certificate = issue_to(app, example_course, graduate)
    finally:
        app.config["CERTIFICATE_SIGNATORIES"] = []
    with app.app_context():
        pdf = db.session.get(Certificate, certificate.id).pdf
    assert "Rosa Aravena Muñoz" in pdf_text(pdf)


def test_certificate_forms_never_answer_500(client, app, admin, example_course, graduate):
    from tests.test_hostile_input import statuses

    certificate = issue_to(app, example_course, graduate)
    routes = [
        ("POST", f"/admin/certificados/{certificate.id}/revocar"),
        ("GET", f"/admin/certificados/{certificate.id}/revocar"),
        ("POST", f"/admin/certificados/{certificate.id}/reemitir"),
        ("POST", COURSE_PAGE + "/emitir"),
        ("POST", COURSE_PAGE + "/vigencia"),
        ("GET", COURSE_PAGE.removesuffix("/certificados") + "/certificados.zip"),
        ("GET", "/admin/certificados/plantillas/default/vista-previa"),
        ("GET", f"/certificados/v/{certificate.token}"),
        ("GET", "/certificados/verificar"),
    ]
    for method, path in routes:
        failed = {p: code for p, code in statuses(client, method, path).items() if code >= 500}
        assert not failed, f"{method} {path}: {failed}"


def test_a_template_is_previewed_with_sample_data(runner, template_dir, tmp_path):
    target = tmp_path / "vista.pdf"
    result = runner.invoke(args=["certificates", "preview", "--to", str(target)])
    assert result.exit_code == 0, result.output
    assert "Ñuñez-Fernández" in pdf_text(target.read_bytes())
    write_template(template_dir, "<p>{{ nombre }}</p>\n{{ apellido }}", name="rota")
    result = runner.invoke(args=["certificates", "preview", "rota", "--to", str(target)])
    assert result.exit_code == 1
    assert "rota/certificate.html:2: el campo «apellido» no existe" in result.output


# Validity per course -------------------------------------------------------------------------

VALIDITY = COURSE_PAGE + "/vigencia"


def test_months_are_added_on_the_calendar():
    from datetime import UTC, datetime

    start = datetime(2024, 1, 31, 15, 0, tzinfo=UTC)
    assert services.add_months(start, 1) == datetime(2024, 2, 29, 15, 0, tzinfo=UTC)
    assert services.add_months(start, 13) == datetime(2025, 2, 28, 15, 0, tzinfo=UTC)
    assert services.add_months(start, 24) == datetime(2026, 1, 31, 15, 0, tzinfo=UTC)


def test_an_admin_sets_the_validity_and_bad_values_change_nothing(
    client, query, admin, example_course
):
    def months() -> int | None:
        return query(lambda: db.session.get(Course, example_course.id).certificate_validity_months)

    page = client.get(COURSE_PAGE)
    assert "Vigencia del certificado, en meses" in page.text
    assert client.post(VALIDITY, data={"months": "24"}).status_code == 303
    assert months() == 24
    assert 'value="24"' in client.get(COURSE_PAGE).text
    for bad in ("0", "241", "-3", "doce", "9" * 40):
        response = client.post(VALIDITY, data={"months": bad})
        assert response.status_code == 422, bad
        assert months() == 24
    assert "de 1 a 240 meses" in client.post(VALIDITY, data={"months": "0"}).text
    assert client.post(VALIDITY, data={"months": ""}).status_code == 303
    assert months() is None


def test_a_certificate_expires_its_validity_after_completion_and_verification_says_so(
    client, app, query, admin, example_course, graduate
):
    from datetime import UTC, datetime

    finished = datetime(2024, 1, 31, 15, 0, tzinfo=UTC)

    def finished_long_ago() -> None:
        enrolment = db.session.scalars(
            select(Enrolment).where(Enrolment.user_id == graduate.id)
        ).one()
        enrolment.completed_at = finished
        db.session.commit()

    query(finished_long_ago)
    assert client.post(VALIDITY, data={"months": "1"}).status_code == 303
    assert client.post(COURSE_PAGE + "/emitir", data={"user_id": graduate.id}).status_code == 303
    certificate = only_certificate(query)
    # Counted from the completion, not from the issue (today).
    assert certificate.expires_at == datetime(2024, 2, 29, 15, 0, tzinfo=UTC)
    printed = query(lambda: db.session.get(Certificate, certificate.id).pdf)
    assert "29 de febrero de 2024" in pdf_text(printed)
    page = client.get(f"/certificados/v/{certificate.token}")
    assert page.status_code == 200
    assert "Certificado vencido" in page.text
    assert "Fue válido hasta el 29 de febrero de 2024" in page.text
    # A re-issue (a name corrected) keeps the date printed on the one it replaces.
    assert client.post(f"/admin/certificados/{certificate.id}/reemitir").status_code == 303
    new = query(
        lambda: db.session.scalars(select(Certificate).where(Certificate.status == "valid")).one()
    )
    assert new.expires_at == certificate.expires_at


def test_without_a_validity_certificates_never_expire(client, app, query, example_course, graduate):
    certificate = issue_to(app, example_course, graduate)
    assert certificate.expires_at is None
    page = client.get(f"/certificados/v/{certificate.token}")
    assert "Certificado válido" in page.text and "Válido hasta" not in page.text


# A course's or a cohort's certificates as one ZIP ----------------------------------------------

ZIP = COURSE_PAGE.removesuffix("/certificados") + "/certificados.zip"


def test_an_admin_downloads_the_certificates_in_force_as_one_zip(
    client, app, query, admin, make_user, example_course, graduate
):
    import zipfile

    from academy.progress.models import Cohort

    other = make_user("learner", full_name="Ana Ñancupil Díaz", email="ana@example.cl")
    third = make_user("learner", full_name="Pedro Soto", email="pedro@example.cl")
    with app.app_context():
        course = db.session.get(Course, example_course.id)
        completed(course, other)
        completed(course, third)
        cohort = Cohort(course_id=course.id, name="Grupo Aysén 2026")
        db.session.add(cohort)
        db.session.flush()
        db.session.execute(
            Enrolment.__table__.update()
            .where(Enrolment.user_id == other.id)
            .values(cohort_id=cohort.id)
        )
        db.session.commit()
        cohort_id = cohort.id
    mine = issue_to(app, example_course, graduate)
    theirs = issue_to(app, example_course, other)
    revoked = issue_to(app, example_course, third)
    with app.app_context():
        services.revoke(db.session.get(Certificate, revoked.id), "Error", by=CLI)
        db.session.commit()

    def stored(certificate: Certificate) -> bytes:
        return query(lambda: db.session.get(Certificate, certificate.id).pdf)

    page = client.get(COURSE_PAGE)
    assert ZIP in page.text and "Grupo Aysén 2026" in page.text
    response = client.get(ZIP)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "certificados-curso-ejemplo.zip" in response.headers["Content-Disposition"]
    bundle = zipfile.ZipFile(io.BytesIO(response.data))
    assert bundle.testzip() is None
    expected = {
        f"{codes.display(mine.code)}-Maria-Jose-de-los-Angeles-Nunez-Fernandez-Valenzuela-y-Sotomayor.pdf": mine,  # noqa: E501
        f"{codes.display(theirs.code)}-Ana-Nancupil-Diaz.pdf": theirs,
    }
    assert sorted(bundle.namelist()) == sorted(expected)  # the revoked one is not in force
    for name, certificate in expected.items():
        assert bundle.read(name) == stored(certificate)  # byte for byte, still signed

    by_cohort = client.get(ZIP, query_string={"cohorte": cohort_id})
    assert by_cohort.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(by_cohort.data)).namelist() == [
        f"{codes.display(theirs.code)}-Ana-Nancupil-Diaz.pdf"
    ]
    assert (
        "certificados-curso-ejemplo-Grupo-Aysen-2026.zip"
        in (by_cohort.headers["Content-Disposition"])
    )

    def downloads(certificate: Certificate) -> list[tuple[int | None, dict]]:
        return query(
            lambda: [
                (e.actor_id, e.detail)
                for e in services.events_of(db.session.get(Certificate, certificate.id))
                if e.action == "certificate.downloaded"
            ]
        )

    assert downloads(mine) == [(admin.id, {"archive": "certificados-curso-ejemplo.zip"})]
    assert downloads(theirs) == [
        (admin.id, {"archive": "certificados-curso-ejemplo.zip"}),
        (admin.id, {"archive": "certificados-curso-ejemplo-Grupo-Aysen-2026.zip"}),
    ]
    assert downloads(revoked) == []


def test_a_zip_download_made_by_another_page_records_nothing(
    client, app, query, admin, example_course, graduate
):
    certificate = issue_to(app, example_course, graduate)
    image = {"Sec-Fetch-Dest": "image"}
    assert client.get(ZIP, headers=image).status_code == 400
    assert client.get(f"/admin/certificados/{certificate.id}/pdf", headers=image).status_code == 400
    actions = query(
        lambda: [e.action for e in services.events_of(db.session.get(Certificate, certificate.id))]
    )
    assert actions == ["certificate.issued"]
    document = {"Sec-Fetch-Dest": "document"}
    assert client.get(ZIP, headers=document).status_code == 200


def test_a_zip_with_nothing_in_it_or_of_another_course_cohort_is_refused(
    client, app, admin, example_course
):
    empty = client.get(ZIP)
    assert empty.status_code == 404 and "no tiene certificados vigentes" in empty.text
    for bad in ("999999", "abc", "-1", "9" * 40):
        assert client.get(ZIP, query_string={"cohorte": bad}).status_code == 404


def test_the_zip_reads_one_pdf_at_a_time(app, example_course, graduate):
    from sqlalchemy import inspect

    from academy.certificates import archives

    issue_to(app, example_course, graduate)
    with app.app_context():
        found = archives.in_force(db.session.get(Course, example_course.id))
        archive, size = archives.write(found, by=CLI, archive="prueba.zip")
        assert size > 0 and b"".join(archives.chunks(archive))[:2] == b"PK"
        assert archive.closed
        # Each PDF was read beside its certificate, never into it: none stays in the session.
        assert all("pdf" in inspect(certificate).unloaded for certificate in found)
        db.session.rollback()


# Template previews in the web UI ---------------------------------------------------------------

TEMPLATES = "/admin/certificados/plantillas"


def test_an_admin_previews_every_template_with_sample_data(client, admin, template_dir):
    write_template(template_dir, "<p>{{ nombre }} · {{ rut }} · {{ codigo }}</p>", name="propia")
    write_template(template_dir, "<p>{{ nombre }}</p>\n<p>{{ apellido }}</p>", name="rota")
    write_template(template_dir, "<p>{{ nombre }}</p>\n{% if rut %}\n", name="sintaxis")
    (template_dir / "sin-html").mkdir()
    page = client.get(TEMPLATES)
    assert page.status_code == 200
    for name in ("default", "propia", "rota", "sintaxis"):
        assert f"{TEMPLATES}/{name}/vista-previa" in page.text
    assert "sin-html" not in page.text and "Vista previa (PDF)" in page.text

    for name in ("default", "propia"):
        pdf = client.get(f"{TEMPLATES}/{name}/vista-previa")
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        assert pdf.headers["Content-Disposition"].startswith("inline")
        words = " ".join(pdf_text(pdf.data).split())
        assert "María José de los Ángeles Ñuñez-Fernández Valenzuela" in words
        assert "12.345.678-5" in words

    broken = client.get(f"{TEMPLATES}/rota/vista-previa")
    assert broken.status_code == 422
    assert "rota/certificate.html:2: el campo «apellido» no existe" in broken.text
    syntax = client.get(f"{TEMPLATES}/sintaxis/vista-previa")
    assert syntax.status_code == 422
    assert "sintaxis/certificate.html:2: error de sintaxis" in syntax.text
    for unknown in ("no-existe", "sin-html", "..", "%2e%2e%2fetc", "A" * 200):
        assert client.get(f"{TEMPLATES}/{unknown}/vista-previa").status_code == 404, unknown


def test_issuing_with_a_broken_template_is_refused_on_the_page(
    client, app, query, admin, template_dir, example_course, graduate
):
    write_template(template_dir, "<p>{{ nombre }}</p>\n<p>{{ curso.titulo }}</p>", "rota")

    def use_it() -> None:
        db.session.get(Course, example_course.id).certificate_template = "rota"
        db.session.commit()

    query(use_it)
    response = client.post(COURSE_PAGE + "/emitir", data={"user_id": graduate.id})
    assert response.status_code == 409
    assert "rota/certificate.html:2: el campo «titulo» no existe" in response.text
    assert query(lambda: db.session.scalar(select(Certificate.id))) is None
    assert LONG_NAME in client.get(COURSE_PAGE).text  # still waiting for a certificate


def test_content_check_names_a_certificate_template_that_does_not_exist(runner, tmp_path):
    import shutil

    fixture = Path(__file__).parent / "fixtures/content"
    course = tmp_path / "courses/curso-ejemplo"
    shutil.copytree(fixture / "courses/curso-ejemplo", course)
    if (fixture / "quizzes").is_dir():
        shutil.copytree(fixture / "quizzes", tmp_path / "quizzes")
    course_file = course / "curso.md"
    text = course_file.read_text("utf-8")
    line = text.split("\n").index("certificado: default") + 1
    course_file.write_text(text.replace("certificado: default", "certificado: municipal"), "utf-8")
    result = runner.invoke(args=["content", "check", str(course)])
    assert result.exit_code != 0
    assert f"curso.md:{line}:" in result.output
    assert "no existe la plantilla de certificado «municipal»" in result.output
    (tmp_path / "certificates").mkdir()
    write_template(tmp_path / "certificates", "<p>{{ nombre }}</p>", name="municipal")
    result = runner.invoke(args=["content", "check", str(course)])
    assert result.exit_code == 0, result.output
