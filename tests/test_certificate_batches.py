"""Background jobs and what runs on them: certificate batches (confirmed list, progress page,
resumed after a crash without duplicates), automatic issuance on completion, the learner's
emails; the queue's settings; and once, a real ``academy worker`` consuming a SQLite queue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask_migrate import upgrade
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage
from sqlalchemy import func, select

from academy import create_app, jobs
from academy.audit import AuditEvent
from academy.auth import services as accounts
from academy.auth.models import Role, User
from academy.certificates import batches, services
from academy.certificates.models import BatchStatus, Certificate, CertificateBatch
from academy.config import ConfigError
from academy.courses.content import load_course
from academy.courses.models import Course
from academy.courses.services import get_course, import_course
from academy.db import transaction, utcnow
from academy.extensions import db
from academy.outbox import OutgoingMail
from academy.progress import services as progress
from academy.progress.models import Cohort, Enrolment
from tests.conftest import BACKENDS, CONTENT_FIXTURE, separate_database, test_config

CLI = services.Actor(None)
COURSE = "/admin/cursos/curso-ejemplo/certificados"


def graduate(app, make_user, course: Course, name: str, **fields) -> User:
    """A learner who completed ``course`` (committed)."""
    user = make_user("learner", full_name=name, **fields)
    with app.app_context():
        enrolment = progress.enrol(user.id, db.session.get(Course, course.id))
        enrolment.completed_at = utcnow() - timedelta(days=1)
        db.session.commit()
    return user


@pytest.fixture
def graduates(app, make_user, example_course) -> list[User]:
    return [graduate(app, make_user, example_course, f"Persona Egresada {n}") for n in range(3)]


def certificates_per_learner(course_id: int) -> dict[int, int]:
    rows = db.session.execute(
        select(Certificate.user_id, func.count())
        .where(Certificate.course_id == course_id)
        .group_by(Certificate.user_id)
    )
    return dict(rows.all())


# The queue's settings ------------------------------------------------------------------------


def test_tests_run_jobs_at_once(app):
    with app.app_context():
        assert jobs.queue.immediate
        assert isinstance(jobs.queue.storage, MemoryStorage)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://colas.example.cl", "must start with redis://"),
        ("sqlite:///relativa.db", "absolute path"),
        ("redis://", "names no Redis host"),
    ],
)
def test_a_bad_queue_url_stops_the_start(tmp_path, url, problem):
    config = test_config(f"sqlite:///{tmp_path}/a.db", 25, QUEUE_URL=url)
    with pytest.raises(ConfigError, match=problem):
        create_app(config)


def test_queue_immediate_must_be_a_boolean(tmp_path):
    config = test_config(f"sqlite:///{tmp_path}/a.db", 25, QUEUE_IMMEDIATE="a veces")
    with pytest.raises(ConfigError, match="ACADEMY_QUEUE_IMMEDIATE"):
        create_app(config)


def test_the_queue_is_sqlite_in_instance_by_default_and_redis_when_told(tmp_path):
    config = test_config(f"sqlite:///{tmp_path}/a.db", 25, QUEUE_IMMEDIATE=False)
    embedded = create_app(config)
    chosen = embedded.extensions[jobs.EXTENSION]
    assert chosen.storage_class is SqliteStorage
    assert chosen.storage_kwargs["filename"] == str(Path(embedded.instance_path) / "queue.db")
    assert chosen.store is None  # creating the app opened nothing
    shared = create_app({**config, "QUEUE_URL": "redis://colas.interno:6379/2"})
    with shared.app_context():
        assert not jobs.queue.immediate
        assert shared.extensions[jobs.EXTENSION].storage_class is RedisStorage
        assert jobs.describe(shared) == "Redis colas.interno:6379"
    own = tmp_path / "cola" / "q.db"
    elsewhere = create_app({**config, "QUEUE_URL": f"sqlite:///{own}"})
    with elsewhere.app_context():
        jobs.queue.storage.enqueue(b"x", 0)  # opened on first use, its folder made
        assert own.exists()


# Batches -------------------------------------------------------------------------------------


def test_the_list_is_shown_then_confirmed_then_issued_in_the_background(
    client, auth, app, make_user, query, graduates, mailbox
):
    auth.as_role(make_user, "admin")
    page = client.get(COURSE + "/lote")
    assert page.status_code == 200
    for learner in graduates:
        assert learner.full_name in page.text
    assert query(lambda: db.session.scalar(select(func.count()).select_from(Certificate))) == 0
    chosen = [learner.id for learner in graduates[:2]]
    response = client.post(COURSE + "/lote", data={"user_ids": chosen})
    assert response.status_code == 303
    progress_page = client.get(response.headers["Location"])
    assert progress_page.status_code == 200
    assert "Terminado." in progress_page.text and "Actualizar" not in progress_page.text
    batch = query(lambda: db.session.scalars(select(CertificateBatch)).one())
    state = client.get(f"/admin/certificados/lotes/{batch.id}/estado").get_json()
    assert state == {
        "status": "done",
        "done": True,
        "total": 2,
        "position": 2,
        "percent": 100,
        "issued": 2,
        "skipped": 0,
        "failed": 0,
    }
    assert query(lambda: set(certificates_per_learner(batch.course_id))) == set(chosen)
    # Each learner was told, with the link to verify it from the configured address.
    for learner in graduates[:2]:
        message = mailbox.last_to(learner.email)
        body = message.get_content()
        assert "Tu certificado del curso" in message["Subject"]
        assert app.config["BASE_URL"] + services.VERIFY_PATH in body
    # The third, not chosen, is still waiting.
    assert graduates[2].full_name in client.get(COURSE + "/lote").text


def test_a_list_that_changed_meanwhile_is_refused(client, auth, make_user, query, graduates):
    auth.as_role(make_user, "admin")
    stranger = make_user("learner")
    response = client.post(COURSE + "/lote", data={"user_ids": [graduates[0].id, stranger.id]})
    assert response.status_code == 409
    assert "La lista cambió" in response.text
    assert query(lambda: db.session.scalar(select(func.count()).select_from(CertificateBatch))) == 0
    assert query(lambda: db.session.scalar(select(func.count()).select_from(Certificate))) == 0


def test_a_running_batch_shows_a_link_and_a_script_not_a_refresh(
    client, auth, app, make_user, example_course, graduates
):
    auth.as_role(make_user, "admin")
    with app.app_context():
        batch = batches.create_here(
            db.session.get(Course, example_course.id), [graduates[0].id], cohort=None, by=CLI
        )
        db.session.commit()
    page = client.get(f"/admin/certificados/lotes/{batch.id}")
    assert "Actualizar" in page.text and "js/batch.js" in page.text
    assert "http-equiv" not in page.text and "<script>" not in page.text
    state = client.get(f"/admin/certificados/lotes/{batch.id}/estado").get_json()
    assert state["status"] == "queued" and state["position"] == 0 and not state["done"]


def test_a_cohort_gets_only_its_learners(
    client, auth, app, make_user, runner, query, example_course, graduates
):
    with app.app_context():
        cohort = Cohort(course_id=example_course.id, name="Grupo Aysén 2026")
        db.session.add(cohort)
        db.session.flush()
        db.session.execute(
            Enrolment.__table__.update()
            .where(Enrolment.user_id == graduates[1].id)
            .values(cohort_id=cohort.id)
        )
        db.session.commit()
        cohort_id = cohort.id
    auth.as_role(make_user, "admin")
    page = client.get(f"{COURSE}/lote?cohorte={cohort_id}")
    assert graduates[1].full_name in page.text and graduates[0].full_name not in page.text
    assert client.get(f"{COURSE}/lote?cohorte=999999").status_code == 404
    result = runner.invoke(
        args=["certificates", "issue", "--course", "curso-ejemplo", "--cohort", "Otro grupo"]
    )
    assert result.exit_code == 1 and "no tiene el grupo «Otro grupo»" in result.output
    result = runner.invoke(
        args=[
            "certificates",
            "issue",
            "--course",
            "curso-ejemplo",
            "--cohort",
            "Grupo Aysén 2026",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Emitiendo" in result.output and "Certificados emitidos: 1." in result.output
    assert query(lambda: set(certificates_per_learner(example_course.id))) == {graduates[1].id}


class Killed(BaseException):
    """The worker's process dying in the middle of a job (not an error the job handles)."""


