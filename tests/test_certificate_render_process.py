"""Certificates rendered in the background jobs' child process (academy/certificates/
render_process.py): replaced after the configured number of renders, the same template errors as
in-process, a child that dies replaced, and the jobs (not the web pages) render there."""

from __future__ import annotations

import io
import multiprocessing
import os
import signal
from datetime import timedelta
from pathlib import Path

import pypdf
import pytest

from academy import create_app
from academy.certificates import batches, render_process, rendering, services
from academy.config import ConfigError
from academy.courses.models import Course
from academy.db import transaction, utcnow
from academy.extensions import db
from academy.progress import services as progress
from tests.conftest import test_config

METADATA = rendering.PdfMetadata("Título", "Academia", "Curso")
NAME = "María José de los Ángeles Ñuñez-Fernández Valenzuela"


def children() -> set[int]:
    return {process.pid for process in multiprocessing.active_children()}


def ignores_sigint(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status").read_text()
    ignored = int(next(line for line in status.splitlines() if line.startswith("SigIgn:"))[7:], 16)
    return bool(ignored & (1 << (signal.SIGINT - 1)))


def context(app) -> dict:
    with app.app_context():
        return {**services.sample_context(), "nombre": NAME}


@pytest.fixture
def fresh_child():
    """No child left by an earlier test, and none left for the next."""
    render_process.CHILD.close()
    yield render_process.CHILD
    render_process.CHILD.close()


def test_the_child_is_replaced_after_the_configured_number_of_renders(
    app, monkeypatch, fresh_child
):
    monkeypatch.setitem(app.config, "CERTIFICATE_RENDERS_PER_PROCESS", 3)
    sample = context(app)
    first = fresh_child.run(3, os.getpid)
    assert first != os.getpid() and children() == {first}
    assert ignores_sigint(first)  # a Ctrl-C to the worker's group lets it finish its render
    with app.app_context(), rendering.in_child_process():
        pdf = rendering.render("default", sample, METADATA)
    assert fresh_child.run(3, os.getpid) == first  # the certificate was its second call
    # Three calls: it has exited, and its successor is already starting (one child at a time).
    assert first not in children() and len(children()) == 1
    second = fresh_child.run(3, os.getpid)
    assert second != first and children() == {second}
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    assert NAME in " ".join(reader.pages[0].extract_text().split())


@pytest.fixture
def template_dir(app, tmp_path):
    app.config["CERTIFICATE_TEMPLATES_DIR"] = str(tmp_path)
    yield tmp_path
    app.config["CERTIFICATE_TEMPLATES_DIR"] = None


@pytest.mark.parametrize(
    "html",
    [
        "<p>{{ nombre }}</p>\n<p>{{ apellido }}</p>",  # a field that does not exist
        "<p>ok</p>\n{% if nombre %}\n",  # a syntax error
        "{{ nombre.__class__.__mro__ }}",  # the sandbox
        '<img src="file:///etc/passwd"><p>{{ nombre }}</p>',  # the folder-only fetcher
    ],
)
def test_a_template_error_in_the_child_is_the_same_error_as_in_process(
    app, template_dir, fresh_child, html
):
    (template_dir / "rota").mkdir()
    (template_dir / "rota/certificate.html").write_text(html, "utf-8")
    sample = context(app)
    with app.app_context():
        with pytest.raises(rendering.CertificateTemplateError) as here:
            rendering.render("rota", sample, METADATA)
        with (
            rendering.in_child_process(),
            pytest.raises(rendering.CertificateTemplateError) as there,
        ):
            rendering.render("rota", sample, METADATA)
    assert str(there.value) == str(here.value)
    assert "rota/certificate.html" in str(there.value)
    assert children()  # the child lives on: a template error is not a crash


def test_a_child_that_dies_is_replaced_and_the_call_made_again(fresh_child):
    with pytest.raises(render_process.RenderProcessError):
        fresh_child.run(200, os._exit, 1)  # dies, and dies again in the new child
    assert fresh_child.run(200, os.getpid) != os.getpid()


@pytest.mark.parametrize("value", [0, -5, "muchos", True, 2.5])
def test_renders_per_process_must_be_a_positive_whole_number(tmp_path, value):
    config = test_config(f"sqlite:///{tmp_path}/a.db", 25, CERTIFICATE_RENDERS_PER_PROCESS=value)
    with pytest.raises(ConfigError, match="ACADEMY_CERTIFICATE_RENDERS_PER_PROCESS"):
        create_app(config)


def test_the_jobs_render_in_the_child_and_the_web_in_process(
    app, make_user, example_course, monkeypatch
):
    calls = []
    real_run = render_process.CHILD.run

    def counted(*args):
        calls.append(args)
        return real_run(*args)

    monkeypatch.setattr(render_process.CHILD, "run", counted)
    learners = []
    for n in range(3):
        learner = make_user("learner", full_name=f"Persona Egresada {n}")
        with app.app_context():
            course = db.session.get(Course, example_course.id)
            progress.enrol(learner.id, course).completed_at = utcnow() - timedelta(days=1)
            db.session.commit()
        learners.append(learner.id)
    with app.app_context():
        course = db.session.get(Course, example_course.id)
        with transaction():  # one issued as a web request does: in-process
            services.issue(course, learners[0], by=services.Actor(None))
        assert calls == []
        with transaction():  # a batch, run by its job once committed (at once, in tests)
            batches.create(course, [learners[1]], cohort=None, by=services.Actor(None))
        assert len(calls) == 1
        course.certificate_automatic = True
        db.session.commit()
        batches.issue_on_completion(learners[2], course.id)  # the automatic issuance's job
        assert len(calls) == 2
        assert all(call[0] == app.config["CERTIFICATE_RENDERS_PER_PROCESS"] for call in calls)
        assert len(services.valid_of_learner(learners[2])) == 1
