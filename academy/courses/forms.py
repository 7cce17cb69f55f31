"""Editor forms: a course, a unit, a lesson and its text, an image. Messages sit beside fields."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)

from academy import markdown
from academy.courses import content, kinds, lookups, structure
from academy.courses.models import CaseCompletion, Course, EnrolmentPolicy
from academy.forms import (
    CHOOSE,
    REQUIRED,
    TOO_LONG,
    choices,
    lines,
    problem_text,
    refusal_message,
    strip,
    too_large_message,
    unix_newlines,
)
from academy.i18n import LANGUAGE_NAMES
from academy.inputs import OneLine

SLUG_MESSAGE = _l(
    "Usa solo minúsculas sin tildes, números y guiones, por ejemplo participacion-ciudadana."
)
SLUG_HELP = _l(
    "Forma parte de la dirección y no se puede cambiar después. "
    "Minúsculas sin tildes, números y guiones."
)
MAX_LINES = 20
MAX_LINE_LENGTH = 300

ENROLMENT_LABELS = {
    EnrolmentPolicy.OPEN.value: _l("Abierta: cada persona se inscribe"),
    EnrolmentPolicy.INVITATION.value: _l("Por invitación: la academia inscribe"),
}
CASE_LABELS = {
    CaseCompletion.APPROVAL.value: _l("Cuando un relator lo aprueba"),
    CaseCompletion.SUBMISSION.value: _l("Cuando la persona lo envía"),
}


def kind_labels() -> dict[str, Any]:
    """The registered lesson kinds' names in the editor (value -> label)."""
    return {kind.name: kind.label for kind in kinds.registered()}


def line_list(required: bool = False) -> Any:
    """A validator for a list written one item per line."""

    def check(form: FlaskForm, field: TextAreaField) -> None:
        items = lines(field.data)
        if required and not items:
            raise ValidationError(REQUIRED)
        if len(items) > MAX_LINES:
            raise ValidationError(_l("Escribe como máximo %(n)s líneas.", n=MAX_LINES))
        for number, item in enumerate(items, start=1):
            if len(item) > MAX_LINE_LENGTH:
                raise ValidationError(
                    _l(
                        "La línea %(n)s tiene más de %(max)s caracteres.",
                        n=number,
                        max=MAX_LINE_LENGTH,
                    )
                )

    return check


def markdown_problems(form: FlaskForm, field: TextAreaField) -> None:
    """Markdown that would not show as written is refused, line by line.

    Images can only be the course's files: the view sets the form's ``assets`` (their paths)
    and, for a unit, its ``unit_slug``.
    """
    assets = getattr(form, "assets", frozenset())
    try:
        problems = lookups.render_text(
            field.data or "", assets, getattr(form, "unit_slug", None)
        ).problems
    except markdown.MarkdownRefused as error:
        raise ValidationError(refusal_message(error)) from error
    if problems:
        raise ValidationError(" ".join(problem_text(problem) for problem in problems))


