"""The trainers' course editor: courses, units and lessons, their text, history and images.

Every page works without JavaScript; ``static/js/editor.js`` only adds the live preview. The
logic lives in :mod:`academy.courses.structure`, ``revisions``, ``diffs`` and ``images``; these
views read forms, call it and answer.
Writes are committed after the view returns, and only when the answer is not an error, so a
refused save (422) or a conflict (409) leaves the database as it was.
"""

from __future__ import annotations

import re
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from academy import audit, markdown
from academy.auth.permissions import can_edit_courses, require
from academy.courses import diffs, kinds, lookups, revisions, structure
from academy.courses import images as course_images  # a view here is called images
from academy.courses.editing import (
    SOURCE_LABELS,
    course_or_404,
    lesson_or_404,
    revision_or_404,
    unit_or_404,
)
from academy.courses.forms import (
    CASE_LABELS,
    ENROLMENT_LABELS,
    CourseForm,
    ImageForm,
    LessonForm,
    NewCourseForm,
    NewLessonForm,
    NewUnitForm,
    UnitForm,
    kind_labels,
)
from academy.courses.models import (
    Course,
    CourseStatus,
    Lesson,
    LessonRevision,
)
from academy.db import Taken, unique_or_taken
from academy.extensions import db
from academy.forms import (
    lines,
    newer_revision_saved,
    not_saved_message,
    problem_text,
    refusal_message,
)
from academy.inputs import whole_number
from academy.security import image_headers
from academy.text import unix_newlines

bp = Blueprint("editor", __name__, url_prefix="/editor", template_folder="templates")

STATUS_LABELS = {
    CourseStatus.DRAFT.value: _l("Borrador"),
    CourseStatus.PUBLISHED.value: _l("Publicado"),
    CourseStatus.ARCHIVED.value: _l("Archivado"),
}
FIELD_LABELS = {
    "title": _l("Título"),
    "minutes": _l("Minutos estimados"),
    "objectives": _l("Objetivos"),
}
IMAGE_ERRORS = {
    course_images.ImageProblem.TOO_LARGE: _l(
        "La imagen pesa más de 2 MB. Redúcela (por ejemplo a 1600 píxeles de ancho) y vuelve "
        "a subirla."
    ),
    course_images.ImageProblem.NOT_AN_IMAGE: _l(
        "El archivo no es una imagen PNG, JPEG o WebP válida. Ábrelo en tu equipo, guárdalo "
        "en uno de esos formatos y vuelve a subirlo."
    ),
    course_images.ImageProblem.TOO_MANY_PIXELS: _l(
        "La imagen es demasiado grande en píxeles. Redúcela a menos de 6000 píxeles por lado."
    ),
    course_images.ImageProblem.UNSAFE_SVG: _l(
        "El SVG no se puede usar: solo se aceptan dibujos, sin scripts ni referencias a otros "
        "archivos. Corrige lo siguiente y vuelve a subirlo."
    ),
}
DIRECTIONS = {"up": -1, "down": 1}

# An upload request carries the file plus the form around it. Allowing more than the 2 MB the
# image may weigh lets a slightly larger file reach the form, which then says what is wrong
# beside the field; only far larger requests get the generic 413 page.
UPLOAD_REQUEST_LIMIT = 4 * course_images.MAX_UPLOAD_BYTES
LESSON_TEXT_ENDPOINTS = frozenset({"editor.edit_lesson", "editor.preview"})


@bp.url_value_preprocessor
def _request_limits(endpoint: str | None, values: dict[str, Any] | None) -> None:
    # URL value preprocessors run before every before_request function, including the one of
    # CSRFProtect, which is the first to read the body: the limits must be set by then.
    if endpoint == "editor.images":
        request.max_content_length = UPLOAD_REQUEST_LIMIT
    elif endpoint in LESSON_TEXT_ENDPOINTS:
        # A long lesson with many accents, URL-encoded, exceeds Flask's 500 kB for form fields.
        request.max_form_memory_size = current_app.config["MAX_CONTENT_LENGTH"]


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {
        "status_labels": STATUS_LABELS,
        "kind_labels": kind_labels(),
        "source_labels": SOURCE_LABELS,
    }


# Lookups: everything is found through its course, so an id from elsewhere is a 404 -------------


def trainer_id() -> int:
    return int(current_user.id)


