"""The admin's forms for people."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField
from wtforms.fields.choices import SelectChoice

ROLE_LABELS = {
    "learner": _l("Participante"),
    "trainer": _l("Relator o relatora"),
    "admin": _l("Administración"),
}


class PersonForm(FlaskForm):
    role = SelectField(
        _l("Rol"), choices=[SelectChoice(value, label) for value, label in ROLE_LABELS.items()]
    )
    active = BooleanField(
        _l("Cuenta activa"),
        description=_l("Una cuenta desactivada no puede iniciar sesión; su historial se conserva."),
    )
