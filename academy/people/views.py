"""Admins manage people: find them, change their role, deactivate or reactivate them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from academy import comunas
from academy.auth.models import User
from academy.auth.permissions import can_manage_people, require
from academy.extensions import db
from academy.pagination import paginate
from academy.people import services
from academy.people.forms import ROLE_LABELS, PersonForm

bp = Blueprint("people", __name__, url_prefix="/admin/personas", template_folder="templates")


@bp.get("/")
@require(can_manage_people)
def index() -> str:
    query = request.args.get("q", "")[:100]
    role = request.args.get("rol", "")
    page = paginate(services.search(query, role), per_page=services.PAGE_SIZE)
    return render_template(
        "people/index.html", page=page, query=query, role=role, role_labels=ROLE_LABELS
    )


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@require(can_manage_people)
def edit(user_id: int) -> Any:
    person = db.session.get(User, user_id) or abort(404)
    form = PersonForm(obj=person)
    if form.validate_on_submit():
        problem = services.update_account(
            current_user._get_current_object(),  # type: ignore[attr-defined]
            person,
            role=form.role.data,
            active=form.active.data,
        )
        if problem is None:
            flash(_("Guardamos los cambios de %(name)s.", name=person.full_name), "success")
            return redirect(url_for("people.edit", user_id=person.id))
        form.form_errors.append(problem)
    status = 422 if form.is_submitted() else 200
    return render_template(
        "people/edit.html", form=form, person=person, comuna=comunas.get(person.comuna_cut)
    ), status