def test_a_batch_killed_half_way_is_finished_by_the_next_run_without_duplicates(
    app, monkeypatch, example_course, graduates
):
    with app.app_context():
        course = db.session.get(Course, example_course.id)
        with transaction():
            batch = batches.create_here(course, [u.id for u in graduates], cohort=None, by=CLI)
        batch_id = batch.id
        real_issue = services.issue
        calls = []

        def dies_on_the_second(*args, **kwargs):
            calls.append(1)
            if len(calls) == 2:
                raise Killed
            return real_issue(*args, **kwargs)

        monkeypatch.setattr(services, "issue", dies_on_the_second)
        with pytest.raises(Killed):
            batches.run(batch_id)
        db.session.rollback()
        batch = db.session.get(CertificateBatch, batch_id)
        assert (batch.status, batch.position, batch.issued) == ("running", 1, 1)
        assert certificates_per_learner(course.id) == {graduates[0].id: 1}

        monkeypatch.setattr(services, "issue", real_issue)
        batches.run(batch_id)  # the job again, as the worker re-runs it
        batches.run(batch_id)  # and once more: nothing left to do
        batch = db.session.get(CertificateBatch, batch_id)
        assert batch.status == BatchStatus.DONE and batch.finished_at is not None
        assert (batch.position, batch.issued, batch.skipped, batch.failed) == (3, 3, 0, 0)
        assert certificates_per_learner(course.id) == {u.id: 1 for u in graduates}

        # Even a batch that lost its place issues nobody twice: the database refuses.
        with transaction():
            batch.position, batch.status = 0, BatchStatus.RUNNING.value
        batches.run(batch_id)
        assert certificates_per_learner(course.id) == {u.id: 1 for u in graduates}
        assert db.session.get(CertificateBatch, batch_id).skipped == 3


