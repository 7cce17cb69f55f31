"""The administration journey in Chromium, end to end, as the academy runs a course:

an admin imports a CSV of people (the dry run names the errors; the corrected file goes in),
creates a cohort, assigns its trainer and enrols the imported people from the same file; one of
them chooses her password from the invitation, signs in and completes the course; the admin
then reads the reports (per course, per cohort, per region), whose numbers the test counts again
in the database, and the audit log, which shows each of those actions; the cohort's trainer
signs in and sees her cohort only, not the other cohort of the same course. Every page this
journey adds to the other browser tests is audited with axe-core.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import func, select

from academy.audit import AuditAction, AuditEvent
from academy.audit.views import ACTION_LABELS
from academy.auth.models import User
from academy.certificates.models import Certificate, CertificateStatus
from academy.courses.models import Lesson
from academy.courses.services import get_course
from academy.db import utcnow
from academy.extensions import db
from academy.outbox import MailStatus, OutgoingMail
from academy.progress import cohorts
from academy.progress import services as progress
from academy.progress.models import Cohort, Enrolment, LessonProgress
from tests.browser.conftest import (
    Account,
    Axe,
    LiveServer,
    add_certificate,
    choose_password_from_invitation,
    heading,
    import_course_folder,
    log_in,
    upload_people_csv,
)

pytestmark = pytest.mark.browser

COURSE = "Curso de ejemplo"
COHORT = "Generación marzo"
OTHER_COHORT = "Generación abril"
HEADER = "correo;nombre;rut;comuna;cargo\r\n"
# Two mistakes a real file has: a RUT whose check digit is wrong, a comuna misspelt.
ROWS_WITH_ERRORS = (
    HEADER
    + "carla.nunez@muni.cl;Carla Núñez;12.345.678-5;Ñuñoa;Encargada de participación\r\n"
    + "pedro.diaz@muni.cl;Pedro Díaz;11.111.111-2;Ñuñoa;Dideco\r\n"
    + "daniela.vera@muni.cl;Daniela Vera;;Valparaisso;Secpla\r\n"
)
CORRECTED = ROWS_WITH_ERRORS.replace("11.111.111-2", "11.111.111-1").replace("Valparaisso", "05101")
CARLA = Account(0, "carla.nunez@muni.cl", "Carla Núñez", "una frase propia bastante larga")


def counts_of_cohort(live: LiveServer, name: str) -> list[int]:
    """Enrolled, started (opened any lesson), completed and certified, counted in the database
    (not through the reports' queries)."""
    with live.app.app_context():
        enrolments = list(
            db.session.scalars(select(Enrolment).join(Cohort).where(Cohort.name == name))
        )
        started = completed = certified = 0
        for enrolment in enrolments:
            mine = (LessonProgress.user_id == enrolment.user_id) & (
                LessonProgress.course_id == enrolment.course_id
            )
            started += bool(db.session.scalar(select(func.count()).where(mine)))
            completed += enrolment.completed_at is not None
            certified += bool(
                db.session.scalar(
                    select(func.count()).where(
                        Certificate.user_id == enrolment.user_id,
                        Certificate.course_id == enrolment.course_id,
                        Certificate.status == CertificateStatus.VALID,
                    )
                )
            )
        return [len(enrolments), started, completed, certified]


def counts_of_region(live: LiveServer, region_code: str) -> list[int]:
    """People enrolled, courses completed and valid certificates of the people whose comuna is
    in the region, and how many comunas have a certified person, from the database."""
    with live.app.app_context():
        rows = db.session.execute(
            select(User.id, User.comuna_cut, Enrolment.completed_at)
            .join(Enrolment, Enrolment.user_id == User.id)
            .where(User.comuna_cut.startswith(region_code))
        ).all()
        certified = db.session.execute(
            select(User.comuna_cut)
            .join(Certificate, Certificate.user_id == User.id)
            .where(
                User.comuna_cut.startswith(region_code),
                Certificate.status == CertificateStatus.VALID,
            )
        ).all()
        return [
            len({row.id for row in rows}),
            sum(row.completed_at is not None for row in rows),
            len(certified),
            len({row.comuna_cut for row in certified}),
        ]


def cells(row: Locator) -> list[str]:
    """A table row's data cells as shown (its header cell left out), spaces made plain."""
    return [" ".join(text.split()) for text in row.get_by_role("cell").all_inner_texts()]


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %".replace(".", ",")


def seed_other_cohort(live: LiveServer) -> None:
    """The same course's April cohort, with another trainer and a learner of Santiago: what
    the March cohort's trainer must not see."""
    tomas = live.create_user("trainer", email="tomas@muni.cl", full_name="Tomás Relator")
    olga = live.create_user("learner", email="olga@muni.cl", full_name="Olga Otra")
    with live.app.app_context():
        course = get_course("curso-ejemplo")
        assert course is not None
        april = cohorts.create(course, OTHER_COHORT, by=None)
        cohorts.assign_trainer(april, db.session.get(User, tomas.id), by=None)
        cohorts.enrol(april, [olga.id], by=None)
        db.session.commit()


def seed_a_start(live: LiveServer, email: str) -> None:
    """The learner opened the first lesson and went no further (the learner's pages are
    walked through by Carla, and by test_learning_browser.py)."""
    with live.app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        course = get_course("curso-ejemplo")
        enrolment = progress.get_enrolment(user.id, course.id)
        first = db.session.scalar(
            select(Lesson.id).where(Lesson.course_id == course.id).order_by(Lesson.id)
        )
        progress.visit(
            user.id,
            course.id,
            first,
            enrolment_id=enrolment.id,
            last_lesson_id=None,
            started=False,
        )
        db.session.commit()


def test_an_admin_brings_people_in_runs_a_cohort_and_reads_what_happened(
    page: Page, live: LiveServer, axe: Axe, tmp_path: Path
) -> None:
    import_course_folder(live)
    admin = live.create_user("admin", email="admin@muni.cl", full_name="Ana Administradora")
    rita = live.create_user("trainer", email="rita@muni.cl", full_name="Rita Relatora")
    seed_other_cohort(live)

    # 1. The import: the dry run names both errors and offers no import; the fixed file goes in.
    log_in(page, admin)
    people_csv = tmp_path / "nomina-marzo.csv"
    people_csv.write_bytes(ROWS_WITH_ERRORS.encode("cp1252"))
    upload_people_csv(page, people_csv)
    expect(heading(page)).to_have_text("Revisar la importación de nomina-marzo.csv")
    problems = page.get_by_role("alert")
    expect(problems).to_contain_text(
        "fila 3, columna «rut»: el dígito verificador del RUT 11.111.111-2 no corresponde."
    )
    expect(problems).to_contain_text("fila 4, columna «comuna»: no hay una comuna «Valparaisso»")
    expect(page.get_by_role("button", name=re.compile("^Importar"))).to_have_count(0)
    people_csv.write_bytes(CORRECTED.encode("cp1252"))
    upload_people_csv(page, people_csv)
    dry_run = page.get_by_role("table", name="Resultado de cada fila")
    expect(dry_run.get_by_role("row")).to_have_count(4)  # the header and three new people
    page.get_by_role("button", name="Importar las 3 filas").click()
    expect(page.get_by_role("status")).to_contain_text("Importación lista: 3 personas nuevas")

    # 2. The cohort, its trainer, and its learners from the same file.
    page.get_by_role("link", name="Grupos", exact=True).click()
    page.get_by_role("link", name="Crear un grupo").click()
    page.get_by_label("Curso").select_option(label=COURSE)
    page.get_by_label("Nombre del grupo").fill(COHORT)
    page.get_by_label("Fecha de inicio").fill("2027-03-01")
    page.get_by_role("button", name="Crear grupo").click()
    expect(page.get_by_role("status")).to_contain_text(f"Creamos el grupo «{COHORT}».")
    page.get_by_label("Correo del relator o relatora").fill(rita.email)
    page.get_by_role("button", name="Asignar relator").click()
    expect(page.get_by_role("status")).to_contain_text("Rita Relatora sigue ahora este grupo.")
    page.get_by_role("link", name="Inscribir desde un archivo CSV").click()
    expect(heading(page)).to_have_text(f"Inscribir en «{COHORT}» desde un archivo CSV")
    axe(page)
    page.get_by_label("Archivo CSV").set_input_files(str(people_csv))
    page.get_by_role("button", name="Inscribir", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Inscribimos a 3 personas en el grupo.")
    expect(heading(page)).to_have_text(COHORT)
    roster = page.get_by_role("table", name="Participantes del grupo y su avance")
    expect(roster.get_by_role("row")).to_have_count(4)  # the header and the three imported
    page.get_by_role("button", name="Cerrar sesión").click()

    # 3. Progress: Carla chooses her password, signs in and completes the course in the
    # browser; Pedro opens its first lesson; Daniela has not started.
    choose_password_from_invitation(page, live, CARLA)
    log_in(page, CARLA)
    expect(heading(page)).to_have_text("Mis cursos")
    page.get_by_role("link", name=f"Comenzar {COURSE}").click()
    page.get_by_role("button", name="Marcar como completada").click()
    expect(page.get_by_text("Avance: 50 %").first).to_be_visible()
    page.get_by_role("button", name="Marcar como completada").click()
    expect(page.get_by_text(f"¡Felicitaciones! Completaste el curso «{COURSE}».")).to_be_visible()
    page.get_by_role("button", name="Cerrar sesión").click()
    seed_a_start(live, "pedro.diaz@muni.cl")
    with live.app.app_context():
        carla_id = db.session.scalar(select(User.id).where(User.email == CARLA.email))
    add_certificate(live, carla_id)

    # 4. The reports, against the database.
    march = counts_of_cohort(live, COHORT)
    assert march == [3, 2, 1, 1]  # so the comparisons below compare something
    april = counts_of_cohort(live, OTHER_COHORT)
    assert april == [1, 0, 0, 0]
    log_in(page, admin)
    page.get_by_role("link", name="Informes").click()
    by_course = page.get_by_role("table", name=re.compile("^Cifras por curso"))
    course_row = by_course.get_by_role("row", name=COURSE)
    everyone = [a + b for a, b in zip(march, april, strict=True)]
    assert cells(course_row)[:5] == [*map(str, everyone), percent(everyone[2], everyone[0])]
    course_row.get_by_role("link", name=COURSE).click()
    expect(heading(page)).to_have_text(f"Informe: {COURSE}")
    axe(page)
    by_cohort = page.get_by_role("table", name=re.compile("^Cifras por grupo"))
    assert cells(by_cohort.get_by_role("row", name=COHORT))[:5] == [
        *map(str, march),
        percent(march[2], march[0]),
    ]
    assert cells(by_cohort.get_by_role("row", name=OTHER_COHORT))[:4] == [*map(str, april)]

    page.get_by_role("link", name="Informes", exact=True).first.click()
    page.get_by_role("link", name="Por región y comuna, con la cobertura de municipios").click()
    by_region = page.get_by_role("table", name="Cifras por región, de norte a sur")
    # Santiago: Carla and Pedro of Ñuñoa, Olga of Santiago; Valparaíso: Daniela.
    santiago = counts_of_region(live, "13")
    assert santiago == [3, 1, 1, 1]
    assert cells(by_region.get_by_role("row", name="Metropolitana de Santiago")) == [
        *map(str, santiago[:3]),
        "52",
        str(santiago[3]),
        percent(santiago[3], 52),
    ]
    valparaiso = counts_of_region(live, "05")
    assert valparaiso == [1, 0, 0, 0]
    assert cells(by_region.get_by_role("row", name="Valparaíso"))[:3] == [*map(str, valparaiso[:3])]

    # 5. The audit log: each thing the admin did, as the database holds it, newest first.
    page.get_by_role("link", name="Auditoría").click()
    expect(heading(page)).to_have_text("Registro de auditoría")
    page.get_by_label("Persona (correo o nombre)").fill(admin.email)
    page.get_by_role("button", name="Filtrar").click()
    with live.app.app_context():
        recorded = db.session.execute(
            select(AuditEvent.action, AuditEvent.target_label)
            .where(AuditEvent.actor == admin.email)
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        ).all()
    assert Counter(action for action, _target in recorded) == {
        AuditAction.PEOPLE_IMPORTED: 1,
        AuditAction.PERSON_CREATED: 3,
        AuditAction.COHORT_CREATED: 1,
        AuditAction.COHORT_TRAINER_ADDED: 1,
        AuditAction.ENROLLED: 3,
        AuditAction.COHORT_JOINED: 3,
    }
    log = page.get_by_role("table", name="Eventos registrados, los más recientes primero")
    shown = [cells(row) for row in log.locator("tbody tr").all()]
    assert [(row[1], row[2], row[3]) for row in shown] == [
        (str(ACTION_LABELS[AuditAction(action)]), admin.email, target)
        for action, target in recorded
    ]
    expect(page.get_by_text(f"{len(recorded)} eventos")).to_be_visible()
    axe(page)

    # 5b. Mail that did not leave (the relay refused it): listed without its body, retried.
    with live.app.app_context():
        db.session.add(
            OutgoingMail(
                recipient="carla.nunez@muni.cl",
                subject="Te inscribimos en un grupo",
                message="Secreto: https://academia.example/clave/abc",
                status=MailStatus.FAILED.value,
                attempts=1,
                last_attempt_at=utcnow(),
                error="SMTPRecipientsRefused: relay down",
            )
        )
        db.session.commit()
    page.get_by_role("link", name="Correo no enviado").click()
    expect(heading(page)).to_have_text("Correo no enviado")
    unsent = page.get_by_role("table", name="Correos no enviados, los más recientes primero")
    expect(unsent.get_by_role("row", name=re.compile("carla.nunez@muni.cl"))).to_contain_text(
        "No se pudo enviar"
    )
    expect(page.get_by_text("Secreto")).to_have_count(0)
    axe(page)
    page.get_by_role("button", name="Reintentar ahora").click()
    expect(page.get_by_role("status")).to_contain_text("Pedimos reintentar el envío")
    page.get_by_role("button", name="Cerrar sesión").click()

    # 6. Rita follows the March cohort only: her cohorts, its learners, her reports.
    log_in(page, rita)
    page.get_by_role("link", name="Mis grupos").click()
    expect(heading(page)).to_have_text("Mis grupos")
    expect(page.get_by_role("link", name=COHORT)).to_be_visible()
    expect(page.get_by_role("link", name=OTHER_COHORT)).to_have_count(0)
    page.get_by_role("link", name=COHORT).click()
    roster = page.get_by_role("table", name="Participantes del grupo y su avance")
    expect(roster.get_by_role("row")).to_have_count(4)
    for name in ("Carla Núñez", "Pedro Díaz", "Daniela Vera"):
        expect(roster).to_contain_text(name)
    expect(roster).not_to_contain_text("Olga Otra")
    page.get_by_role("link", name="Informes").click()
    by_course = page.get_by_role("table", name=re.compile("^Cifras por curso"))
    assert cells(by_course.get_by_role("row", name=COURSE))[:4] == [*map(str, march)]
    by_course.get_by_role("link", name=COURSE).click()
    by_cohort = page.get_by_role("table", name=re.compile("^Cifras por grupo"))
    expect(by_cohort.get_by_role("row")).to_have_count(2)  # the header and March
    expect(by_cohort.get_by_role("row", name=COHORT)).to_have_count(1)
    assert not live.errors
