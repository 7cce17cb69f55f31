"""Home page, language choice and the health check used by load balancers."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session
from flask_login import current_user
from sqlalchemy import select, text
from werkzeug.wrappers import Response

from academy.auth.views import safe_next
from academy.courses.models import Course, CourseStatus
from academy.extensions import csrf, db

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
def health() -> Any:
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