def to_outline(course: Course, anchor: str) -> Response:
    """Back to the course's outline, scrolled to the unit or lesson just changed."""
    return redirect(url_for("editor.course", slug=course.slug, _anchor=anchor))


_ASSET_SRC = 'src="../recursos/'
_LESSON_HREF = re.compile(r'href="(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)(?P<fragment>#[^"]*)?"')


def editor_html(html: str, course: Course) -> Markup:
    """Stored lesson HTML, with its relative image and lesson URLs pointing into the editor.

    Lessons store URLs relative to the learners' lesson page; editor pages sit at other depths.
    """
    base = url_for("editor.course", slug=course.slug)
    html = html.replace(_ASSET_SRC, f'src="{base}recursos/')
    html = _LESSON_HREF.sub(
        lambda m: f'href="{base}lecciones/{m["slug"]}{m["fragment"] or ""}"', html
    )
    return Markup(html)  # noqa: S704 (sanitised by academy.markdown when it was rendered)


def render_preview(lesson: Lesson, body: str) -> markdown.Rendered | str:
    """The lesson text as it would be saved, or why it will not be rendered at all (too long,
    or nested too deeply: the form's own check says so beside the field)."""
    try:
        return revisions.render_for(lesson, body)
    except markdown.MarkdownRefused as error:
        return refusal_message(error)


# Courses ------------------------------------------------------------------------------


@bp.get("/")
@require(can_edit_courses)
def index() -> str:
    return render_template("editor/index.html", courses=lookups.all_courses())


@bp.route("/nuevo-curso", methods=["GET", "POST"])
@require(can_edit_courses)
def new_course() -> Any:
    form = NewCourseForm()
    if form.validate_on_submit():
        try:
            course = structure.create_course(slug=form.slug.data, **form.fields_for_service())
        except structure.SlugTaken:
            form.slug.errors.append(_("Ya hay un curso con ese identificador. Elige otro."))
        else:
            flash(
                _(
                    "Creamos el curso «%(title)s» como borrador. Agrega su primera unidad.",
                    title=course.title,
                ),
                "success",
            )
            return redirect(url_for("editor.course", slug=course.slug))
    status = 422 if form.is_submitted() else 200
    return render_template("editor/course_form.html", form=form, course=None), status


@bp.get("/cursos/<slug>/")
@require(can_edit_courses)
def course(slug: str) -> str:
    found = course_or_404(slug)
    units, retired = structure.editor_outline(found)
    return render_template(
        "editor/course.html",
        course=found,
        units=units,
        retired=retired,
        changes=structure.STATUS_CHANGES[found.status],
        enrolment_labels=ENROLMENT_LABELS,
        case_labels=CASE_LABELS,
    )


@bp.route("/cursos/<slug>/datos", methods=["GET", "POST"])
@require(can_edit_courses)
def edit_course(slug: str) -> Any:
    found = course_or_404(slug)
    form = CourseForm() if request.method == "POST" else CourseForm.for_course(found)
    form.assets = lookups.asset_paths(found)
    if form.validate_on_submit():
        structure.update_course(found, **form.fields_for_service())
        flash(_("Guardamos los datos del curso."), "success")
        return redirect(url_for("editor.course", slug=found.slug))
    status = 422 if form.is_submitted() else 200
    return render_template("editor/course_form.html", form=form, course=found), status


STATUS_MESSAGES = {
    CourseStatus.PUBLISHED.value: _l("El curso está publicado: los participantes ya lo ven."),
    CourseStatus.DRAFT.value: _l("El curso es un borrador: los participantes no lo ven."),
    CourseStatus.ARCHIVED.value: _l(
        "Archivamos el curso: ya no aparece para los participantes. Puedes restaurarlo como "
        "borrador cuando quieras."
    ),
}


@bp.post("/cursos/<slug>/estado")
@require(can_edit_courses)
def course_status(slug: str) -> Response:
    found = course_or_404(slug)
    status = request.form.get("status", "")
    if status not in STATUS_MESSAGES:
        abort(400)
    try:
        changed = structure.set_course_status(found, status)
    except structure.CourseNotReady:
        flash(_("Publica al menos una lección antes de publicar el curso."), "error")
    else:
        if changed:
            if status == CourseStatus.PUBLISHED:
                audit.record(
                    audit.AuditAction.COURSE_PUBLISHED,
                    actor=current_user._get_current_object(),  # type: ignore[attr-defined]
                    target_type="course",
                    target_id=found.id,
                    target_label=found.slug,
                )
            flash(str(STATUS_MESSAGES[status]), "success")
        else:
            flash(
                _("El curso ya no está en un estado que permita ese cambio. Revisa su estado."),
                "error",
            )
    return redirect(url_for("editor.course", slug=found.slug))


