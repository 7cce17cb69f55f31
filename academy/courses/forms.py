"""Editor forms: a course, a unit, a lesson and its text, an image. Messages sit beside fields."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
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
from academy.cases import definition as case_definition
from academy.courses import content, services
from academy.courses.models import CaseCompletion, Course, Enrolment, LessonKind
from academy.i18n import LANGUAGE_NAMES
from academy.inputs import OneLine

REQUIRED = _l("Este campo es obligatorio.")
TOO_LONG = _l("Escribe como máximo %(max)d caracteres.")
CHOOSE = _l("Elige una opción de la lista.")
SLUG_MESSAGE = _l(
    "Usa solo minúsculas sin tildes, números y guiones, por ejemplo participacion-ciudadana."
)
SLUG_HELP = _l(
    "Forma parte de la dirección y no se puede cambiar después. "
    "Minúsculas sin tildes, números y guiones."
)
MAX_LINES = 20
MAX_LINE_LENGTH = 300

KIND_LABELS = {
    LessonKind.READING.value: _l("Lectura"),
    LessonKind.QUIZ.value: _l("Cuestionario"),
    LessonKind.CASE.value: _l("Caso"),
}
ENROLMENT_LABELS = {
    Enrolment.OPEN.value: _l("Abierta: cada persona se inscribe"),
    Enrolment.INVITATION.value: _l("Por invitación: la academia inscribe"),
}
CASE_LABELS = {
    CaseCompletion.APPROVAL.value: _l("Cuando un relator lo aprueba"),
    CaseCompletion.SUBMISSION.value: _l("Cuando la persona lo envía"),
}


def choices(labels: dict[str, Any]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def unix_newlines(value: Any) -> Any:
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


def lines(text: str | None) -> list[str]:
    """One item per non-empty line, trimmed."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


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
        problems = services.render_text(
            field.data or "", assets, getattr(form, "unit_slug", None)
        ).problems
    except markdown.MarkdownRefused as error:
        raise ValidationError(refusal_message(error)) from error
    if problems:
        raise ValidationError(" ".join(problem_text(problem) for problem in problems))


def problem_text(problem: markdown.Problem) -> str:
    """The problem as the author reads it; the messages themselves come from the pipeline."""
    if problem.line is None:
        return problem.message
    return str(_l("Línea %(line)s: %(message)s", line=problem.line, message=problem.message))


def newer_revision_saved(form: Any, latest: Any) -> bool:
    """Whether someone saved a revision after the one the form started from (its ``base``).

    If so, the form says who, keeping the trainer's text on the page, and moves its base on:
    saving again replaces that revision knowingly. Nobody's work is overwritten unseen.
    """
    current = str(latest.number) if latest else "0"
    if form.base.data == current:
        return False
    form.form_errors.append(
        _(
            "Mientras editabas, %(name)s guardó la revisión %(n)s. No guardamos tu texto "
            "para no perder ese cambio: sigue aquí abajo. Compara en el historial y, si "
            "quieres reemplazarlo, vuelve a guardar.",
            name=latest.author.full_name if latest and latest.author else _("otra persona"),
            n=current,
        )
    )
    form.base.data = current
    return True


def not_saved_message(problems: int) -> str:
    return ngettext(
        "No guardamos: hay %(num)d problema en el texto. Corrígelo y vuelve a guardar.",
        "No guardamos: hay %(num)d problemas en el texto. Corrígelos y vuelve a guardar.",
        problems,
    )


def refusal_message(error: markdown.MarkdownRefused) -> str:
    """Why the pipeline would not render a text at all, as the editor says it."""
    if isinstance(error, markdown.MarkdownTooLarge):
        return too_large_message(error.length)
    return problem_text(error.problem())


def too_large_message(length: int) -> str:
    return str(
        _l(
            "El texto tiene %(length)s caracteres y el máximo es %(max)s. "
            "Divide la lección en dos o más lecciones.",
            length=length,
            max=markdown.DEFAULT_MAX_CHARS,
        )
    )


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
    certificate_template = StringField(
        _l("Plantilla del certificado"),
        description=_l(
            "La plantilla con que se emiten los certificados del curso: el nombre de una carpeta "
            "de certificates/ (la administración las ve en «Plantillas de certificado»); "
            "«default» si no sabes cuál."
        ),
        default="default",
        filters=[strip],
        validators=[
            DataRequired(REQUIRED),
            Length(max=80, message=TOO_LONG),
            Regexp(content.SLUG_RE, message=SLUG_MESSAGE),
        ],
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
        if services.course_slug_taken(field.data):
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
        if services.unit_slug_taken(self.course, field.data):
            raise ValidationError(_l("Este curso ya tiene una unidad con ese identificador."))


class NewLessonForm(FlaskForm):
    slug = slug_field(_l("Identificador de la lección"))
    kind = SelectField(
        _l("Tipo de lección"),
        choices=choices(KIND_LABELS),
        validate_choice=False,
        validators=[AnyOf(list(KIND_LABELS), message=CHOOSE)],
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

    def validate_quiz(self, field: StringField) -> None:
        from academy.quizzes.services import get_quiz

        if self.kind.data != LessonKind.QUIZ.value:
            field.data = None
            return
        if not field.data:
            raise ValidationError(_l("Escribe el identificador del cuestionario."))
        if get_quiz(field.data) is None:
            raise ValidationError(_l("No hay un cuestionario con ese identificador."))

    def validate_slug(self, field: StringField) -> None:
        if services.lesson_slug_taken(self.course, field.data):
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


class CaseLessonForm(LessonForm):
    """A case lesson: the text is the scenario; the prompts and rubric are written below it."""

    case = TextAreaField(
        _l("Consignas y rúbrica"),
        filters=[unix_newlines],
        render_kw={"rows": 24, "spellcheck": "false"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.body.label.text = _l("Escenario del caso (Markdown)")

    def validate_case(self, field: TextAreaField) -> None:
        self.definition, problems = case_definition.from_text(field.data or "")
        if problems:  # every problem, each its own error, as the file check reports them
            field.errors.extend(problems[:-1])
            raise ValidationError(problems[-1])


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
