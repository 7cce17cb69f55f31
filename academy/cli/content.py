"""``academy content check|import|export``: course and quiz files and the database.

A PATH may be a content root (holding ``courses/`` and ``quizzes/``), a ``courses/`` folder, one
course folder, a ``quizzes/`` folder or one quiz file. The quizzes that course lessons use are
looked up in the ``quizzes/`` folder beside ``courses/``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from academy.courses import content, exporting, importing, lookups
from academy.courses.content import CourseSource
from academy.db import transaction
from academy.frontmatter import Problem, report_problems
from academy.quizzes import reader as quiz_reader
from academy.quizzes import services as quizzes
from academy.quizzes.model import Quiz as ParsedQuiz


@click.group("content")
def content_group() -> None:
    """Check, import and export course and quiz files."""


@dataclass
class Content:
    courses: list[CourseSource] = field(default_factory=list)
    quizzes: list[ParsedQuiz] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _classify(path: Path) -> tuple[list[Path], list[Path]]:
    """The course folders and quiz files a PATH names (``.`` inside ``courses/`` too)."""
    path = path.resolve()
    if path.is_file():
        return [], [path]
    if (path / content.COURSE_FILE).is_file():
        return [path], []
    if path.name == "quizzes" and not (path / "courses").is_dir():
        return [], quiz_files(path)
    root = path.parent if path.name == "courses" else path
    courses_dir = root / "courses"
    folders = (
        sorted(p for p in courses_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
        if courses_dir.is_dir()
        else []
    )
    return folders, quiz_files(root / "quizzes")


def quiz_files(folder: Path) -> list[Path]:
    """The quiz files of a ``quizzes/`` folder (its README is for people, not a quiz)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.md") if p.name.lower() != "readme.md")


def load_all(paths: Iterable[Path]) -> Content:
    found = Content()
    seen_quizzes: set[Path] = set()
    for path in paths:
        if not path.exists():
            found.problems.append(Problem(str(path), None, "no existe"))
            continue
        folders, quiz_files = _classify(path)
        if not folders and not quiz_files:
            found.problems.append(
                Problem(str(path), None, "no hay cursos ni cuestionarios aquí (se busca curso.md)")
            )
        for folder in folders:
            course, problems = content.load_course(folder)
            found.problems += openable(problems, folder.parent)
            if course is not None:
                found.courses.append(course)
        for quiz_file in quiz_files:
            if quiz_file.resolve() in seen_quizzes:
                continue
            seen_quizzes.add(quiz_file.resolve())
            quiz, problems = quiz_reader.load_quiz(quiz_file)
            found.problems += openable(problems, quiz_file.parent.parent)
            if quiz is not None:
                found.quizzes.append(quiz)
    # A course named alone brings the quizzes its lessons use, from the quizzes/ folder beside
    # courses/ (one that is missing is reported at the lesson's «cuestionario:» line).
    for course in found.courses:
        folder = course.root.parent.parent / "quizzes"
        for lesson in course.lessons():
            quiz_file = folder / f"{lesson.ref}.md"
            if lesson.kind != "quiz" or not lesson.ref or not quiz_file.is_file():
                continue
            if quiz_file.resolve() in seen_quizzes:
                continue
            seen_quizzes.add(quiz_file.resolve())
            quiz, problems = quiz_reader.load_quiz(quiz_file)
            found.problems += openable(problems, folder.parent)
            if quiz is not None:
                found.quizzes.append(quiz)
    return found


def openable(problems: list[Problem], base: Path) -> list[Problem]:
    """Problems named by a path the user can open from where the command runs: the loaders
    name files relative to ``base`` (the folder holding the course or ``quizzes/``)."""
    here = Path.cwd()
    result = []
    for problem in problems:
        path = Path(problem.file)
        path = path if path.is_absolute() else base / path
        try:
            shown = os.path.relpath(path, here)
        except ValueError:  # another drive (Windows)
            shown = str(path)
        result.append(replace(problem, file=shown))
    return result


PATHS = click.argument(
    "paths", nargs=-1, required=True, type=click.Path(path_type=Path, file_okay=True)
)


@content_group.command("check")
@PATHS
def check_command(paths: tuple[Path, ...]) -> None:
    """Check course and quiz files; list every problem as file:line: message."""
    found = load_all(paths)
    if found.problems:
        report_problems(found.problems)
        sys.exit(1)
    courses = found.courses
    lessons = sum(1 for course in courses for _ in course.lessons())
    units = sum(len(course.units) for course in courses)
    click.echo(
        f"Todo en orden: {len(courses)} curso(s), {units} unidades, {lessons} lecciones, "
        f"{len(found.quizzes)} cuestionario(s)."
    )


