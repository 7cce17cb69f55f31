"""``academy quizzes import-gift|export-gift``: Moodle question banks in and out."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from academy.courses.content import SLUG_RE
from academy.frontmatter import report_problems
from academy.quizzes import gift, reader, services, storage


@click.group("quizzes")
def quizzes_group() -> None:
    """Convert quizzes to and from Moodle's GIFT format."""


@quizzes_group.command("import-gift")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--to", "target", required=True, type=click.Path(path_type=Path, dir_okay=False),
    help="El cuestionario que se escribe, por ejemplo quizzes/mecanismos.md.",
)  # fmt: skip
@click.option("--title", help="Título del cuestionario (por defecto, el nombre del archivo).")
@click.option("--passing", default=60, show_default=True, help="Porcentaje para aprobar.")
@click.option("--force", is_flag=True, help="Reemplazar el archivo de destino si existe.")
def import_gift(file: Path, target: Path, title: str | None, passing: int, force: bool) -> None:
    """Convert a GIFT bank into a quiz file; report every question that could not be."""
    if not file.is_file():
        raise click.ClickException(f"no existe el archivo {file}")
    if target.exists() and not force:
        raise click.ClickException(f"{target} ya existe (usa --force para reemplazarlo)")
    if not SLUG_RE.match(target.stem) or target.suffix != ".md":
        raise click.ClickException(
            "el destino debe llamarse nombre-en-minusculas.md (ej. quizzes/mecanismos.md)"
        )
    text, problems = gift.read_gift(file)
    if text is None:
        report_problems(problems)
        sys.exit(1)
    title = title or target.stem.replace("-", " ").capitalize()
    markdown, problems = gift.gift_to_quiz_markdown(text, title, str(file), passing=passing)
    quiz, check = reader.parse_quiz(markdown, str(target), slug=target.stem)
    if quiz is None or check:
        report_problems(problems + check)
        click.echo("No se escribió el cuestionario.", err=True)
        sys.exit(1)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(markdown, encoding="utf-8", newline="\n")
    click.echo(f"{target}: {len(quiz.questions)} preguntas.")
    if not problems:
        return
    report_problems(problems)
    skipped = sum(1 for problem in problems if problem.message.endswith(gift.NOT_IMPORTED))
    if skipped:
        click.echo(
            f"{skipped} pregunta(s) no se importaron; corrígelas en el archivo GIFT y vuelve "
            "a importarlo, o escríbelas en el cuestionario.",
            err=True,
        )
        sys.exit(1)
    click.echo(
        "Se importaron todas las preguntas; revisa los avisos de arriba en el cuestionario.",
        err=True,
    )


@quizzes_group.command("export-gift")
@click.argument("source")
@click.option("--to", "target", type=click.Path(path_type=Path, dir_okay=False),
              help="Archivo GIFT de salida (por defecto, la pantalla).")  # fmt: skip
@with_appcontext
def export_gift(source: str, target: Path | None) -> None:
    """Write a quiz (a file, or a quiz's slug in the database) as GIFT."""
    path = Path(source)
    if path.is_file():
        quiz, problems = reader.load_quiz(path)
        if quiz is None or problems:
            report_problems(problems)
            sys.exit(1)
    else:
        row = services.get_quiz(source)
        if row is None or row.latest is None:
            raise click.ClickException(f"no existe el cuestionario «{source}»")
        quiz = storage.load(row.latest)
    text, problems = gift.quiz_to_gift(quiz)
    if target is None:
        click.echo(text, nl=False)
    else:
        target.write_text(text, encoding="utf-8", newline="\n")
        click.echo(f"{target}: escrito.", err=True)
    if problems:
        report_problems(problems)
        sys.exit(1)
