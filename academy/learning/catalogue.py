"""What learners see of courses: the catalogue, a course's page, the lesson player (each
lesson kind's panel asked of its plug-in), the course PDF and the course's images."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import undefer

from academy import chrome, fragments
from academy.chrome import flash_messages
from academy.courses import kinds, lookups, revisions
from academy.courses.kinds import CourseRef, LessonVisit
from academy.courses.models import (
    Course,
    CourseAsset,
    CourseStatus,
)
from academy.courses.outline import Outline
from academy.courses.revisions import lesson_body
from academy.courses.visibility import published_course
from academy.db import end_reading
from academy.extensions import db, limiter
from academy.i18n import gettext
from academy.learning import offline
from academy.progress import services as progress
from academy.security import image_headers, opened_as_page

bp = Blueprint("courses", __name__, url_prefix="/cursos", template_folder="templates")

# Each outline's rows, per language and mount point (see _OutlineRows).
_ROWS_KEPT = "academy_outline_rows"
_ROWS_LIMIT = 256


@bp.record_once
def _keep_outline_rows(state: BlueprintSetupState) -> None:
    state.app.extensions[_ROWS_KEPT] = {}


@bp.get("/")
def catalogue() -> str:
    courses = db.session.scalars(
        select(Course).where(Course.status == CourseStatus.PUBLISHED).order_by(Course.title)
    ).all()
    enrolled = set()
    if current_user.is_authenticated:
        enrolled = progress.enrolled_course_ids(current_user.id)
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
        units=outline_units(
            lesson_urls(course.slug), outline, state, intros=lookups.unit_intros(course.id)
        ),
        enrolment=enrolment,
        progress=state,
        can_enrol=progress.can_self_enrol(course),
    )


class OutlineUnit(NamedTuple):
    """One unit of the outline: its title, its lessons and, on the course page, its
    introduction (stored HTML, sanitised on save)."""

    title: str
    rows: list[OutlineRow]
    intro: Markup | None = None

    @property
    def items_html(self) -> Markup:
        """The unit's lessons as the outline's list items (see :func:`outline_item`)."""
        return Markup("".join([row.html for row in self.rows]))  # noqa: S704 (escaped there)


class OutlineRow(NamedTuple):
    """One lesson of the outline as the template shows it, its link and label made."""

    lesson_id: int
    title: str
    required: bool
    href: str
    state: str  # a State, or "none" when nobody's progress is shown
    label: str | None
    current: bool
    html: str  # the row as the outline's list item


def outline_item(
    href: str, title: str, state: str, label: str | None, current: bool, optional: str | None
) -> str:
    """One lesson of the outline as an HTML list item (what ``_outline.html`` shows per row).

    ``optional``: the translated "opcional" for a lesson that is not required, else None.
    The outline has a row per lesson (200 in a long course), so the row is put together here
    from its escaped link and title, kept per lesson (the same for every learner), rather
    than by a template loop that escapes each value again on every page.
    """
    link, title_html = _item_parts(href, title)
    current_mark = ' aria-current="page"' if current else ""
    note = _item_note(label, optional)
    return (
        f'<li class="course-outline-item state-{state}">{link}{current_mark}{title_html}{note}</li>'
    )


@lru_cache(maxsize=8192)
def _item_parts(href: str, title: str) -> tuple[str, str]:
    return f'<a href="{escape(href)}"', f">{escape(title)}</a>"


@lru_cache(maxsize=256)
def _item_note(label: str | None, optional: str | None) -> str:
    if label is None and optional is None:
        return ""
    text = escape(label) if label is not None else ""
    if optional is not None:
        text = f"{text} · {escape(optional)}" if label is not None else escape(optional)
    return f'<span class="state-label">{text}</span>'


def lesson_urls(course_slug: str) -> Callable[[str], str]:
    """``url_for('courses.lesson_page', ...)`` for many lessons of one course, built once.

    The lesson slug is the last part of the rule, so every lesson's URL is one prefix plus
    the slug quoted as the rule's converter quotes it.
    """
    marker = "x"
    prefix = url_for("courses.lesson_page", slug=course_slug, lesson_slug=marker)[: -len(marker)]
    return lambda lesson_slug: prefix + _path_segment(lesson_slug)


@lru_cache(maxsize=4096)
def _path_segment(value: str) -> str:
    return quote(value, safe="!$&'()*+,/:;=@")  # as werkzeug.routing.BaseConverter.to_url


def outline_units(
    url: Callable[[str], str],
    outline: list[kinds.OutlineItem],
    state: progress.CourseProgress | None,
    current_id: int | None = None,
    *,
    intros: Mapping[int, str] | None = None,
) -> list[OutlineUnit]:
    """The outline grouped by unit, each lesson with its link (``url``) and its state, and
    each unit with its introduction when ``intros`` (unit id -> stored HTML) has one."""
    requirements = {r.item.lesson_id: r for r in state.items} if state else {}
    labels: dict[progress.State, str] = {}
    optional = gettext("opcional")
    units: list[OutlineUnit] = []
    unit_id = None
    for item in outline:
        if not units or unit_id != item.unit_id:
            unit_id = item.unit_id
            intro = (intros or {}).get(unit_id)
            units.append(OutlineUnit(item.unit_title, [], unit_intro(intro)))
        requirement = requirements.get(item.lesson_id)
        label = None
        if requirement is not None:
            label = labels.get(requirement.state)
            if label is None:
                label = labels[requirement.state] = requirement.label
        href = url(item.slug)
        row_state = requirement.state if requirement else "none"
        current = item.lesson_id == current_id
        html = outline_item(
            href, item.title, row_state, label, current, None if item.required else optional
        )
        units[-1].rows.append(
            OutlineRow(
                item.lesson_id, item.title, item.required, href, row_state, label, current, html
            )
        )
    return units


def unit_intro(stored_html: str | None, *, on_lesson_page: bool = False) -> Markup | None:
    """A unit's introduction as stored when it was saved (sanitised then), or None.

    Its images are stored relative to the course page (``recursos/…``, see
    :func:`academy.courses.content.render_intro`); a lesson page sits one level below it.
    """
    if not stored_html:
        return None
    if on_lesson_page:
        stored_html = stored_html.replace('src="recursos/', 'src="../recursos/')
    return Markup(stored_html)  # noqa: S704 (sanitised on save)


@bp.get("/<slug>/lecciones/<lesson_slug>")
@login_required
def lesson_page(slug: str, lesson_slug: str) -> tuple[str, int] | str:
    """The lesson player: the lesson, its kind's panel, the course's outline with the
    learner's states and their progress.

    Everything but the learner's own values is the same for everyone who opens the lesson in
    the same state, language and role: the page is kept as a frame (:mod:`academy.fragments`)
    per course, outline version, lesson and revision, what the site's header and footer
    depend on (language, role, mount point…), whether the visitor is enrolled and the
    lesson's state for them; each request fills in the CSRF token, the page's address,
    flashed messages, progress, the outline's rows and the kind's panel.
    """
    user = current_user
    found = progress.open_lesson(user.id, slug, lesson_slug)
    if found is None:
        abort(404)
    course = CourseRef(found.course_id, found.course_slug, found.course_title)
    enrolled = found.enrolment_id is not None
    if not enrolled and not user.is_trainer:
        return render_template("courses/not_enrolled.html", course=course), 403
    outline, position, lesson = found.outline, found.position, found.lesson
    states = progress.lesson_states(user.id, outline, found.marks) if enrolled else None
    current = None
    if states is not None:
        current = progress.Requirement(lesson, states[position])
    if current is not None and opened_as_page():
        progress.visit(
            user.id,
            course.id,
            lesson.lesson_id,
            enrolment_id=found.enrolment_id,
            last_lesson_id=found.last_lesson_id,
            # A quiz or case lesson stays pending by its own rule after the first visit
            # wrote its progress row: the row is there, nothing to write.
            started=lesson.lesson_id in found.marks or current.state is not progress.State.PENDING,
        )
    kind = kinds.get(lesson.kind)
    chrome_key = chrome.key()  # the language, role and mount point among others
    key = (
        "lesson",
        chrome_key,
        course,
        outline.version,
        position,
        found.revision,
        current.state if current is not None else None,
    )
    frame = fragments.kept(key, lambda: _lesson_frame(found, course, current, kind, chrome_key))
    panel = _panel_html(kind, LessonVisit(course, lesson, enrolled))
    end_reading()  # all read: what follows only assembles the page
    units = _lesson_outline(chrome_key, course.slug, outline, states, position)
    values = {
        "csrf": escape(generate_csrf()),
        "next": chrome.next_address(),
        "flashes": flash_messages(),
        "percent": str(progress.percent(outline, states)) if states is not None else "",
        "panel": panel,
        **{f"unit{number}": rows for number, rows in enumerate(units, 1)},
    }
    return frame.fill(values)


class _FrameProgress(NamedTuple):
    percent: Markup


class _FrameUnit(NamedTuple):
    title: str
    items_html: Markup
    intro: None = None


def _lesson_frame(
    found: progress.Reading,
    course: CourseRef,
    current: progress.Requirement | None,
    kind: kinds.LessonKind,
    chrome_key: tuple[Any, ...],
) -> str:
    """The lesson page with a hole for each value of the visitor's own (see lesson_page)."""
    outline, position, lesson = found.outline, found.position, found.lesson
    # The unit's introduction opens the unit: it is shown on the unit's first lesson.
    items = outline.items
    first_of_unit = position == 0 or items[position - 1].unit_id != lesson.unit_id
    intro = None
    if first_of_unit:
        intro = unit_intro(
            lookups.unit_intros(course.id, lesson.unit_id).get(lesson.unit_id),
            on_lesson_page=True,
        )
    units, unit_id = [], None
    for item in items:
        if item.unit_id != unit_id:
            unit_id = item.unit_id
            units.append(_FrameUnit(item.unit_title, fragments.hole(f"unit{len(units) + 1}")))
    revision = revisions.revision_text(*found.revision)
    return render_template(
        "courses/lesson.html",
        course=course,
        lesson=lesson,
        revision=revision,
        body=lesson_body(revision),
        units=units,
        unit_intro=intro,
        unit_number=outline.unit_numbers[position],
        progress=_FrameProgress(fragments.hole("percent")) if current is not None else None,
        current=current,
        previous=items[position - 1] if position > 0 else None,
        next=items[position + 1] if position + 1 < len(items) else None,
        lesson_url=lesson_urls(course.slug),
        preview=current is None,
        panel=fragments.hole("panel") if kind.panel_template else "",
        site_header=lambda: chrome.unfilled("header", chrome_key),
        site_footer=lambda: chrome.unfilled("footer", chrome_key),
        flash_messages=lambda: fragments.hole("flashes"),
        csrf_token=lambda: fragments.hole("csrf"),
    )


