"""Quizzes on the web: the lesson's panel, attempts, review, bad input and the trainers' pages.

The quiz is tests/fixtures/content/quizzes/ejemplo.md (20 minutes, 3 attempts, the best counts,
full review), used by the lesson "cuestionario" of the example course. Each attempt draws 8 of
its 9 questions (one of the two numeric questions of the pool "niveles"), 11 points in all.
"""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update
from werkzeug.datastructures import MultiDict

from academy.courses import services as courses
from academy.db import utcnow
from academy.extensions import db
from academy.progress import services as progress
from academy.progress.models import LessonProgress
from academy.quizzes import attempts, reports
from academy.quizzes import services as quizzes
from academy.quizzes.models import Answer, Attempt, Quiz
from academy.quizzes.questions import (
    Matching,
    MultipleChoice,
    Numeric,
    Ordering,
    ShortAnswer,
    SingleChoice,
    TrueFalse,
)

LESSON = "/cursos/curso-ejemplo/lecciones/cuestionario"
START = LESSON + "/intentos"
EDITOR = "/editor/cursos/curso-ejemplo/lecciones/cuestionario/cuestionario"


def attempt_url(number=1, suffix=""):
    return f"{START}/{number}{suffix}"


@pytest.fixture
def taker(learner, example_quiz):
    """An enrolled, signed-in learner and the example quiz lesson."""
    return learner


@pytest.fixture
def trainer(client, auth, make_user, example_quiz):
    return auth.as_role(make_user, "trainer")


def teach_the_course(query, user):
    """The trainer teaches the example course: they see its learners' attempts."""
    from academy.courses.models import Course
    from academy.progress import cohorts

    def add():
        cohorts.add_course_trainer(db.session.scalar(select(Course)), user.email)
        db.session.commit()

    query(add)


def start(client):
    response = client.post(START)
    assert response.status_code == 303, response.text
    return response


def the_attempt(query, user, number=1):
    return query(
        lambda: db.session.scalar(
            select(Attempt).where(Attempt.user_id == user.id, Attempt.number == number)
        )
    )


def attempt_count(query, user=None):
    statement = select(func.count(Attempt.id))
    if user is not None:
        statement = statement.where(Attempt.user_id == user.id)
    return query(lambda: db.session.scalar(statement))


def layout(query, user, number=1):
    """The attempt's questions with their order, as plain objects."""

    def read():
        found = db.session.scalar(
            select(Attempt).where(Attempt.user_id == user.id, Attempt.number == number)
        )
        return attempts.questions_of(found)

    return query(read)


def by_type(pairs, cls):
    return next(q for q, _order in pairs if type(q) is cls)


def saved(query, user, number=1):
    def read():
        found = db.session.scalar(
            select(Attempt).where(Attempt.user_id == user.id, Attempt.number == number)
        )
        return {k: v for k, v in attempts.responses_of(found).items() if v is not None}

    return query(read)


def form_for(pairs, responses, *, shown=True):
    """The form fields a browser sends for these responses (see academy.quizzes.forms)."""
    data = MultiDict()
    for question, _order in pairs:
        if shown:
            data.add("shown", question.key)
        response = responses.get(question.key)
        if response is None:
            continue
        name = f"q:{question.key}"
        if isinstance(question, Matching):
            for left, right in response.items():
                data.add(f"{name}:{left}", right)
        elif isinstance(question, Ordering):
            for position, item in enumerate(response, start=1):
                data.add(f"{name}:{item}", str(position))
        elif isinstance(response, list):
            for value in response:
                data.add(name, value)
        else:
            data.add(name, response)
    return data


def with_action(data, action):
    data = MultiDict(data)
    data["action"] = action
    return data


def correct_answers(pairs):
    return {question.key: question.correct_response() for question, _order in pairs}


def set_deadline(query, user, deadline, number=1):
    def change():
        db.session.execute(
            update(Attempt)
            .where(Attempt.user_id == user.id, Attempt.number == number)
            .values(deadline=deadline)
        )
        db.session.commit()

    query(change)


def use_quiz_text(query, text):
    """Publish a new revision of the example quiz with this text."""

    def change():
        row = quizzes.get_quiz("ejemplo")
        revision, problems = quizzes.save_draft(row, text, author_id=None)
        assert revision is not None, problems
        quizzes.publish(row, revision, by=None)
        db.session.commit()

    query(change)


def example_text(query):
    return query(lambda: quizzes.get_quiz("ejemplo").latest.source_md)


def submit_all(client, pairs, responses, number=1):
    response = client.post(
        attempt_url(number), data=with_action(form_for(pairs, responses), "submit")
    )
    assert response.headers["Location"] == attempt_url(number, "/entregar"), response.text
    return client.post(attempt_url(number, "/entregar"))


# The lesson page --------------------------------------------------------------------------


def test_lesson_page_states_the_rules_and_offers_to_start(client, taker):
    page = client.get(LESSON).text
    assert 'id="cuestionario"' in page
    assert "repasa los <strong>niveles de participación</strong>" in page  # the intro
    assert "8 preguntas." in page
    assert "Para aprobar necesitas el 60 % de los puntos." in page
    assert "Tiempo: 20 minutos desde que comienzas." in page
    assert "Tienes 3 intentos." in page
    assert "Cuenta tu mejor intento." in page
    assert "Al entregar verás tu puntaje, tus respuestas, las respuestas correctas" in page
    assert "Comenzar intento" in page
    assert "Marcar como completada" not in page
    assert "Para relatores:" not in page


