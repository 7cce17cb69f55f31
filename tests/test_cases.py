"""Case exercises: drafts, submission, the trainers' queue and reviews, privacy, bad input.

The case is tests/fixtures/content/casos/03-caso-plaza.md, imported into a copy of the example
course (two prompts of 20-300 and 20-400 words; three criteria of 0/2/4 points, 12 in all).
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from academy.auth.models import User
from academy.cases import services
from academy.cases.definition import parse_case
from academy.cases.models import CaseSubmission
from academy.courses.models import Course, Lesson
from academy.courses.services import get_course
from academy.db import utcnow
from academy.extensions import db
from academy.progress import cohorts
from academy.progress import services as progress
from academy.progress.models import Cohort, CourseTrainer, Enrolment
from tests.conftest import CONTENT_FIXTURE, AuthActions

WORK = "/cursos/curso-ejemplo/casos/caso-plaza/"
LESSON = "/cursos/curso-ejemplo/lecciones/caso-plaza"
HOSTILE = '<script>alert("x")</script><img src=x onerror="alert(1)"> **negrita**'


def words(n: int, word: str = "vecinos") -> str:
    return " ".join([word] * n)


GOOD = {"respuesta-1": words(30, "consultar"), "respuesta-2": words(40, "convocar")}


def signed_in(app: Flask, user: User) -> FlaskClient:
    other = app.test_client()
    response = AuthActions(other).login(user.email)
    assert response.status_code == 302, response.text
    return other


def write(query, fn):
    """Run ``fn`` in an app context and commit (to the test's savepoint), returning its value."""

    def run():
        value = fn()
        db.session.commit()
        return value

    return query(run)


def enrol(query, user: User, course: Course) -> None:
    write(query, lambda: progress.enrol(user.id, db.session.get(Course, course.id)))


def assign(query, course: Course, trainer: User) -> None:
    write(
        query,
        lambda: cohorts.add_course_trainer(db.session.get(Course, course.id), trainer.email),
    )


@pytest.fixture
def trainer(app: Flask, make_user, query, case_course: Course) -> User:
    user = make_user("trainer", full_name="Rosa Carrasco")
    assign(query, case_course, user)
    return user


def submission_of(query, user: User) -> CaseSubmission:
    return query(
        lambda: db.session.scalars(
            select(CaseSubmission)
            .where(CaseSubmission.user_id == user.id)
            .order_by(CaseSubmission.number.desc())
        ).first()
    )


def submit(client: FlaskClient, answers: dict[str, str] | None = None) -> None:
    response = client.post(WORK, data={**(answers or GOOD), "accion": "enviar"})
    assert response.headers["Location"] == WORK + "enviar", response.text
    page = client.get(WORK + "enviar")
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version, page.text
    response = client.post(WORK + "enviar", data={"version": version[1]})
    assert response.status_code == 302, response.text


def review_form(submission: CaseSubmission, decision: str, levels=(2, 1, 2), **extra: str):
    data = {"version": str(submission.version), "decision": decision}
    for index, level in enumerate(levels, start=1):
        if level is not None:
            data[f"nivel-{index}"] = str(level)
    return {**data, **extra}


def open_for_review(client: FlaskClient, query, learner: User) -> CaseSubmission:
    """The trainer opens the review page and takes the review (a POST: opening takes nothing)."""
    submission = submission_of(query, learner)
    assert client.get(f"/revision/{submission.id}").status_code == 200
    taken = client.post(f"/revision/{submission.id}/tomar")
    assert taken.headers["Location"] == f"/revision/{submission.id}"
    return submission_of(query, learner)


def outline_state(client: FlaskClient) -> str:
    page = client.get("/cursos/curso-ejemplo/").text
    item = re.search(r'<li class="state-(\w+)">\s*<a href="[^"]*caso-plaza">', page)
    assert item, page
    return item[1]


# The format ----------------------------------------------------------------------------------


def test_the_fixture_case_parses_and_round_trips():
    import yaml

    text = (CONTENT_FIXTURE / "casos/03-caso-plaza.md").read_text("utf-8")
    meta = yaml.safe_load(text.split("---")[1])
    definition, problems = parse_case(meta["caso"])
    assert definition is not None and not problems
    assert [p.max_words for p in definition.prompts] == [300, 400]
    assert definition.total_points == 12
    again, problems = parse_case(definition.to_data())
    assert again == definition and not problems


def test_the_authoring_guides_example_is_a_valid_case():
    import yaml

    guide = (Path(__file__).parents[1] / "docs/autoria.md").read_text("utf-8")
    section = guide[guide.index("## Casos prácticos") :]
    example = section.split("```markdown", 1)[1].split("```", 1)[0]
    definition, problems = parse_case(yaml.safe_load(example.split("---")[1])["caso"])
    assert not problems and definition is not None
    assert definition.total_points == sum(c.max_points for c in definition.criteria)


def test_the_reviewers_guide_is_optional_plain_text_and_round_trips():
    import yaml

    text = (CONTENT_FIXTURE / "casos/03-caso-plaza.md").read_text("utf-8")
    meta = yaml.safe_load(text.split("---")[1])
    definition, _ = parse_case(meta["caso"])
    assert definition is not None
    assert definition.guide.startswith("Una respuesta sólida elige consultar")
    assert "\nDébil: prometer" in definition.guide  # its lines are kept
    assert parse_case(definition.to_data())[0] == definition
    without = {key: value for key, value in meta["caso"].items() if key != "pauta"}
    plain, problems = parse_case(without)
    assert plain is not None and not problems and plain.guide == ""
    assert "pauta" not in plain.to_data()
    _, problems = parse_case({**meta["caso"], "pauta": ["no", "es", "texto"]})
    assert problems == ["caso.pauta: debe ser un texto"]
    _, problems = parse_case({**meta["caso"], "pauta": "x" * 20_001})
    assert problems == ["caso.pauta: tiene más de 20000 caracteres"]


def test_words_are_counted_as_the_browser_counts_them():
    assert services.word_count("") == 0
    assert services.word_count("La junta   de vecinos\n\n- pidió") == 5
    assert services.word_count("costo-beneficio, l'eau y l’agua; 3,5 millones") == 7
    assert services.word_count("<b>hola</b>") == 3  # markup counts as typed


# The learner's side ---------------------------------------------------------------------------


def test_lesson_page_shows_the_case_prompts_and_a_way_in(client, learner, case_lesson):
    page = client.get(LESSON).text
    assert "La municipalidad de una comuna de 40.000 habitantes" in page  # the scenario
    assert "Tu trabajo en este caso" in page
    assert "Elige el nivel de participación" in page
    assert "entre 20 y 300 palabras" in page
    assert "Sin empezar" in page
    assert f'href="{WORK}">Responder el caso' in page
    assert "Marcar como completada" not in page


def test_trainers_preview_the_prompts_and_rubric(client, auth, make_user, case_lesson):
    auth.as_role(make_user, "trainer")
    page = client.get(LESSON).text
    assert "Consignas y rúbrica del caso" in page
    assert "Convocatoria inclusiva" in page
    assert "Ir a los casos por revisar" in page


def test_workspace_shows_prompts_guidance_limits_and_the_form(client, learner, case_lesson):
    page = client.get(WORK).text
    assert "Consigna 1: Elige el nivel de participación" in page
    assert "justifica tu elección con los datos del caso" in page  # guidance
    assert "Entre 20 y 400 palabras." in page
    assert 'name="respuesta-1"' in page and 'name="respuesta-2"' in page
    assert "Guardar borrador" in page and "Enviar para revisión" in page
    assert "0 palabras" in page
    assert 'src="/static/js/case.js"' in page


def test_draft_saved_without_javascript_is_there_when_the_learner_comes_back(
    client, learner, case_lesson, query
):
    response = client.post(WORK, data={"respuesta-1": "Primera idea.", "accion": "guardar"})
    assert response.status_code == 302 and response.headers["Location"] == WORK
    page = client.get(WORK).text
    assert "Guardamos tu borrador." in page
    assert ">Primera idea.</textarea>" in page
    assert "Borrador" in page and "2 palabras" in page
    saved = submission_of(query, learner)
    assert saved.status == "draft" and saved.number == 1
    assert saved.responses == {"1": "Primera idea.", "2": ""}
    # Saving again updates the same draft.
    client.post(WORK, data={"respuesta-1": "Segunda idea.\r\nCon salto.", "accion": "guardar"})
    again = submission_of(query, learner)
    assert again.id == saved.id and again.version == saved.version + 1
    assert again.responses["1"] == "Segunda idea.\nCon salto."
    assert client.get(LESSON).text.count("Seguir con tu borrador") == 1
    assert outline_state(client) == "in_progress"


def test_an_empty_first_save_is_refused(client, learner, case_lesson, query):
    response = client.post(WORK, data={"respuesta-1": "  ", "accion": "guardar"})
    assert response.status_code == 422
    assert "Escribe al menos una respuesta antes de guardar." in response.text
    assert submission_of(query, learner) is None


def test_an_over_long_draft_is_not_saved_and_the_text_stays(client, learner, case_lesson, query):
    client.post(WORK, data={"respuesta-1": "Lo que ya tenía.", "accion": "guardar"})
    too_many = words(301)
    response = client.post(WORK, data={"respuesta-1": too_many, "accion": "guardar"})
    assert response.status_code == 422
    assert "No guardamos el borrador" in response.text
    assert "Tiene 301 palabras; el máximo es 300." in response.text
    assert f">{too_many}</textarea>" in response.text  # nothing lost
    assert 'aria-invalid="true"' in response.text
    assert submission_of(query, learner).responses["1"] == "Lo que ya tenía."
    huge = "a" * (services.MAX_RESPONSE_CHARS + 1)
    response = client.post(WORK, data={"respuesta-2": huge, "accion": "enviar"})
    assert response.status_code == 422
    assert "La respuesta es demasiado larga" in response.text
    assert submission_of(query, learner).responses["2"] == ""


def test_autosave_answers_in_json(client, learner, case_lesson, query):
    headers = {"Accept": "application/json"}
    response = client.post(
        WORK + "borrador", json={"responses": {"1": "Texto  a medias", "9": "ignorado"}}
    )
    assert response.status_code == 200
    assert response.json["saved"] is True
    assert response.json["message"].startswith("Borrador guardado a las ")
    assert submission_of(query, learner).responses == {"1": "Texto  a medias", "2": ""}

    response = client.post(
        WORK + "borrador", json={"responses": {"1": words(301)}}, headers=headers
    )
    assert response.status_code == 422
    assert response.json["problems"] == {"1": "Tiene 301 palabras; el máximo es 300."}
    assert submission_of(query, learner).responses["1"] == "Texto  a medias"

    # Only the prompts sent change.
    response = client.post(WORK + "borrador", json={"responses": {"2": "Otra parte"}})
    assert response.status_code == 200
    assert submission_of(query, learner).responses == {"1": "Texto  a medias", "2": "Otra parte"}

    # Forged shapes are refused without touching the draft, never a crash.
    for forged in ({"responses": {"1": ["x"], "2": 5}}, {"responses": []}, {"otra": 1}, []):
        response = client.post(WORK + "borrador", json=forged)
        assert response.status_code == 400, forged
        assert "no guardamos nada" in response.json["message"]
    response = client.post(WORK + "borrador", data="no es json", content_type="text/plain")
    assert response.status_code == 400
    assert submission_of(query, learner).responses == {"1": "Texto  a medias", "2": "Otra parte"}

    submit(client)
    response = client.post(WORK + "borrador", json={"responses": {"1": "cambio"}})
    assert response.status_code == 409
    assert "Ya enviaste este caso" in response.json["message"]


def test_submitting_asks_for_confirmation_then_waits_for_review(
    client, learner, case_lesson, query
):
    response = client.post(WORK, data={**GOOD, "accion": "enviar"})
    assert response.headers["Location"] == WORK + "enviar"
    page = client.get(WORK + "enviar").text
    assert "Después de enviarlas no podrás cambiarlas" in page
    assert "Sí, enviar para revisión" in page
    assert submission_of(query, learner).status == "draft"
    submit(client)
    saved = submission_of(query, learner)
    assert saved.status == "submitted" and saved.submitted_at is not None
    page = client.get(WORK).text
    assert "Enviaste tu caso para revisión" in page
    assert "Enviado" in page and "Un relator lo revisará" in page
    assert 'name="respuesta-1"' not in page  # nothing to edit while it waits
    assert outline_state(client) == "waiting"
    # A second hand-in of the same case changes nothing.
    response = client.post(WORK + "enviar", data={"version": saved.version})
    assert response.status_code == 409
    assert "Ya enviaste este caso" in response.text


def test_a_submission_needs_every_answer_within_its_limits(client, learner, case_lesson, query):
    client.post(WORK, data={"respuesta-1": words(5), "accion": "enviar"})
    page = client.get(WORK + "enviar")
    assert page.status_code == 200
    assert "todavía no se puede enviar" in page.text
    assert "Tiene 5 palabras; se piden al menos 20." in page.text
    assert "Falta esta respuesta." in page.text
    assert "Sí, enviar para revisión" not in page.text
    version = submission_of(query, learner).version
    response = client.post(WORK + "enviar", data={"version": version})
    assert response.status_code == 422
    assert submission_of(query, learner).status == "draft"


def test_a_draft_changed_elsewhere_must_be_looked_at_again(client, learner, case_lesson, query):
    client.post(WORK, data={**GOOD, "accion": "enviar"})
    stale = submission_of(query, learner).version
    client.post(WORK + "borrador", json={"responses": {"1": words(25), "2": words(25)}})
    response = client.post(WORK + "enviar", data={"version": stale})
    assert response.status_code == 409
    assert "Tu borrador cambió desde que abriste esta página" in response.text
    assert submission_of(query, learner).status == "draft"


def test_nothing_to_submit_without_a_draft(client, learner, case_lesson):
    assert client.get(WORK + "enviar").headers["Location"] == WORK
    response = client.post(WORK + "enviar", data={"version": "1"})
    assert response.status_code == 409
    assert "No hay un borrador que enviar" in response.text


def test_learners_not_enrolled_and_other_lessons(client, auth, make_user, case_lesson):
    auth.as_role(make_user, "learner")
    response = client.get(WORK)
    assert response.status_code == 403
    assert "Todavía no estás en este curso" in response.text
    assert client.post(WORK + "borrador", json={"responses": {}}).status_code == 403
    assert client.get("/cursos/curso-ejemplo/casos/niveles/").status_code == 404
    assert client.get("/cursos/curso-ejemplo/casos/no-existe/").status_code == 404
    assert client.get("/cursos/no-existe/casos/caso-plaza/").status_code == 404


# The trainer's side ---------------------------------------------------------------------------


def test_opening_a_submission_changes_nothing_taking_it_marks_it_in_review(
    app, client, learner, trainer, query
):
    submit(client)
    reviewer = signed_in(app, trainer)
    submission = submission_of(query, learner)
    page = reviewer.get(f"/revision/{submission.id}").text
    # Opening is not taking: an image elsewhere pointing here must change nothing.
    assert submission_of(query, learner).status == "submitted"
    assert submission_of(query, learner).version == submission.version
    assert "En revisión" not in client.get(WORK).text
    assert "Tomar la revisión" in page
    assert reviewer.post(f"/revision/{submission.id}/tomar").status_code == 302
    page = reviewer.get(f"/revision/{submission.id}").text
    assert "Tomar la revisión" not in page
    assert "Revisar: Caso: la plaza del barrio Los Aromos" in page
    assert "La municipalidad de una comuna" in page  # the scenario
    assert "Elige el nivel de participación" in page  # the prompts
    assert words(30, "consultar") in page  # the response
    assert "Convocatoria inclusiva" in page and "Define medio, plazo" in page  # the rubric
    assert 'type="radio" name="nivel-3"' in page
    assert "Pauta para quien revisa" in page and "Débil: prometer a los vecinos" in page
    opened = submission_of(query, learner)
    assert opened.status == "in_review" and opened.reviewer_id == trainer.id
    assert f'name="version" value="{opened.version}"' in page
    assert "En revisión" in client.get(WORK).text
    # The reviewer's guide is for trainers: no page the learner sees shows it.
    for url in (LESSON, WORK, f"/casos/envios/{submission.id}"):
        learner_page = client.get(url)
        assert learner_page.status_code == 200, url
        assert "Débil: prometer" not in learner_page.text and "Pauta" not in learner_page.text
    # Opening or taking it again changes nothing.
    reviewer.get(f"/revision/{submission.id}")
    reviewer.post(f"/revision/{submission.id}/tomar")
    assert submission_of(query, learner).version == opened.version


def test_approving_scores_completes_the_lesson_and_emails_the_learner(
    app, client, learner, trainer, query, mailbox
):
    submit(client)
    reviewer = signed_in(app, trainer)
    submission = open_for_review(reviewer, query, learner)
    form = review_form(
        submission,
        "aprobar",
        levels=(2, 1, 2),
        **{"comentario-2": "Faltó la radio comunitaria.", "comentarios": "Muy buen trabajo."},
    )
    response = reviewer.post(f"/revision/{submission.id}", data=form)
    assert response.status_code == 302 and response.headers["Location"] == "/revision/"
    flash = reviewer.get("/revision/").text
    assert f"Aprobaste el caso de {learner.full_name} con 10 de 12 puntos." in flash
    saved = submission_of(query, learner)
    assert saved.status == "approved" and saved.points == 10
    assert saved.levels == {"1": 2, "2": 1, "3": 2}
    assert saved.criterion_feedback == {"2": "Faltó la radio comunitaria."}
    assert saved.reviewer_id == trainer.id

    message = mailbox.last_to(learner.email)
    assert "Caso: la plaza del barrio Los Aromos" in message["Subject"]
    body = message.get_content()
    assert f"Hola, {learner.full_name}:" in body
    assert "Un relator aprobó tu caso" in body
    assert "Puntaje: 10 de 12" in body
    assert f"http://127.0.0.1:5000/casos/envios/{saved.id}" in body

    page = client.get(WORK).text
    assert "¡Tu caso fue aprobado!" in page
    assert "Puntaje: 10 de 12" in page
    assert "En desarrollo" in page and "Menciona a algunos grupos" in page  # level, descriptor
    assert "2 de 4 puntos" in page
    assert "Faltó la radio comunitaria." in page and "Muy buen trabajo." in page
    assert "Revisado por Rosa Carrasco" in page
    assert outline_state(client) == "done"
    lesson_page = client.get(LESSON).text
    assert "Ver el resultado" in lesson_page


def test_the_email_is_in_the_learners_language(
    app, make_user, trainer, case_course, query, mailbox
):
    english = make_user(locale="en")
    enrol(query, english, case_course)
    learner_client = signed_in(app, english)
    submit(learner_client)
    reviewer = signed_in(app, trainer)
    submission = open_for_review(reviewer, query, english)
    reviewer.post(f"/revision/{submission.id}", data=review_form(submission, "aprobar"))
    body = mailbox.last_to(english.email).get_content()
    assert body.startswith(f"Hello {english.full_name},")
    assert "Municipal and Regional Training Academy" in body
    # The trainer's own pages stay in their language.
    assert "Casos por revisar" in reviewer.get("/revision/").text


def test_a_mail_failure_does_not_lose_the_review(app, client, learner, trainer, query, monkeypatch):
    from academy import mail

    def broken(message):
        raise ConnectionRefusedError("no SMTP")

    monkeypatch.setattr(mail, "send", broken)
    submit(client)
    reviewer = signed_in(app, trainer)
    submission = open_for_review(reviewer, query, learner)
    response = reviewer.post(
        f"/revision/{submission.id}", data=review_form(submission, "aprobar"), follow_redirects=True
    )
    assert response.status_code == 200
    # The mail is the worker's (academy/outbox.py): the trainer sees the review saved.
    assert "Aprobaste el caso" in response.text
    assert submission_of(query, learner).status == "approved"


def test_returned_case_is_revised_resubmitted_and_every_submission_kept(
    app, client, learner, trainer, query, mailbox
):
    submit(client)
    reviewer = signed_in(app, trainer)
    first = open_for_review(reviewer, query, learner)
    form = review_form(first, "devolver", levels=(1, 0, 1), comentarios="Falta la devolución.")
    assert reviewer.post(f"/revision/{first.id}", data=form).status_code == 302
    assert "te lo devolvió para que lo corrijas" in mailbox.last_to(learner.email).get_content()
    assert submission_of(query, learner).status == "returned"
    assert outline_state(client) == "returned"

    page = client.get(WORK).text
    assert "Tu relator te devolvió el caso" in page
    assert "Falta la devolución." in page
    assert f">{words(30, 'consultar')}</textarea>" in page  # the text to start from
    revised = {**GOOD, "respuesta-2": words(60, "devolver")}
    submit(client, revised)
    second = submission_of(query, learner)
    assert second.number == 2 and second.status == "submitted"
    assert second.responses["2"] == words(60, "devolver")
    assert query(lambda: db.session.get(CaseSubmission, first.id)).status == "returned"

    history = client.get(WORK).text
    assert "Envío n.º 1" in history and "Envío n.º 2" in history
    assert f'href="/casos/envios/{first.id}"' in history
    # The trainer sees the earlier submission beside the new one.
    review_page = reviewer.get(f"/revision/{second.id}").text
    assert "Otros envíos de esta persona" in review_page
    assert f'href="/revision/{first.id}"' in review_page
    second = submission_of(query, learner)
    reviewer.post(f"/revision/{second.id}", data=review_form(second, "aprobar", levels=(2, 2, 2)))
    assert submission_of(query, learner).points == 12
    assert outline_state(client) == "done"
    # Approved is final.
    response = client.post(WORK, data={**GOOD, "accion": "guardar"})
    assert response.status_code == 409
    assert "Este caso ya fue aprobado; no se puede volver a enviar." in response.text
    response = client.post(WORK + "enviar", data={"version": "1"})
    assert response.status_code == 409
    assert "ya fue aprobado" in response.text


def test_two_trainers_cannot_overwrite_each_other(app, client, learner, trainer, make_user, query):
    other = make_user("trainer", full_name="Tomás Vidal")
    assign(query, get_course_ref(query), other)
    submit(client)
    first = signed_in(app, trainer)
    second = signed_in(app, other)
    submission = open_for_review(first, query, learner)
    second.get(f"/revision/{submission.id}")
    stale = submission_of(query, learner)
    assert stale.version == submission.version  # opening twice does not bump it
    response = first.post(
        f"/revision/{submission.id}", data=review_form(stale, "aprobar", comentarios="De Rosa.")
    )
    assert response.status_code == 302
    typed = "Mi comentario largo que no quiero perder."
    response = second.post(
        f"/revision/{submission.id}",
        data=review_form(stale, "devolver", levels=(0, 0, 0), comentarios=typed),
    )
    assert response.status_code == 409
    assert "Rosa Carrasco guardó una revisión de este envío mientras tú revisabas" in response.text
    assert "De Rosa." in response.text  # their review is shown
    assert f">{typed}</textarea>" in response.text  # and nothing typed is lost
    saved = submission_of(query, learner)
    assert saved.status == "approved" and saved.comments == "De Rosa."


def get_course_ref(query) -> Course:
    return query(lambda: get_course("curso-ejemplo"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"nivel-2": None}, "Elige un nivel para «Convocatoria inclusiva»."),
        ({"nivel-1": "3"}, "El nivel elegido para «Nivel de participación» no existe"),
        ({"nivel-1": "-1"}, "El nivel elegido para «Nivel de participación» no existe"),
        ({"nivel-3": "alto"}, "Elige un nivel para «Devolución»."),
        ({"decision": "quizas"}, "Elige si apruebas el caso o lo devuelves"),
        ({"decision": "devolver", "comentarios": ""}, "Para devolver el caso, explica qué"),
        ({"comentarios": "x" * 10_001}, "Los comentarios son demasiado largos"),
        ({"comentario-1": "x" * 5_001}, "El comentario es demasiado largo"),
    ],
)
def test_bad_rubric_input_is_refused_with_the_text_kept(
    app, client, learner, trainer, query, change, message
):
    submit(client)
    reviewer = signed_in(app, trainer)
    submission = open_for_review(reviewer, query, learner)
    form = review_form(submission, "aprobar", comentarios="Texto que se conserva.")
    for key, value in change.items():
        if value is None:
            form.pop(key)
        else:
            form[key] = value
    response = reviewer.post(f"/revision/{submission.id}", data=form)
    assert response.status_code == 422
    assert message in response.text
    if "comentarios" not in change:
        assert ">Texto que se conserva.</textarea>" in response.text
    assert submission_of(query, learner).status == "in_review"


