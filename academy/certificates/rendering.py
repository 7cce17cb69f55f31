"""Certificate templates: from a folder and a plain dict to a PDF.

A template is a folder, ``certificates/<name>/`` in the content directory, holding
``certificate.html`` (Jinja), its CSS and its images. Trainers write them, so they are
rendered in Jinja's sandbox from a plain dict, with every field required (an undefined one is
an error, never a blank on a certificate), and WeasyPrint reads only the folder's own files:
no network, no other local file. The academy ships a ``default`` template as package data,
used when the content directory has none of that name.

Nothing here touches the database or the request: :mod:`academy.certificates.services`
builds the context and keeps the PDF. Inside :func:`in_child_process` (the background jobs that
render one certificate after another), the PDF is made in a child process replaced every few
hundred renders (academy/certificates/render_process.py), from the same plain data.
"""

from __future__ import annotations

import json
import mimetypes
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import DataHandler, Request, url2pathname

import segno
from flask import current_app
from flask_babel import gettext as _
from jinja2 import (
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
    UndefinedError,
)
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from academy.certificates import render_process
from academy.courses import lookups

ENTRY = lookups.CERTIFICATE_ENTRY
# Archival PDF that may carry attached files (the certificate's data as JSON).
PDF_VARIANT = "pdf/a-3b"
DATA_ATTACHMENT = "certificado.json"
DEFAULT = lookups.DEFAULT_CERTIFICATE
# The academy's logo, if the template's folder has one (the first found).
LOGOS = ("logo.svg", "logo.png")
NAME = lookups.CERTIFICATE_NAME


class CertificateTemplateError(Exception):
    """A template that cannot be rendered; the message says where and why, in Spanish."""


@dataclass(frozen=True)
class Signatory:
    name: str
    position: str


@dataclass(frozen=True)
class PdfMetadata:
    title: str
    author: str
    subject: str
    lang: str = "es"
    keywords: list[str] = field(default_factory=list)


def templates_dir() -> Path:
    return lookups.certificate_templates_dir()


def package_default() -> Path:
    return Path(str(resources.files("academy.certificates").joinpath(DEFAULT)))


def template_folder(name: str) -> Path:
    """The folder of template ``name``; the package's own for ``default`` if the content
    directory has none."""
    if not NAME.match(name):
        raise CertificateTemplateError(
            _("«%(name)s» no es un nombre de plantilla de certificado válido.", name=name)
        )
    folder = templates_dir() / name
    if (folder / ENTRY).is_file():
        return folder
    if name == DEFAULT:
        return package_default()
    missing = f"certificates/{name}/{ENTRY}"
    raise CertificateTemplateError(
        _(
            "No existe la plantilla de certificado «%(name)s»: falta %(path)s.",
            name=name,
            path=missing,
        )
    )


def qr_svg(url: str) -> Markup:
    """The verification link as an inline SVG QR code, sized by the template's CSS."""
    code = segno.make(url, error="m")
    return Markup(code.svg_inline(scale=1, border=0, omitsize=True, title=url))  # noqa: S704


def _environment(folder: Path) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=FileSystemLoader(str(folder)),
        autoescape=True,
        undefined=StrictUndefined,
        auto_reload=False,
    )


def available() -> list[str]:
    """The templates admins may preview and courses may name: ``default`` and every folder of
    the templates directory that holds a ``certificate.html``."""
    return lookups.certificate_templates()


def render_html(folder: Path, context: dict[str, Any]) -> str:
    """The template's HTML for ``context``; :class:`CertificateTemplateError` names the file,
    the line and, for a field that does not exist, the field."""
    environment = _environment(folder)
    try:
        return environment.get_template(ENTRY).render(context)
    except TemplateSyntaxError as error:
        where = f"{folder.name}/{error.name or ENTRY}:{error.lineno}"
        raise CertificateTemplateError(
            _("%(where)s: error de sintaxis (%(detail)s)", where=where, detail=error.message)
        ) from error
    except UndefinedError as error:
        raise CertificateTemplateError(
            f"{_where(folder, error)}: {_undefined(error.message or str(error))}"
        ) from error
    except SecurityError as error:
        raise CertificateTemplateError(
            _(
                "%(where)s: la plantilla intenta algo que no está permitido (%(detail)s)",
                where=_where(folder, error),
                detail=error.message or error,
            )
        ) from error
    except TemplateError as error:
        where = _where(folder, error)
        raise CertificateTemplateError(f"{where}: {error.message or error}") from error


# Jinja's words for a missing name ("'apellido' is undefined") or a missing attribute or key
# ("'dict object' has no attribute 'cargo2'"): the field is the last quoted name.
_UNDEFINED = re.compile(r"'([^']+)' is undefined$|has no attribute '([^']+)'$")


def _undefined(message: str) -> str:
    found = _UNDEFINED.search(message)
    if found is None:
        return message
    field_name = found.group(1) or found.group(2)
    return _(
        "el campo «%(field)s» no existe (los campos que una plantilla puede usar están en "
        "docs/autoria.md, «Certificados»)",
        field=field_name,
    )


def _where(folder: Path, error: BaseException) -> str:
    line = _template_line(error)
    return f"{folder.name}/{ENTRY}" + (f":{line}" if line else "")


def _template_line(error: BaseException) -> int | None:
    """The template line a runtime error happened on, from Jinja's rewritten traceback."""
    tb = error.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(ENTRY):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


