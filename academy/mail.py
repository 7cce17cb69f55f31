"""Outgoing mail: printed to the console in development, sent over SMTP otherwise."""

from __future__ import annotations

import smtplib
import sys
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from urllib.parse import urlsplit

from flask import current_app, render_template


def build_message(to: str, subject: str, template: str, **context: object) -> EmailMessage:
    """A plain-text message rendered from ``templates/email/<template>.txt``."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = to
    # One line whatever the caller passes: a line break in a header is an error (and, were it
    # allowed, an injected header). Titles are checked on the way in; older ones may not be.
    message["Subject"] = " ".join(subject.split())
    # The sender's domain, as mail servers expect of a Message-ID.
    sender = parseaddr(message["From"])[1]
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "academia.localhost")
    message.set_content(render_template(f"email/{template}.txt", **context))
    return message


def external_url(endpoint: str, **values: object) -> str:
    """An absolute link for a message: ACADEMY_BASE_URL and the endpoint's path.

    Never the request's host, which a client can choose; the same from a view or a command."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def readable(message: EmailMessage) -> str:
    """A message as a person reads it in a terminal: its headers, then its decoded text.

    ``as_string()`` would show the transfer encoding (quoted-printable folds long lines and
    writes ``=3D`` for ``=``), which breaks the links a developer must open from the console.
    """
    headers = "".join(
        f"{name}: {value}\n"
        for name, value in message.items()
        if name.lower() not in {"content-transfer-encoding", "mime-version"}
    )
    return f"{headers}\n{message.get_content()}"


def send(message: EmailMessage) -> None:
    config = current_app.config
    if config["MAIL_BACKEND"] == "console":
        print(readable(message), file=sys.stdout, flush=True)
        return
    smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    with smtp_class(
        config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=config["MAIL_TIMEOUT"]
    ) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(message)