def test_a_review_without_its_version_is_a_bad_request(app, client, learner, trainer, query):
    submit(client)
    reviewer = signed_in(app, trainer)
    submission = open_for_review(reviewer, query, learner)
    form = review_form(submission, "aprobar")
    form.pop("version")
    assert reviewer.post(f"/revision/{submission.id}", data=form).status_code == 400


def test_a_reviewed_submission_is_read_only(app, client, learner, trainer, query):
    submit(client)
    reviewer = signed_in(app, trainer)
    submission = open_for_review(reviewer, query, learner)
    reviewer.post(f"/revision/{submission.id}", data=review_form(submission, "aprobar"))
    page = reviewer.get(f"/revision/{submission.id}").text
    assert "Resultado de la revisión" in page and 'id="rubric-form"' not in page
    done = submission_of(query, learner)
    response = reviewer.post(f"/revision/{submission.id}", data=review_form(done, "devolver"))
    assert response.status_code == 409
    assert "Este envío ya no espera revisión." in response.text


def test_queue_oldest_first_with_waiting_time_and_filters(
    app, make_user, trainer, case_course, case_lesson, query
):
    now = utcnow()
    course = query(lambda: db.session.get(Course, case_course.id))
    people = [make_user(full_name=f"Participante {name}") for name in ("Ana", "Bruno", "Carla")]
    cohort = write(
        query, lambda: cohorts.create(db.session.get(Course, course.id), "Lagos", by=None)
    )
    for days, person in zip((1, 3, 2), people, strict=True):
        enrol(query, person, course)

        def hand_in(person=person, days=days):
            lesson = db.session.get(Lesson, case_lesson.id)
            draft, _ = services.save_draft(
                person.id, lesson, {"1": words(25), "2": words(25)}, now=now
            )
            assert services.submit(draft, now=now - timedelta(days=days)) == {}

        write(query, hand_in)
    write(
        query,
        lambda: cohorts.assign(
            db.session.get(Course, course.id), {people[0].id: cohort.id}, by=None
        ),
    )

    reviewer = signed_in(app, trainer)
    page = reviewer.get("/revision/").text
    names = re.findall(r"Participante (Ana|Bruno|Carla)", page)
    assert names == ["Bruno", "Carla", "Ana"]  # oldest first
    assert "hace 3 días" in page and "hace 1 día" in page
    page = reviewer.get(f"/revision/?grupo={cohort.id}").text
    assert re.findall(r"Participante (Ana|Bruno|Carla)", page) == ["Ana"]
    page = reviewer.get(f"/revision/?curso={course.id}&estado=approved").text
    assert "No hay envíos con estos filtros." in page
    page = reviewer.get("/revision/?curso=abc&grupo=&estado=inventado&pagina=-3")
    assert page.status_code == 200 and "Participante Ana" in page.text


