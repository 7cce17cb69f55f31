"""The case lesson's editor form, and the admin's forms for a course's trainers and cohorts.

The learner's answers and the trainer's rubric are plain forms read in the views: their fields
come from the case (one per prompt, one per criterion), and the services check them.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from academy.cases import definition as case_definition
from academy.courses.forms import LessonForm
from academy.forms import unix_newlines
from academy.progress import cohorts


class CaseLessonForm(LessonForm):
    """A case lesson: the text is the scenario; the prompts and rubric are written below it."""

    case = TextAreaField(
        _l("Consignas y rúbrica"),
        filters=[unix_newlines],
        render_kw={"rows": 24, "spellcheck": "false"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.body.label.text = _l("Escenario del caso (Markdown)")

    def validate_case(self, field: TextAreaField) -> None:
        self.definition, problems = case_definition.from_text(field.data or "")
        if problems:  # every problem, each its own error, as the file check reports them
            field.errors.extend(problems[:-1])
            raise ValidationError(problems[-1])


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
                max=cohorts.MAX_NAME,
                message=_l("El nombre puede tener hasta %(max)d caracteres."),
            ),
        ],
        render_kw={"autocomplete": "off"},
    )
