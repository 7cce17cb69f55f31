"""The ``academy`` command: the Flask CLI with the academy's own subcommands.

``academy serve`` serves with gunicorn (``academy run`` is Flask's development server),
``academy db upgrade`` migrates, and the commands below set up the
database and manage accounts. Each command that writes commits once, at its end.
"""

from __future__ import annotations

import sys

import click
from email_validator import EmailNotValidError
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade

from academy.auth import emails
from academy.auth import services as accounts
from academy.auth.models import Role
from academy.auth.passwords import password_problem
from academy.config import ConfigError
from academy.db import transaction


def _create_app() -> Flask:
    from academy import create_app

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
    from academy.courses.cli import import_bundled

    # The address the admin signs in with: the forms' rule, checked before anything is done.
    admin_email = valid_email(admin_email, "--admin-email")
    upgrade()
    import_bundled()
    with transaction():
        if accounts.count_admins() or accounts.find_by_email(admin_email):
            click.echo("La base de datos está al día.")
            return
        password = accounts.generate_password()
        accounts.create_user(
            email=admin_email, full_name="Administración", password=password, role=Role.ADMIN
        )
    click.echo("Base de datos creada. Primera cuenta de administración:")
    click.echo(f"  correo:     {admin_email}")
    click.echo(f"  contraseña: {password}")
    click.echo("Guárdala ahora: no se volverá a mostrar. Cámbiala en «Mi perfil».")


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
    click.echo(f"Cuenta creada: {user.email} ({role}).")
    if generate_password:
        click.echo(f"Contraseña: {password}")


def register(app: Flask) -> None:
    from academy.backup import backup_command
    from academy.courses.cli import content_group
    from academy.jobs import worker_command
    from academy.outbox import mail_group
    from academy.quizzes.cli import quizzes_group
    from academy.serve import serve_command

    app.cli.add_command(init_command)
    app.cli.add_command(serve_command)
    app.cli.add_command(users_group)
    app.cli.add_command(content_group)
    app.cli.add_command(quizzes_group)
    app.cli.add_command(mail_group)
    app.cli.add_command(worker_command)
    app.cli.add_command(backup_command)
