"""The cohort pages: admins run cohorts; each trainer sees only their cohorts and learners."""

from __future__ import annotations

import io

from sqlalchemy import select

from academy.audit import AuditEvent
from academy.auth.models import User
from academy.courses.models import Course
from academy.extensions import db
from academy.progress import cohorts
from academy.progress.models import Cohort, Enrolment

ADMIN = "/admin/grupos/"


def make_cohort(query, course_id, name, trainer_id=None, learner_ids=()):
    def make():
        found = cohorts.create(db.session.get(Course, course_id), name, by=None)
        if trainer_id is not None:
            cohorts.assign_trainer(found, db.session.get(User, trainer_id), by=None)
        if learner_ids:
            cohorts.enrol(found, learner_ids, by=None)
        db.session.commit()
        return found.id

    return query(make)


def cohort_of(query, user_id, course_id):
    return query(
        lambda: db.session.scalar(
            select(Enrolment.cohort_id).where(
                Enrolment.user_id == user_id, Enrolment.course_id == course_id
            )
        )
    )


def test_an_admin_creates_renames_closes_and_archives_a_cohort(
    client, auth, make_user, example_course, query
):
    auth.as_role(make_user, "admin")
    form = {"course": str(example_course.id), "name": "Generación marzo", "starts_on": "2027-03-01"}
    response = client.post(ADMIN + "nuevo", data=form)
    assert response.status_code == 303
    cohort_id = query(lambda: db.session.scalar(select(Cohort.id)))
    assert response.headers["Location"].endswith(f"/admin/grupos/{cohort_id}")

    again = client.post(ADMIN + "nuevo", data={**form, "name": "GENERACIÓN MARZO"})
    assert again.status_code == 422
    assert "Ya hay un grupo llamado" in again.text
    bad_dates = client.post(ADMIN + "nuevo", data={**form, "name": "Otro", "ends_on": "2027-01-01"})
    assert bad_dates.status_code == 422
    assert "no puede ser anterior" in bad_dates.text
    not_a_date = client.post(ADMIN + "nuevo", data={**form, "name": "X", "starts_on": "ayer"})
    assert not_a_date.status_code == 422
    assert "Escribe la fecha como año, mes y día" in not_a_date.text
    no_course = client.post(ADMIN + "nuevo", data={**form, "course": "999999"})
    assert no_course.status_code == 422 and "Opción inválida." in no_course.text

    page = client.get(ADMIN)
    assert "Generación marzo" in page.text and "Abierto" in page.text

    detail = f"{ADMIN}{cohort_id}"
    response = client.post(detail, data={"name": "Marzo 2027", "starts_on": "2027-03-01"})
    assert response.status_code == 303
    assert "Marzo 2027" in client.get(detail).text

    assert client.post(detail + "/cerrar").status_code == 303
    assert "Cerrado" in client.get(ADMIN).text
    assert "Marzo 2027" not in client.get(ADMIN + "?estado=open").text
    assert client.post(detail + "/archivar").status_code == 303
    assert "Marzo 2027" not in client.get(ADMIN).text
    listed = client.get(ADMIN + "?archivados=1").text
    assert "Marzo 2027" in listed and "Archivado" in listed
    # Reopening an archived cohort is refused with a reason, not an error page.
    refused = client.post(detail + "/reabrir")
    assert refused.status_code == 422 and "restáuralo primero" in refused.text
    assert client.post(detail + "/restaurar").status_code == 303
    assert client.post(detail + "/reabrir").status_code == 303

    logged = query(
        lambda: list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    )
    assert logged == [
        "cohort.created",
        "cohort.renamed",
        "cohort.closed",
        "cohort.archived",
        "cohort.restored",
        "cohort.reopened",
    ]