def _panel_html(kind: kinds.LessonKind, visit: LessonVisit) -> Markup | str:
    """The kind's part of the lesson page for this visitor (nothing for a reading)."""
    if not kind.panel_template:
        return ""
    return Markup(render_template(kind.panel_template, panel=kind.panel(visit)))  # noqa: S704


def _lesson_outline(
    chrome_key: tuple[Any, ...],
    course_slug: str,
    outline: Outline,
    states: Sequence[progress.State] | None,
    position: int,
) -> list[str]:
    """The outline's list items, unit by unit, each lesson in the visitor's state.

    ``chrome_key``: what the page's chrome is kept by, the language and mount point among it.
    """
    key = (outline.course_id, outline.version, course_slug, chrome_key)
    kept: dict[tuple[Any, ...], _OutlineRows] = current_app.extensions[_ROWS_KEPT]
    rows = kept.get(key)
    if rows is None:
        if len(kept) >= _ROWS_LIMIT:
            kept.clear()
        rows = kept[key] = _OutlineRows(course_slug, outline)
    units: list[list[str]] = []
    unit_id = None
    for index, item in enumerate(outline.items):
        if item.unit_id != unit_id:
            unit_id = item.unit_id
            units.append([])
        state = states[index] if states is not None else "none"
        units[-1].append(rows.row(index, state, index == position))
    return ["".join(unit) for unit in units]