def test_a_learner_who_cannot_be_issued_is_reported_and_the_rest_are_issued(
    app, make_user, example_course, graduates
):
    with app.app_context():
        course = db.session.get(Course, example_course.id)
        with transaction():
            batch = batches.create_here(course, [u.id for u in graduates], cohort=None, by=CLI)
            # After the admin confirmed, one learner's completion was undone.
            db.session.execute(
                Enrolment.__table__.update()
                .where(Enrolment.user_id == graduates[1].id)
                .values(completed_at=None)
            )
        batches.run(batch.id)
        batch = db.session.get(CertificateBatch, batch.id)
        assert (batch.issued, batch.failed) == (2, 1)
        assert batch.errors[0]["name"] == graduates[1].full_name
        assert "todavía no termina el curso" in batch.errors[0]["message"]


def test_stalled_batches_are_found_for_the_worker_to_run_again(app, example_course, graduates):
    with app.app_context():
        course = db.session.get(Course, example_course.id)
        with transaction():
            old = batches.create_here(course, [graduates[0].id], cohort=None, by=CLI)
            old.updated_at = utcnow() - batches.STALLED - timedelta(minutes=1)
            recent = batches.create_here(course, [graduates[1].id], cohort=None, by=CLI)
        assert old.id in batches.stalled() and recent.id not in batches.stalled()
        batches.resume_stalled_batches()  # immediate: runs the stalled one
        assert db.session.get(CertificateBatch, old.id).status == BatchStatus.DONE
        assert db.session.get(CertificateBatch, recent.id).status == BatchStatus.QUEUED


# Automatic issuance --------------------------------------------------------------------------


def finish_course(user: User, course: Course) -> None:
    """Everything a learner does to complete ``course``, committed as a request would."""
    with transaction():
        enrolment = progress.enrol(user.id, course)
        for item in progress.published_outline(course.id):
            progress.mark_done(enrolment, item.lesson_id)
        assert progress.update_completion(enrolment).complete