def test_an_admin_enrols_people_found_by_a_search(client, auth, make_user, example_course, query):
    admin = auth.as_role(make_user, "admin")
    ana = make_user(full_name="Ana Araya", comuna_cut="05101")
    bea = make_user(full_name="Bea Araya", rut="123456785")
    make_user(full_name="Olga Araya", active=False)
    cohort_id = make_cohort(query, example_course.id, "Marzo")
    page = f"{ADMIN}{cohort_id}/inscribir"

    assert "Escribe un nombre" in client.get(page).text
    found = client.get(page, query_string={"q": "araya"}).text
    assert "Ana Araya" in found and "Bea Araya" in found
    assert "Olga Araya" not in found  # deactivated accounts are not offered
    assert "No inscrita en el curso" in found
    by_rut = client.get(page, query_string={"q": "12.345.678-5"}).text
    assert "Bea Araya" in by_rut and "Ana Araya" not in by_rut
    by_comuna = client.get(page, query_string={"comuna": "05101"}).text
    assert "Ana Araya" in by_comuna and "Bea Araya" not in by_comuna

    response = client.post(page + "?q=araya", data={"persona": [str(ana.id), str(bea.id)]})
    assert response.status_code == 303
    assert "q=araya" in response.headers["Location"]
    assert cohort_of(query, ana.id, example_course.id) == cohort_id
    assert cohort_of(query, bea.id, example_course.id) == cohort_id
    assert "En este grupo" in client.get(page, query_string={"q": "araya"}).text
    detail = client.get(f"{ADMIN}{cohort_id}").text
    assert "Ana Araya" in detail and "Bea Araya" in detail and "0 %" in detail

    assert client.post(page, data={}).status_code == 422
    assert client.post(page, data={"persona": "x"}).status_code == 400
    events = query(
        lambda: [
            (e.action, e.actor_id)
            for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]
    )
    assert events.count(("enrolment.created", admin.id)) == 2
    assert events.count(("cohort.joined", admin.id)) == 2

    # A closed cohort refuses, with the reason on the page.
    client.post(f"{ADMIN}{cohort_id}/cerrar")
    carla = make_user(full_name="Carla Araya")
    refused = client.post(page, data={"persona": str(carla.id)})
    assert refused.status_code == 422
    assert "está cerrado: no recibe nuevas inscripciones" in refused.text
    assert cohort_of(query, carla.id, example_course.id) is None


def upload(client, url, text: str):
    return client.post(
        url,
        data={"file": (io.BytesIO(text.encode("cp1252")), "personas.csv")},
        content_type="multipart/form-data",
    )


def test_a_csv_with_bad_rows_is_reported_by_row_and_enrols_no_one(
    client, auth, make_user, example_course, query
):
    auth.as_role(make_user, "admin")
    ana = make_user(email="ana@muni.cl")
    bea = make_user(email="bea@muni.cl", rut="123456785")
    cohort_id = make_cohort(query, example_course.id, "Marzo")
    url = f"{ADMIN}{cohort_id}/inscribir-csv"
    assert client.get(url).status_code == 200

    response = upload(client, url, "correo\nana@muni.cl\nnadie@muni.cl\n11.111.111-2\n")
    assert response.status_code == 422
    assert "No inscribimos a nadie: 2 filas tienen problemas." in response.text
    assert "Fila 3: no hay una cuenta con el correo «nadie@muni.cl»." in response.text
    assert "Fila 4: «11.111.111-2» no es un RUT válido" in response.text
    assert cohort_of(query, ana.id, example_course.id) is None

    empty = upload(client, url, "correo\n")
    assert empty.status_code == 422 and "no tiene filas" in empty.text
    assert client.post(url, data={}).status_code == 422

    response = upload(client, url, "rut;nombre\n12.345.678-5;Bea\nana@muni.cl;Ana\n")
    assert response.status_code == 303
    assert cohort_of(query, ana.id, example_course.id) == cohort_id
    assert cohort_of(query, bea.id, example_course.id) == cohort_id


def test_an_admin_assigns_and_removes_trainers(client, auth, make_user, example_course, query):
    auth.as_role(make_user, "admin")
    rita = make_user("trainer", email="rita@muni.cl", full_name="Rita Relatora")
    make_user("learner", email="ana@muni.cl")
    cohort_id = make_cohort(query, example_course.id, "Marzo")
    url = f"{ADMIN}{cohort_id}/relatores"

    unknown = client.post(url, data={"email": "nadie@muni.cl"})
    assert unknown.status_code == 422 and "No hay una cuenta" in unknown.text
    learner = client.post(url, data={"email": "ana@muni.cl"})
    assert learner.status_code == 422 and "no es relator ni administrador" in learner.text
    assert client.post(url, data={"email": "RITA@muni.cl"}).status_code == 303
    assert "Rita Relatora" in client.get(f"{ADMIN}{cohort_id}").text
    assert "Rita Relatora" in client.get(ADMIN).text
    assert client.post(f"{url}/{rita.id}/quitar").status_code == 303
    assert client.post(f"{url}/{rita.id}/quitar").status_code == 404
    assert "Rita Relatora" not in client.get(f"{ADMIN}{cohort_id}").text


