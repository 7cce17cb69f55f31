"""``academy content check|import|export``: the course files and the database."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from academy.courses import content, services
from academy.courses.content import CourseSource
from academy.db import transaction
from academy.frontmatter import Problem


@click.group("content")
def content_group() -> None:
    """Check, import and export course files."""


def course_folders(path: Path) -> list[Path]:
    """A course folder, a folder of courses, or a content root holding ``courses/``."""
    if (path / content.COURSE_FILE).is_file():
        return [path]
    if (path / "courses").is_dir():
        path = path / "courses"
    return sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))


def load_all(paths: Iterable[Path]) -> tuple[list[CourseSource], list[Problem]]:
    courses: list[CourseSource] = []
    problems: list[Problem] = []
    for path in paths:
        if not path.exists():
            problems.append(Problem(str(path), None, "no existe"))
            continue
        folders = course_folders(path) if path.is_dir() else []
        if not folders:
            problems.append(Problem(str(path), None, "no hay cursos aquí (se busca curso.md)"))
        for folder in folders:
            course, found = content.load_course(folder)
            problems += found
            if course is not None:
                courses.append(course)
    return courses, problems


def report_problems(problems: list[Problem]) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)
    count = len(problems)
    click.echo(f"{count} problema{'s' if count != 1 else ''}.", err=True)


PATHS = click.argument(
    "paths", nargs=-1, required=True, type=click.Path(path_type=Path, file_okay=True)
)


@content_group.command("check")
@PATHS
def check_command(paths: tuple[Path, ...]) -> None:
    """Check course files; list every problem as file:line: message."""
    courses, problems = load_all(paths)
    if problems:
        report_problems(problems)
        sys.exit(1)
    lessons = sum(1 for course in courses for _ in course.lessons())
    units = sum(len(course.units) for course in courses)
    click.echo(f"Todo en orden: {len(courses)} curso(s), {units} unidades, {lessons} lecciones.")


@content_group.command("import")
@PATHS
@click.option("--force", is_flag=True, help="Sobrescribir lecciones editadas en la web.")
@click.option("--draft", is_flag=True, help="Guardar como borrador, sin publicar.")
@with_appcontext
def import_command(paths: tuple[Path, ...], force: bool, draft: bool) -> None:
    """Import course files into the database, by slug."""
    courses, problems = load_all(paths)
    if problems:
        report_problems(problems)
        click.echo("No se importó nada.", err=True)
        sys.exit(1)
    try:
        with transaction():
            reports = [
                services.import_course(course, force=force, publish=not draft) for course in courses
            ]
    except services.ImportConflict as conflict:
        for line in conflict.conflicts:
            click.echo(f"conflicto: {line}", err=True)
        click.echo(
            "No se importó nada. Exporta el curso para recuperar lo editado en la web, "
            "o vuelve a importar con --force para sobrescribirlo.",
            err=True,
        )
        sys.exit(1)
    for report in reports:
        click.echo(describe(report))


def describe(report: services.ImportReport) -> str:
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
    """Write COURSE back to files under DIRECTORY/<course>/."""
    found = services.get_course(course)
    if found is None:
        raise click.ClickException(f"no existe el curso «{course}»")
    root = services.export_course(found, directory)
    click.echo(f"Exportado en {root}")


def import_bundled() -> None:
    """Import the content shipped with the app (``academy init``); conflicts are reported."""
    folder = Path(current_app.config["CONTENT_DIR"])
    if not (folder / "courses").is_dir():
        click.echo(f"Sin cursos que importar en {folder}.")
        return
    courses, problems = load_all([folder])
    if problems:
        report_problems(problems)
        click.echo("El curso incluido tiene problemas; no se importó.", err=True)
        return
    for course in courses:
        try:
            with transaction():
                click.echo(describe(services.import_course(course)))
        except services.ImportConflict as conflict:
            click.echo(
                f"{course.slug}: {len(conflict.conflicts)} lecciones editadas en la web; "
                "se conservan (usa `academy content import --force` para reemplazarlas).",
                err=True,
            )