def test_a_course_that_issues_automatically_does_so_once_completion_is_committed(
    app, client, auth, make_user, example_course, mailbox
):
    auth.as_role(make_user, "admin")
    response = client.post(COURSE + "/automatico", data={"automatic": "y"})
    assert response.status_code == 303
    learner = make_user("learner", full_name="Ana Automática")
    manual = make_user("learner", full_name="Manuel Manual")
    with app.app_context():
        course = db.session.get(Course, example_course.id)
        assert course.certificate_automatic
        finish_course(learner, course)
        certificate = services.valid_certificate(learner.id, course.id)
        assert certificate is not None
        assert [e.actor for e in services.events_of(certificate)] == ["automático"]
    assert "Tu certificado del curso" in mailbox.last_to(learner.email)["Subject"]
    assert "automáticamente" in client.get(COURSE).text
    client.post(COURSE + "/automatico", data={})
    with app.app_context():
        course = db.session.get(Course, example_course.id)
        assert not course.certificate_automatic
        finish_course(manual, course)
        assert services.valid_certificate(manual.id, course.id) is None


def test_a_rolled_back_completion_enqueues_nothing(app, make_user, example_course):
    learner = make_user("learner")
    with app.app_context():
        course = db.session.get(Course, example_course.id)
        course.certificate_automatic = True
        db.session.commit()
        with pytest.raises(RuntimeError), transaction():
            finish_course_inside = progress.enrol(learner.id, course)
            for item in progress.published_outline(course.id):
                progress.mark_done(finish_course_inside, item.lesson_id)
            progress.update_completion(finish_course_inside)
            raise RuntimeError("the request failed after completing")
        assert services.valid_certificate(learner.id, course.id) is None
        certificate_events = select(func.count()).where(AuditEvent.target_type == "certificate")
        assert db.session.scalar(certificate_events) == 0


def automatic_since(app, course: Course, since) -> None:
    """Turn automatic issuance on, as if an admin had at ``since``."""
    with app.app_context():
        course = db.session.get(Course, course.id)
        course.certificate_automatic = True
        course.certificate_automatic_since = since
        db.session.commit()


def test_turning_automatic_on_and_off_records_since_when(
    app, client, auth, make_user, example_course
):
    auth.as_role(make_user, "admin")
    client.post(COURSE + "/automatico", data={"automatic": "y"})
    with app.app_context():
        since = db.session.get(Course, example_course.id).certificate_automatic_since
        assert since is not None and utcnow() - since < timedelta(minutes=1)
    client.post(COURSE + "/automatico", data={"automatic": "y"})  # again: still since then
    with app.app_context():
        assert db.session.get(Course, example_course.id).certificate_automatic_since == since
    client.post(COURSE + "/automatico", data={})
    with app.app_context():
        assert db.session.get(Course, example_course.id).certificate_automatic_since is None


def test_a_completion_saved_while_the_queue_is_down_fails_no_request_and_the_sweep_issues_it(
    app, client, learner, example_course, monkeypatch, mailbox, caplog
):
    automatic_since(app, example_course, utcnow() - timedelta(days=1))

    def unreachable(task):
        raise ConnectionError("Error 111 connecting to colas.interno:6379. Connection refused.")

    monkeypatch.setattr(jobs.queue, "enqueue", unreachable)
    client.post("/cursos/curso-ejemplo/lecciones/que-es-participar/completar")
    response = client.post("/cursos/curso-ejemplo/lecciones/niveles/completar")
    assert response.status_code == 302
    assert "Completaste el curso" in client.get(response.headers["Location"]).text
    assert "not enqueued" in caplog.text and "sweep" in caplog.text
    monkeypatch.undo()
    with app.app_context():
        enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == learner.id))
        assert enrolment.completed_at is not None  # saved
        assert services.valid_certificate(learner.id, example_course.id) is None  # job lost
        assert batches.missed() == []  # too recent: left to its own job's retries
        later = utcnow() + batches.MISSED_AFTER + timedelta(seconds=1)
        assert batches.missed(now=later) == [(learner.id, example_course.id)]
        enrolment.completed_at -= batches.MISSED_AFTER + timedelta(seconds=1)
        db.session.commit()
        assert batches.issue_missed() == 1
        certificate = services.valid_certificate(learner.id, example_course.id)
        assert certificate is not None
        assert [e.actor for e in services.events_of(certificate)] == ["automático"]
    assert "Tu certificado del curso" in mailbox.last_to(learner.email)["Subject"]


