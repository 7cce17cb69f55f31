"""``academy reports export REPORT [--course SLUG] [--cohort NAME] [--from DATE]
[--until DATE] [--region CODE] --to FILE.csv``: the pages' CSV files from the command line,
with everything an admin sees. An export that lists people is audited, as on the web."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click
from flask.cli import with_appcontext

from academy import audit, comunas
from academy.db import transaction
from academy.reports import services
from academy.reports.queries import Scope


@click.group("reports")
def reports_group() -> None:
    """Export the reports as CSV."""


@reports_group.command("export")
@click.argument("report", type=click.Choice(services.REPORTS))
@click.option("--course", "slug", help="Solo este curso (su slug).")
@click.option("--cohort", help="Solo este grupo (su nombre; con --course si el nombre se repite).")
@click.option("--from", "since", default="", help="Inscritos desde este día (AAAA-MM-DD).")
@click.option("--until", default="", help="Inscritos hasta este día, incluido (AAAA-MM-DD).")
@click.option("--region", help="Solo las comunas de esta región (su código CUT, p. ej. 13).")
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Archivo CSV que se escribe (UTF-8 con BOM).",
)
@with_appcontext
def export_command(
    report: str,
    slug: str | None,
    cohort: str | None,
    since: str,
    until: str,
    region: str | None,
    target: Path,
) -> None:
    """Write REPORT (cursos, grupos, regiones, comunas or personas) to a CSV file."""
    try:
        period = services.make_period(since, until)
    except services.BadDate as error:
        raise click.BadParameter(str(error), param_hint="--from/--until") from None
    course = None
    if slug:
        course = services.find_course(slug)
        if course is None:
            raise click.ClickException(f"no existe el curso «{slug}»")
    if region is not None and region not in comunas.REGION_ORDER:
        raise click.BadParameter(f"no existe la región «{region}»", param_hint="--region")
    start, end = period.bounds()
    scope = Scope(course_id=course.id if course else None, start=start, end=end)
    if cohort:
        found = services.find_cohort(course, cohort)
        if not found:
            raise click.ClickException(f"no existe el grupo «{cohort}»")
        if len(found) > 1:
            raise click.ClickException(
                f"hay varios grupos llamados «{cohort}»: di de qué curso con --course"
            )
        scope = replace(scope, cohort_id=found[0].id, course_id=found[0].course_id)
    if report == "grupos" and scope.course_id is None:
        raise click.UsageError("el informe «grupos» es de un curso: indica --course")
    exported = services.export(report, scope, region=region)
    rows = 0
    with transaction():
        with target.open("w", encoding="utf-8", newline="") as out:
            for chunk in exported.chunks():
                out.write(chunk)
                rows += chunk.count("\r\n")
        if exported.personal:
            audit.record(
                audit.AuditAction.DATA_EXPORTED,
                actor=None,
                target_type="report",
                target_label=f"Informe {exported.name}",
                report=exported.name,
                filters={
                    key: value
                    for key, value in {
                        "curso": slug or "",
                        "grupo": cohort or "",
                        **period.args(),
                        "archivo": str(target),
                    }.items()
                    if value
                },
            )
    click.echo(f"Informe «{report}»: {rows - 1} filas en {target}.")
