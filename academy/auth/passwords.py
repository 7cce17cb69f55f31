"""What makes a password acceptable."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

# The passwords people try first, Chilean favourites included.
# fmt: off
COMMON = frozenset(
    (
        "123456789", "1234567890", "12345678910", "qwertyuiop", "1q2w3e4r5t", "password1",
        "password123", "contraseña", "contrasena", "contraseña1", "contrasena1",
        "contraseña123", "contrasena123", "iloveyou1", "111111111", "0123456789",
        "9876543210", "abcdefghij", "abc1234567", "qwerty1234", "passw0rd123",
        "administrador", "municipalidad", "municipio123", "chile12345", "santiago123",
        "colocolo12", "universidad", "bienvenido", "bienvenido1", "holamundo1",
        "teamo12345", "123123123", "1234512345", "superman12", "futbol1234",
    )
)
# fmt: on


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why this password is too weak, in the user's language, or None if it is fine."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        return _("La contraseña debe tener al menos %(n)s caracteres.", n=minimum)
    if len(password) > 128:
        return _("La contraseña no puede tener más de 128 caracteres.")
    lowered = password.casefold()
    if lowered in COMMON or len(set(lowered)) < 4:
        return _("Esa contraseña es demasiado fácil de adivinar. Elige otra.")
    local_part = email.split("@")[0].casefold()
    if (local_part and len(local_part) >= 4 and local_part in lowered) or (
        name and name.casefold().replace(" ", "") == lowered
    ):
        return _("La contraseña no debe contener tu correo ni tu nombre.")
    return None
