"""Account forms. Every message is shown beside its field, in the user's language."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from stdnum import exceptions as stdnum_errors
from stdnum.cl import rut as rut_number
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from academy import comunas
from academy.auth import services
from academy.auth.emails import ValidEmail
from academy.auth.passwords import password_problem
from academy.i18n import LANGUAGE_NAMES

REQUIRED = _l("Este campo es obligatorio.")
NAME_LENGTH = _l("Escribe entre %(min)d y %(max)d caracteres.")


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def none_if_blank(value: Any) -> Any:
    """Absent optional values are NULL, never '': ``Optional()`` stops the chain before any
    later check could convert them, and a unique column holds many NULLs but one ''."""
    return None if isinstance(value, str) and not value.strip() else value


def lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def email_field(label: Any) -> EmailField:
    return EmailField(
        label,
        filters=[lower],
        validators=[
            DataRequired(REQUIRED),
            Length(max=254, message=_l("El correo es demasiado largo.")),
            ValidEmail(_l("Escribe un correo válido, por ejemplo nombre@municipalidad.cl.")),
        ],
        render_kw={"autocomplete": "email"},
    )


def valid_rut(field: StringField) -> str | None:
    """The field's RUT, compact (None when blank); a wrong check digit is refused with a
    clear message, which tells nothing about any account. The field keeps what was typed."""
    if not field.data:
        field.data = None
        return None
    try:
        return str(rut_number.validate(field.data))
    except stdnum_errors.ValidationError as error:
        raise ValidationError(
            _l("El RUT no es válido. Revisa los números y el dígito verificador.")
        ) from error


class ProfileFields:
    """Fields shared by registration and the profile page."""

    full_name = StringField(
        _l("Nombre completo"),
        description=_l("Tal como debe aparecer en tus certificados."),
        filters=[strip],
        validators=[DataRequired(REQUIRED), Length(min=3, max=120, message=NAME_LENGTH)],
        render_kw={"autocomplete": "name"},
    )
    comuna = SelectField(
        _l("Comuna"),
        description=_l("La comuna de la municipalidad donde trabajas."),
        validators=[DataRequired(_l("Elige tu comuna de la lista."))],
        validate_choice=False,  # checked against the official list below, with our message
    )
    rut = StringField(
        _l("RUT (opcional)"),
        description=_l("Por ejemplo 12.345.678-5."),
        filters=[strip, none_if_blank],
        validators=[Optional(), Length(max=14, message=_l("El RUT es demasiado largo."))],
    )
    job_title = StringField(
        _l("Cargo (opcional)"),
        filters=[strip, none_if_blank],
        validators=[Optional(), Length(max=120, message=NAME_LENGTH)],
        render_kw={"autocomplete": "organization-title"},
    )

    user_id: int | None = None

    def _set_comuna_choices(self) -> None:
        self.comuna.choices = [SelectChoice("", _l("Elige tu comuna"))] + [
            SelectChoice(cut, name, optgroup=region)
            for region, items in comunas.choices_by_region().items()
            for cut, name in items
        ]

    def validate_comuna(self, field: SelectField) -> None:
        if comunas.get(field.data) is None:
            raise ValidationError(_l("Elige tu comuna de la lista."))

    def validate_rut(self, field: StringField) -> None:
        compact = valid_rut(field)
        if compact is not None and services.rut_taken(compact, except_user_id=self.user_id):
            raise ValidationError(_l("Ese RUT ya está registrado en otra cuenta."))
        field.data = compact

    def validate_email(self, field: EmailField) -> None:
        if services.email_taken(field.data, except_user_id=self.user_id):
            raise ValidationError(
                _l("Ya existe una cuenta con ese correo. ¿Olvidaste tu contraseña?")
            )

    def taken_now(self) -> None:
        """The database refused the save: another account took the email or the RUT after
        this form checked them. Say which, as the checks now would."""
        for field, check in ((self.email, self.validate_email), (self.rut, self.validate_rut)):
            try:
                check(field)
            except ValidationError as error:
                field.errors = [*field.errors, str(error)]
                return
        self.form_errors.append(  # type: ignore[attr-defined]
            _l("Otra persona guardó esos datos al mismo tiempo. Revísalos y vuelve a enviar.")
        )


class NewPasswordFields:
    password = PasswordField(
        _l("Contraseña"),
        description=_l("Al menos 10 caracteres. Una frase que recuerdes es una buena opción."),
        validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "new-password"},
    )
    password_confirm = PasswordField(
        _l("Repite la contraseña"),
        validators=[
            DataRequired(REQUIRED),
            EqualTo("password", _l("Las contraseñas no coinciden.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )

    def password_context(self) -> dict[str, str]:
        return {}

    def validate_password(self, field: PasswordField) -> None:
        problem = password_problem(field.data or "", **self.password_context())
        if problem:
            raise ValidationError(problem)


class RegisterForm(ProfileFields, NewPasswordFields, FlaskForm):
    email = email_field(_l("Correo electrónico"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._set_comuna_choices()

    def password_context(self) -> dict[str, str]:
        return {"email": self.email.data or "", "name": self.full_name.data or ""}

    def validate_email(self, field: EmailField) -> None:
        """Not whether the address has an account: registration answers the same either way
        and tells the owner by email (see auth.views.register)."""

    def validate_rut(self, field: StringField) -> None:
        """Only the RUT's form, not whether an account has it: registration answers the same
        either way and explains by email to the address given (see auth.views.register)."""
        field.data = valid_rut(field)


class ConfirmEmailForm(FlaskForm):
    password = PasswordField(
        _l("Contraseña"),
        description=_l("La que elegiste al crear la cuenta."),
        validators=[DataRequired(REQUIRED), Length(max=128)],
        render_kw={"autocomplete": "current-password"},
    )


class ProfileForm(ProfileFields, FlaskForm):
    email = email_field(_l("Correo electrónico"))
    # Checked by the view, and only when the email changes: whoever finds a session left open
    # must not be able to move the account to an address they own, then reset its password.
    current_password = PasswordField(
        _l("Contraseña actual"),
        description=_l("Solo si cambias tu correo."),
        validators=[Optional(), Length(max=128)],
        render_kw={"autocomplete": "current-password"},
    )
    locale = SelectField(
        _l("Idioma"),
        choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()],
        validate_choice=True,
    )

    def __init__(self, *args: Any, user_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user_id = user_id
        self._set_comuna_choices()
        self.locale.validators = [DataRequired(REQUIRED)]


class LoginForm(FlaskForm):
    email = email_field(_l("Correo electrónico"))
    password = PasswordField(
        _l("Contraseña"),
        validators=[DataRequired(REQUIRED), Length(max=128)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Mantener la sesión iniciada en este equipo"))


class ForgotPasswordForm(FlaskForm):
    email = email_field(_l("Correo electrónico"))


class ResetPasswordForm(NewPasswordFields, FlaskForm):
    pass


class ChangePasswordForm(NewPasswordFields, FlaskForm):
    current_password = PasswordField(
        _l("Contraseña actual"),
        validators=[DataRequired(REQUIRED), Length(max=128)],
        render_kw={"autocomplete": "current-password"},
    )
    password = PasswordField(
        _l("Nueva contraseña"),
        description=NewPasswordFields.password.kwargs["description"],
        validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "new-password"},
    )