# Units --------------------------------------------------------------------------------


@bp.route("/cursos/<slug>/nueva-unidad", methods=["GET", "POST"])
@require(can_edit_courses)
def new_unit(slug: str) -> Any:
    found = course_or_404(slug)
    form = NewUnitForm(course=found)
    form.assets = lookups.asset_paths(found)
    form.unit_slug = form.slug.data or ""
    if form.validate_on_submit():
        try:
            unit = structure.create_unit(
                found, slug=form.slug.data, title=form.title.data, summary_md=form.summary.data
            )
        except structure.SlugTaken:
            form.slug.errors.append(_("Este curso ya tiene una unidad con ese identificador."))
        else:
            flash(_("Creamos la unidad «%(title)s».", title=unit.title), "success")
            return to_outline(found, f"unidad-{unit.slug}")
    status = 422 if form.is_submitted() else 200
    return render_template("editor/unit_form.html", form=form, course=found, unit=None), status


@bp.route("/cursos/<slug>/unidades/<unit_slug>", methods=["GET", "POST"])
@require(can_edit_courses)
def edit_unit(slug: str, unit_slug: str) -> Any:
    found = course_or_404(slug)
    unit = unit_or_404(found, unit_slug)
    data = {"title": unit.title, "summary": unit.summary_md}
    form = UnitForm() if request.method == "POST" else UnitForm(data=data)
    form.assets, form.unit_slug = lookups.asset_paths(found), unit.slug
    if form.validate_on_submit():
        structure.update_unit(unit, title=form.title.data, summary_md=form.summary.data)
        flash(_("Guardamos la unidad «%(title)s».", title=unit.title), "success")
        return to_outline(found, f"unidad-{unit.slug}")
    status = 422 if form.is_submitted() else 200
    return render_template("editor/unit_form.html", form=form, course=found, unit=unit), status


def direction_or_400() -> int:
    direction = request.form.get("direction", "")
    if direction not in DIRECTIONS:
        abort(400)
    return DIRECTIONS[direction]


@bp.post("/cursos/<slug>/unidades/<unit_slug>/mover")
@require(can_edit_courses)
def move_unit(slug: str, unit_slug: str) -> Response:
    found = course_or_404(slug)
    unit = unit_or_404(found, unit_slug)
    step = direction_or_400()
    if structure.move_unit(unit, step):
        if step < 0:
            flash(_("Subiste la unidad «%(title)s».", title=unit.title), "success")
        else:
            flash(_("Bajaste la unidad «%(title)s».", title=unit.title), "success")
    return to_outline(found, f"unidad-{unit.slug}")


@bp.route("/cursos/<slug>/unidades/<unit_slug>/nueva-leccion", methods=["GET", "POST"])
@require(can_edit_courses)
def new_lesson(slug: str, unit_slug: str) -> Any:
    found = course_or_404(slug)
    unit = unit_or_404(found, unit_slug)
    form = NewLessonForm(course=found)
    if form.validate_on_submit():
        try:
            lesson = structure.create_lesson(
                unit,
                slug=form.slug.data,
                kind=form.kind.data,
                ref=form.quiz.data,
                extra=kinds.get(form.kind.data).starter(),
                title=form.title.data,
                minutes=form.minutes.data,
                objectives=lines(form.objectives.data),
                trainer_id=trainer_id(),
            )
        except structure.SlugTaken:
            form.slug.errors.append(_("Este curso ya tiene una lección con ese identificador."))
        else:
            flash(
                _("Creamos la lección «%(title)s». Escribe su texto.", title=form.title.data),
                "success",
            )
            return redirect(url_for("editor.edit_lesson", slug=found.slug, lesson_slug=lesson.slug))
    status = 422 if form.is_submitted() else 200
    return render_template("editor/lesson_new.html", form=form, course=found, unit=unit), status


# Lessons ------------------------------------------------------------------------------


