"""The whole course as one PDF, for reading without a connection.

WeasyPrint renders a print layout of every published lesson. Images come from the database
through a URL fetcher that answers only for this course's assets: nothing is fetched from the
network. Units and lessons become the PDF's bookmarks; links between lessons become links
inside the document.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from flask import render_template
from markupsafe import Markup
from sqlalchemy import select

from academy.courses.lookups import assets_by_path, unit_intros
from academy.courses.models import Course, CourseAsset, Lesson, LessonRevision
from academy.extensions import db
from academy.progress.services import published_outline

BASE = "https://academia.invalid/curso/lecciones/"
ASSETS = "https://academia.invalid/curso/recursos/"
LINK_RE = re.compile(r'href="(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)(?:#(?P<fragment>[^"]*))?"')


@dataclass(frozen=True)
class OfflineLesson:
    slug: str
    title: str
    minutes: int
    objectives: list[str]
    body: Markup


def fingerprint(course: Course) -> str:
    """Changes whenever what the PDF would show changes (an ETag for it): the course, its
    units' titles and introductions, each lesson's published revision, and the images (an
    image replaced in the editor keeps its name). Three queries besides the outline."""
    outline = published_outline(course.id)
    revisions = dict(
        db.session.execute(
            select(Lesson.id, Lesson.published_revision_id).where(
                Lesson.id.in_([item.lesson_id for item in outline])
            )
        ).all()
    )
    images = db.session.scalars(
        select(CourseAsset.sha256)
        .where(CourseAsset.course_id == course.id)
        .order_by(CourseAsset.path)
    )
    parts = [course.slug, course.title, course.updated_at.isoformat()]
    parts += [f"{item.unit_title}/{revisions[item.lesson_id]}" for item in outline]
    parts += images
    parts += [f"{unit_id}:{intro}" for unit_id, intro in sorted(unit_intros(course.id).items())]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _internal_links(html: str, slugs: set[str]) -> str:
    """``href="niveles#x"`` -> ``href="#leccion-niveles"``; other links stay as they are."""

    def replace(match: re.Match[str]) -> str:
        slug = match["slug"]
        return f'href="#leccion-{slug}"' if slug in slugs else match.group(0)

    return LINK_RE.sub(replace, html)


def lessons_by_unit(course: Course) -> list[tuple[str, list[OfflineLesson], Markup | None]]:
    """Every published lesson's text, by unit, with the unit's introduction: three queries
    however many lessons."""
    outline = published_outline(course.id)
    slugs = {item.slug for item in outline}
    texts = {
        row.lesson_id: row
        for row in db.session.execute(
            select(
                Lesson.id.label("lesson_id"),
                LessonRevision.title,
                LessonRevision.minutes,
                LessonRevision.objectives,
                LessonRevision.body_html,
            )
            .join(LessonRevision, LessonRevision.id == Lesson.published_revision_id)
            .where(Lesson.id.in_([item.lesson_id for item in outline]))
        )
    }
    intros = unit_intros(course.id)
    units: list[tuple[str, list[OfflineLesson], Markup | None]] = []
    unit_id = None
    for item in outline:
        revision = texts[item.lesson_id]
        body = Markup(_internal_links(revision.body_html, slugs))  # noqa: S704 (stored, sanitised)
        entry = OfflineLesson(
            item.slug, revision.title, revision.minutes, revision.objectives, body
        )
        if not units or unit_id != item.unit_id:
            unit_id = item.unit_id
            intro = intros.get(unit_id)
            # Stored, sanitised HTML, its lesson links made links inside the document.
            shown = Markup(_internal_links(intro, slugs)) if intro else None  # noqa: S704
            units.append((item.unit_title, [], shown))
        units[-1][1].append(entry)
    return units


def render_pdf(course: Course) -> bytes:
    return build_document(course).write_pdf()


def build_document(course: Course) -> Any:
    """The laid-out WeasyPrint document (its pages and bookmark tree can be inspected)."""
    # Imported here: WeasyPrint is slow to load and only this page needs it.
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    assets = assets_by_path(course, with_data=True)

    class CourseAssets(URLFetcher):  # type: ignore[misc]
        """Answers only for this course's images, from the database; never the network."""

        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            asset = assets.get(url[len(ASSETS) :]) if url.startswith(ASSETS) else None
            if asset is None:
                raise ValueError(f"not fetched: {url}")
            return URLFetcherResponse(url, body=asset.data, headers={"Content-Type": asset.mime})

    fetcher = CourseAssets()
    html = render_template("courses/offline.html", course=course, units=lessons_by_unit(course))
    stylesheet = resources.files("academy").joinpath("static/css/offline.css").read_text("utf-8")
    document = HTML(string=html, base_url=BASE, url_fetcher=fetcher)
    return document.render(stylesheets=[CSS(string=stylesheet, url_fetcher=fetcher)])