def test_starting_shows_the_questions_in_the_attempts_fixed_order(client, taker, query):
    response = start(client)
    assert response.headers["Location"] == attempt_url(1)
    page = client.get(attempt_url(1)).text
    pairs = layout(query, taker)
    assert len(pairs) == 8
    keys = re.findall(r'data-question="([a-z0-9-]+)"', page)
    assert keys == [q.key for q, _order in pairs]
    for question, order in pairs:
        if "options" in order:  # the options in the drawn order
            values = re.findall(rf'name="q:{question.key}" value="([^"]+)"', page)
            assert values == order["options"]
    single = by_type(pairs, SingleChoice)
    assert 'type="radio" id="q' in page and f'name="q:{single.key}"' in page
    assert 'type="checkbox"' in page
    assert 'inputmode="decimal"' in page
    matching = by_type(pairs, Matching)
    assert page.count(f'name="q:{matching.key}:') == 3  # one select per item on the left
    ordering = by_type(pairs, Ordering)
    assert page.count(f'name="q:{ordering.key}:') == 5
    assert '<option value="5">5</option>' in page
    assert 'data-seconds-left="' in page and "Debes entregar antes de las" in page
    assert 'src="/static/js/quiz.js"' in page
    assert " style=" not in page and "<script>" not in page
    # Reloading shows the same order; starting again resumes the same attempt.
    assert re.findall(r'data-question="([a-z0-9-]+)"', client.get(attempt_url(1)).text) == keys
    assert start(client).headers["Location"] == attempt_url(1)
    assert attempt_count(query, taker) == 1
    assert "Continuar intento" in client.get(LESSON).text


def test_saved_answers_are_there_when_the_learner_comes_back(client, taker, query):
    start(client)
    pairs = layout(query, taker)
    answers = correct_answers(pairs)
    numeric = by_type(pairs, Numeric)
    answers[numeric.key] = "3.5"
    response = client.post(attempt_url(1), data=with_action(form_for(pairs, answers), "save"))
    assert response.status_code == 303 and response.headers["Location"] == attempt_url(1)
    page = client.get(attempt_url(1)).text
    assert "Guardamos tus respuestas." in page
    for question, _order in pairs:
        if isinstance(question, SingleChoice):
            assert re.search(
                rf'name="q:{question.key}" value="{answers[question.key]}" checked', page
            )
    assert f'name="q:{numeric.key}" value="3,5"' in page  # a comma, as typed in Chile
    short = by_type(pairs, ShortAnswer)
    assert f'name="q:{short.key}" value="COSOC"' in page
    matching = by_type(pairs, Matching)
    for left, right in answers[matching.key].items():
        select_html = page.split(f'name="q:{matching.key}:{left}"')[1].split("</select>")[0]
        assert f'value="{right}" selected' in select_html
    ordering = by_type(pairs, Ordering)
    for position, item in enumerate(answers[ordering.key], start=1):
        select_html = page.split(f'name="q:{ordering.key}:{item}"')[1].split("</select>")[0]
        assert f'value="{position}" selected' in select_html
    assert saved(query, taker)[numeric.key] == "3.5"


def test_unticking_every_box_clears_a_saved_answer(client, taker, query):
    start(client)
    pairs = layout(query, taker)
    multiple = by_type(pairs, MultipleChoice)
    client.post(attempt_url(1), data=form_for(pairs, {multiple.key: multiple.correct_response()}))
    assert saved(query, taker)[multiple.key]
    client.post(attempt_url(1), data=form_for(pairs, {}))
    assert multiple.key not in saved(query, taker)


def test_autosave_answers_json(client, taker, query):
    start(client)
    pairs = layout(query, taker)
    single = by_type(pairs, SingleChoice)
    headers = {"Accept": "application/json", "X-CSRFToken": "x"}
    data = form_for([(single, {})], {single.key: single.correct_response()})
    response = client.post(attempt_url(1, "/autoguardado"), data=data, headers=headers)
    assert response.status_code == 200
    assert response.json["saved"] == [single.key]
    assert response.json["message"].startswith("Guardado a las ")
    assert saved(query, taker) == {single.key: single.correct_response()}
    tampered = {"shown": single.key, f"q:{single.key}": "ffffff"}
    response = client.post(attempt_url(1, "/autoguardado"), data=tampered, headers=headers)
    assert response.status_code == 422
    assert "no es de esta pregunta" in response.json["error"]["errors"][single.key]
    assert saved(query, taker) == {single.key: single.correct_response()}
    set_deadline(query, taker, utcnow() - timedelta(minutes=5))
    response = client.post(attempt_url(1, "/autoguardado"), data=data, headers=headers)
    assert response.status_code == 409
    assert "Se acabó el tiempo" in response.json["error"]["message"]
    assert response.json["error"]["redirect"] == attempt_url(1)
    assert (
        client.post(attempt_url(2, "/autoguardado"), data=data, headers=headers).status_code == 404
    )


# Submitting and the review ----------------------------------------------------------------