@bp.post("/cursos/<slug>/lecciones/<lesson_slug>/mover")
@require(can_edit_courses)
def move_lesson(slug: str, lesson_slug: str) -> Response:
    found = course_or_404(slug)
    lesson = lesson_or_404(found, lesson_slug)
    step = direction_or_400()
    if structure.move_lesson(lesson, step):
        if step < 0:
            flash(_("Subiste la lección «%(title)s».", title=lesson.title), "success")
        else:
            flash(_("Bajaste la lección «%(title)s».", title=lesson.title), "success")
    return to_outline(found, f"leccion-{lesson.slug}")


@bp.route("/cursos/<slug>/lecciones/<lesson_slug>/retirar", methods=["GET", "POST"])
@require(can_edit_courses)
def retire_lesson(slug: str, lesson_slug: str) -> Any:
    found = course_or_404(slug)
    lesson = lesson_or_404(found, lesson_slug)
    if request.method == "POST":
        structure.retire_lesson(lesson)
        flash(
            _(
                "Retiramos la lección «%(title)s». Su historial y el avance de los participantes "
                "se conservan.",
                title=lesson.title,
            ),
            "success",
        )
        return to_outline(found, f"unidad-{lesson.unit.slug}")
    return render_template("editor/retire.html", course=found, lesson=lesson)


def lesson_form_data(lesson: Lesson, revision: LessonRevision | None) -> dict[str, Any]:
    if revision is None:
        return {"minutes": 5, "base": "0"}
    return {
        "title": revision.title,
        "minutes": revision.minutes,
        "objectives": "\n".join(revision.objectives),
        "body": revision.body_md,
        **kinds.get(lesson.kind).editor_data(revision.extra),
        "base": str(revision.number),
    }


def lesson_form_class(lesson: Lesson) -> type[LessonForm]:
    """A kind may have fields of its own to edit (a case's prompts and rubric)."""
    return kinds.get(lesson.kind).editor_form() or LessonForm  # type: ignore[return-value]


@bp.route("/cursos/<slug>/lecciones/<lesson_slug>", methods=["GET", "POST"])
@require(can_edit_courses)
def edit_lesson(slug: str, lesson_slug: str) -> Any:
    found = course_or_404(slug)
    lesson = lesson_or_404(found, lesson_slug)
    latest = lesson.latest
    form_class = lesson_form_class(lesson)
    form = (
        form_class()
        if request.method == "POST"
        else form_class(data=lesson_form_data(lesson, latest))
    )
    status = 200
    if not form.is_submitted():
        shown = render_preview(lesson, latest.body_md) if latest else None
        rendered = shown if isinstance(shown, markdown.Rendered) else None
    else:
        saving = request.form.get("action") == "save"
        valid = form.validate()
        shown = render_preview(lesson, form.body.data or "")
        rendered = shown if isinstance(shown, markdown.Rendered) else None
        if isinstance(shown, str) and shown not in form.body.errors:
            form.body.errors.append(shown)
            valid = False
        if saving and valid and rendered is not None and not rendered.problems:
            if not newer_revision_saved(form, latest):
                try:
                    with unique_or_taken():
                        return save_lesson(found, lesson, form)
                except Taken:
                    # Another save took this revision's number since the check above: the
                    # same answer as when it came first.
                    db.session.expire(lesson)
                    newer_revision_saved(form, lesson.latest)
            status = 409
        elif saving and rendered is not None and rendered.problems:
            form.form_errors.append(not_saved_message(len(rendered.problems)))
            status = 422
        elif not valid or rendered is None:
            status = 422
    return render_template(
        "editor/lesson_edit.html",
        course=found,
        lesson=lesson,
        latest=latest,
        form=form,
        preview=editor_html(rendered.html, found) if rendered else None,
        problems=[problem_text(problem) for problem in rendered.problems] if rendered else [],
    ), status


def save_lesson(course: Course, lesson: Lesson, form: LessonForm) -> Response:
    before = lesson.latest
    saved = revisions.save_draft(
        lesson,
        trainer_id=trainer_id(),
        title=form.title.data,
        minutes=form.minutes.data,
        objectives=lines(form.objectives.data),
        body_md=form.body.data or "",
        extra=kinds.get(lesson.kind).editor_extra(form),
        note=form.note.data or "",
    )
    if saved is before:
        flash(_("No había cambios que guardar."), "info")
    else:
        flash(
            _(
                "Guardamos el borrador: revisión %(n)s. Los participantes siguen viendo la versión "
                "publicada hasta que publiques esta.",
                n=saved.number,
            ),
            "success",
        )
    return redirect(url_for("editor.edit_lesson", slug=course.slug, lesson_slug=lesson.slug))


