"""Who may do what. Views ask these named checks instead of comparing roles inline."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

from academy.auth.models import User
from academy.extensions import login_manager

F = TypeVar("F", bound=Callable[..., Any])


def can_manage_people(user: User) -> bool:
    return user.is_authenticated and user.is_admin


def can_edit_courses(user: User) -> bool:
    """Trainers and admins write, revise and publish course content."""
    return user.is_authenticated and user.is_trainer


def can_review_cases(user: User) -> bool:
    """Trainers and admins have a review queue; whose cases they review is
    academy.progress.cohorts.teaches."""
    return user.is_authenticated and user.is_trainer


def can_issue_certificates(user: User) -> bool:
    """Admins issue, revoke, re-issue and download any certificate."""
    return user.is_authenticated and user.is_admin


def can_read_audit_log(user: User) -> bool:
    """Admins read the audit log; nobody changes it."""
    return user.is_authenticated and user.is_admin


def can_manage_mail(user: User) -> bool:
    """Admins see the mail that could not be sent and ask for it to be sent again."""
    return user.is_authenticated and user.is_admin


def can_read_reports(user: User) -> bool:
    """Admins read every report; trainers read those of the cohorts they follow."""
    return user.is_authenticated and user.is_trainer


def require(check: Callable[[User], bool]) -> Callable[[F], F]:
    """Sign-in first (redirect to the login page), then the check (403 if it fails)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not check(current_user):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