def test_each_trainer_sees_only_their_cohorts_and_their_learners(
    client, auth, make_user, example_course, query
):
    rita = make_user("trainer", full_name="Rita Relatora")
    tomas = make_user("trainer", full_name="Tomás Relator")
    ana = make_user(full_name="Ana del grupo de Rita")
    bea = make_user(full_name="Bea del grupo de Tomás")
    mine = make_cohort(query, example_course.id, "Grupo de Rita", rita.id, [ana.id])
    theirs = make_cohort(query, example_course.id, "Grupo de Tomás", tomas.id, [bea.id])

    auth.login(rita.email)
    listing = client.get("/grupos/").text
    assert "Grupo de Rita" in listing and "Grupo de Tomás" not in listing
    page = client.get(f"/grupos/{mine}")
    assert page.status_code == 200
    assert "Ana del grupo de Rita" in page.text and "Bea del grupo de Tomás" not in page.text
    assert client.get(f"/grupos/{theirs}").status_code == 404
    assert client.get(f"{ADMIN}{mine}").status_code == 403
    assert client.post(f"{ADMIN}{mine}/inscribir", data={"persona": str(bea.id)}).status_code == 403
    assert "Mis grupos" in client.get("/").text

    auth.logout()
    auth.login(tomas.email)
    assert client.get(f"/grupos/{mine}").status_code == 404
    assert "Bea del grupo de Tomás" in client.get(f"/grupos/{theirs}").text

    # A trainer with no cohort sees an empty list, and a learner no list at all.
    auth.logout()
    auth.as_role(make_user, "trainer")
    assert "Todavía no sigues ningún grupo" in client.get("/grupos/").text
    auth.logout()
    auth.login(ana.email)
    assert client.get("/grupos/").status_code == 403


def test_a_cohort_trainer_reviews_the_case_work_of_their_cohort_only(
    app, make_user, case_course, case_lesson, query
):
    from flask.testing import FlaskClient

    from academy.cases import services as cases
    from academy.cases.models import CaseSubmission
    from academy.courses.models import Lesson
    from tests.conftest import AuthActions

    def signed_in(user) -> FlaskClient:
        other = app.test_client()
        assert AuthActions(other).login(user.email).status_code == 302
        return other

    rita = make_user("trainer", full_name="Rita Relatora")
    course_trainer = make_user("trainer", full_name="Carla del curso")
    ana = make_user(full_name="Ana del grupo de Rita")
    bea = make_user(full_name="Bea de otro grupo")
    solo = make_user(full_name="Sol sin grupo")
    make_cohort(query, case_course.id, "Grupo de Rita", rita.id, [ana.id])
    other = make_cohort(query, case_course.id, "Otro grupo", None, [bea.id])

    def hand_in():
        from academy.progress import services as progress

        progress.enrol(solo.id, db.session.get(Course, case_course.id))
        cohorts.add_course_trainer(db.session.get(Course, case_course.id), course_trainer.email)
        lesson = db.session.get(Lesson, case_lesson.id)
        ids = {}
        for person in (ana, bea, solo):
            text = " ".join(["vecinos"] * 30)
            draft, _ = cases.save_draft(person.id, lesson, {"1": text, "2": text})
            assert cases.submit(draft) == {}
            ids[person.id] = draft.id
        db.session.commit()
        return ids

    ids = query(hand_in)
    reviewer = signed_in(rita)
    page = reviewer.get("/revision/").text
    assert "Ana del grupo de Rita" in page
    assert "Bea de otro grupo" not in page and "Sol sin grupo" not in page
    assert "Otro grupo" not in page  # the cohort filter lists her cohort only
    assert reviewer.get(f"/revision/{ids[ana.id]}").status_code == 200
    assert reviewer.get(f"/revision/{ids[bea.id]}").status_code == 403
    assert reviewer.get(f"/revision/{ids[solo.id]}").status_code == 403
    assert reviewer.get(f"/revision/?grupo={other}").text.count("Bea de otro grupo") == 0

    # The course's trainer still sees every learner of the course, in a cohort or not.
    course_wide = signed_in(course_trainer).get("/revision/").text
    for name in ("Ana del grupo de Rita", "Bea de otro grupo", "Sol sin grupo"):
        assert name in course_wide
    assert query(lambda: db.session.get(CaseSubmission, ids[ana.id])).user_id == ana.id


