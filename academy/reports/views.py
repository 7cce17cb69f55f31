"""The reports' pages and their CSV files: admins see every enrolment, trainers those of the
cohorts they follow. Every list that can be long comes in pages (a page loads only the rows it
shows); every report filters by enrolment dates and downloads as CSV."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from academy import audit, comunas, csvio
from academy.auth.models import User
from academy.auth.permissions import can_read_reports, require
from academy.courses.models import Course
from academy.db import utcnow
from academy.errors import render_error
from academy.inputs import whole_number
from academy.pagination import PAGE_ARG
from academy.progress.models import Cohort
from academy.reports import charts, services
from academy.reports.queries import Scope

bp = Blueprint("reports", __name__, url_prefix="/informes", template_folder="templates")


@bp.context_processor
def _query_arguments() -> dict[str, dict[str, str]]:
    """The filters of the page (without its page number), for links that keep them."""
    return {"args": {k: v for k, v in request.args.items() if k != PAGE_ARG}}


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


def _page_number() -> int:
    return request.args.get(PAGE_ARG, 1, type=whole_number)


def _filters(*, course: Course | None = None) -> tuple[services.Period, list[str], Scope]:
    """The period from ?desde=&hasta= (with what was wrong with it) and the reader's scope;
    ?curso= narrows it to one course (unknown: 404) when ``course`` is not given."""
    period, errors = services.read_period(request.args)
    if course is None and request.args.get("curso"):
        course = services.find_course(request.args["curso"]) or abort(404)
    scope = services.scope_for(_me(), period, course=course)
    return period, errors, scope


def _course_choices() -> list[Course]:
    return services.courses_for(services.scope_for(_me()))


def _csv(export: services.Export, scope: Scope, filters: dict[str, str]) -> Response:
    if export.personal:
        # An export of personal data: audited, and committed with the request before the
        # first row is sent.
        audit.record(
            audit.AuditAction.DATA_EXPORTED,
            actor=_me(),
            target_type="report",
            target_label=_("Informe %(name)s", name=export.name),
            report=export.name,
            filters=filters,
        )
    day = utcnow().strftime("%Y-%m-%d")
    return csvio.download(f"informe-{export.name}-{day}.csv", export.chunks())


def _refuse_bad_dates(errors: list[str]) -> Response | None:
    return render_error(400, " ".join(errors)) if errors else None


def _status(errors: list[str]) -> int:
    return 400 if errors else 200


# Per course and cohort --------------------------------------------------------------------


@bp.get("/")
@require(can_read_reports)
def index() -> tuple[str, int]:
    period, errors, scope = _filters()
    courses = services.courses_for(scope)
    return render_template(
        "reports/index.html",
        rows=services.course_rows(scope, "course", {c.id: c.title for c in courses}),
        slugs={course.id: course.slug for course in courses},
        period=period,
        errors=errors,
    ), _status(errors)


@bp.get("/cursos.csv")
@require(can_read_reports)
def courses_csv() -> Response:
    period, errors, scope = _filters()
    return _refuse_bad_dates(errors) or _csv(services.export("cursos", scope), scope, period.args())


def _visible_course(slug: str) -> Course:
    course = services.find_course(slug) or abort(404)
    if not services.sees_course(services.scope_for(_me(), course=course)):
        abort(404)  # a trainer who neither teaches it nor follows a cohort of it
    return course


@bp.get("/cursos/<slug>/")
@require(can_read_reports)
def course(slug: str) -> tuple[str, int]:
    course = _visible_course(slug)
    period, errors, scope = _filters(course=course)
    total = services.course_total(scope, course)
    return render_template(
        "reports/course.html",
        course=course,
        total=total,
        histogram=charts.histogram_chart(total.histogram),
        page=services.cohort_page(scope, _page_number()),
        period=period,
        errors=errors,
    ), _status(errors)


@bp.get("/cursos/<slug>/grupos.csv")
@require(can_read_reports)
def cohorts_csv(slug: str) -> Response:
    course = _visible_course(slug)
    period, errors, scope = _filters(course=course)
    return _refuse_bad_dates(errors) or _csv(
        services.export("grupos", scope), scope, {"curso": slug, **period.args()}
    )


# By region and comuna ---------------------------------------------------------------------


@bp.get("/territorio/")
@require(can_read_reports)
def regions() -> tuple[str, int]:
    period, errors, scope = _filters()
    rows, total = services.regions_report(scope)
    return render_template(
        "reports/regions.html",
        rows=rows,
        total=total,
        chart=charts.coverage_chart(rows),
        courses=_course_choices(),
        course_slug=request.args.get("curso", ""),
        period=period,
        errors=errors,
    ), _status(errors)


@bp.get("/territorio.csv")
@require(can_read_reports)
def regions_csv() -> Response:
    period, errors, scope = _filters()
    return _refuse_bad_dates(errors) or _csv(
        services.export("regiones", scope), scope, period.args()
    )


def _region_arg() -> str | None:
    region = request.args.get("region") or None
    if region is not None and region not in comunas.REGION_ORDER:
        abort(404)
    return region


@bp.get("/territorio/comunas/")
@require(can_read_reports)
def comunas_page() -> tuple[str, int]:
    period, errors, scope = _filters()
    region = _region_arg()
    return render_template(
        "reports/comunas.html",
        page=services.comuna_page(scope, region, _page_number()),
        region=region,
        region_names=services.region_names(),
        region_order=comunas.REGION_ORDER,
        courses=_course_choices(),
        course_slug=request.args.get("curso", ""),
        period=period,
        errors=errors,
    ), _status(errors)


@bp.get("/territorio/comunas.csv")
@require(can_read_reports)
def comunas_csv() -> Response:
    period, errors, scope = _filters()
    region = _region_arg()
    return _refuse_bad_dates(errors) or _csv(
        services.export("comunas", scope, region=region), scope, period.args()
    )


# Per learner ------------------------------------------------------------------------------


def _learner_scope() -> tuple[services.Period, list[str], Scope, Cohort | None]:
    period, errors, scope = _filters()
    cohort = None
    if request.args.get("grupo"):
        try:
            cohort_id = whole_number(request.args["grupo"])
        except ValueError:
            abort(404)
        cohort = services.cohort_in_scope(cohort_id, scope) or abort(404)
        scope = replace(scope, cohort_id=cohort.id)
    return period, errors, scope, cohort


@bp.get("/personas/")
@require(can_read_reports)
def learners() -> tuple[str, int]:
    period, errors, scope, cohort = _learner_scope()
    return render_template(
        "reports/learners.html",
        page=services.learner_page(scope, _page_number()),
        cohort=cohort,
        courses=_course_choices(),
        course_slug=request.args.get("curso", ""),
        comunas=comunas,
        period=period,
        errors=errors,
    ), _status(errors)


@bp.get("/personas.csv")
@require(can_read_reports)
def learners_csv() -> Response:
    period, errors, scope, _cohort = _learner_scope()
    chosen = {k: v for k, v in request.args.items() if k in ("curso", "grupo")}
    filters = {**period.args(), **chosen}
    return _refuse_bad_dates(errors) or _csv(services.export("personas", scope), scope, filters)


@bp.get("/personas/<int:user_id>")
@require(can_read_reports)
def learner(user_id: int) -> tuple[str, int]:
    period, errors, scope = _filters()
    report = services.learner_report(scope, user_id) or abort(404)
    return render_template(
        "reports/learner.html",
        person=report.person,
        comuna=comunas.get(report.person.comuna_cut),
        rows=report.rows,
        period=period,
        errors=errors,
    ), _status(errors)


@bp.get("/personas/<int:user_id>.csv")
@require(can_read_reports)
def learner_csv(user_id: int) -> Response:
    period, errors, scope = _filters()
    if errors:
        return render_error(400, " ".join(errors))
    report = services.learner_report(scope, user_id) or abort(404)
    export = services.Export(
        f"persona-{user_id}",
        services.learner_course_header(),
        [services.learner_course_cells(row) for row in report.rows],
        personal=True,
    )
    return _csv(export, scope, {"persona": report.person.email, **period.args()})
