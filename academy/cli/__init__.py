"""The ``academy`` command: the Flask CLI with the academy's own subcommands. With the
application factory, the composition root: it may import any feature; no feature imports it.

``academy serve`` serves with gunicorn (``academy run`` is Flask's development server),
``academy db upgrade`` migrates, and the commands below set up the
database and manage accounts. Each command that writes commits once, at its end.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from email_validator import EmailNotValidError
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade

from academy import audit, create_app
from academy.auth import emails
from academy.auth import services as accounts
from academy.auth.models import Role, User
from academy.auth.passwords import password_problem
from academy.backup import backup_command
from academy.certificates.cli import certificates_group
from academy.cli.content import content_group, import_bundled
from academy.config import ConfigError
from academy.db import transaction
from academy.jobs import worker_command
from academy.outbox import mail_group
from academy.people import imports
from academy.quizzes.cli import quizzes_group
from academy.reports.cli import reports_group
from academy.serve import serve_command


def _create_app() -> Flask:
    try:
        return create_app()
    except ConfigError as error:
        click.echo(f"academy: {error}", err=True)
        sys.exit(2)


main = FlaskGroup(
    name="academy",
    create_app=_create_app,
    help="Academia de Capacitación Municipal y Regional: servidor y administración.",
)


@click.command("init")
@click.option(
    "--admin-email",
    default="admin@academia.localhost",
    show_default=True,
    help="Correo de la primera cuenta de administración (solo en una base nueva).",
)
@with_appcontext
def init_command(admin_email: str) -> None:
    """Create or migrate the database, import the bundled course, create the first admin."""
    # The address the admin signs in with: the forms' rule, checked before anything is done.
    admin_email = valid_email(admin_email, "--admin-email")
    upgrade()
    import_bundled()
    with transaction():
        if accounts.count_admins() or accounts.find_by_email(admin_email):
            click.echo("La base de datos está al día.")
            return
        password = accounts.generate_password()
        admin = accounts.create_user(
            email=admin_email, full_name="Administración", password=password, role=Role.ADMIN
        )
        _record_created(admin)
    click.echo("Base de datos creada. Primera cuenta de administración:")
    click.echo(f"  correo:     {admin_email}")
    click.echo(f"  contraseña: {password}")
    click.echo("Guárdala ahora: no se volverá a mostrar. Cámbiala en «Mi perfil».")


def _record_created(user: User) -> None:
    audit.record(
        audit.AuditAction.PERSON_CREATED,
        actor=None,
        target_type="user",
        target_id=user.id,
        target_label=user.email,
        role=user.role,
    )


def valid_email(address: str, option: str) -> str:
    """The address normalised as accounts store it, or the option's error."""
    try:
        return emails.normalise(address)
    except EmailNotValidError as error:
        raise click.BadParameter(str(error), param_hint=option) from error


@click.group("users")
def users_group() -> None:
    """Manage accounts."""


@users_group.command("create")
@click.option("--email", required=True, help="Correo de la cuenta.")
@click.option("--name", "full_name", required=True, help="Nombre completo, como en certificados.")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.LEARNER.value,
    show_default=True,
)
@click.option("--generate-password", is_flag=True, help="Generar e imprimir una contraseña.")
@with_appcontext
def create_user_command(email: str, full_name: str, role: str, generate_password: bool) -> None:
    """Create an account; asks for the password unless --generate-password."""
    email = valid_email(email, "--email")
    full_name = full_name.strip()
    if not 3 <= len(full_name) <= 120:
        raise click.BadParameter("entre 3 y 120 caracteres", param_hint="--name")
    if accounts.email_taken(email):
        raise click.ClickException(f"ya existe una cuenta con el correo {email}")
    if generate_password:
        password = accounts.generate_password()
    else:
        password = click.prompt("Contraseña", hide_input=True, confirmation_prompt=True)
        problem = password_problem(password, email=email, name=full_name)
        if problem:
            raise click.ClickException(problem)
    with transaction():
        user = accounts.create_user(
            email=email, full_name=full_name, password=password, role=Role(role)
        )
        _record_created(user)
    click.echo(f"Cuenta creada: {user.email} ({role}).")
    if generate_password:
        click.echo(f"Contraseña: {password}")


@users_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Solo mostrar qué pasaría con cada fila.")
@with_appcontext
def import_users_command(file: Path, dry_run: bool) -> None:
    """Import people from a CSV file (columns in docs/administracion.md): every row or none.

    Prints each row's result; exits with 1 if the file has errors (nothing is imported)."""
    limit = current_app.config["PEOPLE_IMPORT_MAX_BYTES"]
    if file.stat().st_size > limit:
        raise click.ClickException(
            f"el archivo pesa más de {limit // (1024 * 1024)} MB, el máximo permitido "
            "(ACADEMY_PEOPLE_IMPORT_MAX_BYTES)"
        )
    data = file.read_bytes()
    if dry_run:
        report = imports.check(data)
        _print_import_report(report)
        if not report.ok:
            sys.exit(1)
        click.echo("Prueba: no se guardó nada.")
        return
    try:
        with transaction():
            upload = imports.record_file(data, file.name, actor=None)
            report, applied = imports.apply(data, actor=None, upload=upload)
            audit.record(
                audit.AuditAction.PEOPLE_IMPORTED,
                actor=None,
                target_type="people_import",
                target_id=upload.id,
                target_label=file.name,
                created=applied.created,
                updated=applied.updated,
                unchanged=applied.unchanged,
            )
    except imports.ImportRefused as refused:
        _print_import_report(refused.report)
        click.echo("No se importó nada: corrige los errores y vuelve a intentarlo.", err=True)
        sys.exit(1)
    _print_import_report(report)
    click.echo(
        f"Importación lista: {applied.created} nuevas, {applied.updated} actualizadas, "
        f"{applied.unchanged} sin cambios."
    )


def _print_import_report(report: Any) -> None:
    for result in report.rows:
        line = f"fila {result.row}: {result.person.email or '-'}: {result.label}"
        if result.changes:
            line += f" ({', '.join(result.changes)})"
        click.echo(line)
    for problem in report.warnings:
        click.echo(f"aviso: {problem}")
    for problem in report.errors:
        click.echo(f"error: {problem}", err=True)
    click.echo(
        f"Filas: {len(report.rows)}. Errores: {len(report.errors)}. Avisos: {len(report.warnings)}."
    )


def register(app: Flask) -> None:
    app.cli.add_command(init_command)
    app.cli.add_command(serve_command)
    app.cli.add_command(users_group)
    app.cli.add_command(content_group)
    app.cli.add_command(quizzes_group)
    app.cli.add_command(mail_group)
    app.cli.add_command(worker_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(certificates_group)
    app.cli.add_command(reports_group)
