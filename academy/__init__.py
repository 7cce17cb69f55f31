"""academy: the learning platform of the Academia de Capacitación Municipal y Regional."""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application. Nothing here queries or migrates the database."""
    from academy import config as settings

    app = Flask(
        __name__, instance_relative_config=True, instance_path=settings.instance_path(config)
    )
    settings.load(app, config)

    from academy import chrome, errors, fragments, i18n, inputs, jobs, security
    from academy import db as database
    from academy.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path) + "/migrations")
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    i18n.init_app(app)
    chrome.init_app(app)
    fragments.init_app(app)
    database.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    inputs.init_app(app)
    jobs.init_app(app)

    from academy.courses import outline

    outline.init_app(app)

    from academy.audit import views as audit_views
    from academy.auth import views as auth_views
    from academy.cases import views as cases_views
    from academy.certificates import batch_views as certificate_batch_views
    from academy.certificates import views as certificates_views
    from academy.cohorts import views as cohorts_views
    from academy.courses import editor as courses_editor
    from academy.learning import catalogue, home, my_courses
    from academy.people import outbox_views
    from academy.people import views as people_views

    # The quiz pages' modules attach their routes to one blueprint (endpoints quizzes.*).
    from academy.quizzes import attempt_views, editor_views, preview_views, statistics_views  # noqa: F401
    from academy.quizzes import blueprint as quizzes_blueprint
    from academy.reports import views as reports_views

    app.register_blueprint(home.bp)
    app.register_blueprint(auth_views.bp)
    app.register_blueprint(people_views.bp)
    app.register_blueprint(audit_views.bp)
    app.register_blueprint(outbox_views.bp)
    app.register_blueprint(catalogue.bp)
    app.register_blueprint(courses_editor.bp)
    app.register_blueprint(my_courses.bp)
    app.register_blueprint(cases_views.bp)
    app.register_blueprint(cohorts_views.bp)
    app.register_blueprint(quizzes_blueprint.bp)
    app.register_blueprint(certificates_views.bp)
    app.register_blueprint(certificate_batch_views.bp)
    app.register_blueprint(reports_views.bp)

    register_lesson_kinds()

    from academy import cli

    cli.register(app)
    return app


def register_lesson_kinds() -> None:
    """Register the lesson kinds (reading, quiz, case) with the content registry, in the
    order the editor lists them. Content and progress ask the registry, never a kind's
    package; no kind registers itself as a side effect of an import."""
    from academy.cases import kind as case
    from academy.courses import kinds
    from academy.quizzes import kind as quiz
    from academy.reading import kind as reading

    for kind in (reading.KIND, quiz.KIND, case.KIND):
        kinds.register(kind)
