"""Enrolment, "Mis cursos", the lesson player and progress learners can trust."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from academy.courses import services as courses
from academy.courses.models import Course, CourseAsset, Lesson, LessonKind, RevisionSource
from academy.extensions import db
from academy.markdown import render
from academy.progress import services
from academy.progress.models import Enrolment, LessonProgress

LESSON = "/cursos/curso-ejemplo/lecciones/{}"
REQUIRED = ("que-es-participar", "niveles")  # "consejo" is optional


def complete(client, slug):
    return client.post(LESSON.format(slug) + "/completar", data={"next": "siguiente"})


def enrolment_of(query, user):
    return query(lambda: db.session.scalar(select(Enrolment).where(Enrolment.user_id == user.id)))


def progress_count(query, user):
    return query(
        lambda: db.session.scalar(
            select(func.count(LessonProgress.id)).where(LessonProgress.user_id == user.id)
        )
    )


def add_lesson(query, slug, *, kind=LessonKind.READING, required=True, publish=True):
    """A lesson added by a trainer after learners started."""

    def create():
        course = courses.get_course("curso-ejemplo")
        unit = course.units[-1]
        ref = "cuestionario-x" if kind == "quiz" else None
        lesson = Lesson(course=course, unit=unit, slug=slug, position=9, kind=kind.value,
                        required=required, ref=ref)  # fmt: skip
        db.session.add(lesson)
        revision = courses.add_revision(
            lesson, title=f"Lección {slug}", minutes=5, objectives=[], extra={},
            body_md="Texto.", rendered=render("Texto."), source=RevisionSource.EDITOR,
            author_id=None,
        )  # fmt: skip
        if publish:
            lesson.published = revision
        db.session.commit()

    query(create)


def test_catalogue_lists_published_courses(client, example_course):
    page = client.get("/cursos/").text
    assert "Curso de ejemplo" in page
    assert "Inscripción abierta" in page


def test_catalogue_marks_the_courses_the_learner_is_enrolled_in(
    client, auth, make_user, example_course
):
    auth.as_role(make_user, "learner")
    assert "Ya estás inscrito o inscrita" not in client.get("/cursos/").text
    client.post("/cursos/curso-ejemplo/inscribirme")
    assert "Ya estás inscrito o inscrita" in client.get("/cursos/").text


def test_course_page_states_the_rules_and_offers_enrolment(client, auth, make_user, example_course):
    anonymous = client.get("/cursos/curso-ejemplo/").text
    assert "Inicia sesión para inscribirte" in anonymous
    assert "Para aprobar necesitas completar las 2 lecciones obligatorias" in anonymous
    auth.as_role(make_user, "learner")
    page = client.get("/cursos/curso-ejemplo/").text
    assert "Inscribirme y comenzar" in page


def test_enrolling_opens_the_first_lesson(client, auth, make_user, example_course, query):
    user = auth.as_role(make_user, "learner")
    response = client.post("/cursos/curso-ejemplo/inscribirme")
    assert response.headers["Location"] == "/cursos/curso-ejemplo/continuar"
    assert client.get("/cursos/curso-ejemplo/continuar").headers["Location"] == LESSON.format(
        "que-es-participar"
    )
    assert enrolment_of(query, user) is not None
    client.post("/cursos/curso-ejemplo/inscribirme")  # twice: still one enrolment
    count = query(lambda: db.session.scalar(select(func.count(Enrolment.id))))
    assert count == 1


def test_invitation_courses_cannot_be_self_enrolled(client, auth, make_user, example_course, query):
    def by_invitation():
        courses.get_course("curso-ejemplo").enrolment = "invitation"
        db.session.commit()

    query(by_invitation)
    user = auth.as_role(make_user, "learner")
    assert (
        "La inscripción en este curso la hace la academia"
        in client.get("/cursos/curso-ejemplo/").text
    )
    assert client.post("/cursos/curso-ejemplo/inscribirme").status_code == 403
    assert enrolment_of(query, user) is None


def test_lesson_player_shows_outline_objectives_and_neighbours(client, learner):
    page = client.get(LESSON.format("niveles")).text
    assert "Tiempo estimado: 15 minutos" in page
    assert "Elegir el nivel adecuado para una decisión." in page
    assert "Anterior: ¿Qué es participar?" in page
    assert "Siguiente: El consejo comunal" in page
    assert 'aria-current="page">Los niveles de participación</a>' in page
    assert "Marcar como completada" in page
    assert re.search(r'<progress id="progress-\d+" max="100" value="0">', page)


def test_marking_lessons_done_updates_outline_bar_and_completion(client, learner, query):
    response = complete(client, "que-es-participar")
    assert response.headers["Location"] == LESSON.format("niveles")  # on to the next
    page = client.get(LESSON.format("que-es-participar")).text
    assert "Completaste esta lección." in page
    assert 'value="50"' in page
    assert enrolment_of(query, learner).completed_at is None

    response = complete(client, "niveles")
    followed = client.get(response.headers["Location"]).text
    assert "¡Felicitaciones! Completaste el curso «Curso de ejemplo»." in followed
    assert enrolment_of(query, learner).completed_at is not None


def test_marking_twice_never_counts_twice(client, learner, query):
    for _ in range(3):
        complete(client, "que-es-participar")
    assert progress_count(query, learner) == 1
    first = query(lambda: db.session.scalar(select(LessonProgress.completed_at)))
    complete(client, "que-es-participar")
    assert query(lambda: db.session.scalar(select(LessonProgress.completed_at))) == first


def test_completion_time_is_set_once(client, learner, query):
    for slug in REQUIRED:
        complete(client, slug)
    completed = enrolment_of(query, learner).completed_at
    complete(client, "consejo")
    complete(client, "niveles")
    assert enrolment_of(query, learner).completed_at == completed


def test_a_new_required_lesson_keeps_past_completions(app, client, learner, make_user, query):
    for slug in REQUIRED:
        complete(client, slug)
    completed = enrolment_of(query, learner).completed_at
    other = make_user("learner")
    with app.app_context():
        services.enrol(other.id, db.session.get(Course, courses.get_course("curso-ejemplo").id))
        db.session.commit()

    add_lesson(query, "nueva-obligatoria")
    assert enrolment_of(query, learner).completed_at == completed
    page = client.get("/cursos/curso-ejemplo/").text
    assert "Completaste este curso el" in page
    assert "Lección nueva-obligatoria" in page

    client.post("/salir")
    client.post("/entrar", data={"email": other.email, "password": "una frase de prueba larga"})
    page = client.get("/cursos/curso-ejemplo/").text
    assert "Lección nueva-obligatoria" in page
    assert "Pendiente" in page


def test_resume_returns_to_the_lesson_the_learner_was_on(client, learner):
    client.get(LESSON.format("niveles"))
    assert client.get("/cursos/curso-ejemplo/continuar").headers["Location"] == LESSON.format(
        "niveles"
    )
    complete(client, "niveles")
    # The lesson they were on is done: resume at the first one still to do.
    assert client.get("/cursos/curso-ejemplo/continuar").headers["Location"] == LESSON.format(
        "que-es-participar"
    )


def test_my_courses_lists_current_and_finished(client, learner):
    page = client.get("/mis-cursos").text
    assert "Curso de ejemplo" in page
    assert "Te faltan 2 lecciones obligatorias." in page
    assert "Comenzar" in page
    complete(client, "que-es-participar")
    page = client.get("/mis-cursos").text
    assert "Te falta 1 lección obligatoria." in page
    assert "Continuar" in page
    complete(client, "niveles")
    page = client.get("/mis-cursos").text
    assert "Cursos terminados" in page
    assert "terminado el" in page


def test_lo_que_te_falta_lists_each_requirement(client, learner):
    complete(client, "que-es-participar")
    page = client.get("/cursos/curso-ejemplo/").text
    section = page.split('id="left-title"')[1].split("</section>")[0]
    assert "¿Qué es participar?</a>\n        — <strong>Completada</strong>" in section
    assert "Los niveles de participación</a>\n        — <strong>Pendiente</strong>" in section
    assert "consejo" not in section  # optional lessons are not requirements


def test_a_forged_complete_for_a_quiz_lesson_changes_nothing(client, learner, query):
    add_lesson(query, "cuestionario-final", kind=LessonKind.QUIZ)
    before = progress_count(query, learner)
    response = complete(client, "cuestionario-final")
    assert response.status_code == 400
    assert "se completa con su actividad" in response.text
    assert 'href="/cursos/curso-ejemplo/lecciones/cuestionario-final"' in response.text
    assert progress_count(query, learner) == before


def test_not_enrolled_learners_get_a_clear_page(client, auth, make_user, example_course, query):
    user = auth.as_role(make_user, "learner")
    response = client.get(LESSON.format("niveles"))
    assert response.status_code == 403
    assert "Todavía no estás en este curso" in response.text
    assert complete(client, "niveles").status_code == 403
    assert progress_count(query, user) == 0


@pytest.mark.parametrize(
    "path",
    [
        LESSON.format("no-existe"),
        LESSON.format("no-existe") + "/completar",
        "/cursos/otro-curso/lecciones/niveles",
        "/cursos/" + "x" * 500 + "/",
    ],
)
def test_unknown_lessons_are_404_and_change_nothing(client, learner, query, path):
    response = client.post(path) if path.endswith("completar") else client.get(path)
    assert response.status_code == 404
    assert progress_count(query, learner) == 0


def test_unpublished_and_retired_lessons_are_unreachable(client, learner, query):
    add_lesson(query, "sin-publicar", publish=False)

    def retire():
        lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "consejo"))
        lesson.retired_at = db.func.now()
        db.session.commit()

    query(retire)
    assert client.get(LESSON.format("sin-publicar")).status_code == 404
    assert client.get(LESSON.format("consejo")).status_code == 404
    assert complete(client, "consejo").status_code == 404
    page = client.get("/cursos/curso-ejemplo/").text
    assert "sin-publicar" not in page
    assert "El consejo comunal" not in page


def test_lessons_of_a_retired_unit_are_unreachable(client, learner, query):
    def retire_unit():
        lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "consejo"))
        lesson.unit.retired_at = db.func.now()
        db.session.commit()

    query(retire_unit)
    assert client.get(LESSON.format("consejo")).status_code == 404
    assert complete(client, "consejo").status_code == 404
    assert progress_count(query, learner) == 0


def test_trainers_preview_without_recording_progress(
    client, auth, make_user, example_course, query
):
    trainer = auth.as_role(make_user, "trainer")
    page = client.get(LESSON.format("niveles")).text
    assert "Vista de relator" in page
    assert "Marcar como completada" not in page
    assert progress_count(query, trainer) == 0


def test_progress_service_matches_the_database(app, client, learner, query):
    complete(client, "niveles")
    with app.app_context():
        course = courses.get_course("curso-ejemplo")
        state = services.compute(learner.id, course.id)
        assert state.percent == 50
        assert [r.item.slug for r in state.left] == ["que-es-participar"]
        done = set(db.session.scalars(select(LessonProgress.lesson_id).where(
            LessonProgress.user_id == learner.id, LessonProgress.status == "done")))  # fmt: skip
        assert {r.item.lesson_id for r in state.items if r.done} == done


def test_admin_enrols_people_by_email(client, auth, make_user, example_course, query):
    auth.as_role(make_user, "admin")
    ana = make_user(email="ana@muni.cl", full_name="Ana Pérez")
    response = client.post(
        "/admin/cursos/curso-ejemplo/inscripciones",
        data={"emails": "ANA@muni.cl, nadie@muni.cl\nana@muni.cl"},
    )
    assert response.status_code == 422
    assert "Estas direcciones no tienen cuenta: nadie@muni.cl. No inscribimos a nadie" in (
        response.text
    )
    assert enrolment_of(query, ana) is None
    response = client.post(
        "/admin/cursos/curso-ejemplo/inscripciones", data={"emails": "ANA@muni.cl\nana@muni.cl"}
    )
    assert "Inscribimos a 1 persona." in client.get(response.headers["Location"]).text
    assert enrolment_of(query, ana) is not None
    page = client.get("/admin/cursos/curso-ejemplo/inscripciones").text
    assert "Ana Pérez" in page
    assert "0 %" in page


def test_invitation_enrolment_lets_the_learner_in(
    app, client, auth, make_user, example_course, query
):
    def by_invitation():
        courses.get_course("curso-ejemplo").enrolment = "invitation"
        db.session.commit()

    query(by_invitation)
    auth.as_role(make_user, "admin")
    person = make_user(email="rosa@muni.cl")
    client.post("/admin/cursos/curso-ejemplo/inscripciones", data={"emails": "rosa@muni.cl"})
    client.post("/salir")
    client.post("/entrar", data={"email": "rosa@muni.cl", "password": "una frase de prueba larga"})
    assert client.get(LESSON.format("niveles")).status_code == 200
    assert enrolment_of(query, person).enrolled_by_id is not None


def test_offline_pdf_has_every_lesson_and_bookmarks(app, client, learner):
    response = client.get("/cursos/curso-ejemplo/pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    again = client.get(
        "/cursos/curso-ejemplo/pdf", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304
    from academy.learning import offline

    with app.test_request_context():
        document = offline.build_document(courses.get_course("curso-ejemplo"))
        tree = document.make_bookmark_tree()
    # Each subtree is (label, target, children, state).
    units = [(node[0], [child[0] for child in node[2]]) for node in tree]
    assert units == [
        ("1. Primeros pasos", ["¿Qué es participar?", "Los niveles de participación"]),
        ("2. Mecanismos", ["El consejo comunal de organizaciones de la sociedad civil"]),
    ]
    assert len(document.pages) >= 5


def test_the_pdf_s_etag_changes_with_what_the_pdf_shows(app, client, learner, query):
    from academy.learning import offline

    def etag():
        return query(lambda: offline.fingerprint(courses.get_course("curso-ejemplo")))

    before = etag()
    assert etag() == before

    def rename_unit():
        course = courses.get_course("curso-ejemplo")
        unit = courses.live_units(course)[0]
        courses.update_unit(unit, title="Los primeros pasos", summary_md=unit.summary_md)
        db.session.commit()

    query(rename_unit)
    renamed = etag()
    assert renamed != before

    def replace_image():
        asset = db.session.scalar(select(CourseAsset).where(CourseAsset.path.endswith(".png")))
        asset.sha256 = "0" * 64  # what storing a new image under the same name changes
        db.session.commit()

    query(replace_image)
    assert etag() != renamed


def test_offline_pdf_needs_enrolment(client, auth, make_user, example_course):
    auth.as_role(make_user, "learner")
    assert client.get("/cursos/curso-ejemplo/pdf").status_code == 403


def outline_rows(page):
    """(state, link, current?, title, label) for each lesson of the page's outline."""
    outline = page.split('<nav class="course-outline"')[1].split("</nav>")[0]
    return re.findall(
        r'<li class="course-outline-item state-(\w+)">\s*<a href="([^"]+)"\s*'
        r'(aria-current="page")?>([^<]+)</a>\s*(?:<span class="state-label">([^<]+)</span>)?',
        outline,
    )