def test_trainers_see_only_the_courses_they_teach(
    app, client, learner, make_user, case_lesson, query
):
    submit(client)
    outsider = signed_in(app, make_user("trainer"))
    page = outsider.get("/revision/").text
    assert "Todavía no tienes cursos asignados" in page
    assert learner.full_name not in page
    submission = submission_of(query, learner)
    assert outsider.get(f"/revision/{submission.id}").status_code == 403
    admin = signed_in(app, make_user("admin"))
    assert learner.full_name in admin.get("/revision/").text
    assert admin.get(f"/revision/{submission.id}").status_code == 200


# Privacy, as a table --------------------------------------------------------------------------

VIEWERS = ("owner", "other_learner", "teaching_trainer", "other_trainer", "admin")


def statuses(*codes: int) -> dict[str, int]:
    return dict(zip(VIEWERS, codes, strict=True))


PRIVACY = {
    # what: (method, path, statuses for the owner, another learner, a trainer of the course,
    # a trainer of other courses, an admin)
    "the learner's own page": ("GET", "/casos/envios/{id}", statuses(200, 404, 404, 404, 404)),
    "the review page": ("GET", "/revision/{id}", statuses(403, 403, 200, 403, 200)),
    # Saving a review without a form is a bad request, once allowed.
    "saving a review": ("POST", "/revision/{id}", statuses(403, 403, 400, 403, 400)),
    # Taking it: then back to the review page.
    "taking a review": ("POST", "/revision/{id}/tomar", statuses(403, 403, 302, 403, 302)),
    # Drafts are private to their author: not found even for the trainers of the course.
    "the review page of a draft": ("GET", "/revision/{draft}", statuses(403, 403, 404, 404, 404)),
    "an id that does not exist": ("GET", "/casos/envios/999999", statuses(404, 404, 404, 404, 404)),
}  # fmt: skip