def test_a_passing_attempt_completes_the_lesson(client, taker, query):
    start(client)
    pairs = layout(query, taker)
    response = client.post(
        attempt_url(1), data=with_action(form_for(pairs, correct_answers(pairs)), "submit")
    )
    assert response.status_code == 303
    confirm = client.get(response.headers["Location"]).text
    assert "¿Entregar el intento 1?" in confirm
    assert "Respondiste 8 de 8 preguntas." in confirm
    assert "Respondiste todas las preguntas." in confirm
    response = client.post(attempt_url(1, "/entregar"))
    assert response.status_code == 303 and response.headers["Location"] == attempt_url(1)
    page = client.get(attempt_url(1)).text
    assert "Entregamos tu intento." in page
    assert "Obtuviste 11 de 11 puntos: 100 %." in page
    assert "Aprobado." in page
    assert "Aprobaste este cuestionario: la lección está completada." in page
    assert "Usaste 1 de 3 intentos; te quedan 2." in page
    assert page.count('class="review-outcome">Correcta') == 8
    assert "Orden correcto:" in page
    assert "Cada nivel del espectro hace una promesa distinta" in page  # general feedback
    single = by_type(pairs, SingleChoice)
    assert single.title in page
    assert "Correcto: es un órgano consultivo." in page  # the chosen option's feedback
    # The lesson and the course say so.
    lesson_page = client.get(LESSON).text
    assert "Aprobaste este cuestionario." in lesson_page
    assert 'state-label state-done">Completada' in lesson_page
    course_page = client.get("/cursos/curso-ejemplo/").text
    section = course_page.split('id="left-title"')[1].split("</section>")[0]
    assert "Cuestionario de la unidad</a>\n        — <strong>Completada</strong>" in section
    marks = query(
        lambda: db.session.scalar(
            select(LessonProgress.status).where(
                LessonProgress.user_id == taker.id, LessonProgress.completed_at.is_not(None)
            )
        )
    )
    assert marks == "done"


def test_a_failed_attempt_shows_the_attempts_left(client, taker, query):
    start(client)
    pairs = layout(query, taker)
    single = by_type(pairs, SingleChoice)
    wrong = next(c.id for c in single.choices if not c.correct and c.weight is None)
    submit_all(client, pairs, {single.key: wrong})
    page = client.get(attempt_url(1)).text
    assert "Obtuviste 0 de 11 puntos: 0 %." in page
    assert "No aprobado: se necesita el 60 %." in page
    assert "Usaste 1 de 3 intentos; te quedan 2." in page
    assert "Tu mejor puntaje: 0 %." in page
    assert "No: el concejo es normativo" in page  # feedback of the option picked
    assert page.count('class="review-outcome">Sin responder') == 7
    assert "Comenzar otro intento" in page
    lesson_page = client.get(LESSON).text
    assert "Todavía no apruebas: necesitas el 60 % de los puntos." in lesson_page
    assert "Comenzar otro intento" in lesson_page
    course_page = client.get("/cursos/curso-ejemplo/").text
    assert "<strong>No aprobado</strong> (te quedan 2 intentos)" in course_page


def test_the_best_attempt_counts_and_the_best_score_is_shown(client, taker, query):
    start(client)
    pairs = layout(query, taker)
    submit_all(client, pairs, correct_answers(pairs))
    start(client)
    submit_all(client, layout(query, taker, 2), {}, number=2)
    page = client.get(attempt_url(2)).text
    assert "Obtuviste 0 de 11 puntos" in page
    assert "Tu mejor puntaje: 100 %." in page
    assert "Cuenta tu mejor intento, el 1." in page
    assert "Aprobaste este cuestionario" in page
    lesson_page = client.get(LESSON).text
    assert (
        'href="/cursos/curso-ejemplo/lecciones/cuestionario/intentos/1">Intento 1</a>'
        in lesson_page
    )
    assert "Usaste 2 de 3 intentos; te quedan 1." in lesson_page


def test_an_empty_attempt_scores_zero(client, taker, query):
    start(client)
    pairs = layout(query, taker)
    response = submit_all(client, pairs, {})
    assert response.status_code == 303
    confirm_missing = the_attempt(query, taker)
    assert confirm_missing.score == 0 and confirm_missing.passed is False
    assert confirm_missing.status == "submitted"


def test_the_confirm_step_lists_unanswered_questions(client, taker, query):
    start(client)
    pairs = layout(query, taker)
    first = pairs[0][0]
    client.post(attempt_url(1), data=form_for(pairs, {first.key: first.correct_response()}))
    page = client.get(attempt_url(1, "/entregar")).text
    assert "Respondiste 1 de 8 preguntas." in page
    assert "Preguntas sin responder" in page
    assert f"Pregunta 2: {pairs[1][0].title}" in page
    assert f'href="{attempt_url(1)}#pregunta-2"' in page
    assert f"Pregunta 1: {first.title}" not in page
    assert "Te quedan 19 minutos." in page or "Te quedan 20 minutos." in page


@pytest.mark.parametrize(
    ("review", "shows_answers", "shows_correct"),
    [("puntaje", False, False), ("respuestas", True, False), ("completa", True, True)],
)
def test_the_review_shows_what_the_quiz_allows(
    client, taker, query, review, shows_answers, shows_correct
):
    text = example_text(query).replace("revision: completa", f"revision: {review}")
    use_quiz_text(query, text)
    start(client)
    pairs = layout(query, taker)
    short = by_type(pairs, ShortAnswer)
    submit_all(client, pairs, {short.key: "consejo comunal"})
    page = client.get(attempt_url(1)).text
    assert "Obtuviste 0,5 de 11 puntos: 4,55 %." in page
    assert ("Tu respuesta:" in page and "consejo comunal" in page) == shows_answers
    assert ("Respuesta correcta:" in page) == shows_correct
    assert ("Es el nombre, pero se pedía la sigla." in page) == shows_correct
    assert ("Este cuestionario muestra solo el puntaje" in page) == (review == "puntaje")


