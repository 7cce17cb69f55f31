"""What learners see of courses: the catalogue, a course's page, its lessons and images."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from academy.courses import offline, services
from academy.courses.models import Course, CourseAsset, CourseStatus, Lesson, LessonRevision
from academy.extensions import db, limiter
from academy.progress import services as progress

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


def lesson_body(revision: LessonRevision) -> Markup:
    """The lesson's HTML as stored when it was saved: no request ever renders Markdown."""
    return Markup(revision.body_html)  # noqa: S704 (sanitised by academy.markdown on save)


@bp.get("/")
def catalogue() -> str:
    courses = db.session.scalars(
        select(Course).where(Course.status == CourseStatus.PUBLISHED).order_by(Course.title)
    ).all()
    enrolled = set()
    if current_user.is_authenticated:
        enrolled = {e.course_id for e in progress.enrolments_of(current_user.id)}
    return render_template("courses/catalogue.html", courses=courses, enrolled=enrolled)


@bp.get("/<slug>/")
def course_page(slug: str) -> str:
    course = published_course(slug)
    outline = progress.published_outline(course.id)
    enrolment = state = None
    if current_user.is_authenticated:
        enrolment = progress.get_enrolment(current_user.id, course.id)
        if enrolment is not None:
            state = progress.compute(
                current_user.id, course.id, enrolment=enrolment, outline=outline
            )
    return render_template(
        "courses/course.html",
        course=course,
        units=group_by_unit(outline),
        enrolment=enrolment,
        progress=state,
        can_enrol=progress.can_self_enrol(course),
    )


def group_by_unit(items: list[progress.OutlineItem]) -> list[tuple[str, list]]:
    units: list[tuple[str, list]] = []
    for item in items:
        if not units or units[-1][0] != item.unit_title:
            units.append((item.unit_title, []))
        units[-1][1].append(item)
    return units


@bp.get("/<slug>/lecciones/<lesson_slug>")
@login_required
def lesson_page(slug: str, lesson_slug: str) -> tuple[str, int] | str:
    course = published_course(slug)
    lesson = published_lesson(course, lesson_slug)
    enrolment = progress.get_enrolment(current_user.id, course.id)
    if enrolment is None and not current_user.is_trainer:
        return render_template("courses/not_enrolled.html", course=course), 403
    outline = progress.published_outline(course.id)
    state = None
    if enrolment is not None:
        state = progress.compute(current_user.id, course.id, enrolment=enrolment, outline=outline)
        started = {r.item.lesson_id for r in state.items if r.state is not progress.State.PENDING}
        progress.visit(enrolment, lesson.id, known=started)
    position = next(i for i, item in enumerate(outline) if item.lesson_id == lesson.id)
    return render_template(
        "courses/lesson.html",
        course=course,
        lesson=lesson,
        revision=lesson.published,
        body=lesson_body(lesson.published),  # type: ignore[arg-type]
        units=group_by_unit(outline),
        progress=state,
        current=state.state_of(lesson.id) if state else None,
        previous=outline[position - 1] if position > 0 else None,
        next=outline[position + 1] if position + 1 < len(outline) else None,
        preview=enrolment is None,
    )


@bp.get("/<slug>/pdf")
@login_required
@limiter.limit("20 per hour", key_func=lambda: f"pdf:{current_user.get_id()}")
def offline_pdf(slug: str) -> Response | tuple[str, int]:
    """All published lessons as one PDF, for enrolled learners (and trainers)."""
    course = published_course(slug)
    if progress.get_enrolment(current_user.id, course.id) is None and not current_user.is_trainer:
        return render_template("courses/not_enrolled.html", course=course), 403
    etag = offline.fingerprint(course)
    if request.if_none_match.contains(etag):
        return Response(status=304, headers={"ETag": f'"{etag}"'})
    response = Response(offline.render_pdf(course), mimetype="application/pdf")
    response.set_etag(etag)
    response.headers["Content-Disposition"] = f'attachment; filename="{course.slug}.pdf"'
    response.cache_control.private = True
    response.cache_control.max_age = 3600
    return response


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