@pytest.fixture
def privacy_world(app, make_user, trainer, case_course, case_lesson, query):
    owner = make_user(full_name="Dueña del caso")
    other = make_user(full_name="Otra persona")
    for person in (owner, other):
        enrol(query, person, case_course)

    def hand_in():
        lesson = db.session.get(Lesson, case_lesson.id)
        draft, _ = services.save_draft(owner.id, lesson, {"1": words(25), "2": HOSTILE + words(25)})
        assert services.submit(draft) == {}
        draft, _ = services.save_draft(other.id, lesson, {"1": "borrador de otra"})
        return draft.id

    draft_id = write(query, hand_in)
    submission = submission_of(query, owner)
    viewers = {
        "owner": owner,
        "other_learner": other,
        "teaching_trainer": trainer,
        "other_trainer": make_user("trainer"),
        "admin": make_user("admin"),
    }
    return viewers, submission.id, draft_id


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("what", sorted(PRIVACY))
def test_privacy(app, privacy_world, what, viewer):
    viewers, submission_id, draft_id = privacy_world
    method, path, expected = PRIVACY[what]
    visitor = signed_in(app, viewers[viewer])
    response = visitor.open(path.format(id=submission_id, draft=draft_id), method=method)
    assert response.status_code == expected[viewer], f"{method} {path} as {viewer}"


