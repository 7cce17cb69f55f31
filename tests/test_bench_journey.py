"""The full-journey load test (bench/bench_journey.py, bench/locustfile.py) does what
docs/performance.md says it measures: its simulated people cover the whole journey, and a short
run against the two-host deployment makes every request of it without one error.

The locustfile is loaded in a child process: importing locust patches the standard library
with gevent, which this process (its database connections, its threads) must not have.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import deployment as harness
from bench.journey import ACTIONS
from tests.conftest import POSTGRES_URL, separate_database
from tests.test_deployment import need

ROOT = Path(__file__).resolve().parent.parent

# The journey: who does what, and the locustfile's task (or start) that does it.
JOURNEY = {
    "learners sign in": ("Learner", "on_start"),
    "open «Mis cursos»": ("Learner", "my_courses"),
    "read lessons": ("Learner", "read_lesson"),
    "answer and submit quizzes": ("Learner", "quiz"),
    "save a case draft": ("Learner", "case_draft"),
    "the floor, in the same run": ("Learner", "floor"),
    "download a certificate": ("Graduate", "certificate"),
    "trainers open the review queue": ("Trainer", "review_queue"),
    "admins open a report": ("Admin", "report"),
}

LIST_TASKS = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("locustfile", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps({
    name: {"weight": cls.weight, "tasks": sorted({t.__name__ for t in cls.tasks}),
           "starts": "on_start" in vars(cls) or "on_start" in vars(module.Person)}
    for name, cls in vars(module).items()
    if isinstance(cls, type) and issubclass(cls, module.FastHttpUser) and not cls.abstract
}))
"""


def test_the_locustfile_simulates_the_whole_journey() -> None:
    listed = subprocess.run(
        [sys.executable, "-c", LIST_TASKS, str(ROOT / "bench/locustfile.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    people = json.loads(listed.stdout)
    assert set(people) == {"Learner", "Graduate", "Trainer", "Admin"}
    for step, (person, task) in JOURNEY.items():
        found = people[person]["starts"] if task == "on_start" else task in people[person]["tasks"]
        assert found, f"{step}: {person} has no {task}"
    assert all(person["weight"] > 0 for person in people.values())


@pytest.mark.deployment
def test_a_short_run_makes_every_request_of_the_journey_without_an_error(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """21 people (15 learners, 4 graduates, a trainer, an admin) for 20 seconds, hurried, each
    first doing each of its actions once: every action of the journey is requested, through
    nginx and both hosts, and none fails."""
    from bench.bench_journey import journey

    need(bool(POSTGRES_URL), "the deployment runs on PostgreSQL: set ACADEMY_TEST_DATABASE_URL")
    problem = harness.missing()
    need(problem is None, str(problem))
    work = tmp_path_factory.mktemp("journey")
    with separate_database("postgresql", "journey", tmp_path_factory) as url:
        run = journey(url, work, users=21, spawn_rate=21, seconds=20, wait="0.1,0.5", tour=True)
    failures = [(f["Name"], f["Error"]) for f in run.failures]
    assert run.errors == 0, failures
    counts = {name: int(run.rows[name]["Request Count"]) for name in ACTIONS if name in run.rows}
    assert [name for name in ACTIONS if not counts.get(name)] == [], counts
