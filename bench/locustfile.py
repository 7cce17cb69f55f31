"""The academy's whole journey under load, for locust (bench/bench_journey.py runs it headless
against the two-host deployment; see docs/performance.md).

Simulated people, each signed in with an account of their own from the seeded academy:

- learners open «Mis cursos», read lessons, take quizzes (start an attempt, answer every
  question, hand it in and read the result) and save case drafts;
- graduates (learners who finished the course and hold a certificate) open «Mis cursos», find
  their certificate there and download its PDF, and reread lessons;
- trainers open their review queue;
- admins open reports (the course's, by cohort; the one by region and comuna) and the list of
  a course's certificates.

Every form is fetched first and posted with its CSRF token and a Referer, as a browser does
(Flask-WTF checks both over HTTPS). Learners also request the floor: ``/bench/signed-in``
(bench/wsgi.py), a route of the same app that loads the signed-in learner and returns a page
captured beforehand, doing nothing else.

What to do comes from a JSON plan that bench_journey.py writes (``BENCH_JOURNEY_PLAN``): the
accounts, their password, the pages of the seeded course, and ``tour``: when true (the smoke
test), each person first does each of its actions once. ``BENCH_WAIT`` is the think time
between two actions, in seconds (``"1,3"``: uniformly between 1 and 3).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import sys
from collections.abc import Iterator
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from locust import FastHttpUser, between, task

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run by hand with locust -f

from bench.journey import (
    CASE_OPEN,
    CASE_SAVE,
    CASE_SAVED,
    CERTIFICATE,
    CERTIFICATE_LIST,
    FLOOR,
    MY_COURSES,
    PLAN_VARIABLE,
    QUIZ_ANSWER,
    QUIZ_CONFIRM,
    QUIZ_LESSON,
    QUIZ_QUESTIONS,
    QUIZ_RESULT,
    QUIZ_START,
    QUIZ_SUBMIT,
    READ_LESSON,
    REGION_REPORT,
    REPORT,
    REVIEW_QUEUE,
    SIGN_IN,
    SIGN_IN_FORM,
    WAIT_VARIABLE,
)

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SIGNED_IN = 'action="/salir"'  # the «Cerrar sesión» button, on every page of a signed-in person
CERTIFICATE_LINK = re.compile(r'href="(/mis-cursos/certificados/\d+/pdf)"')
TEXTAREA = re.compile(r'<textarea[^>]*name="(respuesta-\d+)"')
DRAFT_TEXT = " ".join(
    [
        "La municipalidad convoca a los vecinos a talleres abiertos, informa qué está en "
        "discusión y qué no, y devuelve por escrito qué hizo con cada propuesta."
    ]
    * 4
)  # 104 words for each prompt: within every bundled case's limits for a draft


@cache
def plan() -> dict[str, Any]:
    return json.loads(Path(os.environ[PLAN_VARIABLE]).read_text())


_accounts: dict[str, Iterator[str]] = {}


def next_account(role: str) -> str:
    """Each simulated person gets the next account of its role (round the list if more are
    simulated than seeded; only learners must have one each, and the plan has enough)."""
    if role not in _accounts:
        _accounts[role] = itertools.cycle(plan()[role])
    return next(_accounts[role])


def think_time() -> Any:
    low, high = (float(part) for part in os.environ.get(WAIT_VARIABLE, "1,3").split(","))
    return between(low, high)


class QuizForm(HTMLParser):
    """The attempt page's questions: for each, its type and the fields a browser would send."""

    def __init__(self) -> None:
        super().__init__()
        self.questions: list[dict[str, Any]] = []
        self._select: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "fieldset" and "data-question" in found:
            self.questions.append({"type": found["data-type"], "fields": {}, "shown": []})
        elif not self.questions:
            return
        question = self.questions[-1]
        name = found.get("name", "")
        if tag == "input" and name == "shown":
            question["shown"].append(found["value"])
        elif tag == "input" and name.startswith("q:"):
            question["fields"].setdefault(name, []).append(found.get("value", ""))
        elif tag == "select" and name.startswith("q:"):
            self._select = question["fields"].setdefault(name, [])
        elif tag == "option" and self._select is not None and found.get("value"):
            self._select.append(found["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def answers(page: str) -> list[tuple[str, str]]:
    """Plausible answers to every question of the page, some right and some wrong, each in a
    form the question accepts (a number for a numeric one, each position once when ordering)."""
    parser = QuizForm()
    parser.feed(page)
    fields: list[tuple[str, str]] = []
    for question in parser.questions:
        fields += [("shown", key) for key in question["shown"]]
        kind, names = question["type"], question["fields"]
        if kind in ("unica", "verdadero-falso"):
            for name, values in names.items():
                fields.append((name, random.choice(values)))
        elif kind == "multiple":
            for name, values in names.items():
                chosen = random.sample(values, random.randint(1, len(values)))
                fields += [(name, value) for value in chosen]
        elif kind == "numerica":
            fields += [(name, str(random.randint(1, 100))) for name in names]
        elif kind == "corta":
            fields += [(name, "participación ciudadana") for name in names]
        else:  # emparejar, ordenar: one select per element, each answer used once
            options = next(iter(names.values()), [])
            shuffled = random.sample(options, len(options))
            for name, value in zip(names, itertools.cycle(shuffled), strict=False):
                fields.append((name, value))
    return fields


class Person(FastHttpUser):
    abstract = True
    role = ""
    wait_time = think_time()
    # A request that takes longer is an error (nginx itself gives up on a host after 60 s).
    network_timeout = 60.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.token = ""
        self.email = next_account(self.role)
        self.page("/entrar", SIGN_IN_FORM, expect='name="csrf_token"')
        fields = [("email", self.email), ("password", plan()["password"])]
        self.post("/entrar", fields, SIGN_IN, "/mis-cursos")
        if plan().get("tour"):  # each of the person's actions once, in order, then at random
            for action in dict.fromkeys(self.tasks):
                action(self)

    def page(self, path: str, name: str, *, expect: str = SIGNED_IN) -> str:
        """GET ``path``; anything but a 200 with ``expect`` in it is a failure."""
        with self.client.get(path, name=name, catch_response=True) as response:
            text = response.text or ""
            found = CSRF.search(text)
            if found:  # the session's token (the same on every page, from either host)
                self.token = found[1]
            if response.status_code != 200:
                response.failure(f"{response.status_code} for {path}")
                return ""
            if expect not in text:
                response.failure(f"{expect!r} is not in {path}")
                return ""
            return text

    def post(self, path: str, fields: list[tuple[str, str]], name: str, expect: str) -> str:
        """POST the form with the session's CSRF token, as the browser would from ``path``;
        anything but a redirect to a path starting with ``expect`` is a failure. Returns the
        redirect's path ("" on failure)."""
        body = urlencode([*fields, ("csrf_token", self.token)])
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": self.host + path,
        }
        with self.client.post(
            path, data=body, headers=headers, name=name, allow_redirects=False,
            catch_response=True,
        ) as response:  # fmt: skip
            location = urlsplit(response.headers.get("Location") or "").path
            if response.status_code not in (302, 303):
                response.failure(f"{response.status_code} for {path}")
                return ""
            if not location.startswith(expect):
                response.failure(f"{path} redirected to {location}, not {expect}")
                return ""
            return location


class Learner(Person):
    weight = 15
    role = "learners"

    @task(3)
    def my_courses(self) -> None:
        self.page("/mis-cursos", MY_COURSES, expect=plan()["course_title"])

    @task(8)
    def read_lesson(self) -> None:
        self.page(random.choice(plan()["lessons"]), READ_LESSON)

    @task(2)
    def quiz(self) -> None:
        lesson = random.choice(plan()["quizzes"])
        self.page(lesson, QUIZ_LESSON)
        attempt = self.post(lesson + "/intentos", [], QUIZ_START, lesson)
        if not attempt or "/intentos/" not in attempt:
            return  # no attempts left: the lesson page says so (read as part of the journey)
        questions = self.page(attempt, QUIZ_QUESTIONS, expect='value="submit"')
        if not questions:
            return
        fields = [*answers(questions), ("action", "submit")]
        confirm = self.post(attempt, fields, QUIZ_ANSWER, attempt + "/entregar")
        if not confirm or not self.page(confirm, QUIZ_CONFIRM):
            return
        if self.post(confirm, [], QUIZ_SUBMIT, attempt):
            self.page(attempt, QUIZ_RESULT, expect="Entregamos tu intento.")

    @task(2)
    def case_draft(self) -> None:
        case = random.choice(plan()["cases"])
        page = self.page(case, CASE_OPEN)
        prompts = TEXTAREA.findall(page)
        if not prompts:
            return
        fields = [(prompt, DRAFT_TEXT) for prompt in prompts] + [("accion", "guardar")]
        if self.post(case, fields, CASE_SAVE, case):
            self.page(case, CASE_SAVED, expect="Guardamos tu borrador.")

    @task(1)
    def floor(self) -> None:
        self.page(plan()["floor"], FLOOR, expect="")


class Graduate(Person):
    """A learner who finished the course: their certificate is in «Mis cursos»."""

    weight = 4
    role = "graduates"

    def on_start(self) -> None:
        self.certificates: list[str] = []
        super().on_start()

    @task(2)
    def my_courses(self) -> None:
        page = self.page("/mis-cursos", MY_COURSES, expect=plan()["course_title"])
        self.certificates = CERTIFICATE_LINK.findall(page)

    @task(2)
    def certificate(self) -> None:
        if not self.certificates:
            self.my_courses()
        for link in self.certificates[:1]:
            with self.client.get(link, name=CERTIFICATE, catch_response=True) as response:
                pdf = response.status_code == 200 and (response.content or b"").startswith(b"%PDF-")
                if not pdf:
                    response.failure(f"{response.status_code}: not a PDF")

    @task(3)
    def read_lesson(self) -> None:
        self.page(random.choice(plan()["lessons"]), READ_LESSON)


class Trainer(Person):
    weight = 1
    role = "trainers"

    @task
    def review_queue(self) -> None:
        self.page("/revision/", REVIEW_QUEUE)


class Admin(Person):
    weight = 1
    role = "admins"

    @task(2)
    def report(self) -> None:
        self.page(plan()["course_report"], REPORT)

    @task(1)
    def region_report(self) -> None:
        self.page(plan()["region_report"], REGION_REPORT)

    @task(1)
    def certificate_list(self) -> None:
        self.page(plan()["certificate_list"], CERTIFICATE_LIST)