def test_each_learner_works_only_on_their_own_case(app, privacy_world):
    viewers, _, _ = privacy_world
    page = signed_in(app, viewers["other_learner"]).get(WORK).text
    assert "borrador de otra" in page
    assert "vecinos vecinos" not in page and "Dueña del caso" not in page


# Hostile text ---------------------------------------------------------------------------------


def test_hostile_html_in_a_response_is_inert_on_every_page(app, client, learner, trainer, query):
    hostile = {"respuesta-1": HOSTILE + " " + words(25), "respuesta-2": words(25)}
    client.post(WORK, data={**hostile, "accion": "guardar"})
    pages = {"workspace": client.get(WORK).text}
    client.post(WORK, data={**hostile, "accion": "enviar"})
    pages["confirm"] = client.get(WORK + "enviar").text
    submit(client, hostile)
    reviewer = signed_in(app, trainer)
    submission = open_for_review(reviewer, query, learner)
    pages["review"] = reviewer.get(f"/revision/{submission.id}").text
    form = review_form(submission, "devolver", comentarios=HOSTILE, **{"comentario-1": HOSTILE})
    reviewer.post(f"/revision/{submission.id}", data=form)
    pages["submission"] = client.get(f"/casos/envios/{submission.id}").text
    pages["workspace after review"] = client.get(WORK).text
    pages["read-only review"] = reviewer.get(f"/revision/{submission.id}").text
    for name, page in pages.items():
        assert "<script>alert" not in page, name
        assert "<img src=x" not in page and 'onerror="' not in page, name
        assert "<strong>negrita" not in page, name  # shown as typed, not rendered
    for name in ("workspace", "confirm", "review", "submission", "read-only review"):
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in pages[name], name