class _OutlineRows:
    """One course outline's list items for one language and mount point: each lesson's row,
    made the first time it is shown in a state (the same for every learner in it)."""

    def __init__(self, course_slug: str, outline: Outline) -> None:
        self.outline = outline
        self.url = lesson_urls(course_slug)
        self.optional = gettext("opcional")
        self.made: list[dict[tuple[str, bool], str]] = [{} for _ in outline.items]

    def row(self, index: int, state: str, current: bool) -> str:
        made = self.made[index]
        html = made.get((state, current))
        if html is None:
            item = self.outline.items[index]
            label = progress.STATE_LABELS[state] if state != "none" else None
            html = made[(state, current)] = outline_item(
                self.url(item.slug),
                item.title,
                state,
                str(label) if label is not None else None,
                current,
                None if item.required else self.optional,
            )
        return html


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
        select(CourseAsset)
        .where(CourseAsset.course_id == course.id, CourseAsset.path == f"{unit}/{name}")
        .options(undefer(CourseAsset.data))
    )
    if found is None:
        abort(404)
    response = image_headers(Response(found.data, mimetype=found.mime))
    response.set_etag(found.sha256)
    # The editor can replace an image under the same name: browsers keep it, but ask (a 304
    # costs no image) before showing it again.
    response.cache_control.public = True
    response.cache_control.no_cache = True
    return response.make_conditional(request)