def test_quiz_attempts_export_shows_only_the_learners_a_trainer_may_see(
    client, auth, make_user, example_quiz, query
):
    import csv

    from academy.db import utcnow
    from tests.test_quiz_views import correct_answers, finished_attempt

    course_id = query(lambda: db.session.scalar(select(Course.id)))
    rita = make_user("trainer", full_name="Rita Relatora")
    ana = make_user(full_name="Ana del grupo de Rita")
    bea = make_user(full_name="Bea de otro grupo")
    make_cohort(query, course_id, "Grupo de Rita", rita.id, [ana.id])
    make_cohort(query, course_id, "Otro grupo", None, [bea.id])
    for person in (ana, bea):
        finished_attempt(query, person.id, correct_answers, when=utcnow())
    url = "/editor/cursos/curso-ejemplo/lecciones/cuestionario/cuestionario/intentos.csv"

    def names_in_export() -> set[str]:
        text = client.get(url).get_data(as_text=True).removeprefix("\ufeff")
        return {row["nombre"] for row in csv.DictReader(io.StringIO(text))}

    auth.login(rita.email)
    assert names_in_export() == {"Ana del grupo de Rita"}
    # A trainer with no tie to the course (neither teaches it nor follows a cohort of it) may
    # still edit its content, but sees none of its learners' answers: the reports' rule.
    auth.logout()
    outsider = auth.as_role(make_user, "trainer")
    assert names_in_export() == set()
    # A trainer of the course sees every learner of it.
    query(
        lambda: (
            cohorts.add_course_trainer(db.session.get(Course, course_id), outsider.email),
            db.session.commit(),
        )
    )
    assert names_in_export() == {"Ana del grupo de Rita", "Bea de otro grupo"}


def test_the_course_team_page_logs_cohorts_and_refuses_a_closed_one(
    client, auth, make_user, example_course, query
):
    from academy.progress import services as progress

    admin = auth.as_role(make_user, "admin")
    ana = make_user(email="ana@muni.cl")
    query(
        lambda: (
            progress.enrol(ana.id, db.session.get(Course, example_course.id)),
            db.session.commit(),
        )
    )
    team = "/admin/cursos/curso-ejemplo/grupos"
    assert client.post(team, data={"name": "Marzo"}).status_code == 302
    cohort_id = query(lambda: db.session.scalar(select(Cohort.id)))
    client.post(f"{ADMIN}{cohort_id}/cerrar")
    refused = client.post(team + "/asignar", data={f"grupo-{ana.id}": str(cohort_id)})
    assert refused.status_code == 422
    assert "está cerrado: no recibe nuevas inscripciones" in refused.text
    assert cohort_of(query, ana.id, example_course.id) is None
    client.post(f"{ADMIN}{cohort_id}/reabrir")
    assert (
        client.post(team + "/asignar", data={f"grupo-{ana.id}": str(cohort_id)}).status_code == 302
    )
    assert cohort_of(query, ana.id, example_course.id) == cohort_id
    logged = query(
        lambda: [
            (e.action, e.actor_id, e.target_label)
            for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
            if e.action.startswith("cohort.")
        ]
    )
    assert logged == [
        ("cohort.created", admin.id, "Marzo"),
        ("cohort.closed", admin.id, "Marzo"),
        ("cohort.reopened", admin.id, "Marzo"),
        ("cohort.joined", admin.id, "ana@muni.cl"),
    ]


def test_learners_and_search_results_come_in_pages(
    client, auth, make_user, example_course, query, monkeypatch
):
    from academy.cohorts import views

    monkeypatch.setattr(views, "LEARNERS_PAGE_SIZE", 2)
    monkeypatch.setattr(views, "SEARCH_PAGE_SIZE", 2)
    auth.as_role(make_user, "admin")
    people = [make_user(full_name=f"Paz Número {n}") for n in range(3)]
    cohort_id = make_cohort(query, example_course.id, "Marzo", None, [p.id for p in people])

    first = client.get(f"{ADMIN}{cohort_id}").text
    assert "Paz Número 0" in first and "Paz Número 2" not in first
    assert "Página 1 de 2" in first
    second = client.get(f"{ADMIN}{cohort_id}?pagina=2").text
    assert "Paz Número 2" in second and "Paz Número 0" not in second

    search = f"{ADMIN}{cohort_id}/inscribir"
    found = client.get(search, query_string={"q": "paz", "pagina": "2"}).text
    assert "3 personas encontradas" in found and "Paz Número 2" in found
    assert "q=paz" in found  # the pager keeps the search