# The dashboard --------------------------------------------------------------------------------


def test_recent_reviews_on_the_dashboard_until_seen(app, client, learner, trainer, query):
    assert "Revisiones recientes" not in client.get("/mis-cursos").text
    submit(client)
    reviewer = signed_in(app, trainer)
    submission = open_for_review(reviewer, query, learner)
    reviewer.post(f"/revision/{submission.id}", data=review_form(submission, "aprobar"))
    page = client.get("/mis-cursos").text
    assert "Revisiones recientes" in page
    assert f'href="/casos/envios/{submission.id}">Caso: la plaza del barrio Los Aromos' in page
    assert "Aprobado" in page and "10 puntos" in page
    page = client.get(f"/casos/envios/{submission.id}").text
    assert "Puntaje: 10 de 12" in page
    assert submission_of(query, learner).seen_at is not None
    assert "Revisiones recientes" not in client.get("/mis-cursos").text


# Completion -----------------------------------------------------------------------------------


def test_cases_can_count_on_submission(app, client, learner, trainer, case_course, query):
    def on_submission():
        db.session.get(Course, case_course.id).case_completion = "submission"

    write(query, on_submission)
    submit(client)
    assert "la lección quedó completada" in client.get(WORK).text
    assert outline_state(client) == "done"
    reviewer = signed_in(app, trainer)
    submission = open_for_review(reviewer, query, learner)
    form = review_form(submission, "devolver", comentarios="Corrige la convocatoria.")
    reviewer.post(f"/revision/{submission.id}", data=form)
    # Completion is never taken back; the course page says what happened.
    assert outline_state(client) == "done"
    assert "devuelto para corregir" in client.get("/cursos/curso-ejemplo/").text


