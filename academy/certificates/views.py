"""Certificates on the web."""

from __future__ import annotations

from flask import Blueprint

from academy.certificates import models as _models  # noqa: F401

bp = Blueprint("certificates", __name__, template_folder="templates")
