"""Email addresses: one rule for every form and command that takes one.

Accounts are known by their address, so the sign-in form must accept every address the
platform can give an account, whether through registration, the profile page, ``academy users
create`` or ``academy init``. All of them check it here.

email_validator refuses the special-use domains of RFC 6761 ("localhost", "test", "invalid"...)
as not globally deliverable. We accept ``localhost`` and its subdomains: ``academy init`` gives
the first admin ``admin@academia.localhost`` unless told another address, and the development
sender is ``no-responder@academia.localhost``. Mail to them stays on the machine (the
development mail backend only prints it), which is what a first account on a new machine
needs; a real address is set in «Mi perfil» or with ``academy init --admin-email``. The other
special-use domains stay refused, and no deliverability (DNS) check is made: an address is
checked by the link mailed to it, not by a lookup that fails offline.
"""

from __future__ import annotations

from typing import Any

import email_validator
from email_validator import EmailNotValidError, validate_email
from wtforms.validators import ValidationError

LOCAL_DOMAIN = "localhost"

# The library's documented way to allow one special-use domain is to remove it from this list
# (its README, "Testing"); the list is the library's, read at each validation.
if LOCAL_DOMAIN in email_validator.SPECIAL_USE_DOMAIN_NAMES:
    email_validator.SPECIAL_USE_DOMAIN_NAMES.remove(LOCAL_DOMAIN)


def normalise(address: str) -> str:
    """The address as accounts store it (normalised, lower case); raises
    :class:`EmailNotValidError` with the library's reason (in English) when it is not one."""
    return validate_email(address.strip(), check_deliverability=False).normalized.lower()


class ValidEmail:
    """WTForms validator: an address :func:`normalise` accepts; the field keeps the
    normalised form, so that forms look up and store what the commands do."""

    def __init__(self, message: Any) -> None:
        self.message = message

    def __call__(self, _form: Any, field: Any) -> None:
        try:
            field.data = normalise(field.data or "")
        except EmailNotValidError as error:
            raise ValidationError(self.message) from error
