"""The admin's forms for a course's trainers and cohorts.

The learner's answers and the trainer's rubric are plain forms read in the views: their fields
come from the case (one per prompt, one per criterion), and the services check them.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Length

from academy.cases.services import MAX_COHORT_NAME


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


class CohortForm(FlaskForm):
    name = StringField(
        _l("Nombre del grupo"),
        description=_l("Por ejemplo: «Generación marzo 2026» o «Región de Los Lagos»."),
        validators=[
            DataRequired(_l("Escribe un nombre para el grupo.")),
            Length(
                max=MAX_COHORT_NAME,
                message=_l("El nombre puede tener hasta %(max)d caracteres."),
            ),
        ],
        render_kw={"autocomplete": "off"},
    )
