"""Cohorts: admins list, create and run them (rename, dates, close, archive, trainers, enrol
people from a search or a CSV); trainers see theirs and only their learners ("Mis grupos").

Who sees what is :mod:`academy.progress.cohorts`'s rule; a cohort the user may not see is a
404, as if it did not exist.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select

from academy import comunas
from academy.auth.models import User
from academy.auth.permissions import require
from academy.cohorts.forms import (
    ActionForm,
    CsvForm,
    EditCohortForm,
    NewCohortForm,
    TrainerForm,
)
from academy.courses.models import Course, CourseStatus
from academy.extensions import db
from academy.inputs import whole_number
from academy.pagination import paginate
from academy.people import services as people
from academy.progress import cohorts
from academy.progress import services as progress
from academy.progress.models import Cohort, CohortStatus, Enrolment

bp = Blueprint("cohorts", __name__, template_folder="templates")

PAGE_SIZE = 50
LEARNERS_PAGE_SIZE = 50
SEARCH_PAGE_SIZE = 25


def can_manage_cohorts(user: User) -> bool:
    """Admins create and run cohorts and enrol people in them."""
    return user.is_authenticated and user.is_admin


def can_follow_cohorts(user: User) -> bool:
    """Trainers (and admins) have "Mis grupos"; which cohorts is cohorts.visible_cohorts."""
    return user.is_authenticated and user.is_trainer


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


def _status_labels() -> dict[str, str]:
    return {CohortStatus.OPEN.value: _("Abierto"), CohortStatus.CLOSED.value: _("Cerrado")}


def _cohort_or_404(cohort_id: int) -> Cohort:
    cohort = db.session.get(Cohort, cohort_id)
    if cohort is None or not cohorts.can_see(_me(), cohort):
        abort(404)
    return cohort


def _comuna_names(rows: list[progress.RosterRow]) -> dict[str, str]:
    names = {}
    for row in rows:
        comuna = comunas.get(row.user.comuna_cut)
        if comuna is not None:
            names[comuna.cut] = comuna.name
    return names


def _courses() -> list[Course]:
    return list(
        db.session.scalars(
            select(Course).where(Course.status != CourseStatus.ARCHIVED).order_by(Course.title)
        )
    )


def _list_filters() -> dict[str, Any]:
    course_id = request.args.get("curso", type=whole_number)
    status = request.args.get("estado", "")
    return {
        "course_id": course_id,
        "status": status if status in _status_labels() else "",
        "include_archived": request.args.get("archivados") == "1",
    }


def _filter_args(filters: dict[str, Any]) -> dict[str, Any]:
    args = {"curso": filters["course_id"], "estado": filters["status"] or None}
    if filters["include_archived"]:
        args["archivados"] = "1"
    return {key: value for key, value in args.items() if value}


# The admin's list and a new cohort ----------------------------------------------------------


@bp.get("/admin/grupos/")
@require(can_manage_cohorts)
def index() -> str:
    filters = _list_filters()
    page = paginate(
        cohorts.visible_cohorts(
            _me(),
            course_id=filters["course_id"],
            status=filters["status"] or None,
            include_archived=filters["include_archived"],
        ),
        per_page=PAGE_SIZE,
    )
    return render_template(
        "cohorts/index.html",
        page=page,
        sizes=cohorts.sizes([cohort.id for cohort in page.items]),
        filters=filters,
        filter_args=_filter_args(filters),
        courses=_courses(),
        status_labels=_status_labels(),
    )


def _new_form(formdata: Any = None) -> NewCohortForm:
    choices = [(course.id, course.title) for course in _courses()]
    if formdata is None:
        return NewCohortForm(
            formdata=None,
            courses=choices,
            course=request.args.get("curso", type=whole_number),
        )
    return NewCohortForm(courses=choices)


@bp.route("/admin/grupos/nuevo", methods=["GET", "POST"])
@require(can_manage_cohorts)
def create() -> Any:
    form = _new_form(formdata=request.form if request.method == "POST" else None)
    if form.validate_on_submit():
        course = db.session.get(Course, form.course.data) or abort(400)
        try:
            cohort = cohorts.create(
                course,
                form.name.data or "",
                starts_on=form.starts_on.data,
                ends_on=form.ends_on.data,
                by=_me(),
            )
        except cohorts.CohortError as error:
            form.name.errors.append(str(error))
        else:
            flash(_("Creamos el grupo «%(name)s».", name=cohort.name), "success")
            return redirect(url_for(".detail", cohort_id=cohort.id), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("cohorts/new.html", form=form), status


# One cohort, for admins ---------------------------------------------------------------------


def _detail_page(
    cohort: Cohort,
    *,
    edit_form: EditCohortForm | None = None,
    trainer_form: TrainerForm | None = None,
    status: int = 200,
) -> Any:
    page = paginate(cohorts.learners(cohort), per_page=LEARNERS_PAGE_SIZE)
    rows = progress.roster_rows(cohort.course, page.items)
    edit_form = edit_form or EditCohortForm(
        formdata=None, name=cohort.name, starts_on=cohort.starts_on, ends_on=cohort.ends_on
    )
    return render_template(
        "cohorts/detail.html",
        cohort=cohort,
        page=page,
        rows=rows,
        comuna_names=_comuna_names(rows),
        trainers=cohorts.trainers_of(cohort),
        edit_form=edit_form,
        trainer_form=trainer_form or TrainerForm(formdata=None),
        action_form=ActionForm(formdata=None),
        status_labels=_status_labels(),
    ), status


@bp.get("/admin/grupos/<int:cohort_id>")
@require(can_manage_cohorts)
def detail(cohort_id: int) -> Any:
    return _detail_page(_cohort_or_404(cohort_id))


@bp.post("/admin/grupos/<int:cohort_id>")
@require(can_manage_cohorts)
def edit(cohort_id: int) -> Any:
    cohort = _cohort_or_404(cohort_id)
    form = EditCohortForm()
    if not form.validate():
        return _detail_page(cohort, edit_form=form, status=422)
    try:
        renamed = cohorts.rename(cohort, form.name.data or "", by=_me())
        cohorts.set_dates(cohort, form.starts_on.data, form.ends_on.data)
    except cohorts.CohortError as error:
        form.name.errors.append(str(error))
        return _detail_page(cohort, edit_form=form, status=422)
    if renamed:
        flash(_("El grupo ahora se llama «%(name)s».", name=cohort.name), "success")
    else:
        flash(_("Guardamos los datos del grupo."), "success")
    return redirect(url_for(".detail", cohort_id=cohort.id), 303)


def _change(cohort_id: int, change: Any, done: str, unchanged: str) -> Any:
    cohort = _cohort_or_404(cohort_id)
    if not ActionForm().validate():
        abort(400)
    try:
        changed = change(cohort, by=_me())
    except cohorts.CohortError as error:
        flash(str(error), "error")
        return _detail_page(cohort, status=422)
    flash(done if changed else unchanged, "success" if changed else "info")
    return redirect(url_for(".detail", cohort_id=cohort.id), 303)


@bp.post("/admin/grupos/<int:cohort_id>/cerrar")
@require(can_manage_cohorts)
def close(cohort_id: int) -> Any:
    return _change(
        cohort_id,
        cohorts.close,
        _("Cerramos el grupo: ya no recibe nuevas inscripciones."),
        _("El grupo ya estaba cerrado."),
    )


@bp.post("/admin/grupos/<int:cohort_id>/reabrir")
@require(can_manage_cohorts)
def reopen(cohort_id: int) -> Any:
    return _change(
        cohort_id,
        cohorts.reopen,
        _("Reabrimos el grupo: puedes inscribir personas de nuevo."),
        _("El grupo ya estaba abierto."),
    )


@bp.post("/admin/grupos/<int:cohort_id>/archivar")
@require(can_manage_cohorts)
def archive(cohort_id: int) -> Any:
    return _change(
        cohort_id,
        cohorts.archive,
        _(
            "Archivamos el grupo: ya no aparece en las listas. Sus inscripciones, avances y "
            "certificados se conservan."
        ),
        _("El grupo ya estaba archivado."),
    )


@bp.post("/admin/grupos/<int:cohort_id>/restaurar")
@require(can_manage_cohorts)
def restore(cohort_id: int) -> Any:
    return _change(
        cohort_id,
        cohorts.restore,
        _("Restauramos el grupo; sigue cerrado hasta que lo reabras."),
        _("El grupo no estaba archivado."),
    )


@bp.post("/admin/grupos/<int:cohort_id>/relatores")
@require(can_manage_cohorts)
def add_trainer(cohort_id: int) -> Any:
    cohort = _cohort_or_404(cohort_id)
    form = TrainerForm()
    if not form.validate():
        return _detail_page(cohort, trainer_form=form, status=422)
    email = (form.email.data or "").strip().lower()
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None:
        form.email.errors.append(_("No hay una cuenta con el correo «%(email)s».", email=email))
        return _detail_page(cohort, trainer_form=form, status=422)
    try:
        added = cohorts.assign_trainer(cohort, user, by=_me())
    except cohorts.CohortError as error:
        form.email.errors.append(str(error))
        return _detail_page(cohort, trainer_form=form, status=422)
    if added:
        flash(_("%(name)s sigue ahora este grupo.", name=user.full_name), "success")
    else:
        flash(_("%(name)s ya seguía este grupo.", name=user.full_name), "info")
    return redirect(url_for(".detail", cohort_id=cohort.id), 303)


@bp.post("/admin/grupos/<int:cohort_id>/relatores/<int:user_id>/quitar")
@require(can_manage_cohorts)
def remove_trainer(cohort_id: int, user_id: int) -> Any:
    cohort = _cohort_or_404(cohort_id)
    if not ActionForm().validate():
        abort(400)
    user = cohorts.unassign_trainer(cohort, user_id, by=_me())
    if user is None:
        abort(404)
    flash(_("%(name)s ya no sigue este grupo.", name=user.full_name), "success")
    return redirect(url_for(".detail", cohort_id=cohort.id), 303)


# Enrolling people: from a search, or from a CSV -----------------------------------------------


def _search_filters() -> people.Filters:
    args = {key: request.args.get(key, "") for key in ("q", "comuna", "region")}
    return people.Filters.from_args(args)


def _search_page(cohort: Cohort, *, error: str | None = None, status: int = 200) -> Any:
    filters = _search_filters()
    searched = bool(filters.args())
    page = None
    placed: dict[int, int | None] = {}
    if searched:
        statement = people.search(replace(filters, status="activa"))
        page = paginate(statement, per_page=SEARCH_PAGE_SIZE)
        ids = [person.id for person in page.items]
        placed = dict(
            db.session.execute(
                select(Enrolment.user_id, Enrolment.cohort_id).where(
                    Enrolment.course_id == cohort.course_id, Enrolment.user_id.in_(ids)
                )
            ).all()
        )
    names = {
        found.id: found.name
        for found in db.session.scalars(
            select(Cohort).where(Cohort.id.in_({v for v in placed.values() if v}))
        )
    }
    return render_template(
        "cohorts/enrol.html",
        cohort=cohort,
        filters=filters,
        searched=searched,
        page=page,
        placed=placed,
        cohort_names=names,
        comunas=comunas,
        comunas_by_region=comunas.choices_by_region(),
        regions=_regions(),
        form=ActionForm(formdata=None),
        error=error,
    ), status


def _regions() -> list[tuple[str, str]]:
    names = {c.region_code: c.region for c in comunas.all_comunas().values()}
    return [(code, names[code]) for code in comunas.REGION_ORDER]


def _enrolled_message(result: cohorts.Enrolled) -> str:
    parts = [
        ngettext(
            "Inscribimos a %(num)d persona en el grupo.",
            "Inscribimos a %(num)d personas en el grupo.",
            result.changed,
        )
    ]
    if result.moved:
        parts.append(
            ngettext(
                "%(num)d ya estaba en el curso y cambió de grupo.",
                "%(num)d ya estaban en el curso y cambiaron de grupo.",
                result.moved,
            )
        )
    if result.already:
        parts.append(
            ngettext(
                "%(num)d ya estaba en este grupo.",
                "%(num)d ya estaban en este grupo.",
                result.already,
            )
        )
    return " ".join(parts)


@bp.get("/admin/grupos/<int:cohort_id>/inscribir")
@require(can_manage_cohorts)
def enrol(cohort_id: int) -> Any:
    return _search_page(_cohort_or_404(cohort_id))


@bp.post("/admin/grupos/<int:cohort_id>/inscribir")
@require(can_manage_cohorts)
def enrol_selected(cohort_id: int) -> Any:
    cohort = _cohort_or_404(cohort_id)
    if not ActionForm().validate():
        abort(400)
    try:
        chosen = [whole_number(value) for value in request.form.getlist("persona")]
    except ValueError:
        abort(400)
    if not chosen:
        return _search_page(
            cohort, error=_("Marca al menos una persona para inscribirla."), status=422
        )
    try:
        result = cohorts.enrol(cohort, chosen, by=_me())
    except cohorts.CohortError as error:
        return _search_page(cohort, error=str(error), status=422)
    flash(_enrolled_message(result), "success")
    return redirect(url_for(".enrol", cohort_id=cohort.id, **_search_filters().args()), 303)


@bp.route("/admin/grupos/<int:cohort_id>/inscribir-csv", methods=["GET", "POST"])
@require(can_manage_cohorts)
def enrol_csv(cohort_id: int) -> Any:
    cohort = _cohort_or_404(cohort_id)
    form = CsvForm()
    match = None
    if form.validate_on_submit():
        data = form.file.data.read()
        try:
            match, result = cohorts.enrol_csv(cohort, data, by=_me())
        except cohorts.CohortError as error:
            form.file.errors.append(str(error))
        else:
            if result is not None:
                flash(_enrolled_message(result), "success")
                return redirect(url_for(".detail", cohort_id=cohort.id), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("cohorts/enrol_csv.html", cohort=cohort, form=form, match=match), status


# Trainers: "Mis grupos" -----------------------------------------------------------------------


@bp.get("/grupos/")
@require(can_follow_cohorts)
def mine() -> str:
    page = paginate(cohorts.visible_cohorts(_me()), per_page=PAGE_SIZE)
    return render_template(
        "cohorts/mine.html",
        page=page,
        sizes=cohorts.sizes([cohort.id for cohort in page.items]),
        status_labels=_status_labels(),
    )


@bp.get("/grupos/<int:cohort_id>")
@require(can_follow_cohorts)
def followed(cohort_id: int) -> str:
    cohort = _cohort_or_404(cohort_id)
    page = paginate(cohorts.learners(cohort), per_page=LEARNERS_PAGE_SIZE)
    rows = progress.roster_rows(cohort.course, page.items)
    return render_template(
        "cohorts/followed.html",
        cohort=cohort,
        page=page,
        rows=rows,
        comuna_names=_comuna_names(rows),
        trainers=cohorts.trainers_of(cohort),
        status_labels=_status_labels(),
    )
