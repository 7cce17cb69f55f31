"""Sign-in, registration, password reset and the profile."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import Select, bindparam, select
from werkzeug.wrappers import Response

from academy import audit, mail, outbox
from academy.auth import services
from academy.auth.forms import (
    ChangePasswordForm,
    ConfirmEmailForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
)
from academy.auth.models import User
from academy.db import Taken, unique_or_taken
from academy.extensions import db, limiter, login_manager
from academy.i18n import current_language
from academy.security import safe_next

bp = Blueprint("auth", __name__, template_folder="templates")

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Inicia sesión para ver esa página.")
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    ident, _sep, version = user_id.partition(":")
    if not ident.isdigit() or not version.isdigit():
        return None
    # Runs on every signed-in request: a statement built once costs less than Session.get,
    # which builds its query each time (the request's session is new, so nothing is cached).
    user = db.session.execute(_user_by_id(), {"id": int(ident)}).scalar_one_or_none()
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


@cache
def _user_by_id() -> Select[tuple[User]]:
    return select(User).where(User.id == bindparam("id"))


def _account_key() -> str:
    return "account:" + (request.form.get("email") or "").strip().lower()[:254]


def _failed_login(response: Response) -> bool:
    # Only failed attempts use up the allowance: a successful sign-in redirects.
    return response.status_code != 302


@bp.route("/entrar", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"], deduct_when=_failed_login
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    methods=["POST"],
    key_func=_account_key,
    deduct_when=_failed_login,
)
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    if form.validate_on_submit():
        outcome = services.authenticate(form.email.data, form.password.data)
        if outcome.result is services.LoginResult.OK and outcome.user is not None:
            login_user(outcome.user, remember=form.remember.data)
            home = url_for("progress.my_courses")
            return redirect(safe_next(request.args.get("next")) or home)
        if outcome.result is services.LoginResult.UNCONFIRMED and outcome.user is not None:
            # A redirect, not an error page: the new link must be committed to be sent.
            _mail_confirmation(outcome.user)
            flash(
                _(
                    "Tu cuenta todavía no está activa. Te enviamos de nuevo el enlace para "
                    "activarla: ábrelo desde tu correo."
                ),
                "info",
            )
            return redirect(url_for("auth.login"))
        if outcome.result is services.LoginResult.INACTIVE:
            form.form_errors.append(
                _("Tu cuenta está desactivada. Escribe a la academia si necesitas volver a usarla.")
            )
        else:
            form.form_errors.append(_("El correo o la contraseña no son correctos."))
        _record_failed_sign_in(form.email.data, outcome)
        return render_template("auth/login.html", form=form), 401
    status = 422 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


def _record_failed_sign_in(email: str, outcome: services.Authentication) -> None:
    """The audit log keeps every refused sign-in (the email tried, never the password, and the
    address). The request answers 401 and so rolls back: the event, its only work, is
    committed here on its own."""
    account_id = outcome.user.id if outcome.user is not None else None
    db.session.rollback()
    audit.record(
        audit.AuditAction.SIGN_IN_FAILED,
        actor=None,
        target_type="user",
        target_id=account_id,
        target_label=email.strip().lower(),
        reason=outcome.result.value,
    )
    db.session.commit()


@bp.post("/salir")
def logout() -> Response:
    logout_user()
    flash(_("Cerraste tu sesión."), "success")
    return redirect(url_for("core.home"))


def _went_through(response: Response) -> bool:
    # A registration that mailed someone (it redirects); a form sent back to correct is free.
    return response.status_code == 302


@bp.route("/registro", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["REGISTER_LIMIT_PER_IP"], methods=["POST"], deduct_when=_went_through
)
def register() -> Any:
    if not current_app.config["REGISTRATION_OPEN"]:
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        details = {
            "full_name": form.full_name.data,
            "password": form.password.data,
            "comuna_cut": form.comuna.data,
            "rut": form.rut.data,
            "job_title": form.job_title.data,
            "locale": current_language(),
        }
        owner = services.find_by_email(form.email.data)
        rut_elsewhere = _rut_elsewhere(form.rut.data, owner)
        pending: User | None = None
        try:
            with unique_or_taken():
                if owner is None and not rut_elsewhere:
                    pending = services.create_user(
                        email=form.email.data, confirmed=False, **details
                    )
                elif owner is not None and owner.email_confirmed_at is None and not rut_elsewhere:
                    services.replace_pending(owner, **details)
                    pending = owner
                else:
                    # No account to make: as long as making one would have taken.
                    services.spend_hashing_time(form.password.data)
        except Taken:
            # The address or the RUT was registered meanwhile: answered as if it had been
            # before, never on the form.
            pending = None
            owner = services.find_by_email(form.email.data)
            rut_elsewhere = _rut_elsewhere(form.rut.data, owner)
            if owner is None and not rut_elsewhere:
                form.taken_now()  # neither is taken now (what took it went away again)
                return render_template("auth/register.html", form=form), 422
        if pending is not None:
            _mail_confirmation(pending)
        elif owner is not None and (owner.email_confirmed_at is not None or not rut_elsewhere):
            # One mail per attempt: an address with an account hears of the attempt, whatever
            # RUT was typed (its owner can sign in; the RUT's account is not theirs to learn of).
            if owner.active:
                _mail_registration_attempt(owner)
        else:
            _mail_rut_taken(form.email.data)
        # The same answer whether or not the address or the RUT has an account: nobody learns
        # who has one.
        flash(
            _(
                "Te enviamos un correo a %(email)s. Abre el enlace que contiene para activar tu "
                "cuenta; si no llega en unos minutos, revisa la carpeta de spam.",
                email=form.email.data,
            ),
            "success",
        )
        return redirect(url_for("auth.login"))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/register.html", form=form), status


def _mail_confirmation(user: User) -> None:
    message = mail.build_message(
        user.email,
        _("Activa tu cuenta en la Academia"),
        "confirm_email",
        user=user,
        link=mail.external_url("auth.confirm_email", token=services.make_confirm_token(user)),
        days=current_app.config["EMAIL_CONFIRM_MAX_AGE"] // 86400,
    )
    outbox.queue(message)


def _rut_elsewhere(rut: str | None, owner: User | None) -> bool:
    """Whether an account other than the address's own already has the RUT."""
    return rut is not None and services.rut_taken(
        rut, except_user_id=owner.id if owner is not None else None
    )


