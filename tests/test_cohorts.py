"""Cohorts as runs of a course (academy/progress/cohorts.py): each operation, its audit
event, and who sees which cohorts and learners."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from academy.audit import AuditEvent
from academy.auth.models import User
from academy.courses.models import Course
from academy.extensions import db
from academy.progress import cohorts
from academy.progress.models import Cohort, CohortTrainer, CourseTrainer, Enrolment

VALID_RUT = "12.345.678-5"


def write(app, fn):
    with app.app_context():
        value = fn()
        db.session.commit()
        return value


def actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def course_of(app, example_course) -> Course:
    return db.session.get(Course, example_course.id)


def new_cohort(app, example_course, name="Generación marzo", admin=None):
    def make():
        return cohorts.create(course_of(app, example_course), name, by=admin).id

    return write(app, make)


def cohort(cohort_id: int) -> Cohort:
    return db.session.get(Cohort, cohort_id)


def test_create_rename_close_reopen_archive_restore_each_logged(app, example_course, make_user):
    admin = make_user("admin")

    def scenario():
        me = db.session.get(User, admin.id)
        group = cohorts.create(
            course_of(app, example_course),
            "  Generación   marzo ",
            starts_on=date(2027, 3, 1),
            ends_on=date(2027, 6, 30),
            by=me,
        )
        assert (group.name, group.status, group.archived_at) == ("Generación marzo", "open", None)
        assert cohorts.rename(group, "Marzo 2027", by=me) is True
        assert cohorts.rename(group, "Marzo 2027", by=me) is False
        assert cohorts.close(group, by=me) is True
        assert cohorts.close(group, by=me) is False
        assert cohorts.reopen(group, by=me) is True
        assert cohorts.archive(group, by=me) is True
        assert group.status == "closed"
        with pytest.raises(cohorts.CohortError, match="archivado"):
            cohorts.reopen(group, by=me)
        assert cohorts.restore(group, by=me) is True
        return group.id

    group_id = write(app, scenario)
    assert actions(app) == [
        "cohort.created",
        "cohort.renamed",
        "cohort.closed",
        "cohort.reopened",
        "cohort.archived",
        "cohort.restored",
    ]
    with app.app_context():
        renamed = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "cohort.renamed"))
        assert renamed.detail == {
            "course": "curso-ejemplo",
            "before": "Generación marzo",
            "after": "Marzo 2027",
        }
        assert (renamed.actor, renamed.target_id) == (admin.email, group_id)


def test_names_are_unique_per_course_in_any_case_and_dates_in_order(app, example_course):
    new_cohort(app, example_course, "Generación marzo")
    with app.app_context():
        course = course_of(app, example_course)
        for name in ("generación MARZO", "  GENERACIÓN marzo"):
            with pytest.raises(cohorts.CohortError, match="Ya hay un grupo"):
                cohorts.create(course, name, by=None)
        with pytest.raises(cohorts.CohortError, match="nombre"):
            cohorts.create(course, "   ", by=None)
        with pytest.raises(cohorts.CohortError, match="120"):
            cohorts.create(course, "x" * 121, by=None)
        with pytest.raises(cohorts.CohortError, match="término"):
            cohorts.create(
                course, "Abril", starts_on=date(2027, 5, 1), ends_on=date(2027, 4, 1), by=None
            )
        other = cohorts.create(course, "Abril", by=None)
        with pytest.raises(cohorts.CohortError, match="Ya hay un grupo"):
            cohorts.rename(other, "GENERACIÓN MARZO", by=None)


def test_enrolling_creates_the_course_enrolment_or_moves_it_and_is_logged(
    app, example_course, make_user
):
    ana, bea, eva = make_user(), make_user(), make_user()
    first = new_cohort(app, example_course, "Marzo")
    second = new_cohort(app, example_course, "Abril")
    # Bea is enrolled in the course already, in the first cohort.
    write(app, lambda: cohorts.enrol(cohort(first), [bea.id], by=None))

    result = write(app, lambda: cohorts.enrol(cohort(second), [ana.id, bea.id, ana.id], by=None))
    assert (result.new, result.moved, result.already) == (1, 1, 0)
    again = write(app, lambda: cohorts.enrol(cohort(second), [ana.id, bea.id], by=None))
    assert (again.new, again.moved, again.already) == (0, 0, 2)
    with app.app_context():
        rows = db.session.execute(
            select(Enrolment.user_id, Enrolment.cohort_id).where(
                Enrolment.course_id == example_course.id
            )
        )
        assert dict(rows.all()) == {ana.id: second, bea.id: second}
    assert actions(app).count("enrolment.created") == 2  # Bea once, Ana once
    assert actions(app).count("cohort.joined") == 3  # Bea twice (moved), Ana once

    # Deactivated accounts and unknown ids refuse the whole list.
    write(app, lambda: setattr(db.session.get(User, eva.id), "active", False))
    with app.app_context():
        with pytest.raises(cohorts.CohortError, match="desactivadas"):
            cohorts.enrol(cohort(first), [ana.id, eva.id], by=None)
        with pytest.raises(cohorts.CohortError, match="ya no existe"):
            cohorts.enrol(cohort(first), [999_999], by=None)


def test_a_closed_cohort_refuses_new_learners_and_archive_keeps_history(
    app, example_course, make_user
):
    ana, bea = make_user(), make_user()
    group = new_cohort(app, example_course)
    write(app, lambda: cohorts.enrol(cohort(group), [ana.id], by=None))
    write(app, lambda: cohorts.close(cohort(group), by=None))
    with app.app_context(), pytest.raises(cohorts.CohortError, match="está cerrado: no recib"):
        cohorts.enrol(cohort(group), [bea.id], by=None)
    write(app, lambda: cohorts.archive(cohort(group), by=None))
    with app.app_context():
        # Archived: out of the default list, in the full one; its learner still in it.
        admin = User(role="admin")
        assert db.session.scalars(cohorts.visible_cohorts(admin)).all() == []
        listed = db.session.scalars(cohorts.visible_cohorts(admin, include_archived=True)).all()
        assert [c.id for c in listed] == [group]
        learners = db.session.scalars(cohorts.learners(cohort(group))).all()
        assert [e.user_id for e in learners] == [ana.id]
        assert cohorts.sizes([group]) == {group: 1}


def test_trainers_are_assigned_once_and_must_be_trainers(app, example_course, make_user):
    trainer, learner = make_user("trainer"), make_user("learner")
    admin, off = make_user("admin"), make_user("trainer", active=False)
    group = new_cohort(app, example_course)

    def scenario():
        found = cohort(group)
        assert cohorts.assign_trainer(found, db.session.get(User, trainer.id), by=None) is True
        assert cohorts.assign_trainer(found, db.session.get(User, trainer.id), by=None) is False
        assert cohorts.assign_trainer(found, db.session.get(User, admin.id), by=None) is True
        with pytest.raises(cohorts.CohortError, match="no es relator"):
            cohorts.assign_trainer(found, db.session.get(User, learner.id), by=None)
        with pytest.raises(cohorts.CohortError, match="desactivada"):
            cohorts.assign_trainer(found, db.session.get(User, off.id), by=None)
        assert {u.id for u in cohorts.trainers_of(found)} == {trainer.id, admin.id}
        assert cohorts.unassign_trainer(found, admin.id, by=None).id == admin.id
        assert cohorts.unassign_trainer(found, admin.id, by=None) is None

    write(app, scenario)
    assert actions(app)[1:] == [
        "cohort.trainer_added",
        "cohort.trainer_added",
        "cohort.trainer_removed",
    ]


def test_trainers_see_their_cohorts_and_their_learners_only(app, example_course, make_user):
    rita, tomas, carla = make_user("trainer"), make_user("trainer"), make_user("trainer")
    nobody, learner = make_user("trainer"), make_user("learner")
    ana, bea, solo = make_user(), make_user(), make_user()
    mine = new_cohort(app, example_course, "De Rita")
    theirs = new_cohort(app, example_course, "De Tomás")

    def setup():
        cohorts.assign_trainer(cohort(mine), db.session.get(User, rita.id), by=None)
        cohorts.assign_trainer(cohort(theirs), db.session.get(User, tomas.id), by=None)
        cohorts.enrol(cohort(mine), [ana.id], by=None)
        cohorts.enrol(cohort(theirs), [bea.id], by=None)
        from academy.progress import services

        services.enrol(solo.id, course_of(app, example_course))
        # Carla teaches the whole course: she sees every cohort and every learner of it.
        db.session.add(CourseTrainer(course_id=example_course.id, user_id=carla.id))

    write(app, setup)

    def seen(user_id):
        user = db.session.get(User, user_id)
        visible = [c.name for c in db.session.scalars(cohorts.visible_cohorts(user))]
        learners = set(db.session.scalars(cohorts.visible_learner_ids(user)))
        return visible, learners

    with app.app_context():
        assert seen(rita.id) == (["De Rita"], {ana.id})
        assert seen(tomas.id) == (["De Tomás"], {bea.id})
        assert seen(carla.id) == (["De Rita", "De Tomás"], {ana.id, bea.id, solo.id})
        assert seen(nobody.id) == ([], set())
        assert seen(learner.id) == ([], set())
        rita_ = db.session.get(User, rita.id)
        assert cohorts.can_see(rita_, cohort(mine)) and not cohorts.can_see(rita_, cohort(theirs))
        assert cohorts.may_see_learner(rita_, ana.id, example_course.id)
        assert not cohorts.may_see_learner(rita_, bea.id, example_course.id)
        assert not cohorts.may_see_learner(rita_, solo.id, example_course.id)
        admin = User(role="admin")
        assert cohorts.visible_learner_ids(admin) is None
        assert len(db.session.scalars(cohorts.visible_cohorts(admin)).all()) == 2
        assert db.session.get(CohortTrainer, (mine, rita.id)) is not None


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


def test_a_csv_of_emails_or_ruts_reports_each_bad_row_and_enrols_no_one(
    app, example_course, make_user
):
    ana = make_user(email="ana@muni.cl", full_name="Ana Pérez")
    bea = make_user(email="bea@muni.cl", full_name="Bea Soto", rut="123456785")
    make_user(email="off@muni.cl", full_name="Olga Off", active=False)
    group = new_cohort(app, example_course)
    text = (
        "correo;nombre\n"
        "ANA@muni.cl;Ana\n"
        "nadie@muni.cl;Nadie\n"
        "no-es-correo@;X\n"
        "12.345.678-5;Bea por RUT\n"
        "12.345.678-9;RUT malo\n"
        "off@muni.cl;Olga\n"
        "ana@muni.cl;Ana otra vez\n"
        "\n"
    )

    def attempt():
        return cohorts.enrol_csv(cohort(group), csv_bytes(text, "cp1252"), by=None)

    match, enrolled = write(app, attempt)
    assert enrolled is None
    assert match.rows == 7
    assert [(p.row, p.message) for p in match.problems] == [
        (3, "no hay una cuenta con el correo «nadie@muni.cl»."),
        (4, "«no-es-correo@» no es un correo válido."),
        (6, "«12.345.678-9» no es un RUT válido (revisa el dígito verificador)."),
        (7, "la cuenta de Olga Off está desactivada."),
        (8, "repite a Ana Pérez (fila 2)."),
    ]
    with app.app_context():
        assert db.session.scalars(select(Enrolment)).all() == []

    good = "\ufeffrut\n12345678-5\nana@muni.cl\n"
    match, enrolled = write(app, lambda: cohorts.enrol_csv(cohort(group), csv_bytes(good), by=None))
    assert match.problems == [] and enrolled.new == 2
    assert set(match.user_ids) == {ana.id, bea.id}
    with app.app_context():
        for bad in (b"", b"correo\n\n"):
            with pytest.raises(cohorts.CohortError, match="no tiene filas"):
                cohorts.read_people_csv(bad)
        with pytest.raises(cohorts.CohortError, match="más de"):
            cohorts.read_people_csv(b"a@muni.cl\n" * (cohorts.MAX_CSV_ROWS + 2))