def test_the_sweep_issues_only_what_was_missed_and_once(app, make_user, example_course):
    automatic_since(app, example_course, utcnow() - timedelta(days=2))
    missed = graduate(app, make_user, example_course, "Persona Olvidada")  # a day ago
    holder = graduate(app, make_user, example_course, "Persona Certificada")
    revoked = graduate(app, make_user, example_course, "Persona Revocada")
    superseded = graduate(app, make_user, example_course, "Persona Reemitida")
    before = make_user("learner", full_name="Persona Anterior")
    with app.app_context():
        course = db.session.get(Course, example_course.id)
        enrolment = progress.enrol(before.id, course)  # completed before automatic was on
        enrolment.completed_at = utcnow() - timedelta(days=3)
        db.session.commit()
        with transaction():
            services.issue(course, holder.id, by=CLI)
            services.revoke(services.issue(course, revoked.id, by=CLI), "Error", by=CLI)
        with transaction():
            services.reissue(services.issue(course, superseded.id, by=CLI), by=CLI)
        with transaction():
            services.revoke(services.valid_certificate(superseded.id, course.id), "Error", by=CLI)
        # The admin's list offers the revoked to be issued again by hand; the sweep does not.
        assert {e.user_id for e in services.eligible(course)} >= {revoked.id, superseded.id}
        assert batches.missed() == [(missed.id, course.id)]
        batches.issue_missed_certificates()
        batches.issue_missed_certificates()  # twice: nothing more
        assert certificates_per_learner(course.id) == {
            missed.id: 1, holder.id: 1, revoked.id: 1, superseded.id: 2
        }  # fmt: skip
        assert services.valid_certificate(revoked.id, course.id) is None
        assert batches.missed() == []


def test_the_sweep_skips_courses_that_do_not_issue_automatically(app, make_user, example_course):
    learner = graduate(app, make_user, example_course, "Persona Manual")
    with app.app_context():
        assert batches.missed() == []
        assert batches.issue_missed() == 0
        assert services.valid_certificate(learner.id, example_course.id) is None
    automatic_since(app, example_course, None)  # set by hand, with no date: nothing either
    with app.app_context():
        assert batches.missed() == []


def test_the_sweep_is_bounded_and_oldest_first(app, make_user, example_course):
    automatic_since(app, example_course, utcnow() - timedelta(days=2))
    learners = [graduate(app, make_user, example_course, f"Persona {n}") for n in range(3)]
    with app.app_context():
        for hours, learner in zip((3, 1, 2), learners, strict=True):
            enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == learner.id))
            enrolment.completed_at = utcnow() - timedelta(hours=hours)
        db.session.commit()
        assert batches.missed(limit=2) == [
            (learners[0].id, example_course.id), (learners[2].id, example_course.id)
        ]  # fmt: skip
        assert batches.issue_missed(limit=2) == 2
        assert batches.missed() == [(learners[1].id, example_course.id)]
        assert batches.issue_missed(limit=2) == 1


def test_one_learner_the_sweep_cannot_issue_does_not_stop_the_others(
    app, make_user, example_course, monkeypatch, caplog
):
    automatic_since(app, example_course, utcnow() - timedelta(days=2))
    first, second = (graduate(app, make_user, example_course, f"Persona {n}") for n in range(2))
    real_issue = services.issue

    def issue(course, user_id, **kwargs):
        if user_id == first.id:
            raise services.CertificateError("la plantilla no se puede usar")
        return real_issue(course, user_id, **kwargs)

    monkeypatch.setattr(services, "issue", issue)
    with app.app_context():
        assert batches.issue_missed() == 1
        assert services.valid_certificate(second.id, example_course.id) is not None
        assert batches.missed() == [(first.id, example_course.id)]  # tried again next run
    assert "la plantilla no se puede usar" in caplog.text


