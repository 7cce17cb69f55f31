"""Home page, language choice and the health check used by load balancers."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session
from flask_login import current_user
from redis.exceptions import RedisError
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from academy import jobs
from academy.courses.models import Course, CourseStatus
from academy.extensions import csrf, db, limiter
from academy.security import safe_next

bp = Blueprint("core", __name__, template_folder="templates")


@bp.get("/")
def home() -> str:
    courses = db.session.scalars(
        select(Course).where(Course.status == CourseStatus.PUBLISHED).order_by(Course.title)
    ).all()
    return render_template("core/home.html", courses=courses)


@bp.post("/idioma")
def set_language() -> Response:
    language = request.form.get("language", "")
    if language in current_app.config["LANGUAGES"]:
        session["locale"] = language
        if current_user.is_authenticated:
            current_user.locale = language
    return redirect(safe_next(request.form.get("next")) or "/")


@bp.get("/salud")
@csrf.exempt
@limiter.exempt
def health() -> Any:
    """What a load balancer asks: 200 when this host can serve, 503 when a store it needs is
    down (the database; the Redis of the rate-limit counters and of the job queue, when
    configured). Details go to the log, not to whoever asks."""
    checks = {"database": database_answers()}
    if not current_app.config["RATELIMIT_STORAGE_URI"].startswith("memory:"):
        checks["ratelimit"] = ratelimit_storage_answers()
    if shared_queue():
        checks["queue"] = queue_answers()
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "error"}
    body.update((name, "ok" if up else "error") for name, up in checks.items())
    response = jsonify(body)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def database_answers() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        current_app.logger.warning("/salud: the database does not answer: %s", error)
        db.session.rollback()
        return False
    return True


def ratelimit_storage_answers() -> bool:
    # limits' check() pings the store and answers False on any error of its own.
    up = bool(limiter.storage.check())
    if not up:
        current_app.logger.warning("/salud: the rate-limit storage does not answer")
    return up


def shared_queue() -> bool:
    """The job queue is on Redis (several hosts), not a file of this host's or the tests'."""
    url = str(current_app.config.get("QUEUE_URL") or "")
    return url.startswith(("redis://", "rediss://")) and not jobs.queue.immediate


def queue_answers() -> bool:
    try:
        jobs.queue.storage.conn.ping()
    except RedisError as error:
        current_app.logger.warning("/salud: the job queue's Redis does not answer: %s", error)
        return False
    return True


@bp.after_app_request
def name_the_host(response: Response) -> Response:
    """X-Academy-Host: which host behind the load balancer answered (ACADEMY_HOST_NAME)."""
    host = current_app.config.get("HOST_NAME")
    if host:
        response.headers["X-Academy-Host"] = host
    return response
