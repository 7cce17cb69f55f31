"""The actions of the full-journey load test, as locust names its requests: shared by the
locustfile (bench/locustfile.py), the script that runs it and reports them in this order
(bench/bench_journey.py), and their test, none of which should import the others (locust
patches the standard library with gevent as it is imported)."""

from __future__ import annotations

PLAN_VARIABLE = "BENCH_JOURNEY_PLAN"  # the JSON file bench_journey.py writes for the locustfile
WAIT_VARIABLE = "BENCH_WAIT"  # seconds between two actions of a simulated person: "1,3"

SIGN_IN_FORM = "sign in: form"
SIGN_IN = "sign in"
MY_COURSES = "Mis cursos"
READ_LESSON = "read a lesson"
QUIZ_LESSON = "quiz: lesson page"
QUIZ_START = "quiz: start attempt"
QUIZ_QUESTIONS = "quiz: questions"
QUIZ_ANSWER = "quiz: answer"
QUIZ_CONFIRM = "quiz: confirm"
QUIZ_SUBMIT = "quiz: submit and grade"
QUIZ_RESULT = "quiz: result"
CASE_OPEN = "case: open"
CASE_SAVE = "case: save draft"
CASE_SAVED = "case: page after saving"
CERTIFICATE = "certificate: download PDF"
REVIEW_QUEUE = "trainer: review queue"
REPORT = "admin: course report"
REGION_REPORT = "admin: report by region"
CERTIFICATE_LIST = "admin: course certificates"
FLOOR = "floor: signed-in bare route"

ACTIONS = (
    SIGN_IN_FORM, SIGN_IN, MY_COURSES, READ_LESSON, QUIZ_LESSON, QUIZ_START, QUIZ_QUESTIONS,
    QUIZ_ANSWER, QUIZ_CONFIRM, QUIZ_SUBMIT, QUIZ_RESULT, CASE_OPEN, CASE_SAVE, CASE_SAVED,
    CERTIFICATE, REVIEW_QUEUE, REPORT, REGION_REPORT, CERTIFICATE_LIST, FLOOR,
)  # fmt: skip
