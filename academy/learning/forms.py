"""The admin's form to enrol people in a course."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

MAX_EMAILS = 500


class EnrolPeopleForm(FlaskForm):
    emails = TextAreaField(
        _l("Correos de las personas que quieres inscribir"),
        description=_l("Uno por línea (o separados por comas). Deben tener cuenta."),
        validators=[
            DataRequired(_l("Escribe al menos un correo.")),
            Length(max=MAX_EMAILS * 80, message=_l("Demasiados correos de una vez.")),
        ],
        render_kw={"rows": 6, "autocomplete": "off"},
    )

    def addresses(self) -> list[str]:
        raw = (self.emails.data or "").replace(",", "\n").replace(";", "\n")
        seen: dict[str, None] = {}
        for line in raw.splitlines():
            if line.strip():
                seen.setdefault(line.strip().lower(), None)
        return list(seen)[:MAX_EMAILS]