def test_submitting_twice_grades_once(client, taker, query):
    start(client)
    pairs = layout(query, taker)
    submit_all(client, pairs, correct_answers(pairs))
    first = the_attempt(query, taker)
    response = client.post(attempt_url(1, "/entregar"))
    assert response.status_code == 303
    page = client.get(attempt_url(1)).text
    assert "Este intento ya estaba entregado." in page
    again = the_attempt(query, taker)
    assert (again.finished_at, again.score, again.status) == (
        first.finished_at,
        first.score,
        first.status,
    )
    # Saving into a finished attempt changes nothing either.
    response = client.post(attempt_url(1), data=form_for(pairs, {}))
    assert response.status_code == 303
    assert "Este intento ya se entregó" in client.get(attempt_url(1)).text
    assert saved(query, taker) == correct_answers(pairs)


# Time limits --------------------------------------------------------------------------------


def test_answers_after_the_deadline_are_refused_and_the_attempt_graded_as_it_stood(
    client, taker, query
):
    start(client)
    pairs = layout(query, taker)
    single = by_type(pairs, SingleChoice)
    client.post(attempt_url(1), data=form_for(pairs, {single.key: single.correct_response()}))
    set_deadline(query, taker, utcnow() - attempts.GRACE - timedelta(seconds=5))
    response = client.post(
        attempt_url(1), data=with_action(form_for(pairs, correct_answers(pairs)), "submit")
    )
    assert response.status_code == 303 and response.headers["Location"] == attempt_url(1)
    page = client.get(attempt_url(1)).text
    assert "Se acabó el tiempo. Calificamos el intento con las respuestas guardadas." in page
    assert "Obtuviste 2 de 11 puntos" in page  # only what was saved in time
    assert "Entregado al acabarse el tiempo" in page
    found = the_attempt(query, taker)
    assert found.status == "expired"
    assert saved(query, taker) == {single.key: single.correct_response()}


def test_an_expired_attempt_is_graded_when_anyone_looks(client, taker, query):
    start(client)
    set_deadline(query, taker, utcnow() - timedelta(hours=1))
    page = client.get(attempt_url(1)).text
    assert "Se acabó el tiempo: calificamos el intento con las respuestas guardadas." in page
    assert "Obtuviste 0 de 11 puntos" in page
    assert the_attempt(query, taker).status == "expired"
    assert "Entregado al acabarse el tiempo" in client.get(LESSON).text


def test_answers_in_the_grace_period_are_accepted(client, taker, query):
    start(client)
    pairs = layout(query, taker)
    set_deadline(query, taker, utcnow() - timedelta(seconds=10))
    single = by_type(pairs, SingleChoice)
    response = client.post(
        attempt_url(1), data=form_for(pairs, {single.key: single.correct_response()})
    )
    assert response.status_code == 303
    assert saved(query, taker) == {single.key: single.correct_response()}
    assert "Se acabó el tiempo. Entrega ahora" in client.get(attempt_url(1)).text


def test_the_countdowns_last_save_hands_in_what_is_valid(client, taker, query):
    start(client)
    pairs = layout(query, taker)
    single, ordering = by_type(pairs, SingleChoice), by_type(pairs, Ordering)
    data = form_for(pairs, {single.key: single.correct_response()})
    data.add(f"q:{ordering.key}:{ordering.items[0].id}", "1")  # half numbered: not valid
    response = client.post(attempt_url(1), data=with_action(data, "timeout"))
    assert response.status_code == 303
    page = client.get(attempt_url(1)).text
    assert "Se acabó el tiempo: entregamos tu intento con tus respuestas." in page
    assert "Obtuviste 2 de 11 puntos" in page
    assert the_attempt(query, taker).status == "submitted"


def test_continuing_an_attempt_whose_time_ran_out_shows_its_result(client, taker, query):
    start(client)
    set_deadline(query, taker, utcnow() - timedelta(hours=1))
    response = client.post(START, data={"intento": "1"})
    assert response.headers["Location"] == attempt_url(1)
    assert "Se acabó el tiempo" in client.get(attempt_url(1)).text
    assert attempt_count(query, taker) == 1  # no new attempt behind the learner's back


def test_untimed_quizzes_say_so(client, taker, query):
    text = (
        example_text(query)
        .replace("tiempo: 20\n", "")
        .replace("intentos: 3", "intentos: ilimitados")
    )
    use_quiz_text(query, text)
    assert "Sin límite de tiempo" in client.get(LESSON).text
    assert "Puedes intentarlo las veces que quieras." in client.get(LESSON).text
    start(client)
    page = client.get(attempt_url(1)).text
    assert "data-seconds-left" not in page
    assert the_attempt(query, taker).deadline is None


# Attempt limits and access ------------------------------------------------------------------


def test_no_attempt_is_created_when_none_are_left(client, taker, query):
    for number in (1, 2, 3):
        start(client)
        client.post(attempt_url(number, "/entregar"))
    response = client.post(START)
    assert response.status_code == 303 and response.headers["Location"].endswith("#cuestionario")
    page = client.get(LESSON).text
    assert "Ya usaste todos los intentos de este cuestionario." in page
    assert "Comenzar" not in page
    assert attempt_count(query, taker) == 3