# The learner's emails ------------------------------------------------------------------------


def test_revocation_and_reissue_are_mailed_in_the_learners_language(
    app, make_user, example_course, mailbox
):
    learner = graduate(app, make_user, example_course, "Learner In English")
    with app.app_context():
        db.session.get(User, learner.id).locale = "en"
        db.session.commit()
        course = db.session.get(Course, example_course.id)
        with transaction():
            first = services.issue(course, learner.id, by=CLI)
        with transaction():
            second = services.reissue(first, by=CLI)
        with transaction():
            services.revoke(second, "Issued in error", by=CLI)
        first_code, second_code = first.code, second.code
    subjects = [m["Subject"] for m in mailbox.messages if m["To"] == learner.email]
    assert len(subjects) == 3, subjects
    assert "Your certificate for" in subjects[0]
    assert "issued again" in subjects[1]
    assert "revoked" in subjects[2]
    reissued = [m for m in mailbox.messages if m["To"] == learner.email][1].get_content()
    from academy.certificates import codes

    assert codes.display(first_code) in reissued and codes.display(second_code) in reissued
    revoked = mailbox.last_to(learner.email).get_content()
    assert "Issued in error" in revoked


# A real consumer -----------------------------------------------------------------------------


# A Redis database of the tests' own, emptied before use (the queue's name is fixed).
TEST_REDIS = os.environ.get("ACADEMY_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def queue_url_for(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'queue.db'}"
    import redis

    client = redis.Redis.from_url(TEST_REDIS, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {TEST_REDIS}")
    client.flushdb()
    client.close()
    return TEST_REDIS


@pytest.mark.parametrize("queue_kind", ["sqlite", "redis"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_real_worker_consumes_the_queue_end_to_end(
    backend, queue_kind, tmp_path, tmp_path_factory
):
    queue_url = queue_url_for(queue_kind, tmp_path)
    with separate_database(backend, "worker", tmp_path_factory) as url:
        config = test_config(
            url,
            25,
            MAIL_BACKEND="console",
            QUEUE_URL=queue_url,
            QUEUE_IMMEDIATE=False,
        )
        environment = {
            **os.environ,
            **{f"ACADEMY_{key}": str(value) for key, value in config.items()},
            "ACADEMY_QUEUE_IMMEDIATE": "false",
        }
        app = create_app(config)
        with app.app_context():
            upgrade()
            source, problems = load_course(CONTENT_FIXTURE / "courses/curso-ejemplo")
            assert source is not None and not problems, problems
            import_course(source)
            course = get_course("curso-ejemplo")
            course_id = course.id
            users = []
            for n in range(3):
                user = accounts.create_user(
                    email=f"cola{n}@muni.cl",
                    full_name=f"Persona de la Cola {n}",
                    password="una frase de prueba larga",
                    role=Role.LEARNER,
                )
                db.session.flush()
                progress.enrol(user.id, course).completed_at = utcnow()
                users.append(user.id)
            db.session.commit()
            with transaction():
                batch = batches.create(course, users, cohort=None, by=CLI)
            batch_id = batch.id
            assert len(jobs.queue) == 1  # waiting, not run
            db.session.remove()

        academy = Path(sys.executable).with_name("academy")
        worker = subprocess.Popen(
            [str(academy), "worker", "--workers", "1"],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            status = None
            for _ in range(1200):  # polled, not timed: the test ends as soon as it is done
                with app.app_context():
                    status = db.session.get(CertificateBatch, batch_id).status
                    mail = list(db.session.scalars(select(OutgoingMail.status)))
                    db.session.remove()
                # Each certificate's mail is a job of its own (academy/outbox.py), after it.
                sent = mail == ["sent"] * len(users)
                if (status == BatchStatus.DONE and sent) or worker.poll() is not None:
                    break
                time.sleep(0.1)
        finally:
            worker.send_signal(signal.SIGINT)  # finish and stop
            output = worker.communicate(timeout=60)[0].decode()
        assert status == BatchStatus.DONE, output
        assert mail == ["sent"] * len(users), output
        assert worker.returncode == 0, output
        assert ("cola SQLite" if queue_kind == "sqlite" else "cola Redis") in output
        with app.app_context():
            done = db.session.get(CertificateBatch, batch_id)
            assert (done.issued, done.failed) == (3, 0)
            assert certificates_per_learner(course_id) == dict.fromkeys(users, 1)
            assert len(jobs.queue) == 0
            db.session.remove()
            db.engine.dispose()


def test_serve_runs_a_consumer_beside_gunicorn_and_stops_it(tmp_path):
    from tests.conftest import free_port
    from tests.test_serving import wait_until_serving

    config = test_config(
        f"sqlite:///{tmp_path}/serve.db",
        25,
        QUEUE_URL=f"sqlite:///{tmp_path}/queue.db",
    )
    environment = {
        **os.environ,
        **{f"ACADEMY_{key}": str(value) for key, value in config.items()},
        "ACADEMY_QUEUE_IMMEDIATE": "false",
    }
    app = create_app(config)
    with app.app_context():
        upgrade()  # the worker's periodic jobs read the database
        db.engine.dispose()
    port = free_port()
    academy = Path(sys.executable).with_name("academy")
    server = subprocess.Popen(
        [str(academy), "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_serving(server, f"http://127.0.0.1:{port}")
    finally:
        # Maybe before the consumer is up: it waits until it can stop cleanly.
        server.send_signal(signal.SIGINT)  # Ctrl-C
        output = server.communicate(timeout=90)[0].decode()
    started = [line for line in output.splitlines() if "segundo plano en el proceso" in line]
    assert started, output
    consumer = int(started[0].rstrip(".").rsplit(" ", 1)[1])
    with pytest.raises(ProcessLookupError):
        os.kill(consumer, 0)  # stopped with the server, not left behind
    assert "Consumer exiting" in output and "Traceback" not in output, output


def test_a_worker_asked_to_stop_leaves_the_batch_between_two_learners(
    app, example_course, graduates
):
    with app.app_context():
        course = db.session.get(Course, example_course.id)
        with transaction():
            batch = batches.create_here(course, [u.id for u in graduates], cohort=None, by=CLI)
        steps = []
        done = batches.run(batch.id, on_step=steps.append, stop=lambda: len(steps) == 1)
        assert not done
        assert db.session.get(CertificateBatch, batch.id).position == 1
        assert batches.run(batch.id)
        assert certificates_per_learner(course.id) == {u.id: 1 for u in graduates}


def test_a_stopping_worker_puts_the_batch_back_in_the_queue(
    app, monkeypatch, example_course, graduates
):
    import threading

    with app.app_context():
        course = db.session.get(Course, example_course.id)
        with transaction():
            batch = batches.create_here(course, [u.id for u in graduates], cohort=None, by=CLI)
        settings = app.extensions[jobs.EXTENSION]
        stop = threading.Event()
        stop.set()
        monkeypatch.setattr(settings, "immediate", False)
        monkeypatch.setattr(settings, "store", MemoryStorage(jobs.QUEUE_NAME))
        monkeypatch.setattr(jobs.queue, "stop_flag", stop)
        batches.run_batch.call_local(batch.id)  # as the consumer runs it
        assert db.session.get(CertificateBatch, batch.id).position == 0
        assert len(jobs.queue) == 1  # there for the next worker
        stop.clear()
        batches.run_batch.call_local(batch.id)
        assert db.session.get(CertificateBatch, batch.id).status == BatchStatus.DONE


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"user_ids": ["uno"]}, 400),
        ({"user_ids": ["99999999999999999999"]}, 409),
        ({"user_ids": []}, 400),
        ({"cohort_id": "x", "user_ids": ["1"]}, 404),
        ({"cohort_id": "999999", "user_ids": ["1"]}, 404),
    ],
)
@pytest.mark.usefixtures("example_course")
def test_bad_batch_forms_get_a_clear_answer(client, auth, make_user, data, status):
    auth.as_role(make_user, "admin")
    assert client.post(COURSE + "/lote", data=data).status_code == status