class WholeNumberField(IntegerField):
    """An integer field whose messages are ours, and only one at a time."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            self.data = int(str(valuelist[0]).strip())
        except ValueError as error:
            self.data = None
            raise ValueError(_l("Escribe un número entero, por ejemplo 15.")) from error

    def pre_validate(self, form: Any) -> None:
        if self.process_errors:
            raise StopValidation()


def slug_field(label: Any) -> StringField:
    return StringField(
        label,
        description=SLUG_HELP,
        filters=[strip],
        validators=[
            DataRequired(REQUIRED),
            Length(max=80, message=TOO_LONG),
            Regexp(content.SLUG_RE, message=SLUG_MESSAGE),
        ],
        render_kw={"autocapitalize": "none", "spellcheck": "false"},
    )


def title_field(label: Any) -> StringField:
    return StringField(
        label,
        filters=[strip],
        validators=[DataRequired(REQUIRED), OneLine(), Length(max=200, message=TOO_LONG)],
    )


def minutes_field() -> WholeNumberField:
    return WholeNumberField(
        _l("Minutos estimados"),
        validators=[
            InputRequired(REQUIRED),
            NumberRange(1, 1000, message=_l("Escribe un número entre %(min)s y %(max)s.")),
        ],
    )


def objectives_field() -> TextAreaField:
    return TextAreaField(
        _l("Objetivos"),
        description=_l("Uno por línea. Lo que la persona podrá hacer después de la lección."),
        validators=[line_list()],
        render_kw={"rows": 4},
    )


class CourseForm(FlaskForm):
    # Set by the view: the course's image paths, the only images the description may show.
    assets: set[str] | frozenset[str] = frozenset()

    title = title_field(_l("Título del curso"))
    summary = TextAreaField(
        _l("Resumen"),
        description=_l("Una o dos frases que se muestran en la lista de cursos."),
        filters=[strip],
        validators=[DataRequired(REQUIRED), Length(max=1000, message=TOO_LONG)],
        render_kw={"rows": 3},
    )
    description = TextAreaField(
        _l("Descripción (opcional)"),
        description=_l("En Markdown. Se muestra en la página del curso."),
        filters=[unix_newlines, strip],
        validators=[markdown_problems],
        render_kw={"rows": 6},
    )
    hours = WholeNumberField(
        _l("Horas de estudio"),
        validators=[
            InputRequired(REQUIRED),
            NumberRange(1, 1000, message=_l("Escribe un número entre %(min)s y %(max)s.")),
        ],
    )
    language = SelectField(
        _l("Idioma del curso"),
        choices=choices(LANGUAGE_NAMES),
        validate_choice=False,
        validators=[AnyOf(list(LANGUAGE_NAMES), message=CHOOSE)],
    )
    outcomes = TextAreaField(
        _l("Resultados de aprendizaje"),
        description=_l("Uno por línea. Completan la frase «Al terminar podrás…»."),
        validators=[line_list()],
        render_kw={"rows": 4},
    )
    enrolment = SelectField(
        _l("Inscripción"),
        choices=choices(ENROLMENT_LABELS),
        validate_choice=False,
        validators=[AnyOf(list(ENROLMENT_LABELS), message=CHOOSE)],
    )
    case_completion = SelectField(
        _l("Un caso se da por completado"),
        choices=choices(CASE_LABELS),
        validate_choice=False,
        validators=[AnyOf(list(CASE_LABELS), message=CHOOSE)],
    )
    certificate_template = SelectField(
        _l("Plantilla del certificado"),
        description=_l(
            "La plantilla con que se emiten los certificados del curso: el nombre de una carpeta "
            "de certificates/ (la administración las ve en «Plantillas de certificado»); "
            "«default» si no sabes cuál."
        ),
        default=lookups.DEFAULT_CERTIFICATE,
        validate_choice=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The templates the academy has now (the folder may change while the server runs). A
        # course whose template went away still shows it, marked, so the trainer sees why the
        # form is refused and picks another.
        self.known_templates = lookups.certificate_templates()
        offered: list[tuple[str, Any]] = [(name, name) for name in self.known_templates]
        chosen = self.certificate_template.data
        if chosen and chosen not in self.known_templates and content.SLUG_RE.match(chosen):
            offered.append((chosen, _l("%(name)s (no existe)", name=chosen)))
        self.certificate_template.choices = offered

    def validate_certificate_template(self, field: SelectField) -> None:
        if not field.data:
            raise ValidationError(REQUIRED)
        if field.data not in self.known_templates:
            raise ValidationError(
                _l(
                    "No existe la plantilla de certificado «%(name)s». Elige una de la lista: "
                    "«default» o una carpeta de certificates/ con su certificate.html.",
                    name=field.data[:80],
                )
            )

    @classmethod
    def for_course(cls, course: Course) -> CourseForm:
        return cls(
            data={
                "title": course.title,
                "summary": course.summary,
                "description": course.description_md,
                "hours": course.hours,
                "language": course.language,
                "outcomes": "\n".join(course.outcomes),
                "enrolment": course.enrolment,
                "case_completion": course.case_completion,
                "certificate_template": course.certificate_template,
            }
        )

    def fields_for_service(self) -> dict[str, Any]:
        return {
            "title": self.title.data,
            "summary": self.summary.data,
            "description_md": self.description.data or "",
            "hours": self.hours.data,
            "language": self.language.data,
            "outcomes": lines(self.outcomes.data),
            "enrolment": self.enrolment.data,
            "case_completion": self.case_completion.data,
            "certificate_template": self.certificate_template.data,
        }


class NewCourseForm(CourseForm):
    slug = slug_field(_l("Identificador del curso"))

    def validate_slug(self, field: StringField) -> None:
        if structure.course_slug_taken(field.data):
            raise ValidationError(_l("Ya hay un curso con ese identificador. Elige otro."))


class UnitForm(FlaskForm):
    # Set by the view: the course's image paths and the unit's slug (see markdown_problems).
    assets: set[str] | frozenset[str] = frozenset()
    unit_slug: str | None = None

    title = title_field(_l("Título de la unidad"))
    summary = TextAreaField(
        _l("Introducción (opcional)"),
        description=_l("En Markdown. Se muestra antes de las lecciones de la unidad."),
        filters=[unix_newlines, strip],
        validators=[Optional(), Length(max=5000, message=TOO_LONG), markdown_problems],
        render_kw={"rows": 4},
    )


class NewUnitForm(UnitForm):
    slug = slug_field(_l("Identificador de la unidad"))

    def __init__(self, *args: Any, course: Course, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.course = course

    def validate_slug(self, field: StringField) -> None:
        if structure.unit_slug_taken(self.course, field.data):
            raise ValidationError(_l("Este curso ya tiene una unidad con ese identificador."))


class NewLessonForm(FlaskForm):
    slug = slug_field(_l("Identificador de la lección"))
    kind = SelectField(
        _l("Tipo de lección"),
        validate_choice=False,
        description=_l(
            "Un caso empieza con una consigna y una rúbrica de ejemplo, que cambias al editarlo."
        ),
    )
    quiz = StringField(
        _l("Cuestionario (solo lecciones de tipo cuestionario)"),
        description=_l("El identificador de un cuestionario del editor de cuestionarios."),
        filters=[strip],
        validators=[Length(max=120, message=TOO_LONG)],
    )
    title = title_field(_l("Título de la lección"))
    minutes = minutes_field()
    objectives = objectives_field()

    def __init__(self, *args: Any, course: Course, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.course = course
        self.kind.choices = choices(kind_labels())

    def validate_kind(self, field: SelectField) -> None:
        if field.data not in kind_labels():
            raise ValidationError(CHOOSE)

    def validate_quiz(self, field: StringField) -> None:
        """The lesson's reference (a quiz's identifier), as its kind checks it."""
        if self.kind.data not in kind_labels():
            field.data = None
            return
        field.data, problem = kinds.get(self.kind.data).check_ref(field.data)
        if problem:
            raise ValidationError(problem)

    def validate_slug(self, field: StringField) -> None:
        if structure.lesson_slug_taken(self.course, field.data):
            raise ValidationError(
                _l("Este curso ya tiene una lección con ese identificador (quizás retirada).")
            )


class LessonForm(FlaskForm):
    title = title_field(_l("Título"))
    minutes = minutes_field()
    objectives = objectives_field()
    body = TextAreaField(
        _l("Texto de la lección (Markdown)"),
        filters=[unix_newlines],
        render_kw={"rows": 22, "spellcheck": "true"},
    )
    note = StringField(
        _l("Nota sobre este cambio (opcional)"),
        description=_l("Por ejemplo: «Actualicé el artículo de la ley». Se ve en el historial."),
        filters=[strip],
        validators=[Optional(), Length(max=200, message=TOO_LONG)],
    )
    # The revision the trainer started from: saving over someone else's newer one is refused.
    base = HiddenField()

    def validate_body(self, field: TextAreaField) -> None:
        if len(field.data or "") > markdown.DEFAULT_MAX_CHARS:
            raise ValidationError(too_large_message(len(field.data)))
        try:
            markdown.check_nesting(field.data or "")
        except markdown.MarkdownTooComplex as error:
            raise ValidationError(refusal_message(error)) from error


class ImageForm(FlaskForm):
    image = FileField(
        _l("Imagen"),
        description=_l("PNG, JPEG o WebP de hasta 2 MB, o un dibujo SVG de hasta 500 kB."),
        validators=[FileRequired(_l("Elige un archivo de imagen."))],
        render_kw={"accept": "image/png,image/jpeg,image/webp,image/svg+xml"},
    )
    alt = StringField(
        _l("Texto alternativo"),
        description=_l(
            "Describe lo que muestra la imagen para quien no puede verla, "
            "por ejemplo «Mapa de la región con sus 7 comunas»."
        ),
        filters=[strip],
        validators=[DataRequired(REQUIRED), Length(max=200, message=TOO_LONG)],
    )