def test_someone_elses_attempt_is_not_found(client, auth, make_user, taker, query, example_course):
    start(client)
    pairs = layout(query, taker)
    auth.logout()
    other = auth.as_role(make_user, "learner")
    query(
        lambda: (progress.enrol(other.id, courses.get_course("curso-ejemplo")), db.session.commit())
    )
    single = by_type(pairs, SingleChoice)
    data = form_for(pairs, {single.key: single.correct_response()})
    assert client.get(attempt_url(1)).status_code == 404
    assert client.post(attempt_url(1), data=data).status_code == 404
    assert client.post(attempt_url(1, "/entregar")).status_code == 404
    assert client.get(attempt_url(1, "/entregar")).status_code == 404
    assert saved(query, taker) == {}
    assert the_attempt(query, taker).status == "in_progress"


def test_learners_not_enrolled_get_the_403_page(client, auth, make_user, example_quiz, query):
    user = auth.as_role(make_user, "learner")
    for response in (
        client.post(START),
        client.get(attempt_url(1)),
        client.post(attempt_url(1), data={"shown": "x"}),
        client.post(attempt_url(1, "/entregar")),
    ):
        assert response.status_code == 403
        assert "Todavía no estás en este curso" in response.text
    json = client.post(attempt_url(1, "/autoguardado"), headers={"Accept": "application/json"})
    assert json.status_code == 403 and json.is_json
    assert attempt_count(query, user) == 0


def test_quiz_routes_of_a_reading_lesson_are_404(client, taker):
    assert client.post("/cursos/curso-ejemplo/lecciones/niveles/intentos").status_code == 404
    assert client.get("/cursos/curso-ejemplo/lecciones/niveles/intentos/1").status_code == 404


def test_a_quiz_lesson_without_its_quiz_is_explained(client, learner, query):
    query(lambda: (add_quiz_lesson_without_quiz(), db.session.commit()))
    page = client.get(LESSON).text
    assert "Este cuestionario todavía no está disponible." in page
    response = client.post(START)
    assert response.status_code == 404
    assert "Este cuestionario todavía no está disponible." in response.text


def add_quiz_lesson_without_quiz():
    from tests.conftest import add_quiz_lesson

    add_quiz_lesson(quiz_slug="no-escrito", import_quiz=False)


# Bad input ----------------------------------------------------------------------------------


def post_answers(client, data):
    return client.post(attempt_url(1), data=with_action(data, "save"))


def test_an_answer_to_a_question_not_in_the_attempt_is_refused(client, taker, query):
    start(client)
    pairs = layout(query, taker)
    drawn = {q.key for q, _order in pairs}
    quiz = query(lambda: attempts.context_for(lesson_row()).quiz)
    left_out = next(q for q in quiz.questions if q.key not in drawn)  # the other "niveles"
    for key in ("no-existe", left_out.key):
        response = post_answers(client, {"shown": key, f"q:{key}": "8"})
        assert response.status_code == 422
        assert "Enviaste respuestas a preguntas que no son de este intento." in response.text
    assert saved(query, taker) == {}


def test_a_tampered_option_is_refused_and_nothing_saved(client, taker, query):
    start(client)
    pairs = layout(query, taker)
    single = by_type(pairs, SingleChoice)
    short = by_type(pairs, ShortAnswer)
    data = form_for(pairs, {single.key: "ffffff", short.key: "COSOC"})
    response = post_answers(client, data)
    assert response.status_code == 422
    assert "No guardamos esta respuesta: la opción elegida no es de esta pregunta." in response.text
    assert 'role="alert"' in response.text
    # The learner's typing is still on the page, to correct and send again.
    assert f'name="q:{short.key}" value="COSOC"' in response.text
    assert saved(query, taker) == {}


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("abc", "«abc» no es un número"),
        ("99999999999999999999", "es demasiado grande"),
        ("1" * 70, "el número tiene demasiadas cifras"),
        ("1.000", "es ambiguo"),
    ],
)
def test_numbers_that_cannot_be_read_are_refused(client, taker, query, typed, message):
    start(client)
    pairs = layout(query, taker)
    numeric = by_type(pairs, Numeric)
    response = post_answers(client, form_for(pairs, {numeric.key: typed}))
    assert response.status_code == 422
    assert message in response.text
    assert saved(query, taker) == {}


def test_refused_answers_are_explained_in_the_readers_language(client, taker, query):
    client.post("/idioma", data={"language": "en", "next": "/"})
    start(client)
    pairs = layout(query, taker)
    numeric = by_type(pairs, Numeric)
    response = post_answers(client, form_for(pairs, {numeric.key: "1.000"}))
    assert response.status_code == 422
    assert "“1.000” is ambiguous: write 1000 for thousands or 1,000 for a decimal" in (
        html.unescape(response.text)
    )


def test_a_negative_number_is_an_answer_that_scores_zero(client, taker, query):
    start(client)
    pairs = layout(query, taker)
    numeric = by_type(pairs, Numeric)
    assert post_answers(client, form_for(pairs, {numeric.key: "-8"})).status_code == 303
    assert saved(query, taker)[numeric.key] == "-8"
    client.post(attempt_url(1, "/entregar"))
    score = query(
        lambda: db.session.scalar(select(Answer.score).where(Answer.question_key == numeric.key))
    )
    assert score == 0


