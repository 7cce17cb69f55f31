"""The shipped course, «Participación ciudadana en la gestión municipal», holds what it promises.

Issue 11 sets its size and shape: lessons, words, quizzes and question types, the final
evaluation's pools, the cases and their rubrics, the figures, and an estimate of hours that
matches the content. These tests read the files exactly as ``academy content check`` does, so
that a trainer's edit that breaks a promise fails here with the reason.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from academy.cases.definition import CaseDefinition, parse_case
from academy.cli.content import load_all
from academy.courses import content
from academy.courses.content import CourseSource, LessonSource
from academy.markdown import Rendered, TocEntry
from academy.quizzes.format import Quiz, load_quiz

ROOT = Path(__file__).resolve().parents[1]
COURSE_DIR = ROOT / "courses" / "participacion-ciudadana"
QUIZZES_DIR = ROOT / "quizzes"

WORDS_PER_MINUTE = 150  # reading speed of the estimate
MINUTES_PER_QUESTION = 1.5  # reading a question, choosing, checking
WRITING_WORDS_PER_MINUTE = 10  # composing an answer to a case, thinking included
WORD_RE = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
TAG_RE = re.compile(r"<[^>]+>")
HREF_RE = re.compile(r'<a [^>]*href="([^"]+)"')
IMG_RE = re.compile(r"<img [^>]*>")


@cache
def course() -> CourseSource:
    found, problems = content.load_course(COURSE_DIR, QUIZZES_DIR)
    assert found is not None, problems
    return found


@cache
def quizzes() -> dict[str, Quiz]:
    result = {}
    for lesson in course().lessons():
        if lesson.kind == "quiz":
            quiz, problems = load_quiz(QUIZZES_DIR / f"{lesson.ref}.md", ROOT)
            assert quiz is not None and not problems, problems
            result[lesson.slug] = quiz
    return result


@cache
def rendered(slug: str) -> Rendered:
    lesson, unit_slug = next(
        (item, unit.slug) for unit in course().units for item in unit.lessons if item.slug == slug
    )
    assets = {asset.path for asset in course().assets}
    return content.render_lesson(lesson.body_md, unit_slug, course().lesson_names, assets)


def prose_words(lesson: LessonSource) -> int:
    text = html.unescape(TAG_RE.sub(" ", rendered(lesson.slug).html))
    return len(WORD_RE.findall(text))


def heading_ids(entries: tuple[TocEntry, ...]) -> Iterator[str]:
    for entry in entries:
        yield entry.id
        yield from heading_ids(entry.children)


def anchors_of(slug: str) -> set[str]:
    page = rendered(slug)
    return set(heading_ids(page.toc)) | set(re.findall(r' id="([^"]+)"', page.html))


def cases() -> dict[str, CaseDefinition]:
    result = {}
    for lesson in course().lessons():
        if lesson.kind == "case":
            definition, problems = parse_case(lesson.extra)
            assert definition is not None, problems
            result[lesson.slug] = definition
    return result


def test_the_course_and_its_quizzes_pass_the_content_check():
    found = load_all([ROOT / "courses", QUIZZES_DIR])
    assert [str(problem) for problem in found.problems] == []
    assert "participacion-ciudadana" in [c.slug for c in found.courses]


def test_six_units_each_with_objectives_three_lessons_a_quiz_and_key_ideas():
    units = course().units
    assert len(units) == 6
    for unit in units:
        assert "podrás" in unit.summary_md, f"{unit.file}: la unidad no dice sus objetivos"
        readings = [lesson for lesson in unit.lessons if lesson.kind == "reading"]
        assert len(readings) >= 3, unit.file
        assert any(lesson.kind == "quiz" for lesson in unit.lessons), unit.file
        for lesson in readings:
            assert lesson.objectives, f"{lesson.file}: sin objetivos"
        if unit.slug != "casos-y-evaluacion-final":
            last = [lesson for lesson in readings if lesson.required][-1]
            assert "ideas-clave" in anchors_of(last.slug), f"{last.file}: sin «Ideas clave»"


def test_size_lessons_words_quizzes_types_pools_cases():
    lessons = list(course().lessons())
    assert len(lessons) >= 18
    assert sum(prose_words(lesson) for lesson in lessons) >= 15_000

    found = quizzes()
    assert len(found) >= 5
    assert sum(len(quiz.questions) for quiz in found.values()) >= 60
    kinds = {question.kind for quiz in found.values() for question in quiz.questions}
    assert len(kinds) >= 4, kinds

    final = found["evaluacion-final"]
    assert final.settings.draw, "la evaluación final no se sortea de grupos"
    for pool, count in final.settings.draw.items():
        assert len(final.pools()[pool]) > count, f"el grupo {pool} no deja nada al azar"

    definitions = cases()
    assert len(definitions) >= 4
    for slug, definition in definitions.items():
        assert 3 <= len(definition.criteria) <= 6, slug
        assert len(definition.guide) > 300, f"{slug}: sin pauta de revisión para relatores"


def test_every_option_of_every_unit_quiz_explains_itself():
    for slug, quiz in quizzes().items():
        for question in quiz.questions:
            assert question.feedback.md.strip(), f"{slug}: «{question.title}» sin retroalimentación"
            for choice in getattr(question, "choices", ()):
                assert choice.feedback.md.strip(), (
                    f"{slug}: «{question.title}», la opción «{choice.text.md}» no dice por qué"
                )


def test_every_figure_is_an_svg_with_alt_text_and_is_used():
    svgs = {asset.path for asset in course().assets if asset.path.endswith(".svg")}
    assert len(svgs) >= 6
    used: set[str] = set()
    for lesson in course().lessons():
        for tag in IMG_RE.findall(rendered(lesson.slug).html):
            alt = re.search(r'alt="([^"]*)"', tag)
            assert alt and len(alt[1]) >= 20, f"{lesson.file}: imagen sin texto alternativo útil"
            src = re.search(r'src="\.\./recursos/([^"]+)"', tag)
            assert src, f"{lesson.file}: {tag}"
            used.add(src[1])
    assert svgs <= used, f"figuras que ninguna lección muestra: {sorted(svgs - used)}"


def test_every_link_and_anchor_resolves():
    slugs = course().lesson_names
    for lesson in course().lessons():
        for href in HREF_RE.findall(rendered(lesson.slug).html):
            href = html.unescape(href)
            if href.startswith(("https://", "mailto:")):
                continue
            assert not href.startswith("http:"), f"{lesson.file}: enlace sin https: {href}"
            if href.startswith("../recursos/"):  # a figure's link to itself at full size
                assets = {asset.path for asset in course().assets}
                assert href.removeprefix("../recursos/") in assets, f"{lesson.file}: {href}"
                continue
            target, _, fragment = href.partition("#")
            target = target or lesson.slug
            assert target in slugs, f"{lesson.file}: enlace a una lección que no existe: {href}"
            if fragment:
                assert fragment in anchors_of(target), f"{lesson.file}: el ancla no existe: {href}"


def estimated_minutes() -> float:
    minutes = 0.0
    for lesson in course().lessons():
        if not lesson.required:
            continue
        minutes += prose_words(lesson) / WORDS_PER_MINUTE
        if lesson.kind == "quiz":
            minutes += quizzes()[lesson.slug].question_count * MINUTES_PER_QUESTION
        if lesson.kind == "case":
            definition = cases()[lesson.slug]
            written = sum((p.min_words + p.max_words) / 2 for p in definition.prompts)
            minutes += written / WRITING_WORDS_PER_MINUTE
    return minutes


def test_the_estimated_hours_match_the_content():
    computed = estimated_minutes() / 60
    declared = course().hours
    assert abs(declared - computed) <= 0.15 * computed, (
        f"curso.md dice horas: {declared}; el contenido da {computed:.1f} horas"
    )


@pytest.mark.parametrize("kind", ["reading"])
def test_each_reading_lesson_states_honest_minutes(kind):
    for lesson in course().lessons():
        if lesson.kind != kind or not lesson.required:
            continue
        reading = math.ceil(prose_words(lesson) / WORDS_PER_MINUTE)
        assert reading * 0.7 <= lesson.minutes <= reading * 2 + 5, (
            f"{lesson.file}: minutos: {lesson.minutes}, pero su texto se lee en {reading}"
        )


def test_the_course_page_says_how_completion_is_earned():
    description = course().description_md.lower()
    assert "70" in description and "aprob" in description and "caso" in description
    assert course().case_completion == "approval"