def test_approval_completes_the_course_when_it_was_the_last_requirement(
    app, client, learner, trainer, query
):
    for slug in ("que-es-participar", "niveles"):
        client.post(f"/cursos/curso-ejemplo/lecciones/{slug}/completar")
    submit(client)
    enrolment = query(
        lambda: db.session.scalar(select(Enrolment).where(Enrolment.user_id == learner.id))
    )
    assert enrolment.completed_at is None
    reviewer = signed_in(app, trainer)
    submission = open_for_review(reviewer, query, learner)
    reviewer.post(f"/revision/{submission.id}", data=review_form(submission, "aprobar"))
    enrolment = query(lambda: db.session.get(Enrolment, enrolment.id))
    assert enrolment.completed_at is not None
    assert "No te falta nada" in client.get("/cursos/curso-ejemplo/").text


# Services -------------------------------------------------------------------------------------


def test_save_draft_refuses_while_waiting_and_after_approval(learner, trainer, case_lesson, query):
    def scenario():
        lesson = db.session.get(Lesson, case_lesson.id)
        draft, problems = services.save_draft(learner.id, lesson, {"1": words(25), "2": words(25)})
        assert not problems and services.submit(draft) == {}
        with pytest.raises(services.CaseError, match="espera la revisión"):
            services.save_draft(learner.id, lesson, {"1": "otra"})
        reviewer = db.session.get(User, trainer.id)
        services.open_review(draft, reviewer)
        services.save_review(
            draft, reviewer, version=draft.version, levels={"1": 0, "2": 0, "3": 0},
            feedback={}, comments="", approve=True,
        )  # fmt: skip
        with pytest.raises(services.CaseError, match="ya fue aprobado"):
            services.save_draft(learner.id, lesson, {"1": "otra"})
        assert draft.points == 0 and draft.status == "approved"

    query(scenario)


def test_save_review_keeps_only_the_rubrics_criteria(learner, trainer, case_lesson, query):
    def scenario():
        lesson = db.session.get(Lesson, case_lesson.id)
        draft, _ = services.save_draft(learner.id, lesson, {"1": words(25), "2": words(25)})
        services.submit(draft)
        reviewer = db.session.get(User, trainer.id)
        points = services.save_review(
            draft, reviewer, version=draft.version,
            levels={"1": 2, "2": 2, "3": 1, "7": 99}, feedback={"1": " bien ", "8": "x"},
            comments="", approve=False,
        )  # fmt: skip
        assert points == 10
        assert draft.levels == {"1": 2, "2": 2, "3": 1}
        assert draft.criterion_feedback == {"1": "bien"}
        with pytest.raises(services.ReviewConflict, match="Rosa Carrasco"):
            services.save_review(
                draft, reviewer, version=draft.version - 1, levels={}, feedback={},
                comments="", approve=True,
            )  # fmt: skip

    query(scenario)


