"""Exporting a course back to its folder: ``curso.md``, one folder per unit, one file per
lesson, its images; importing the export changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from academy.courses import content, kinds
from academy.courses.lookups import assets_by_path, unretired_units
from academy.courses.models import Course, CourseStatus, Lesson
from academy.frontmatter import dump

# Database values back to the words of the files.
ENROLMENT_WORDS = {value: word for word, value in content.ENROLMENT.items()}


CASE_WORDS = {value: word for word, value in content.CASE_COMPLETION.items()}


def export_course(course: Course, target: Path) -> Path:
    """Write the course in the file format under ``target/<slug>/`` (the latest revisions)."""
    root = target / course.slug
    root.mkdir(parents=True, exist_ok=True)
    meta = {
        "titulo": course.title,
        "resumen": course.summary,
        "horas": course.hours,
        "idioma": course.language,
        "resultados": list(course.outcomes),
        "inscripcion": ENROLMENT_WORDS[course.enrolment],
        "casos_se_completan": CASE_WORDS[course.case_completion],
        "certificado": course.certificate_template,
        "publicado": course.status == CourseStatus.PUBLISHED,
    }
    _write(root / content.COURSE_FILE, dump(meta, course.description_md))
    assets = assets_by_path(course, with_data=True)
    for unit in unretired_units(course):
        folder = root / f"{unit.position:02d}-{unit.slug}"
        folder.mkdir(exist_ok=True)
        _write(folder / content.UNIT_FILE, dump({"titulo": unit.title}, unit.summary_md))
        for lesson in unit.lessons:
            if lesson.retired_at is not None or lesson.latest is None:
                continue
            _write(folder / f"{lesson.position:02d}-{lesson.slug}.md", lesson_file(lesson))
        for path, asset in assets.items():
            unit_slug, _sep, name = path.partition("/")
            if unit_slug == unit.slug:
                (folder / name).write_bytes(asset.data)
    return root


def lesson_file(lesson: Lesson) -> str:
    revision = lesson.latest
    assert revision is not None
    meta: dict[str, Any] = {
        "titulo": revision.title,
        "tipo": kinds.get(lesson.kind).word,
        "minutos": revision.minutes,
        "objetivos": list(revision.objectives),
    }
    if not lesson.required:
        meta["obligatoria"] = False
    meta.update(kinds.get(lesson.kind).write(lesson.ref, revision.extra))
    return dump(meta, revision.body_md)


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="\n")
