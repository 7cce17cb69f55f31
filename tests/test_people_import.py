"""Bulk import of people from CSV: the dry run, the one-transaction import, idempotency, every
bad input reported by row and column in Spanish, the web steps and ``academy users import``."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from sqlalchemy import func, select

from academy.audit import AuditAction, AuditEvent
from academy.auth.models import User
from academy.extensions import db
from academy.outbox import OutgoingMail
from academy.people import imports
from academy.people.imports import Outcome
from academy.progress.models import Cohort, CohortStatus, Enrolment

HEADER = "correo,nombre,rut,comuna,cargo\n"
GOOD = (
    HEADER
    + "ana.rojas@muni.cl,Ana Rojas,12.345.678-5,Ñuñoa,Encargada de participación\n"
    + "luis.soto@muni.cl,Luis Soto,,13101,\n"
)


def run(app, fn):
    with app.app_context():
        return fn()


def check(app, text: str | bytes):
    data = text.encode() if isinstance(text, str) else text
    return run(app, lambda: imports.check(data))


def by_email(email: str):
    return lambda: db.session.scalar(select(User).where(User.email == email))


def new_upload(data: bytes = b""):
    return imports.record_file(data, "x.csv", actor=None)


def messages(report) -> list[str]:
    return [str(problem) for problem in report.errors]


def test_a_dry_run_says_what_each_row_would_do_and_writes_nothing(app, make_user, query):
    make_user(email="luis.soto@muni.cl", full_name="Luis Soto", comuna_cut="13101")
    report = check(app, GOOD)
    assert report.ok
    assert [r.outcome for r in report.rows] == [Outcome.NEW, Outcome.UNCHANGED]
    assert report.rows[0].person.comuna_cut == "13120"  # Ñuñoa
    assert report.rows[0].person.rut == "123456785"
    assert query(by_email("ana.rojas@muni.cl")) is None


def test_import_creates_updates_and_invites_after_commit_then_changes_nothing(
    app, make_user, query, mailbox
):
    make_user(email="luis.soto@muni.cl", full_name="Luis Soto Pérez", comuna_cut="13101")

    def do_import():
        from academy.db import transaction

        with transaction():
            return imports.apply(GOOD.encode(), actor=None, upload=new_upload())

    _report, applied = run(app, do_import)
    assert (applied.created, applied.updated, applied.unchanged) == (1, 1, 0)
    ana = query(by_email("ana.rojas@muni.cl"))
    assert (ana.full_name, ana.rut, ana.comuna_cut, ana.role) == (
        "Ana Rojas",
        "123456785",
        "13120",
        "learner",
    )
    assert not ana.check_password("")  # no password until she chooses one
    invitation = mailbox.last_to("ana.rojas@muni.cl")
    link = re.search(r"http\S+/bienvenida/\S+", invitation.get_content()).group(0)
    assert query(by_email("luis.soto@muni.cl")).full_name == "Luis Soto"

    # The same file again: nothing changes, nobody is mailed again.
    sent = len(mailbox.messages)
    _report, again = run(app, do_import)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert len(mailbox.messages) == sent

    # The link lets her choose a password, once.
    client = app.test_client()
    path = link.split("localhost", 1)[-1] if "localhost" in link else "/" + link.split("/", 3)[3]
    assert client.get(path).status_code == 200
    response = client.post(
        path,
        data={"password": "una clave nueva y larga", "password_confirm": "una clave nueva y larga"},
    )
    assert response.status_code == 302
    assert (
        client.post(
            "/entrar", data={"email": "ana.rojas@muni.cl", "password": "una clave nueva y larga"}
        ).status_code
        == 302
    )
    assert client.get(path).status_code == 400


def test_invitations_are_written_a_step_at_a_time_and_never_twice(app, mailbox, monkeypatch):
    monkeypatch.setattr(imports, "INVITATIONS_PER_STEP", 1)
    text = HEADER + "".join(f"p{n}@muni.cl,Persona {n},,Arica,\n" for n in range(3))

    def do_import():
        from academy.db import transaction

        with transaction():
            upload = imports.record_file(text.encode(), "x.csv", actor=None)
            imports.apply(text.encode(), actor=None, upload=upload)
        return upload.id

    import_id = run(app, do_import)  # the job runs at once in the tests, after the commit
    sent = [m["To"] for m in mailbox.messages]
    assert sorted(sent) == ["p0@muni.cl", "p1@muni.cl", "p2@muni.cl"]
    run(app, lambda: imports.send_invitations.call_local(import_id))  # a second run sends none
    assert len(mailbox.messages) == 3
    count = run(app, lambda: db.session.scalar(select(func.count(OutgoingMail.id))))
    assert count == 3


def test_one_error_imports_nothing(app, query):
    text = GOOD + "mala@muni.cl,Persona Mala,12.345.678-9,Ñuñoa,\n"

    def do_import():
        with pytest.raises(imports.ImportRefused) as refused:
            imports.apply(text.encode(), actor=None, upload=new_upload())
        db.session.rollback()
        return refused.value.report

    report = run(app, do_import)
    assert messages(report) == [
        "fila 4, columna «rut»: el dígito verificador del RUT 12.345.678-9 no corresponde."
    ]
    count = query(
        lambda: db.session.scalar(
            select(func.count(User.id)).where(User.email.in_(["ana.rojas@muni.cl", "mala@muni.cl"]))
        )
    )
    assert count == 0
    assert query(lambda: db.session.scalar(select(func.count(OutgoingMail.id)))) == 0


@pytest.mark.parametrize(
    ("encoding", "delimiter", "bom"),
    [("utf-8", ",", True), ("utf-8", ";", False), ("cp1252", ";", False), ("latin-1", ",", False)],
)
def test_excel_encodings_and_semicolons(app, encoding, delimiter, bom):
    text = GOOD.replace(",", delimiter).replace("Ana Rojas", "Ana Peñaloza Núñez")
    data = ("\ufeff" if bom else "").encode() + text.encode(encoding)
    report = check(app, data)
    assert report.ok, messages(report)
    assert report.delimiter == delimiter
    assert report.rows[0].person.full_name == "Ana Peñaloza Núñez"
    assert report.rows[0].person.comuna_cut == "13120"


def test_comunas_by_name_with_or_without_accents_or_by_code(app):
    text = HEADER + "".join(
        f"p{n}@muni.cl,Persona {n},,{comuna},\n"
        for n, comuna in enumerate(["ÑUÑOA", "nunoa", " Ñuñoa ", "13120", "Los Angeles", "1101"])
    )
    report = check(app, text)
    assert report.ok, messages(report)
    cuts = [r.person.comuna_cut for r in report.rows]
    assert cuts == ["13120"] * 4 + ["08301", "01101"]


def test_every_bad_row_is_reported_by_row_and_column(app, make_user):
    make_user(email="dueno@muni.cl", rut="111111111")
    text = (
        HEADER
        + "no-es-correo,Persona Uno,,Ñuñoa,\n"
        + "dos@muni.cl,,,Ñuñoa,\n"
        + "tres@muni.cl,Persona Tres,abc,Ñuñoa,\n"
        + "cuatro@muni.cl,Persona Cuatro,,Nunoaa,\n"
        + "cinco@muni.cl,Persona Cinco,,Gotham,\n"
        + "seis@muni.cl,Persona Seis,11.111.111-1,Ñuñoa,\n"
        + "siete@muni.cl,Persona Siete,,,\n"
        + "ocho@muni.cl,Persona Ocho,,Ñuñoa,,sobra\n"
    )
    report = check(app, text)
    assert not report.ok
    assert messages(report) == [
        "fila 2, columna «correo»: «no-es-correo» no es un correo válido.",
        "fila 3, columna «nombre»: falta el nombre.",
        "fila 4, columna «rut»: «abc» no es un RUT válido.",
        "fila 5, columna «comuna»: no hay una comuna «Nunoaa»; ¿quisiste decir Ñuñoa?",
        "fila 6, columna «comuna»: no hay una comuna «Gotham» (escribe su nombre o su código CUT).",
        "fila 7, columna «rut»: el RUT ya pertenece a otra cuenta (dueno@muni.cl).",
        "fila 8, columna «comuna»: falta la comuna.",
        "fila 9: la fila tiene más celdas que el encabezado.",
    ]
    assert all(r.outcome is Outcome.ERROR for r in report.rows)


def test_missing_and_extra_columns(app):
    report = check(app, "correo,nombre,telefono\nuna@muni.cl,Una Persona,123\n")
    assert messages(report) == ["fila 1, columna «comuna»: falta esta columna, que es obligatoria."]
    assert report.rows == []
    report = check(
        app, "Correo Electrónico;Nombre completo;COMUNA;Teléfono\nuna@muni.cl;Una;Arica;1\n"
    )
    assert report.ok
    assert [str(w) for w in report.warnings] == [
        "fila 1, columna «Teléfono»: columna desconocida: se ignora."
    ]


def test_duplicate_rows(app):
    text = GOOD + "ana.rojas@muni.cl,Ana Rojas,12.345.678-5,Ñuñoa,Encargada de participación\n"
    report = check(app, text)
    assert report.ok
    assert report.rows[2].outcome is Outcome.DUPLICATE
    assert [str(w) for w in report.warnings] == ["fila 4: repite la fila 2: se omite."]

    text = (
        GOOD
        + "ANA.ROJAS@muni.cl,Ana María Rojas,,Ñuñoa,\n"
        + "otra@muni.cl,Otra,12345678-5,Arica,\n"
    )
    assert messages(check(app, text)) == [
        "fila 4, columna «correo»: el correo ana.rojas@muni.cl ya está en la fila 2 con "
        "otros datos.",
        "fila 5, columna «rut»: el RUT ya está en la fila 2, con otro correo.",
    ]


def test_empty_and_unreadable_files(app):
    assert messages(check(app, b"")) == ["El archivo está vacío."]
    assert messages(check(app, HEADER)) == ["El archivo no tiene filas de personas."]
    report = check(app, b'correo,nombre,comuna\n"a@muni.cl,\x00\n')
    assert not report.ok


def test_cohort_column_enrols_in_the_cohort(app, example_course, query):
    def make_cohort():
        cohort = Cohort(course_id=example_course.id, name="Generación 2027")
        db.session.add(cohort)
        db.session.commit()
        return cohort.id

    cohort_id = run(app, make_cohort)
    text = "correo,nombre,comuna,cohorte\nana@muni.cl,Ana,Arica,generacion 2027\n"

    def do_import(data):
        from academy.db import transaction

        with transaction():
            return imports.apply(data.encode(), actor=None, upload=new_upload())

    run(app, lambda: do_import(text))
    enrolment = query(
        lambda: db.session.scalar(
            select(Enrolment)
            .join(User, User.id == Enrolment.user_id)
            .where(User.email == "ana@muni.cl")
        )
    )
    assert (enrolment.course_id, enrolment.cohort_id) == (example_course.id, cohort_id)
    _report, again = run(app, lambda: do_import(text))
    assert again.unchanged == 1
    events = query(
        lambda: [
            (e.action, e.target_label, e.detail.get("course"))
            for e in db.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.detail["people_import"].is_not(None))
                .order_by(AuditEvent.id)
            )
        ]
    )
    assert events == [
        ("person.created", "ana@muni.cl", None),
        ("enrolment.created", "ana@muni.cl", example_course.slug),
    ]
    report = check(app, "correo,nombre,comuna,cohorte\nana@muni.cl,Ana,Arica,Otra\n")
    assert messages(report) == ["fila 2, columna «cohorte»: no hay una cohorte «Otra»."]

    # Once the cohort closes, Ana stays in it (her row is unchanged) but nobody new joins.
    def close():
        db.session.get(Cohort, cohort_id).status = CohortStatus.CLOSED.value
        db.session.commit()

    run(app, close)
    text += "beto@muni.cl,Beto,Arica,Generación 2027\n"
    report = check(app, text)
    assert report.rows[0].outcome is Outcome.UNCHANGED
    assert messages(report) == [
        "fila 3, columna «cohorte»: la cohorte «Generación 2027» está cerrada: no recibe "
        "nuevas inscripciones."
    ]


# The web steps -----------------------------------------------------------------------------


def upload(client, data: bytes, name: str = "personas.csv"):
    return client.post(
        "/admin/personas/importar",
        data={"file": (BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_admin_uploads_reviews_and_confirms(app, client, auth, make_user, query, mailbox):
    admin = auth.as_role(make_user, "admin")
    response = upload(client, GOOD.encode("cp1252").replace(b",", b";"))
    assert response.status_code == 303
    review = client.get(response.headers["Location"])
    assert review.status_code == 200
    assert "Personas nuevas: 2" in review.text and "ana.rojas@muni.cl" in review.text
    import_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    sha = query(lambda: db.session.get(imports.PeopleImport, import_id).sha256)

    # A wrong hash imports nothing.
    assert (
        client.post(f"/admin/personas/importar/{import_id}", data={"sha256": "0" * 64}).status_code
        == 303
    )
    assert query(by_email("ana.rojas@muni.cl")) is None

    done = client.post(f"/admin/personas/importar/{import_id}", data={"sha256": sha})
    assert done.status_code == 303
    assert query(by_email("ana.rojas@muni.cl")).full_name == "Ana Rojas"
    mailbox.last_to("ana.rojas@muni.cl")
    stored = query(lambda: db.session.get(imports.PeopleImport, import_id))
    assert stored.content is None and stored.created_count == 2
    event = query(
        lambda: db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == AuditAction.PEOPLE_IMPORTED.value)
        )
    )
    assert event.actor_id == admin.id and event.detail["created"] == 2
    # Confirming twice does not import twice.
    assert (
        client.post(f"/admin/personas/importar/{import_id}", data={"sha256": sha}).status_code
        == 303
    )
    assert "ya se importó" in client.get(f"/admin/personas/importar/{import_id}").text


def test_a_file_that_went_wrong_since_its_dry_run_imports_nothing(client, auth, make_user, query):
    auth.as_role(make_user, "admin")
    location = upload(client, GOOD.encode()).headers["Location"]
    import_id = int(location.rstrip("/").rsplit("/", 1)[1])
    sha = query(lambda: db.session.get(imports.PeopleImport, import_id).sha256)
    make_user(email="otra@muni.cl", rut="123456785")  # Ana's RUT, taken meanwhile
    response = client.post(location, data={"sha256": sha})
    assert response.status_code == 422
    assert "No se importó nada" in response.text
    assert "fila 2, columna «rut»: el RUT ya pertenece a otra cuenta (otra@muni.cl)." in (
        response.text
    )
    assert query(by_email("luis.soto@muni.cl")) is None
    assert query(lambda: db.session.get(imports.PeopleImport, import_id).applied_at) is None


def test_review_shows_errors_and_no_confirm_button(client, auth, make_user):
    auth.as_role(make_user, "admin")
    response = upload(client, (HEADER + "x,Persona,,Gotham,\n").encode())
    page = client.get(response.headers["Location"]).text
    assert "fila 2, columna «correo»" in page
    assert "fila 2, columna «comuna»" in page
    assert 'name="sha256"' not in page


def test_another_admins_upload_is_not_found(app, client, auth, make_user):
    auth.as_role(make_user, "admin")
    location = upload(client, GOOD.encode()).headers["Location"]
    other = app.test_client()
    second = make_user("admin")
    other.post("/entrar", data={"email": second.email, "password": "una frase de prueba larga"})
    assert other.get(location).status_code == 404


@pytest.mark.parametrize("role", ["learner", "trainer"])
def test_only_admins_import(client, auth, make_user, role):
    auth.as_role(make_user, role)
    assert upload(client, GOOD.encode()).status_code == 403
    assert client.get("/admin/personas/importar").status_code == 403


def test_a_file_over_the_limit_is_refused_in_spanish_unread(
    app, client, auth, make_user, monkeypatch
):
    auth.as_role(make_user, "admin")
    monkeypatch.setitem(app.config, "PEOPLE_IMPORT_MAX_BYTES", 1024 * 1024)
    # 50 MB announced and sent: refused by its Content-Length, before the body is read.
    body = b'--b\r\nContent-Disposition: form-data; name="file"; filename="g.csv"\r\n\r\n'
    response = client.post(
        "/admin/personas/importar",
        data=body + b"x" * (50 * 1024 * 1024),
        content_type="multipart/form-data; boundary=b",
    )
    assert response.status_code == 413
    assert "El archivo pesa más de 1 MB" in response.text


def test_the_upload_and_confirmation_need_the_csrf_token(app, auth, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = app.test_client()
        admin = make_user("admin")
        page = client.get("/entrar").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        client.post(
            "/entrar",
            data={
                "email": admin.email,
                "password": "una frase de prueba larga",
                "csrf_token": token,
            },
        )
        assert upload(client, GOOD.encode()).status_code == 400
        assert (
            client.post("/admin/personas/importar/1", data={"sha256": "0" * 64}).status_code == 400
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


# The command line --------------------------------------------------------------------------


def test_cli_dry_run_and_import(runner, query, tmp_path):
    path = tmp_path / "personas.csv"
    path.write_bytes(GOOD.encode("cp1252"))
    result = runner.invoke(args=["users", "import", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "fila 2: ana.rojas@muni.cl: Nueva" in result.output
    assert query(by_email("ana.rojas@muni.cl")) is None

    result = runner.invoke(args=["users", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Importación lista: 2 nuevas, 0 actualizadas, 0 sin cambios." in result.output
    result = runner.invoke(args=["users", "import", str(path)])
    assert "0 nuevas, 0 actualizadas, 2 sin cambios" in result.output


def test_cli_errors_exit_non_zero_and_import_nothing(runner, query, tmp_path):
    path = tmp_path / "personas.csv"
    path.write_text(GOOD + "x,,,Gotham,\n", encoding="utf-8")
    for extra in ([], ["--dry-run"]):
        result = runner.invoke(args=["users", "import", str(path), *extra])
        assert result.exit_code == 1
        assert "fila 4, columna «correo»" in result.output
    assert query(by_email("ana.rojas@muni.cl")) is None
