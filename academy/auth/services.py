"""Account logic, free of the request: views and the CLI both call these."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import Enum
from functools import cache

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from academy.auth.models import Role, User
from academy.db import utcnow
from academy.extensions import db

RESET_SALT = "academy.password-reset"
CONFIRM_SALT = "academy.confirm-email"
INVITATION_SALT = "academy.invitation"


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def email_taken(email: str, *, except_user_id: int | None = None) -> bool:
    query = select(User.id).where(User.email == email.strip().lower())
    if except_user_id is not None:
        query = query.where(User.id != except_user_id)
    return db.session.scalar(query) is not None


def rut_taken(rut: str, *, except_user_id: int | None = None) -> bool:
    query = select(User.id).where(User.rut == rut)
    if except_user_id is not None:
        query = query.where(User.id != except_user_id)
    return db.session.scalar(query) is not None


def create_user(
    *,
    email: str,
    full_name: str,
    password: str,
    role: Role = Role.LEARNER,
    comuna_cut: str | None = None,
    rut: str | None = None,
    job_title: str | None = None,
    locale: str | None = None,
    confirmed: bool = True,
) -> User:
    """``confirmed=False`` for self-registration: the account waits for the mailed link."""
    user = User(
        email=email.strip().lower(),
        full_name=full_name.strip(),
        role=role.value,
        comuna_cut=comuna_cut,
        rut=rut,
        job_title=job_title or None,
        locale=locale,
        email_confirmed_at=utcnow() if confirmed else None,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def replace_pending(
    user: User,
    *,
    full_name: str,
    password: str,
    comuna_cut: str,
    rut: str | None,
    job_title: str | None,
    locale: str | None,
) -> None:
    """A registration for an address whose account was never confirmed takes its place: that
    account was never usable, and its confirmation links stop working (the password changed)."""
    user.full_name = full_name.strip()
    user.comuna_cut = comuna_cut
    user.rut = rut
    user.job_title = job_title or None
    user.locale = locale
    user.set_password(password)


def spend_hashing_time(password: str) -> None:
    """As long as hashing a new password takes, for the answer that hashes none: registering
    an address that has an account must not answer faster than one that has not."""
    generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def generate_password() -> str:
    """A random password people can type: five groups of four letters and digits."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(5))


def count_admins() -> int:
    query = select(func.count(User.id)).where(User.role == Role.ADMIN.value, User.active)
    return db.session.scalar(query) or 0


class LoginResult(Enum):
    OK = "ok"
    BAD_CREDENTIALS = "bad-credentials"
    INACTIVE = "inactive"
    UNCONFIRMED = "unconfirmed"


@dataclass(frozen=True)
class Authentication:
    result: LoginResult
    user: User | None = None


def authenticate(email: str, password: str) -> Authentication:
    user = find_by_email(email)
    if user is None:
        # Spend the same time as a real check so that timing does not reveal accounts.
        check_password_hash(_dummy_hash(), password)
        return Authentication(LoginResult.BAD_CREDENTIALS)
    if not user.check_password(password):
        return Authentication(LoginResult.BAD_CREDENTIALS)
    if not user.active:
        return Authentication(LoginResult.INACTIVE, user)
    if user.email_confirmed_at is None:
        return Authentication(LoginResult.UNCONFIRMED, user)
    user.last_login_at = utcnow()
    return Authentication(LoginResult.OK, user)


def change_password(user: User, new_password: str) -> None:
    """Set a new password and end every other session of this user."""
    user.set_password(new_password)
    user.session_version += 1


def confirm_email(user: User) -> None:
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()


# Password reset --------------------------------------------------------------------------


class ResetTokenError(Enum):
    EXPIRED = "expired"
    INVALID = "invalid"
    USED = "used"


def _serializer(salt: str = RESET_SALT) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _fingerprint(user: User) -> str:
    # Ties the token to the current password: once the password changes, the link is spent.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:20]


def make_reset_token(user: User) -> str:
    return _serializer().dumps({"u": user.id, "f": _fingerprint(user)})


def make_confirm_token(user: User) -> str:
    """The link mailed at registration; a later registration for the address (a new
    password) spends it, as a password change spends a reset link."""
    return _serializer(CONFIRM_SALT).dumps({"u": user.id, "f": _fingerprint(user)})


def make_invitation_token(user: User) -> str:
    """The link mailed to a person an admin brought in: they choose their first password.
    Valid longer than a reset link (``INVITATION_MAX_AGE``); choosing the password spends it."""
    return _serializer(INVITATION_SALT).dumps({"u": user.id, "f": _fingerprint(user)})


def user_for_invitation_token(token: str) -> User | ResetTokenError:
    return user_for_reset_token(
        token, salt=INVITATION_SALT, max_age=current_app.config["INVITATION_MAX_AGE"]
    )


def user_for_confirm_token(token: str) -> User | ResetTokenError:
    return user_for_reset_token(
        token, salt=CONFIRM_SALT, max_age=current_app.config["EMAIL_CONFIRM_MAX_AGE"]
    )


def user_for_reset_token(
    token: str, *, salt: str = RESET_SALT, max_age: int | None = None
) -> User | ResetTokenError:
    if max_age is None:
        max_age = current_app.config["PASSWORD_RESET_MAX_AGE"]
    try:
        data = _serializer(salt).loads(token, max_age=max_age)
    except SignatureExpired:
        return ResetTokenError.EXPIRED
    except BadSignature:
        return ResetTokenError.INVALID
    if not isinstance(data, dict):
        return ResetTokenError.INVALID
    user = db.session.get(User, data.get("u")) if isinstance(data.get("u"), int) else None
    if user is None or not user.active:
        return ResetTokenError.INVALID
    if data.get("f") != _fingerprint(user):
        return ResetTokenError.USED
    return user


@cache
def _dummy_hash() -> str:
    method = current_app.config["PASSWORD_HASH_METHOD"]
    return generate_password_hash(secrets.token_hex(16), method=method)