@bp.post("/cursos/<slug>/lecciones/<lesson_slug>/vista-previa")
@require(can_edit_courses)
def preview(slug: str, lesson_slug: str) -> Any:
    """The live preview: Markdown in (JSON ``{"body": ...}``), sanitised HTML and problems out."""
    found = course_or_404(slug)
    lesson = lesson_or_404(found, lesson_slug)
    payload = request.get_json(silent=True)
    body = payload.get("body") if isinstance(payload, dict) else request.form.get("body")
    if not isinstance(body, str):
        body = ""
    body = unix_newlines(body)
    rendered = render_preview(lesson, body)
    if isinstance(rendered, str):
        return jsonify(html="", problems=[rendered]), 422
    return jsonify(
        html=str(editor_html(rendered.html, found)),
        problems=[problem_text(problem) for problem in rendered.problems],
    )


@bp.post("/cursos/<slug>/lecciones/<lesson_slug>/publicar")
@require(can_edit_courses)
def publish_lesson(slug: str, lesson_slug: str) -> Response:
    found = course_or_404(slug)
    lesson = lesson_or_404(found, lesson_slug)
    back = redirect(url_for("editor.edit_lesson", slug=found.slug, lesson_slug=lesson.slug))
    latest = lesson.latest
    expected = request.form.get("revision", type=whole_number)
    if latest is None or (expected is not None and expected != latest.number):
        flash(
            _(
                "Hay una revisión más reciente que la que ibas a publicar. Revísala y vuelve a "
                "publicar."
            ),
            "error",
        )
        return back
    if not lesson.has_unpublished_changes:
        flash(_("La revisión %(n)s ya es la publicada.", n=latest.number), "info")
        return back
    problems = structure.publish_problems(lesson)
    if problems:
        flash(
            _(
                "No publicamos la revisión %(n)s: %(problems)s",
                n=latest.number,
                problems=" ".join(problem_text(p) for p in problems),
            ),
            "error",
        )
        return back
    revisions.publish(lesson)
    audit.record(
        audit.AuditAction.LESSON_PUBLISHED,
        actor=current_user._get_current_object(),  # type: ignore[attr-defined]
        target_type="lesson",
        target_id=lesson.id,
        target_label=f"{found.slug}/{lesson.slug}",
        revision=latest.number,
    )
    if found.is_published:
        flash(
            _("Publicamos la revisión %(n)s. Los participantes ya la ven.", n=latest.number),
            "success",
        )
    else:
        flash(
            _(
                "Publicamos la revisión %(n)s. Los participantes la verán cuando publiques el "
                "curso.",
                n=latest.number,
            ),
            "success",
        )
    return back


# History ------------------------------------------------------------------------------


@bp.get("/cursos/<slug>/lecciones/<lesson_slug>/historial")
@require(can_edit_courses)
def history(slug: str, lesson_slug: str) -> str:
    found = course_or_404(slug)
    lesson = lesson_or_404(found, lesson_slug, retired=True)
    return render_template(
        "editor/history.html",
        course=found,
        lesson=lesson,
        revisions=list(reversed(lesson.revisions)),
    )


@bp.get("/cursos/<slug>/lecciones/<lesson_slug>/revisiones/<int:number>")
@require(can_edit_courses)
def revision(slug: str, lesson_slug: str, number: int) -> str:
    found = course_or_404(slug)
    lesson = lesson_or_404(found, lesson_slug, retired=True)
    shown = revision_or_404(lesson, number)
    return render_template(
        "editor/revision.html",
        course=found,
        lesson=lesson,
        revision=shown,
        html=editor_html(shown.body_html, found),
    )


@bp.get("/cursos/<slug>/lecciones/<lesson_slug>/comparar")
@require(can_edit_courses)
def compare(slug: str, lesson_slug: str) -> str:
    found = course_or_404(slug)
    lesson = lesson_or_404(found, lesson_slug, retired=True)
    old_number = request.args.get("desde", type=whole_number)
    new_number = request.args.get("hasta", type=whole_number)
    if old_number is None or new_number is None:
        abort(404)
    old, new = revision_or_404(lesson, old_number), revision_or_404(lesson, new_number)
    return render_template(
        "editor/compare.html",
        course=found,
        lesson=lesson,
        diff=diffs.diff_revisions(old, new),
        field_labels=FIELD_LABELS,
        revisions=list(reversed(lesson.revisions)),
    )


