"""Certificate codes people can read aloud and type: ``7K3M-Q9XA-R2TZ``.

Eleven random symbols of Crockford's base-32 alphabet (no I, L, O or U: nothing to confuse
with 1 or 0) and a check symbol computed with ISO 7064's hybrid system over that alphabet
(MOD 33,32, python-stdnum's ``mod_37_36`` given the alphabet). The check catches every
mistyped symbol and almost every swap of two neighbours, so a typo is reported as a typo
instead of as "not found". Codes are random, never sequential: 32**11 (about 4·10^16) of them.
"""

from __future__ import annotations

import secrets

from flask import current_app
from stdnum.iso7064 import mod_37_36

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_LENGTH = 11
LENGTH = RANDOM_LENGTH + 1
GROUP = 4
# Crockford's decoding: letters people write for digits are read as those digits.
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = str.maketrans("", "", " -_.\u2010\u2011\u2012\u2013\u2014\u00a0")


class CodeError(ValueError):
    """Not a certificate code: ``typo`` when the check symbol disagrees."""

    def __init__(self, typo: bool) -> None:
        super().__init__("typo" if typo else "malformed")
        self.typo = typo


def generate() -> str:
    """A new random code, normalised (no dashes)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return body + mod_37_36.calc_check_digit(body, alphabet=ALPHABET)


def normalise(typed: str) -> str:
    """The code someone typed, as stored; raises :class:`CodeError`.

    Case, spaces and dashes do not matter, and O, I and L read as 0, 1 and 1."""
    code = typed.upper().translate(_SEPARATORS).translate(_READ_AS)
    if len(code) != LENGTH or any(symbol not in ALPHABET for symbol in code):
        raise CodeError(typo=False)
    if not mod_37_36.is_valid(code, alphabet=ALPHABET):
        raise CodeError(typo=True)
    return code


def display(code: str) -> str:
    """``7K3MQ9XAR2TZ`` → ``7K3M-Q9XA-R2TZ``."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


# The links printed on a certificate and in its emails --------------------------------------
# Where the QR code's link leads (the route in views.py is built from it): services have no
# request to build URLs from, and links must start with the configured public address.
VERIFY_PATH = "/certificados/v/"
LOOKUP_PATH = "/certificados/verificar"


def base_url() -> str:
    """The academy's address (BASE_URL) without its trailing slash."""
    return str(current_app.config.get("BASE_URL") or "").rstrip("/")


def verification_url(token: str) -> str:
    """The QR code's link: straight to this certificate's verdict."""
    return f"{base_url()}{VERIFY_PATH}{token}"


def lookup_url() -> str:
    """The page where anyone types a code, printed for those who cannot scan."""
    return f"{base_url()}{LOOKUP_PATH}"