def test_matching_and_ordering_refuse_what_they_cannot_mean(client, taker, query):
    start(client)
    pairs = layout(query, taker)
    matching, ordering = by_type(pairs, Matching), by_type(pairs, Ordering)
    left = matching.scored_pairs()[0].left_id
    bad_pair = {"shown": matching.key, f"q:{matching.key}:{left}": "zzzzzz"}
    response = post_answers(client, bad_pair)
    assert response.status_code == 422
    assert "una de las respuestas elegidas no es de esta pregunta" in response.text
    same_place = MultiDict({"shown": ordering.key})
    for item in ordering.items:
        same_place.add(f"q:{ordering.key}:{item.id}", "1")
    response = post_answers(client, same_place)
    assert response.status_code == 422
    assert "cada posición se puede usar una sola vez" in response.text
    half = {"shown": ordering.key, f"q:{ordering.key}:{ordering.items[0].id}": "2"}
    response = post_answers(client, half)
    assert response.status_code == 422
    assert "indica la posición de cada elemento (del 1 al 5)" in response.text
    out_of_range = {"shown": ordering.key, f"q:{ordering.key}:{ordering.items[0].id}": "9"}
    assert post_answers(client, out_of_range).status_code == 422
    foreign = MultiDict({"shown": ordering.key})
    for position, item in enumerate(ordering.items, start=1):
        foreign.add(f"q:{ordering.key}:{item.id}", str(position))
    foreign.add(f"q:{ordering.key}:abcdef", "6")
    assert post_answers(client, foreign).status_code == 422
    assert saved(query, taker) == {}


# Trainers ---------------------------------------------------------------------------------


def test_trainers_see_their_links_on_the_lesson_and_in_the_course_editor(client, trainer):
    page = client.get(LESSON).text
    assert "Vista previa sin registrar" in page
    assert f'href="{EDITOR}/estadisticas"' in page
    assert f'href="{EDITOR}/intentos.csv"' in page
    assert 'href="/editor/cuestionarios/ejemplo"' in page
    assert "Comenzar intento" not in page  # not enrolled: a preview, not an attempt
    outline = client.get("/editor/cursos/curso-ejemplo/").text
    row = outline.split('id="leccion-cuestionario"')[1].split("</li>")[0]
    assert f'href="{EDITOR}/vista-previa"' in row
    assert f'href="{EDITOR}/estadisticas"' in row
    assert 'href="/editor/cuestionarios/ejemplo"' in row
    assert 'href="/editor/cuestionarios/"' in client.get("/editor/").text


def test_a_trainers_preview_grades_in_memory(client, trainer, query):
    page = client.get(EDITOR + "/vista-previa").text
    assert "nada de lo que respondas aquí se guarda" in page
    seed = re.search(r'name="semilla" value="(\d+)"', page).group(1)
    keys = re.findall(r'data-question="([a-z0-9-]+)"', page)
    assert len(keys) == 8
    quiz = query(lambda: attempts.context_for(lesson_row()).quiz)
    pairs = [(quiz.question(key), {}) for key in keys]
    data = form_for(pairs, correct_answers(pairs))
    data.add("semilla", seed)
    response = client.post(EDITOR + "/vista-previa", data=data)
    assert response.status_code == 200
    assert "Obtuviste 11 de 11 puntos: 100 %." in response.text
    assert response.text.count('class="review-outcome">Correcta') == 8
    assert attempt_count(query) == 0
    single = by_type(pairs, SingleChoice)
    bad = client.post(
        EDITOR + "/vista-previa",
        data={"semilla": seed, "shown": single.key, f"q:{single.key}": "x"},
    )
    assert bad.status_code == 422
    for seed, status in (("-1", 400), (str(2**32), 400), (str(2**32 - 1), 200)):
        # Any draw the page can make comes back, the largest too (it is no database number).
        response = client.post(EDITOR + "/vista-previa", data={"semilla": seed})
        assert response.status_code == status, seed
    assert attempt_count(query) == 0


def lesson_row():
    from academy.courses.models import Lesson

    return db.session.scalar(select(Lesson).where(Lesson.slug == "cuestionario"))


def test_any_revision_of_a_quiz_can_be_previewed(client, trainer, query):
    page = client.get("/editor/cuestionarios/ejemplo/vista-previa?revision=1").text
    assert "Vista previa de «Participación ciudadana en el municipio», revisión 1" in page
    assert "Los participantes ven su puntaje, sus respuestas" in page
    assert client.get("/editor/cuestionarios/ejemplo/vista-previa?revision=9").status_code == 404
    assert client.get("/editor/cuestionarios/otro/vista-previa").status_code == 404


def finished_attempt(query, user_id, answers, *, when):
    """An attempt started, answered and submitted through the services, at ``when``."""

    def run():
        context = attempts.context_for(lesson_row())
        attempt = attempts.start(user_id, context, now=when)
        pairs = attempts.questions_of(attempt)
        raw = form_for(pairs, answers(pairs))
        from academy.quizzes import forms

        parsed, problems = forms.read_responses(raw, {q.key: q for q, _o in pairs})
        assert not problems
        assert attempts.save_answers(attempt, parsed, now=when) == {}
        assert attempts.submit(attempt, now=when)
        db.session.commit()

    query(run)