@bp.post("/cursos/<slug>/lecciones/<lesson_slug>/revisiones/<int:number>/restaurar")
@require(can_edit_courses)
def restore(slug: str, lesson_slug: str, number: int) -> Response:
    found = course_or_404(slug)
    lesson = lesson_or_404(found, lesson_slug)
    old = revision_or_404(lesson, number)
    if old is lesson.latest:
        flash(_("La revisión %(n)s ya es la más reciente.", n=old.number), "info")
    else:
        try:
            with unique_or_taken():
                restored = revisions.restore(lesson, old, trainer_id=trainer_id())
        except Taken:
            flash(
                _(
                    "Alguien guardó otra revisión en ese mismo momento. Revisa el historial y "
                    "vuelve a restaurar si aún lo necesitas."
                ),
                "error",
            )
            return redirect(url_for("editor.edit_lesson", slug=found.slug, lesson_slug=lesson.slug))
        flash(
            _(
                "Restauramos la revisión %(old)s como un borrador nuevo, la revisión %(new)s. "
                "Publícala cuando esté lista.",
                old=old.number,
                new=restored.number,
            ),
            "success",
        )
    return redirect(url_for("editor.edit_lesson", slug=found.slug, lesson_slug=lesson.slug))


# Images -------------------------------------------------------------------------------


@bp.route("/cursos/<slug>/unidades/<unit_slug>/imagenes", methods=["GET", "POST"])
@require(can_edit_courses)
def images(slug: str, unit_slug: str) -> Any:
    found = course_or_404(slug)
    unit = unit_or_404(found, unit_slug)
    back_to = lookups.get_lesson(found, request.args.get("leccion", ""))
    if back_to is not None and back_to.unit_id != unit.id:
        back_to = None
    form = ImageForm()
    if form.validate_on_submit():
        upload = form.image.data
        data = upload.stream.read(course_images.MAX_UPLOAD_BYTES + 1)
        try:
            asset, replaced = course_images.store_image(
                found, unit, filename=upload.filename or "", data=data, uploaded_by_id=trainer_id()
            )
        except course_images.ImageRejected as error:
            form.image.errors.append(str(IMAGE_ERRORS[error.problem]))
            form.image.errors.extend(error.details)
        else:
            name = asset.path.partition("/")[2]
            if replaced:
                flash(_("Reemplazamos la imagen %(name)s.", name=name), "success")
            else:
                flash(_("Guardamos la imagen %(name)s.", name=name), "success")
            return redirect(
                url_for(
                    "editor.images",
                    slug=found.slug,
                    unit_slug=unit.slug,
                    leccion=back_to.slug if back_to else None,
                    archivo=name,
                    alt=form.alt.data,
                )
            )
    uploaded = None
    name = request.args.get("archivo", "")
    if name and not form.is_submitted():
        asset = course_images.get_asset(found, f"{unit.slug}/{name}")
        if asset is not None:
            alt = request.args.get("alt", "")[:200] or _("Describe la imagen")
            uploaded = (asset, name, course_images.image_markdown(alt, name), alt)
    status = 422 if form.is_submitted() else 200
    return render_template(
        "editor/images.html",
        course=found,
        unit=unit,
        form=form,
        back_to=back_to,
        uploaded=uploaded,
        assets=[
            (asset, asset.path.partition("/")[2])
            for asset in course_images.unit_assets(found, unit)
        ],
        markdown_for=course_images.image_markdown,
    ), status


@bp.get("/cursos/<slug>/recursos/<unit_slug>/<name>")
@require(can_edit_courses)
def asset(slug: str, unit_slug: str, name: str) -> Response:
    """An image of any course, drafts included, for the editor's previews."""
    found = course_or_404(slug)
    image = course_images.get_asset(found, f"{unit_slug}/{name}", with_data=True) or abort(404)
    response = image_headers(Response(image.data, mimetype=image.mime))
    response.set_etag(image.sha256)
    response.cache_control.private = True
    response.cache_control.no_cache = True
    return response.make_conditional(request)