def test_team_services_refuse_what_cannot_be(make_user, case_course, example_course, query):
    learner = make_user(full_name="Solo Participante")
    trainer = make_user("trainer", full_name="Relatora Nueva")

    def scenario():
        course = db.session.get(Course, case_course.id)
        with pytest.raises(cohorts.CohortError, match="No hay ninguna cuenta"):
            cohorts.add_course_trainer(course, "nadie@muni.cl")
        with pytest.raises(cohorts.CohortError, match="cuenta de participante"):
            cohorts.add_course_trainer(course, learner.email)
        user, added = cohorts.add_course_trainer(course, f"  {trainer.email.upper()} ")
        assert user.id == trainer.id and added
        assert cohorts.add_course_trainer(course, trainer.email) == (user, False)
        assert [t.id for t in cohorts.course_trainers(course.id)] == [trainer.id]
        cohorts.create(course, "  Generación   marzo ", by=None)
        with pytest.raises(cohorts.CohortError, match="Ya hay un grupo"):
            cohorts.create(course, "generación marzo", by=None)
        with pytest.raises(cohorts.CohortError, match="nombre"):
            cohorts.create(course, "   ", by=None)
        other = Course(slug="otro", title="Otro curso")
        db.session.add(other)
        db.session.flush()
        foreign = cohorts.create(other, "Ajeno", by=None)
        progress.enrol(learner.id, course)
        with pytest.raises(cohorts.CohortError, match="no es de este curso"):
            cohorts.assign(course, {learner.id: foreign.id}, by=None)
        assert cohorts.remove_course_trainer(course, trainer.id).id == trainer.id
        assert cohorts.remove_course_trainer(course, trainer.id) is None

    query(scenario)


# The admin page -------------------------------------------------------------------------------

TEAM = "/admin/cursos/curso-ejemplo/relatores-y-grupos"


def test_admin_assigns_trainers_and_cohorts(app, client, auth, make_user, case_course, query):
    auth.as_role(make_user, "admin")
    trainer = make_user("trainer", full_name="Relatora Asignada")
    learner = make_user(full_name="Aprendiz Uno")
    enrol(query, learner, case_course)
    enrolments = client.get("/admin/cursos/curso-ejemplo/inscripciones").text
    assert f'href="{TEAM}"' in enrolments
    page = client.get(TEAM).text
    assert "Este curso todavía no tiene relatores asignados." in page
    assert "Crea un grupo para poder asignar participantes." in page

    response = client.post(
        TEAM.replace("relatores-y-grupos", "relatores"), data={"email": learner.email}
    )
    assert response.status_code == 422
    assert "tiene una cuenta de participante" in response.text
    assert f'value="{learner.email}"' in response.text
    response = client.post(TEAM.replace("relatores-y-grupos", "relatores"), data={"email": ""})
    assert response.status_code == 422 and "Escribe un correo." in response.text
    response = client.post(
        TEAM.replace("relatores-y-grupos", "relatores"), data={"email": trainer.email}
    )
    assert response.headers["Location"] == TEAM
    assert "Relatora Asignada ahora revisa los casos de este curso." in client.get(TEAM).text
    assert query(lambda: db.session.get(CourseTrainer, (case_course.id, trainer.id))) is not None

    cohorts = TEAM.replace("relatores-y-grupos", "grupos")
    assert client.post(cohorts, data={"name": "Generación marzo"}).status_code == 302
    response = client.post(cohorts, data={"name": "generación MARZO"})
    assert response.status_code == 422 and "Ya hay un grupo" in response.text
    cohort = query(
        lambda: db.session.scalar(select(Cohort).where(Cohort.name == "Generación marzo"))
    )
    response = client.post(cohorts + "/asignar", data={f"grupo-{learner.id}": str(cohort.id)})
    assert response.status_code == 302
    assert "1 persona cambió de grupo" in client.get(TEAM).text
    enrolment = query(
        lambda: db.session.scalar(select(Enrolment).where(Enrolment.user_id == learner.id))
    )
    assert enrolment.cohort_id == cohort.id
    assert client.post(cohorts + "/asignar", data={f"grupo-{learner.id}": "x"}).status_code == 400
    response = client.post(cohorts + "/asignar", data={f"grupo-{learner.id}": "999999"})
    assert response.status_code == 422 and "no es de este curso" in response.text
    assert client.post(cohorts + "/asignar", data={f"grupo-{learner.id}": ""}).status_code == 302
    assert query(lambda: db.session.get(Enrolment, enrolment.id)).cohort_id is None

    remove = TEAM.replace("relatores-y-grupos", f"relatores/{trainer.id}/quitar")
    assert client.post(remove).status_code == 302
    assert "ya no revisa los casos de este curso" in client.get(TEAM).text
    assert client.post(remove).status_code == 404
    assert client.get("/admin/cursos/no-existe/relatores-y-grupos").status_code == 404
    assert "Este curso todavía no tiene relatores asignados." in client.get(TEAM).text


def test_review_pages_fetched_as_images_change_nothing(
    app, client, learner, trainer, query, count_statements
):
    """GET never takes a review or marks one read when another page makes the browser fetch
    it (an image in a course description pointing at /revision/<id> used to take it)."""
    submit(client)
    reviewer = signed_in(app, trainer)
    submission = submission_of(query, learner)
    as_image = {"Sec-Fetch-Dest": "image"}
    with count_statements() as seen:
        assert reviewer.get(f"/revision/{submission.id}", headers=as_image).status_code == 200
    assert seen.writes == []
    assert submission_of(query, learner).status == "submitted"
    submission = open_for_review(reviewer, query, learner)
    reviewer.post(f"/revision/{submission.id}", data=review_form(submission, "aprobar"))
    with count_statements() as seen:
        assert client.get(f"/casos/envios/{submission.id}", headers=as_image).status_code == 200
        assert client.get(WORK, headers=as_image).status_code == 200
    assert seen.writes == []
    assert submission_of(query, learner).seen_at is None
    client.get(f"/casos/envios/{submission.id}")  # opened as a page: read
    assert submission_of(query, learner).seen_at is not None