@content_group.command("import")
@PATHS
@click.option("--force", is_flag=True, help="Sobrescribir lo editado en la web.")
@click.option("--draft", is_flag=True, help="Guardar como borrador, sin publicar.")
@with_appcontext
def import_command(paths: tuple[Path, ...], force: bool, draft: bool) -> None:
    """Import course and quiz files into the database, by slug."""
    found = load_all(paths)
    problems = found.problems or template_problems(found)
    if problems:
        report_problems(problems)
        click.echo("No se importó nada.", err=True)
        sys.exit(1)
    try:
        with transaction():
            lines = import_content(found, force=force, publish=not draft)
    except importing.ImportConflict as conflict:
        for line in conflict.conflicts:
            click.echo(f"conflicto: {line}", err=True)
        click.echo(
            "No se importó nada. Exporta el curso para recuperar lo editado en la web, "
            "o vuelve a importar con --force para sobrescribirlo.",
            err=True,
        )
        sys.exit(1)
    for line in lines:
        click.echo(line)


def template_problems(found: Content) -> list[Problem]:
    """Courses naming a certificate template the platform lacks. ``content check`` looks in the
    ``certificates/`` beside the course files; certificates are issued from the platform's own
    folder (``CERTIFICATE_TEMPLATES_DIR``, else the content directory's), which may differ."""
    known = lookups.certificate_templates()
    problems = []
    for course in found.courses:
        name = course.certificate_template
        if name in known:
            continue
        missing = lookups.certificate_templates_dir() / name / lookups.CERTIFICATE_ENTRY
        problem = Problem(
            str(Path(course.root.name) / content.COURSE_FILE),
            course.certificate_line,
            f"la plataforma no tiene la plantilla de certificado «{name}»: falta {missing} "
            "(cópiala allí antes de importar, o usa «default»)",
        )
        problems += openable([problem], course.root.parent)
    return problems


def import_content(
    found: Content, *, force: bool, publish: bool, actor: Any | None = None
) -> list[str]:
    """Quizzes first (lessons point at them), then courses; nothing if anything conflicts.
    What the import publishes goes to the audit log as the editor's publications do, by
    ``actor`` (None: the command line, named by the system user)."""
    if not force:
        conflicts = [c for quiz in found.quizzes if (c := quizzes.conflict(quiz))]
        conflicts += [c for course in found.courses for c in importing.find_conflicts(course)]
        if conflicts:
            raise importing.ImportConflict(conflicts)
    lines = []
    for quiz in found.quizzes:
        existing = quizzes.get_quiz(quiz.slug)
        before = existing.published_revision_id if existing is not None else None
        row, changed = quizzes.import_quiz(quiz, publish=publish)
        state = "nuevo" if existing is None else "actualizado" if changed else "sin cambios"
        lines.append(f"cuestionario {quiz.slug}: {state}.")
        if row.published is not None and row.published.id != before:
            quizzes.record_published(row, row.published, by=actor, via="import")
    for course in found.courses:
        report = importing.import_course(course, force=True, publish=publish)
        importing.record_import(report, actor=actor)
        lines.append(describe(report))
    return lines


def describe(report: importing.ImportReport) -> str:
    if not report.changed:
        return f"{report.course}: sin cambios."
    parts = []
    if report.created:
        parts.append("curso nuevo")
    for label, items in (
        ("lecciones nuevas", report.new_lessons),
        ("lecciones cambiadas", report.changed_lessons),
        ("lecciones retiradas", report.retired_lessons),
    ):
        if items:
            parts.append(f"{len(items)} {label}")
    if report.assets:
        parts.append(f"{report.assets} imágenes")
    return f"{report.course}: {', '.join(parts)}."


@content_group.command("export")
@click.argument("course")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@with_appcontext
def export_command(course: str, directory: Path) -> None:
    """Write COURSE to DIRECTORY/courses/<course>/ and its quizzes to DIRECTORY/quizzes/."""
    found = lookups.get_course(course)
    if found is None:
        raise click.ClickException(f"no existe el curso «{course}»")
    root = exporting.export_course(found, directory / "courses")
    written = 0
    for slug in sorted(lookups.quiz_refs(found)):
        row = quizzes.get_quiz(slug)
        if row is not None and row.latest is not None:
            quizzes.export_quiz(row, directory / "quizzes")
            written += 1
    click.echo(f"Exportado en {root} ({written} cuestionario(s) en {directory / 'quizzes'})")


def import_bundled() -> None:
    """Import the content shipped with the app (``academy init``); conflicts are reported."""
    folder = Path(current_app.config["CONTENT_DIR"])
    folders, quizzes_found = _classify(folder) if folder.is_dir() else ([], [])
    if not folders and not quizzes_found:
        click.echo(f"Sin cursos que importar en {folder}.")
        return
    found = load_all([folder])
    problems = found.problems or template_problems(found)
    if problems:
        report_problems(problems)
        click.echo("El contenido incluido tiene problemas; no se importó.", err=True)
        return
    try:
        with transaction():
            for line in import_content(found, force=False, publish=True):
                click.echo(line)
    except importing.ImportConflict as conflict:
        click.echo(
            f"{len(conflict.conflicts)} lecciones o cuestionarios editados en la web; se "
            "conservan (usa `academy content import --force` para reemplazarlos).",
            err=True,
        )
