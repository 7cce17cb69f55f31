"""The admin's forms for people."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Regexp

from academy.auth.forms import ProfileFields, email_field
from academy.auth.models import ROLE_LABELS


class PersonForm(ProfileFields, FlaskForm):
    """An admin edits a person: the profile's fields (the same checks), role and status."""

    email = email_field(_l("Correo electrónico"))
    role = SelectField(
        _l("Rol"), choices=[SelectChoice(value, label) for value, label in ROLE_LABELS.items()]
    )
    active = BooleanField(
        _l("Cuenta activa"),
        description=_l("Una cuenta desactivada no puede iniciar sesión; su historial se conserva."),
    )

    def __init__(self, *args: Any, user_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user_id = user_id
        self._set_comuna_choices()
        self.full_name.description = _l("Tal como aparecerá en sus certificados.")
        self.comuna.description = _l("La comuna de la municipalidad donde trabaja.")


class ImportForm(FlaskForm):
    file = FileField(
        _l("Archivo CSV de personas"),
        description=_l(
            "Columnas: correo, nombre y comuna (obligatorias); rut, cargo y cohorte "
            "(opcionales). UTF-8 o el CSV de Excel, separado por comas o por punto y coma."
        ),
        validators=[FileRequired(_l("Elige el archivo CSV."))],
        render_kw={"accept": ".csv,text/csv"},
    )


class ConfirmImportForm(FlaskForm):
    """Confirms one stored file: the hash is the one the dry run showed."""

    sha256 = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{64}$")])
