"""What learners see of a course: its page, its published lessons and their images."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_login import login_required
from sqlalchemy import select

from academy.courses import services
from academy.courses.models import Course, CourseAsset, Lesson
from academy.extensions import db

bp = Blueprint("courses", __name__, url_prefix="/cursos", template_folder="templates")


def published_course(slug: str) -> Course:
    """The course if learners may see it; 404 for drafts, archived and unknown courses."""
    course = services.get_course(slug)
    if course is None or not course.is_published:
        abort(404)
    return course


def published_lesson(course: Course, slug: str) -> Lesson:
    lesson = db.session.scalar(
        select(Lesson).where(Lesson.course_id == course.id, Lesson.slug == slug)
    )
    if lesson is None or lesson.retired_at is not None or lesson.published is None:
        abort(404)
    return lesson


@bp.get("/<slug>/")
def course_page(slug: str) -> str:
    course = published_course(slug)
    return render_template("courses/course.html", course=course, outline=services.outline(course))


@bp.get("/<slug>/lecciones/<lesson_slug>")
@login_required
def lesson_page(slug: str, lesson_slug: str) -> str:
    course = published_course(slug)
    lesson = published_lesson(course, lesson_slug)
    outline = services.outline(course)
    return render_template(
        "courses/lesson.html",
        course=course,
        lesson=lesson,
        revision=lesson.published,
        outline=outline,
        neighbours=services.neighbours(outline, lesson),
    )


@bp.get("/<slug>/recursos/<unit>/<name>")
def asset(slug: str, unit: str, name: str) -> Response:
    course = published_course(slug)
    found = db.session.scalar(
        select(CourseAsset).where(
            CourseAsset.course_id == course.id, CourseAsset.path == f"{unit}/{name}"
        )
    )
    if found is None:
        abort(404)
    response = Response(found.data, mimetype=found.mime)
    response.set_etag(found.sha256)
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response.make_conditional(request)
