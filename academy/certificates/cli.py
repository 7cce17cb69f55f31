"""``academy certificates issue|revoke|verify|keygen``: the same services as the admin's
pages, and the signing key."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from academy.auth.models import User
from academy.certificates import batches, codes, services, signing
from academy.certificates.models import Certificate
from academy.certificates.rendering import CertificateTemplateError
from academy.courses.models import Course
from academy.db import transaction
from academy.extensions import db
from academy.progress import services as progress

CLI = services.Actor(None)


@click.group("certificates")
def certificates_group() -> None:
    """Issue, revoke and verify certificates."""


@certificates_group.command("issue")
@click.option("--course", "slug", required=True, help="Slug del curso.")
@click.option("--cohort", help="Solo a las personas de este grupo del curso (su nombre).")
@click.option("--email", help="Solo a esta persona (si no, a todas las que pueden recibirlo).")
@with_appcontext
def issue_command(slug: str, cohort: str | None, email: str | None) -> None:
    """Issue certificates to learners who completed the course and have none."""
    course = progress.get_course_for_admin(slug)
    if course is None:
        raise click.ClickException(f"no existe el curso «{slug}»")
    if email is not None:
        if cohort is not None:
            raise click.UsageError("usa --email o --cohort, no ambas")
        _issue_one(course, email)
    else:
        _issue_batch(course, cohort)


def _issue_one(course: Course, email: str) -> None:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no hay una cuenta con el correo {email}")
    try:
        with transaction():
            certificate = services.issue(course, user.id, by=CLI)
    except (services.CertificateError, CertificateTemplateError) as error:
        raise click.ClickException(f"{error} No se emitió el certificado.") from error
    click.echo(f"{codes.display(certificate.code)}  {certificate.full_name}")
    click.echo("Certificados emitidos: 1.")


def _issue_batch(course: Course, cohort_name: str | None) -> None:
    """A batch, as the admin's page starts, run here with a progress bar: one certificate per
    transaction, so an interrupted run is finished by running the command again (or by a
    worker, which resumes stalled batches)."""
    group = None
    if cohort_name is not None:
        group = batches.cohort_named(course, cohort_name)
        if group is None:
            raise click.ClickException(
                f"el curso «{course.slug}» no tiene el grupo «{cohort_name}»"
            )
    user_ids = [enrolment.user_id for enrolment in batches.eligible(course, group)]
    if not user_ids:
        click.echo("Nadie espera certificado en este curso.")
        return
    with transaction():
        batch = batches.create_here(course, user_ids, cohort=group, by=CLI)
    batch_id = batch.id
    with click.progressbar(length=len(user_ids), label="Emitiendo") as bar:
        batches.run(batch_id, on_step=lambda _batch: bar.update(1))
    batch = batches.get(batch_id)
    assert batch is not None
    for certificate in batches.certificates_of(batch):
        click.echo(f"{codes.display(certificate.code)}  {certificate.full_name}")
    for error in batch.errors:
        click.echo(f"No emitido a {error['name']}: {error['message']}", err=True)
    click.echo(f"Certificados emitidos: {batch.issued}.")
    if batch.failed:
        raise SystemExit(1)


@certificates_group.command("preview")
@click.argument("template", default="default")
@click.option(
    "--to",
    "target",
    type=click.Path(dir_okay=False, writable=True),
    required=True,
    help="Archivo PDF donde escribir la vista previa.",
)
@with_appcontext
def preview_command(template: str, target: str) -> None:
    """Render a template with sample data, to check it before a course uses it."""
    try:
        pdf = services.preview(template)
    except CertificateTemplateError as error:
        raise click.ClickException(str(error)) from error
    with open(target, "wb") as handle:
        handle.write(pdf)
    click.echo(f"Vista previa de «{template}» en {target}.")


def _verify_file(path: Path) -> Certificate:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise click.ClickException(f"no se puede leer {path}: {error.strerror}") from error
    try:
        found = services.verify_file(data)
    except services.NotAPdf as error:
        raise click.ClickException(f"{path} no es un PDF") from error
    if found.certificate is None:
        raise click.ClickException(
            f"{path} no es un certificado emitido por la academia, o fue modificado después "
            "de emitirse"
        )
    signature = found.signature
    assert signature is not None
    if not signature.present:
        click.echo(f"{path}: idéntico al emitido; sin firma digital (emitido antes de firmarlos)")
    elif signature.holds:
        click.echo(f"{path}: idéntico al emitido; firma digital válida ({signature.signer})")
    else:
        raise click.ClickException(f"{path}: la firma digital no es válida")
    return found.certificate


def _find(typed: str) -> Certificate:
    try:
        certificate = services.by_code(typed)
    except codes.CodeError as error:
        if error.typo:
            raise click.ClickException(
                f"el código «{typed}» tiene un error de tipeo (no cuadra su dígito de control)"
            ) from error
        raise click.ClickException(f"«{typed}» no es un código de certificado") from error
    if certificate is None:
        raise click.ClickException(f"no existe un certificado con el código {typed}")
    return certificate


@certificates_group.command("revoke")
@click.argument("code")
@click.option("--reason", required=True, help="Motivo, visible en la verificación pública.")
@with_appcontext
def revoke_command(code: str, reason: str) -> None:
    """Revoke a certificate, with a reason anyone verifying it will see."""
    try:
        with transaction():
            certificate = _find(code)
            services.revoke(certificate, reason, by=CLI)
    except services.CertificateError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Certificado {codes.display(certificate.code)} revocado.")


@certificates_group.command("keygen")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Carpeta donde escribir academia.key y academia.crt (instance/certificados si no).",
)
@click.option("--name", help="Nombre en el certificado (el emisor configurado si no).")
@click.option("--force", is_flag=True, help="Reemplazar una llave que ya existe.")
@with_appcontext
def keygen_command(folder: Path | None, name: str | None, force: bool) -> None:
    """Create a self-signed key and certificate to sign certificates with."""
    target = folder or Path(current_app.instance_path) / signing.DEVELOPMENT_DIR
    issuer = name or str(current_app.config["CERTIFICATE_ISSUER"])
    try:
        key, cert = signing.write_pair(target, issuer, issuer, force=force)
    except FileExistsError as error:
        raise click.ClickException(
            f"ya existe {error}: los certificados ya emitidos están firmados con esa llave. "
            "Usa --force solo si de verdad quieres reemplazarla (guarda antes una copia)."
        ) from error
    click.echo(f"Llave:       {key} (solo su dueño puede leerla)")
    click.echo(f"Certificado: {cert}")
    click.echo("Configura:")
    click.echo(f"  ACADEMY_CERTIFICATE_KEY={key.resolve()}")
    click.echo(f"  ACADEMY_CERTIFICATE_CERT={cert.resolve()}")


@certificates_group.command("verify")
@click.argument("code")
@with_appcontext
def verify_command(code: str) -> None:
    """Say whether a certificate (its code, or its PDF file) is valid, expired, revoked or
    superseded; for a file, also whether it is exactly as issued and its signature holds."""
    if code.lower().endswith(".pdf") or Path(code).is_file():
        certificate = _verify_file(Path(code))
    else:
        certificate = _find(code)
    verdict = services.verdict(certificate)
    labels = {
        "valid": "válido",
        "expired": "vencido",
        "revoked": "revocado",
        "superseded": "reemplazado",
    }
    click.echo(f"{codes.display(certificate.code)}: {labels[verdict]}")
    click.echo(f"  nombre:   {certificate.full_name}")
    click.echo(f"  curso:    {certificate.course_title} ({certificate.hours} h)")
    click.echo(f"  emitido:  {certificate.issued_at:%Y-%m-%d}")
    if certificate.expires_at:
        click.echo(f"  vence:    {certificate.expires_at:%Y-%m-%d}")
    if certificate.revoked_at:
        click.echo(
            f"  revocado: {certificate.revoked_at:%Y-%m-%d} ({certificate.revocation_reason})"
        )
    if certificate.superseded_by is not None:
        click.echo(f"  reemplazado por: {codes.display(certificate.superseded_by.code)}")
    if verdict != "valid":
        raise SystemExit(1)