def _mail_rut_taken(email: str) -> None:
    """To the address typed at registration, when another account has the RUT typed: why no
    account was made, and the ways back in. Nothing about that account (its address, its
    name): whoever typed the RUT may not be its owner."""
    message = mail.build_message(
        email,
        _("No pudimos crear tu cuenta en la Academia"),
        "registration_rut_taken",
        login=mail.external_url("auth.login"),
        forgot=mail.external_url("auth.forgot_password"),
    )
    outbox.queue(message)


def _mail_registration_attempt(user: User) -> None:
    message = mail.build_message(
        user.email,
        _("Alguien intentó crear una cuenta con tu correo"),
        "registration_attempt",
        user=user,
        login=mail.external_url("auth.login"),
        link=mail.external_url("auth.reset_password", token=services.make_reset_token(user)),
        hours=current_app.config["PASSWORD_RESET_MAX_AGE"] // 3600,
    )
    outbox.queue(message)


@bp.route("/registro/activar/<token>", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def confirm_email(token: str) -> Any:
    """The link mailed at registration. Opening it changes nothing: the person signs in with
    the password they chose, so that only who chose it and reads the mail can activate it."""
    found = services.user_for_confirm_token(token)
    if isinstance(found, services.ResetTokenError):
        return render_template("auth/confirm_invalid.html", message=CONFIRM_ERRORS[found]), 400
    if found.email_confirmed_at is not None:
        flash(_("Tu cuenta ya está activa. Inicia sesión."), "info")
        return redirect(url_for("auth.login"))
    form = ConfirmEmailForm()
    if form.validate_on_submit():
        if found.check_password(form.password.data):
            services.confirm_email(found)
            login_user(found)
            flash(_("¡Bienvenida o bienvenido! Tu cuenta está lista."), "success")
            return redirect(url_for("core.home"))
        form.password.errors.append(_("La contraseña no es la que elegiste al crear la cuenta."))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/confirm_email.html", form=form, user=found), status


@bp.route("/recuperar", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def forgot_password() -> Any:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = services.find_by_email(form.email.data)
        if user is not None and user.active:
            token = services.make_reset_token(user)
            message = mail.build_message(
                user.email,
                _("Restablece tu contraseña"),
                "reset_password",
                user=user,
                link=mail.external_url("auth.reset_password", token=token),
                hours=current_app.config["PASSWORD_RESET_MAX_AGE"] // 3600,
            )
            outbox.queue(message)
        # The same answer whether or not the account exists: nobody learns who has one.
        flash(
            _(
                "Si hay una cuenta con ese correo, te enviamos un enlace para crear una "
                "contraseña nueva. Revisa tu bandeja de entrada y la carpeta de spam."
            ),
            "success",
        )
        return redirect(url_for("auth.login"))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/forgot_password.html", form=form), status


CONFIRM_ERRORS = {
    services.ResetTokenError.EXPIRED: _l(
        "El enlace venció. Crea la cuenta de nuevo con el mismo correo y te enviaremos otro."
    ),
    services.ResetTokenError.USED: _l(
        "Este enlace ya no sirve: se pidió otro después. Abre el enlace del último correo."
    ),
    services.ResetTokenError.INVALID: _l(
        "El enlace no es válido. Copia el enlace completo del correo."
    ),
}
RESET_ERRORS = {
    services.ResetTokenError.EXPIRED: _l(
        "El enlace venció. Pide uno nuevo; cada enlace sirve por tiempo limitado."
    ),
    services.ResetTokenError.USED: _l(
        "Este enlace ya se usó. Si necesitas cambiar la contraseña otra vez, pide uno nuevo."
    ),
    services.ResetTokenError.INVALID: _l(
        "El enlace no es válido. Copia el enlace completo del correo o pide uno nuevo."
    ),
}


INVITATION_ERRORS = {
    services.ResetTokenError.EXPIRED: _l(
        "El enlace venció. Pide uno nuevo en «¿Olvidaste tu contraseña?» con tu correo."
    ),
    services.ResetTokenError.USED: _l(
        "Ya elegiste tu contraseña con este enlace. Inicia sesión; si no la recuerdas, pide "
        "un enlace nuevo en «¿Olvidaste tu contraseña?»."
    ),
    services.ResetTokenError.INVALID: _l(
        "El enlace no es válido. Copia el enlace completo del correo o pide uno nuevo."
    ),
}


@bp.route("/bienvenida/<token>", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def accept_invitation(token: str) -> Any:
    """The link mailed to people an admin imported: they choose their first password."""
    found = services.user_for_invitation_token(token)
    if isinstance(found, services.ResetTokenError):
        return render_template("auth/reset_invalid.html", message=INVITATION_ERRORS[found]), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.change_password(found, form.password.data)
        services.confirm_email(found)
        logout_user()
        flash(_("Tu contraseña quedó guardada. Ya puedes iniciar sesión."), "success")
        return redirect(url_for("auth.login"))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/invitation.html", form=form, user=found), status


@bp.route("/recuperar/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Any:
    found = services.user_for_reset_token(token)
    if isinstance(found, services.ResetTokenError):
        return render_template("auth/reset_invalid.html", message=RESET_ERRORS[found]), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.change_password(found, form.password.data)
        services.confirm_email(found)  # the link proved who reads the mail
        logout_user()
        flash(_("Tu contraseña cambió. Ya puedes iniciar sesión con la nueva."), "success")
        return redirect(url_for("auth.login"))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/reset_password.html", form=form), status


@bp.route("/perfil", methods=["GET", "POST"])
@login_required
def profile() -> Any:
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    form = ProfileForm(
        user_id=user.id,
        data={
            "full_name": user.full_name,
            "email": user.email,
            "rut": user.rut_display,
            "comuna": user.comuna_cut or "",
            "job_title": user.job_title,
            "locale": user.locale or current_language(),
        },
    )
    if form.validate_on_submit() and not _email_change_refused(form, user):
        try:
            with unique_or_taken():
                user.full_name = form.full_name.data
                user.email = form.email.data
                user.rut = form.rut.data
                user.comuna_cut = form.comuna.data
                user.job_title = form.job_title.data or None
                user.locale = form.locale.data
        except Taken:
            form.taken_now()  # another account took the email or RUT since the check
        else:
            flash(_("Guardamos los cambios de tu perfil."), "success")
            return redirect(url_for("auth.profile"))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/profile.html", form=form), status


def _email_change_refused(form: ProfileForm, user: User) -> bool:
    """A new email needs the current password; the reason goes beside the field."""
    if form.email.data == user.email:
        return False
    if not form.current_password.data:
        form.current_password.errors.append(
            _("Para cambiar tu correo, escribe tu contraseña actual.")
        )
        return True
    if not user.check_password(form.current_password.data):
        form.current_password.errors.append(_("La contraseña actual no es correcta."))
        return True
    return False


@bp.route("/perfil/contrasena", methods=["GET", "POST"])
@login_required
def change_password() -> Any:
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not user.check_password(form.current_password.data):
            form.current_password.errors.append(_("La contraseña actual no es correcta."))
        else:
            services.change_password(user, form.password.data)
            login_user(user)  # this session goes on; every other one has ended
            flash(_("Tu contraseña cambió. Cerramos tus sesiones en otros equipos."), "success")
            return redirect(url_for("auth.profile"))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/change_password.html", form=form), status
