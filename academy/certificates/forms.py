"""Forms of the certificate pages: issuing (one button per learner), revoking, verifying."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from academy.certificates.services import MAX_REASON, MAX_VALIDITY_MONTHS


class IssueForm(FlaskForm):
    user_id = HiddenField(validators=[DataRequired()])


class ReissueForm(FlaskForm):
    """Only its CSRF token: the certificate is in the address."""


class ValidityForm(FlaskForm):
    months = IntegerField(
        _l("Vigencia del certificado, en meses"),
        description=_l(
            "Para cursos que la ley pide repetir cada cierto tiempo. Se cuenta desde el día en "
            "que la persona terminó el curso. Déjala vacía si el certificado no vence."
        ),
        validators=[
            Optional(),
            NumberRange(
                min=1,
                max=MAX_VALIDITY_MONTHS,
                message=_l("La vigencia va de 1 a %(max)s meses, o se deja vacía."),
            ),
        ],
        render_kw={"inputmode": "numeric", "min": 1, "max": MAX_VALIDITY_MONTHS},
    )


class RevokeForm(FlaskForm):
    reason = TextAreaField(
        _l("Motivo de la revocación"),
        description=_l(
            "Se muestra a quien verifique el certificado. Por ejemplo: «Emitido por error: "
            "la persona no aprobó la evaluación final»."
        ),
        validators=[
            DataRequired(_l("Escribe el motivo de la revocación.")),
            Length(max=MAX_REASON, message=_l("El motivo puede tener hasta %(max)d caracteres.")),
        ],
    )


class VerifyForm(FlaskForm):
    """A GET form anyone may send: no session, so no CSRF token."""

    class Meta:
        csrf = False

    codigo = StringField(
        _l("Código del certificado"),
        description=_l("Está impreso junto al código QR, por ejemplo 7K3M-Q9XA-R2TZ."),
        validators=[DataRequired(_l("Escribe el código del certificado."))],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )


class RutForm(FlaskForm):
    """A GET form anyone may send, like :class:`VerifyForm`."""

    class Meta:
        csrf = False

    rut = StringField(
        _l("RUT de la persona"),
        description=_l("Con o sin puntos, con guion y dígito verificador: 12.345.678-5."),
        validators=[DataRequired(_l("Escribe el RUT."))],
        render_kw={"autocomplete": "off", "spellcheck": "false", "inputmode": "text"},
    )


class UploadForm(FlaskForm):
    """A PDF to compare with the certificates the academy issued (CSRF-protected POST)."""

    archivo = FileField(
        _l("Archivo PDF del certificado"),
        description=_l(
            "El PDF tal como se descargó de la academia, sin abrirlo y guardarlo de nuevo."
        ),
        validators=[FileRequired(_l("Elige el archivo PDF del certificado."))],
        render_kw={"accept": "application/pdf,.pdf"},
    )