def test_the_outline_shows_each_lessons_state_for_this_learner(client, learner, make_user):
    complete(client, "que-es-participar")
    client.get(LESSON.format("niveles"))
    rows = outline_rows(client.get(LESSON.format("niveles")).text)
    assert rows == [
        ("done", LESSON.format("que-es-participar"), "", "¿Qué es participar?", "Completada"),
        ("in_progress", LESSON.format("niveles"), 'aria-current="page"',
         "Los niveles de participación", "En curso"),
        ("pending", LESSON.format("consejo"), "",
         "El consejo comunal de organizaciones de la sociedad civil", "Pendiente · opcional"),
    ]  # fmt: skip


def test_the_outline_of_a_trainers_preview_shows_no_states(client, auth, make_user, example_course):
    auth.as_role(make_user, "trainer")
    rows = outline_rows(client.get(LESSON.format("consejo")).text)
    assert [(state, label) for state, _link, _current, _title, label in rows] == [
        ("none", ""),
        ("none", ""),
        ("none", "opcional"),
    ]


def test_a_lesson_fetched_as_an_image_records_no_visit(client, learner, query, count_statements):
    # Another page's <img src> pointing at the lesson: the browser says what it fetches.
    with count_statements() as seen:
        response = client.get(LESSON.format("niveles"), headers={"Sec-Fetch-Dest": "image"})
    assert response.status_code == 200
    assert seen.writes == []
    assert progress_count(query, learner) == 0
    assert enrolment_of(query, learner).last_lesson_id is None
    # Opened as a page, it is a visit.
    client.get(LESSON.format("niveles"), headers={"Sec-Fetch-Dest": "document"})
    assert progress_count(query, learner) == 1
    assert enrolment_of(query, learner).last_lesson_id is not None
