"""The admin's forms for cohorts. The people chosen from a search are read in the view (one
checkbox per person, ``persona``); the services check them."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from academy.progress.cohorts import MAX_NAME

DATE_MESSAGE = _l("Escribe la fecha como año, mes y día (por ejemplo 2027-03-01).")


class SpanishDateField(DateField):
    """A date (the browser's date picker sends ISO), with the error in our words."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(str(DATE_MESSAGE)) from None


def _name_field() -> StringField:
    return StringField(
        _l("Nombre del grupo"),
        description=_l("Por ejemplo: «Generación marzo 2027» o «Región de Los Lagos»."),
        validators=[
            DataRequired(_l("Escribe un nombre para el grupo.")),
            Length(max=MAX_NAME, message=_l("El nombre puede tener hasta %(max)d caracteres.")),
        ],
    )


class DatesMixin:
    starts_on = SpanishDateField(
        _l("Fecha de inicio"),
        description=_l("Opcional."),
        validators=[Optional()],
        render_kw={"type": "date"},
    )
    ends_on = SpanishDateField(
        _l("Fecha de término"),
        description=_l("Opcional."),
        validators=[Optional()],
        render_kw={"type": "date"},
    )

    def validate_ends_on(self, field: DateField) -> None:
        starts = self.starts_on.data  # type: ignore[attr-defined]
        if field.data and starts and field.data < starts:
            raise ValidationError(_l("La fecha de término no puede ser anterior a la de inicio."))


class NewCohortForm(DatesMixin, FlaskForm):
    course = SelectField(
        _l("Curso"), coerce=int, validators=[DataRequired(_l("Elige el curso del grupo."))]
    )
    name = _name_field()

    def __init__(self, *args: Any, courses: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.course.choices = courses


class EditCohortForm(DatesMixin, FlaskForm):
    name = _name_field()


class TrainerForm(FlaskForm):
    email = EmailField(
        _l("Correo del relator o relatora"),
        description=_l("La cuenta debe existir y tener rol de relator o de administración."),
        validators=[
            DataRequired(_l("Escribe un correo.")),
            Length(max=254, message=_l("El correo es demasiado largo.")),
        ],
        render_kw={"autocomplete": "off"},
    )


class ActionForm(FlaskForm):
    """A button that changes the cohort (close, reopen, archive...): only its CSRF token."""


class CsvForm(FlaskForm):
    file = FileField(
        _l("Archivo CSV"),
        description=_l(
            "Una persona por fila: su correo o su RUT (con o sin puntos y guion). Puede tener "
            "una fila de encabezado «correo» o «rut». UTF-8 o el CSV de Excel."
        ),
        validators=[FileRequired(_l("Elige el archivo CSV."))],
        render_kw={"accept": ".csv,text/csv"},
    )