def test_statistics_per_question(client, trainer, make_user, query):
    learners = [make_user("learner") for _ in range(6)]
    when = utcnow()
    # Three learners answer everything right, three only the true/false question.
    for index, user in enumerate(learners):
        if index < 3:
            finished_attempt(query, user.id, correct_answers, when=when)
        else:
            finished_attempt(
                query,
                user.id,
                lambda pairs: {
                    q.key: q.correct_response() for q, _o in pairs if isinstance(q, TrueFalse)
                },
                when=when,
            )
    page = client.get(EDITOR + "/estadisticas").text
    assert "Intentos entregados</dt><dd>6</dd>" in page
    assert "Participantes</dt><dd>6</dd>" in page
    assert "Intentos aprobados</dt><dd>3 (50 %)</dd>" in page
    assert "Discriminación" in page and "la correlación entre el puntaje en la pregunta" in page
    stats = query(
        lambda: reports.quiz_statistics(lesson_row(), reports.reference_quiz(lesson_row()))
    )
    by_key = {s.key: s for s in stats.questions}
    true_false = next(s for s in stats.questions if isinstance(s.question, TrueFalse))
    assert true_false.attempts == 6 and true_false.facility == 1.0
    assert true_false.discrimination is None  # everybody right: nothing to correlate
    single = next(s for s in stats.questions if type(s.question) is SingleChoice)
    assert single.facility == 0.5
    assert single.discrimination == pytest.approx(1.0)
    correct = next(o for o in single.options if o.choice.correct)
    assert (correct.count, correct.share) == (3, 0.5)
    assert single.answered == 3
    drawn = [s for s in stats.questions if isinstance(s.question, Numeric)]
    assert sum(s.attempts for s in drawn) == 6  # one of the two per attempt
    fixed = [s for s in by_key.values() if not isinstance(s.question, Numeric)]
    assert len(fixed) == 7 and all(s.attempts == 6 for s in fixed)
    assert "sin variación" in page
    assert "Opciones elegidas" in page


def test_statistics_need_enough_attempts(client, trainer, make_user, query):
    assert "Todavía nadie ha entregado un intento" in client.get(EDITOR + "/estadisticas").text
    finished_attempt(query, make_user("learner").id, correct_answers, when=utcnow())
    page = client.get(EDITOR + "/estadisticas").text
    assert "faltan intentos" in page
    assert "La discriminación se calcula con 5 intentos o más." in page


def test_correlation():
    assert reports.correlation([(0, 0), (1, 1), (0.5, 0.5)]) == pytest.approx(1.0)
    assert reports.correlation([(0, 1), (1, 0)]) == pytest.approx(-1.0)
    assert reports.correlation([(1, 0), (1, 1)]) is None
    assert reports.correlation([(1, 1)]) is None


def test_csv_export_of_every_attempt(client, trainer, make_user, query):
    teach_the_course(query, trainer)
    person = make_user("learner", full_name='=HYPERLINK("x")')

    def injected(pairs):
        short = next(q for q, _o in pairs if isinstance(q, ShortAnswer))
        numeric = next(q for q, _o in pairs if isinstance(q, Numeric))
        return {short.key: "=1+2", numeric.key: "-3"}

    finished_attempt(query, person.id, injected, when=utcnow())
    finished_attempt(query, make_user("learner").id, correct_answers, when=utcnow())
    response = client.get(EDITOR + "/intentos.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response.headers["Content-Disposition"]
        == 'attachment; filename="curso-ejemplo-cuestionario-intentos.csv"'
    )
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert len(rows) == 16  # two attempts, eight questions each
    assert list(rows[0]) == list(reports.CSV_COLUMNS)
    mine = [row for row in rows if row["nombre"].startswith("'=")]
    assert len(mine) == 8 and mine[0]["nombre"] == '\'=HYPERLINK("x")'
    answers = {row["tipo"]: row["respuesta"] for row in mine}
    assert answers["corta"] == "'=1+2"
    assert answers["numerica"] == "'-3"
    other = [row for row in rows if row not in mine]
    assert {row["estado"] for row in rows} == {"entregado"}
    assert {row["aprobado"] for row in other} == {"si"}
    assert {row["porcentaje"] for row in other} == {"100"}
    assert {row["puntaje"] for row in other} == {"11"}
    assert other[0]["intento"] == "1"
    single = next(row for row in other if row["tipo"] == "unica")
    assert (
        single["respuesta"] == "El consejo comunal de organizaciones de la sociedad civil (COSOC)"
    )
    assert single["puntaje_pregunta"] == "2" and single["puntos_pregunta"] == "2"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", single["inicio"])


def test_safe_cell():
    assert reports.safe_cell("=cmd") == "'=cmd"
    assert reports.safe_cell("+1") == "'+1"
    assert reports.safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert reports.safe_cell("-2") == "'-2"
    assert reports.safe_cell("\tx") == "'\tx"
    assert reports.safe_cell("COSOC") == "COSOC"
    assert reports.safe_cell(None) == ""


# The quiz editor --------------------------------------------------------------------------

QUIZ_EDITOR = "/editor/cuestionarios/ejemplo"


def revision_numbers(query, slug="ejemplo"):
    return query(lambda: [r.number for r in quizzes.get_quiz(slug).revisions])