class _FolderOnly:
    """Builds WeasyPrint's URL fetcher for one template folder (WeasyPrint loads lazily)."""

    def __init__(self, folder: Path) -> None:
        self.root = folder.resolve()

    def fetcher(self) -> Any:
        from weasyprint.urls import URLFetcher, URLFetcherResponse  # see render_pdf

        root = self.root

        class FolderFetcher(URLFetcher):  # type: ignore[misc]
            def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
                scheme = urlsplit(url).scheme.lower()
                if scheme == "data":
                    # Only data: URLs get here: they carry their bytes, nothing is opened.
                    with DataHandler().data_open(Request(url)) as data:  # noqa: S310
                        return URLFetcherResponse(url, body=data.read(), headers=dict(data.info()))
                if scheme == "file":
                    path = Path(url2pathname(unquote(urlsplit(url).path))).resolve()
                    if path.is_relative_to(root) and path.is_file():
                        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                        return URLFetcherResponse(
                            url, body=path.read_bytes(), headers={"Content-Type": mime}
                        )
                raise ForbiddenResource(url)

        return FolderFetcher(fail_on_errors=True)


class ForbiddenResource(ValueError):
    """A template asked for something outside its folder (another file, the network)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


def render_pdf(
    folder: Path,
    html: str,
    metadata: PdfMetadata,
    data: dict[str, Any] | None = None,
    created: datetime | None = None,
) -> bytes:
    """Lay out ``html`` with the folder's files only and return a PDF/A-3b, carrying ``data``
    (if given) as the attached file ``certificado.json``."""
    # WeasyPrint is imported here, not at the top: it takes about a second to load, and only
    # a process that renders a certificate (the rendering child, a worker) needs it.
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError

    fetcher = _FolderOnly(folder).fetcher()
    try:
        document = HTML(
            string=html, base_url=folder.resolve().as_uri() + "/", url_fetcher=fetcher
        ).render()
    except FatalURLFetchingError as error:
        cause = error.__cause__
        url = cause.url if isinstance(cause, ForbiddenResource) else str(error)
        where = f"{folder.name}/{ENTRY}"
        raise CertificateTemplateError(
            _(
                "%(where)s: la plantilla pide «%(url)s», que no está en su carpeta. Una "
                "plantilla solo puede usar sus propios archivos (imágenes, CSS, fuentes), "
                "nunca otros archivos ni direcciones de internet.",
                where=where,
                url=url[:200],
            )
        ) from error
    document.metadata.title = metadata.title
    document.metadata.authors = [metadata.author]
    document.metadata.description = metadata.subject
    document.metadata.keywords = metadata.keywords
    document.metadata.lang = metadata.lang
    document.metadata.generator = "academy"
    attachments = []
    if data is not None:
        from weasyprint import Attachment  # see above

        # "Data": the file is the information the page shows, machine-readable (PDF/A-3's
        # AFRelationship, which WeasyPrint writes for PDF/A-3 variants).
        attachments.append(
            Attachment(
                string=json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True),
                name=DATA_ATTACHMENT,
                description="Datos del certificado",
                relationship="Data",
                created=created,
                modified=created,
            )
        )
    return bytes(
        document.write_pdf(pdf_variant=PDF_VARIANT, attachments=attachments, finisher=_finish)
    )


def _finish(_document: Any, pdf: Any) -> None:
    """WeasyPrint lists each attachment twice in the catalogue's /AF array: once is enough.
    And its /Producer goes: the signature rewrites the XMP metadata with pyHanko as the
    producer, and PDF/A wants the information dictionary to say the same as the XMP, so
    pyHanko must find none to append itself to."""
    if "AF" in pdf.catalog:
        unique = list(dict.fromkeys(pdf.catalog["AF"]))
        pdf.catalog["AF"].clear()
        pdf.catalog["AF"].extend(unique)
    pdf.info.pop("Producer", None)


def logo(folder: Path) -> str | None:
    """The academy's logo for templates in ``folder``: the folder's own ``logo.svg`` or
    ``logo.png`` (the file name, for ``<img src>``), or None. Each folder carries its own, so
    the fetcher never has to open another folder's."""
    for candidate in LOGOS:
        if (folder / candidate).is_file():
            return candidate
    return None


_IN_CHILD: ContextVar[bool] = ContextVar("certificates_render_in_child", default=False)


@contextmanager
def in_child_process() -> Iterator[None]:
    """Certificates rendered inside this block (in this thread) are made in the child process
    of academy/certificates/render_process.py, replaced every ``CERTIFICATE_RENDERS_PER_PROCESS``
    renders, so that WeasyPrint's memory leaves with it. For the jobs that render many in a row;
    a web request renders its one certificate in-process, in the language of whoever asked."""
    token = _IN_CHILD.set(True)
    try:
        yield
    finally:
        _IN_CHILD.reset(token)


def render(
    name: str,
    context: dict[str, Any],
    metadata: PdfMetadata,
    data: dict[str, Any] | None = None,
    created: datetime | None = None,
) -> bytes:
    folder = template_folder(name)
    # Every route through here gets the folder's logo, whoever built the context.
    context = {"logo": logo(folder), **context}
    if _IN_CHILD.get():
        limit = int(current_app.config["CERTIFICATE_RENDERS_PER_PROCESS"])
        return render_process.CHILD.run(
            limit, render_folder, folder, context, metadata, data, created
        )
    return render_folder(folder, context, metadata, data, created)


def render_folder(
    folder: Path,
    context: dict[str, Any],
    metadata: PdfMetadata,
    data: dict[str, Any] | None = None,
    created: datetime | None = None,
) -> bytes:
    """The PDF of the template in ``folder`` for ``context``, here or in the child process
    (which has no application: everything it needs is in the arguments)."""
    return render_pdf(folder, render_html(folder, context), metadata, data, created)