def test_the_quiz_editor_previews_and_reports_problems_by_line(client, trainer, query):
    page = client.get(QUIZ_EDITOR).text
    assert "titulo: Participación ciudadana en el municipio" in page
    assert "¿Qué órgano municipal es consultivo?" in page  # the preview of the questions
    assert "Los participantes responden la última revisión." in page
    text = example_text(query).replace("tipo: unica", "tipo: desconocida", 1)
    response = client.post(QUIZ_EDITOR, data={"source": text, "base": "1", "action": "preview"})
    assert response.status_code == 200
    assert re.search(r"Línea 19: «tipo»: usa uno de: unica", response.text)
    response = client.post(QUIZ_EDITOR, data={"source": text, "base": "1", "action": "save"})
    assert response.status_code == 422
    assert "No guardamos: hay 1 problema en el texto." in response.text
    assert revision_numbers(query) == [1]


def test_saving_publishing_and_the_history_of_a_quiz(client, trainer, query):
    text = example_text(query).replace("aprobacion: 60", "aprobacion: 70")
    response = client.post(
        QUIZ_EDITOR, data={"source": text, "base": "1", "note": "Más exigente", "action": "save"}
    )
    assert response.status_code == 303
    page = client.get(QUIZ_EDITOR).text
    assert "Guardamos el borrador: revisión 2." in page
    assert "Publicar la revisión 2" in page
    assert revision_numbers(query) == [1, 2]
    # Learners still take revision 1.
    assert query(lambda: quizzes.get_quiz("ejemplo").published.number) == 1
    response = client.post(QUIZ_EDITOR + "/publicar", data={"revision": "2"})
    assert response.status_code == 303
    assert "Publicamos la revisión 2." in client.get(QUIZ_EDITOR).text
    assert query(lambda: quizzes.get_quiz("ejemplo").published.number) == 2
    history = client.get(QUIZ_EDITOR + "/revisiones").text
    assert "Más exigente" in history and "Revisión 1" in history
    assert 'Publicar<span class="visually-hidden"> la revisión 1' in history
    source = client.get(QUIZ_EDITOR + "/revisiones/1").text
    assert "aprobacion: 60" in source
    assert client.get(QUIZ_EDITOR + "/revisiones/7").status_code == 404
    # Saving the same text again makes no revision; a stale base is a conflict.
    client.post(QUIZ_EDITOR, data={"source": text, "base": "2", "action": "save"})
    assert "No había cambios que guardar." in client.get(QUIZ_EDITOR).text
    stale = client.post(
        QUIZ_EDITOR,
        data={"source": text.replace("70", "75", 1), "base": "1", "action": "save"},
    )
    assert stale.status_code == 409
    assert "Mientras editabas" in stale.text
    # Publishing an old revision goes back to it; an unknown one is refused.
    client.post(QUIZ_EDITOR + "/publicar", data={"revision": "1", "volver": "revisiones"})
    assert query(lambda: quizzes.get_quiz("ejemplo").published.number) == 1
    client.post(QUIZ_EDITOR + "/publicar", data={"revision": "99"})
    assert "Esa revisión no existe." in client.get(QUIZ_EDITOR).text


def test_a_new_quiz_is_created_from_the_editor(client, trainer, query):
    page = client.get("/editor/cuestionarios/nuevo-cuestionario").text
    assert "Este cuestionario todavía no existe" in page
    assert "titulo: Nuevo cuestionario" in page
    text = (
        "---\ntitulo: Prueba\naprobacion: 50\n---\n\n"
        "## Uno\ntipo: verdadero-falso\n\n- [x] Verdadero\n- [ ] Falso\n"
    )
    response = client.post(
        "/editor/cuestionarios/nuevo-cuestionario",
        data={"source": text, "base": "0", "action": "save"},
    )
    assert response.status_code == 303
    assert revision_numbers(query, "nuevo-cuestionario") == [1]
    assert query(lambda: quizzes.get_quiz("nuevo-cuestionario").published) is None
    assert "nuevo-cuestionario" in client.get("/editor/cuestionarios/").text
    assert client.get("/editor/cuestionarios/No_Valido").status_code == 404
    empty = client.post(
        "/editor/cuestionarios/otro", data={"source": "  ", "base": "0", "action": "save"}
    )
    assert empty.status_code == 422
    assert query(lambda: db.session.scalar(select(func.count(Quiz.id)))) == 2


def test_learners_cannot_reach_the_trainers_pages(client, taker):
    for path in (
        EDITOR + "/vista-previa",
        EDITOR + "/estadisticas",
        EDITOR + "/intentos.csv",
        QUIZ_EDITOR,
        "/editor/cuestionarios/",
    ):
        assert client.get(path).status_code == 403


def test_quiz_pages_have_no_inline_script_or_style(client, taker, query):
    start(client)
    pairs = layout(query, taker)
    pages = [client.get(LESSON).text, client.get(attempt_url(1)).text]
    pages.append(client.get(attempt_url(1, "/entregar")).text)
    submit_all(client, pairs, correct_answers(pairs))
    pages.append(client.get(attempt_url(1)).text)
    for page in pages:
        assert "<script>" not in page
        assert " style=" not in page
        assert "<style" not in page


def test_scores_show_in_the_readers_language(client, taker, query):
    start(client)
    pairs = layout(query, taker)
    short = by_type(pairs, ShortAnswer)
    submit_all(client, pairs, {short.key: "consejo comunal"})
    assert "Obtuviste 0,5 de 11 puntos: 4,55 %." in client.get(attempt_url(1)).text
    client.post("/idioma", data={"language": "en", "next": "/"})
    page = client.get(attempt_url(1)).text
    assert "0.5" in page
    assert the_attempt(query, taker).percent == Decimal("4.545")
