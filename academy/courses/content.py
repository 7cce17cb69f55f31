"""The course format on disk: reading a course folder and checking every file.

::

    courses/<curso>/
      curso.md                      front matter (title, hours, outcomes…) + description
      01-<unidad>/
        unidad.md                   front matter (title) + introduction
        01-<leccion>.md             front matter (title, minutes, objectives, kind) + text
        mapa.png                    images live beside the lessons that show them

Order and slugs come from the names: ``02-mecanismos`` is the second unit, slug
``mecanismos``. Titles can change freely; learners' progress follows the slug.

Nothing here touches the database or Flask: :func:`load_course` turns a folder into plain
data plus a list of :class:`~academy.frontmatter.Problem`, which ``academy content check``
prints and ``academy content import`` refuses to import past.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO
from urllib.parse import unquote

from PIL import Image

from academy import markdown, svg
from academy.courses import kinds
from academy.frontmatter import Document, Key, Problem, check_keys, one_of, split
from academy.frontmatter import title as title_problem
from academy.text import file_text

COURSE_FILE = "curso.md"
UNIT_FILE = "unidad.md"
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ORDERED_RE = re.compile(r"^(?P<position>\d{1,3})-(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)$")
IMAGE_SUFFIXES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
}
SVG_MIME = "image/svg+xml"
MAX_FILE_BYTES = 1_000_000
MAX_IMAGE_BYTES = 2_000_000
# Decoded size, checked before decoding: a small file can unpack into gigabytes of pixels.
MAX_IMAGE_PIXELS = 40_000_000

# Spanish words in the files, English values in the database (a lesson kind's word is its
# plug-in's: academy.courses.kinds).
ENROLMENT = {"abierta": "open", "por-invitacion": "invitation"}
CASE_COMPLETION = {"al-aprobar": "approval", "al-enviar": "submission"}


def _text_list(value: list[Any]) -> str | None:
    if not all(isinstance(item, str) and item.strip() for item in value):
        return "cada elemento debe ser un texto no vacío"
    return None


def _positive(value: int) -> str | None:
    return None if 0 < value <= 1000 else "debe ser un número entre 1 y 1000"


def _short(limit: int) -> Any:
    def check(value: str) -> str | None:
        if not value.strip():
            return "no puede estar vacío"
        return None if len(value) <= limit else f"tiene más de {limit} caracteres"

    return check


def check_slug(value: str) -> str | None:
    return None if SLUG_RE.match(value) else "usa minúsculas, números y guiones (ej. cosoc-basico)"


COURSE_SCHEMA = {
    "titulo": Key(str, required=True, check=title_problem),
    "resumen": Key(str, required=True, check=_short(1000)),
    "horas": Key(int, required=True, check=_positive),
    "idioma": Key(str, check=one_of(["es", "en"])),
    "resultados": Key(list, required=True, check=_text_list),
    "inscripcion": Key(str, check=one_of(ENROLMENT)),
    "casos_se_completan": Key(str, check=one_of(CASE_COMPLETION)),
    "certificado": Key(str, check=check_slug),
    "publicado": Key(bool),
}
UNIT_SCHEMA = {
    "titulo": Key(str, required=True, check=title_problem),
}
LESSON_KEYS = {
    "titulo": Key(str, required=True, check=title_problem),
    "minutos": Key(int, required=True, check=_positive),
    "objetivos": Key(list, check=_text_list),
    "obligatoria": Key(bool),
}


def lesson_schema() -> dict[str, Key]:
    """A lesson file's keys: the common ones, ``tipo`` and each registered kind's own key."""
    registered = kinds.registered()
    schema = {"tipo": Key(str, check=one_of(kind.word for kind in registered)), **LESSON_KEYS}
    for kind in registered:
        if kind.key and kind.key_schema:
            schema[kind.key] = kind.key_schema
    return schema


@dataclass
class LessonSource:
    slug: str
    position: int
    file: str
    kind: str
    title: str
    minutes: int
    objectives: list[str]
    required: bool
    ref: str | None
    extra: dict[str, Any]
    body_md: str
    body_line: int

    def content_hash(self) -> str:
        """What makes two versions of a lesson the same, whatever the file looks like."""
        return content_hash(
            kind=self.kind,
            ref=self.ref,
            required=self.required,
            title=self.title,
            minutes=self.minutes,
            objectives=self.objectives,
            extra=self.extra,
            body_md=self.body_md,
        )


@dataclass
class UnitSource:
    slug: str
    position: int
    file: str
    title: str
    summary_md: str
    summary_line: int = 1
    lessons: list[LessonSource] = field(default_factory=list)


@dataclass
class AssetSource:
    path: str  # "<unit slug>/<file name>"
    file: Path
    mime: str


@dataclass
class CourseSource:
    slug: str
    root: Path
    title: str
    summary: str
    hours: int
    language: str
    outcomes: list[str]
    enrolment: str
    case_completion: str
    certificate_template: str
    published: bool
    description_md: str
    description_line: int = 1
    # The line of ``certificado:`` in curso.md, if the file names a template.
    certificate_line: int | None = None
    units: list[UnitSource] = field(default_factory=list)
    assets: list[AssetSource] = field(default_factory=list)
    # Every well-named lesson file, loadable or not: links to a broken lesson are not
    # reported again as links to a missing one.
    lesson_names: set[str] = field(default_factory=set)

    def lessons(self) -> Iterable[LessonSource]:
        for unit in self.units:
            yield from unit.lessons


def content_hash(**fields: Any) -> str:
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def normalise_body(body: str, body_line: int) -> tuple[str, int]:
    """Strip blank lines around the body, keeping track of where it now starts."""
    leading = len(body) - len(body.lstrip("\n"))
    text = "\n".join(line.rstrip() for line in body.strip("\n").split("\n"))
    return text, body_line + leading


def read_text(path: Path, root: Path, problems: list[Problem]) -> str | None:
    name = display(path, root)
    try:
        size = path.stat().st_size
    except OSError as error:
        problems.append(Problem(name, None, f"no se puede leer: {error.strerror}"))
        return None
    if size > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES // 1000
        problems.append(Problem(name, None, f"el archivo es demasiado grande (más de {limit} kB)"))
        return None
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        problems.append(
            Problem(name, line, "el archivo no está en UTF-8: guárdalo con codificación UTF-8")
        )
        return None
    return file_text(text)


def display(path: Path, root: Path) -> str:
    """The file name as the author knows it: relative to the folder they named."""
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


class TooManyPixels(Exception):
    """The image announces more than MAX_IMAGE_PIXELS: a problem of its own, not damage."""


def open_image(source: Path | BinaryIO, formats: list[str] | None = None) -> Image.Image:
    """``Image.open`` (reads only the header), refusing as :class:`TooManyPixels` an image
    larger than MAX_IMAGE_PIXELS, including one Pillow's decompression-bomb guard (a warning,
    then an error, at larger sizes than ours) would stop first."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(source, formats=formats)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise TooManyPixels from error
    if image.width * image.height > MAX_IMAGE_PIXELS:
        image.close()
        raise TooManyPixels
    return image


def image_problem(path: Path, mime: str) -> str | None:
    """Why an image file cannot be used, or None: checked here, so that importing it cannot
    fail half-way on a file that only has an image's name."""
    try:
        with open_image(path) as image:
            found = Image.MIME.get(image.format or "")
            image.verify()
    except TooManyPixels:
        millions = MAX_IMAGE_PIXELS // 1_000_000
        return (
            f"la imagen tiene demasiados píxeles (más de {millions} millones): redúcela, por "
            "ejemplo a 6000 píxeles por lado como máximo"
        )
    except (OSError, SyntaxError, ValueError):
        return "no es una imagen que se pueda leer (¿está dañada, o es otro tipo de archivo?)"
    if found != mime:
        return f"es una imagen {found or 'de otro tipo'}, no {mime}: cambia su extensión"
    return None


def svg_problems(path: Path, root: Path) -> list[Problem]:
    """Every reason an SVG file cannot be used, each with its line in the SVG."""
    name = display(path, root)
    if path.stat().st_size > svg.MAX_SVG_BYTES:
        limit = svg.MAX_SVG_BYTES // 1000
        return [Problem(name, None, f"el SVG pesa más de {limit} kB: simplifica el dibujo")]
    return [Problem(name, p.line, p.message) for p in svg.check_svg(path.read_bytes()).problems]


def ordered_name(name: str) -> tuple[int, str] | None:
    match = ORDERED_RE.match(name)
    return (int(match["position"]), match["slug"]) if match else None


def lesson_slug_from_link(target: str) -> tuple[str, str] | None:
    """``../02-mecanismos/01-cosoc.md#consejo`` -> ("cosoc", "consejo")."""
    path, _sep, fragment = target.partition("#")
    name = PurePosixPath(path).name
    if not name.endswith(".md"):
        return None
    parsed = ordered_name(name[:-3])
    return (parsed[1], fragment) if parsed else None


def load_course(
    root: Path, quizzes_dir: Path | None = None
) -> tuple[CourseSource | None, list[Problem]]:
    """Read and check a course folder. The course is None when it cannot be used at all."""
    problems: list[Problem] = []
    slug = root.name
    if not SLUG_RE.match(slug):
        problems.append(
            Problem(
                str(root),
                None,
                "el nombre de la carpeta del curso debe usar minúsculas, "
                "números y guiones (ej. participacion-ciudadana)",
            )
        )
        return None, problems
    course_file = root / COURSE_FILE
    if not course_file.is_file():
        problems.append(
            Problem(display(course_file, root), None, f"falta el archivo {COURSE_FILE}")
        )
        return None, problems
    text = read_text(course_file, root, problems)
    if text is None:
        return None, problems
    name = display(course_file, root)
    doc = split(text, name)
    problems += doc.problems or check_keys(doc, COURSE_SCHEMA, name)
    # A course file that cannot be used still lets every other file be checked, so that one
    # run reports every problem; the course is then not returned.
    usable = not doc.problems and not any(p.file == name for p in problems)
    meta = doc.meta if usable else {}
    description, description_line = normalise_body(doc.body, doc.body_line)
    course = CourseSource(
        slug=slug,
        root=root,
        title=meta.get("titulo", slug).strip(),
        summary=meta.get("resumen", "").strip(),
        hours=meta.get("horas", 1),
        language=meta.get("idioma") or "es",
        outcomes=[item.strip() for item in meta.get("resultados", [])],
        enrolment=ENROLMENT[meta.get("inscripcion") or "abierta"],
        case_completion=CASE_COMPLETION[meta.get("casos_se_completan") or "al-aprobar"],
        certificate_template=meta.get("certificado") or "default",
        published=meta.get("publicado", True),
        description_md=description,
        description_line=description_line,
        certificate_line=doc.key_lines.get("certificado") if usable else None,
    )
    if usable and "certificado" in meta:
        _check_certificate_template(course, course.certificate_line, name, problems)
    _load_units(course, problems)
    _check_unique(course, problems)
    quizzes = quizzes_dir if quizzes_dir is not None else root.parent.parent / "quizzes"
    _check_references(course, quizzes, problems)
    _check_markdown(course, problems)
    if not course.units:
        problems.append(Problem(name, None, "el curso no tiene unidades (carpetas 01-nombre)"))
    return (course if usable else None), problems


def _load_units(course: CourseSource, problems: list[Problem]) -> None:
    root = course.root
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or entry.name == COURSE_FILE:
            continue
        if not entry.is_dir():
            if entry.suffix.lower() in IMAGE_SUFFIXES:
                problems.append(
                    Problem(
                        display(entry, root),
                        None,
                        "las imágenes van en la carpeta de la unidad, junto a sus lecciones",
                    )
                )
            elif entry.suffix == ".md":
                problems.append(
                    Problem(
                        display(entry, root),
                        None,
                        "las lecciones van dentro de una carpeta de unidad (01-nombre/)",
                    )
                )
            continue
        parsed = ordered_name(entry.name)
        if parsed is None:
            problems.append(
                Problem(
                    display(entry, root),
                    None,
                    "nombre de unidad no válido: usa NN-nombre (ej. 01-marcos-de-participacion)",
                )
            )
            continue
        unit = _load_unit(entry, parsed, course, problems)
        if unit is not None:
            course.units.append(unit)


def _load_unit(
    folder: Path, parsed: tuple[int, str], course: CourseSource, problems: list[Problem]
) -> UnitSource | None:
    root = course.root
    unit_file = folder / UNIT_FILE
    name = display(unit_file, root)
    if not unit_file.is_file():
        problems.append(
            Problem(name, None, f"falta el archivo {UNIT_FILE} con el título de la unidad")
        )
        return None
    text = read_text(unit_file, root, problems)
    if text is None:
        return None
    doc = split(text, name)
    found = doc.problems or check_keys(doc, UNIT_SCHEMA, name)
    problems += found
    if found:
        return None
    summary, summary_line = normalise_body(doc.body, doc.body_line)
    unit = UnitSource(
        slug=parsed[1],
        position=parsed[0],
        file=name,
        title=doc.meta["titulo"].strip(),
        summary_md=summary,
        summary_line=summary_line,
    )
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name == UNIT_FILE:
            continue
        suffix = entry.suffix.lower()
        if entry.is_file() and suffix in IMAGE_SUFFIXES:
            size = entry.stat().st_size
            if IMAGE_SUFFIXES[suffix] == SVG_MIME:
                found_in_svg = svg_problems(entry, root)
                problems += found_in_svg
                if not found_in_svg:
                    course.assets.append(AssetSource(f"{unit.slug}/{entry.name}", entry, SVG_MIME))
                continue
            if size > MAX_IMAGE_BYTES:
                problems.append(
                    Problem(
                        display(entry, root),
                        None,
                        f"la imagen pesa más de {MAX_IMAGE_BYTES // 1_000_000} MB",
                    )
                )
                continue
            unreadable = image_problem(entry, IMAGE_SUFFIXES[suffix])
            if unreadable:
                problems.append(Problem(display(entry, root), None, unreadable))
                continue
            course.assets.append(
                AssetSource(f"{unit.slug}/{entry.name}", entry, IMAGE_SUFFIXES[suffix])
            )
            continue
        if not entry.is_file() or suffix != ".md":
            problems.append(
                Problem(
                    display(entry, root),
                    None,
                    "archivo no reconocido: aquí van lecciones (.md) "
                    "e imágenes (png, jpg, webp, svg)",
                )
            )
            continue
        parsed_lesson = ordered_name(entry.stem)
        if parsed_lesson is None:
            problems.append(
                Problem(
                    display(entry, root),
                    None,
                    "nombre de lección no válido: usa NN-nombre.md (ej. 01-que-es-participar.md)",
                )
            )
            continue
        course.lesson_names.add(parsed_lesson[1])
        lesson = _load_lesson(entry, parsed_lesson, root, problems)
        if lesson is not None:
            unit.lessons.append(lesson)
    if not unit.lessons:
        problems.append(Problem(name, None, "la unidad no tiene lecciones"))
    return unit


def _load_lesson(
    path: Path, parsed: tuple[int, str], root: Path, problems: list[Problem]
) -> LessonSource | None:
    name = display(path, root)
    text = read_text(path, root, problems)
    if text is None:
        return None
    doc = split(text, name)
    found = doc.problems or check_keys(doc, lesson_schema(), name)
    meta = doc.meta
    kind = kinds.by_word().get(meta.get("tipo") or "lectura") or kinds.get("reading")
    if not found:
        found += _check_kind(doc, kind, name)
    ref, extra = None, {}
    if not found and kind.key:
        ref, extra, messages = kind.read(meta[kind.key])
        line = doc.key_lines.get(kind.key, 1)
        found += [Problem(name, line, message) for message in messages]
    problems += found
    if found:
        return None
    body, body_line = normalise_body(doc.body, doc.body_line)
    if not body.strip() and kind.text_name:
        problems.append(Problem(name, body_line, f"la lección no tiene {kind.text_name}"))
    return LessonSource(
        slug=parsed[1],
        position=parsed[0],
        file=name,
        kind=kind.name,
        title=meta["titulo"].strip(),
        minutes=meta["minutos"],
        objectives=[item.strip() for item in meta.get("objetivos") or []],
        required=meta.get("obligatoria", True),
        ref=ref,
        extra=extra,
        body_md=body,
        body_line=body_line,
    )


def _check_kind(doc: Document, kind: kinds.LessonKind, name: str) -> list[Problem]:
    """A kind's own key is where it belongs: present in its lessons, absent from the others'."""
    meta, lines = doc.meta, doc.key_lines
    problems = []
    for other in kinds.registered():
        if not other.key:
            continue
        if other is kind and not meta.get(kind.key):
            _ref, _extra, missing = kind.read(None)
            problems += [Problem(name, lines.get("tipo", 1), message) for message in missing]
        if other is not kind and meta.get(other.key):
            problems.append(
                Problem(
                    name,
                    lines[other.key],
                    f"«{other.key}» solo va en lecciones de tipo {other.word}",
                )
            )
    return problems


def _check_unique(course: CourseSource, problems: list[Problem]) -> None:
    def report(items: Iterable[tuple[Any, str]], message: str) -> None:
        seen: dict[Any, str] = {}
        for key, file in items:
            if key in seen:
                problems.append(Problem(file, None, message.format(key=key, other=seen[key])))
            else:
                seen[key] = file

    report(((u.slug, u.file) for u in course.units), "unidad repetida «{key}» (ya está en {other})")
    report(
        ((u.position, u.file) for u in course.units),
        "dos unidades con el número {key} (también {other})",
    )
    report(
        ((lesson.slug, lesson.file) for lesson in course.lessons()),
        "lección repetida «{key}» (ya está en {other}): "
        "cada lección del curso necesita un nombre propio",
    )
    for unit in course.units:
        report(
            ((lesson.position, lesson.file) for lesson in unit.lessons),
            "dos lecciones con el número {key} (también {other})",
        )


def _check_certificate_template(
    course: CourseSource, line: int | None, name: str, problems: list[Problem]
) -> None:
    """``certificado:`` names a folder of ``certificates/`` beside ``courses/`` (with its
    ``certificate.html``), or ``default``, which the academy ships."""
    template = course.certificate_template
    if template == "default":
        return
    folder = course.root.parent.parent / "certificates" / template
    if not (folder / "certificate.html").is_file():
        problems.append(
            Problem(
                name,
                line,
                f"no existe la plantilla de certificado «{template}»: falta "
                f"certificates/{template}/certificate.html (o usa «default», la de la "
                "plataforma)",
            )
        )


def _check_references(course: CourseSource, quizzes: Path, problems: list[Problem]) -> None:
    for lesson in course.lessons():
        # A lesson's reference names a quiz of the bank beside the course (only quiz lessons
        # have one: each kind's own key is checked where the lesson is read).
        if lesson.ref and not (quizzes / f"{lesson.ref}.md").is_file():
            problems.append(
                Problem(
                    lesson.file,
                    _key_line(course.root.parent / lesson.file, "cuestionario"),
                    f"el cuestionario «{lesson.ref}» no existe "
                    f"(se busca {quizzes.name}/{lesson.ref}.md)",
                )
            )


def _key_line(path: Path, key: str) -> int | None:
    """The line of ``key:`` in a file's front matter (the file was read once already)."""
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError):
        return None
    return next((n for n, line in enumerate(lines, start=1) if line.startswith(f"{key}:")), None)


def lesson_resolver(course_lessons: set[str]) -> markdown.Resolver:
    """Links to another lesson's file become the relative URL of its page."""

    def resolve(target: str) -> str | None:
        parsed = lesson_slug_from_link(target)
        if parsed is None or parsed[0] not in course_lessons:
            return None
        slug, fragment = parsed
        return slug + (f"#{fragment}" if fragment else "")

    return resolve


def image_resolver(
    unit_slug: str, asset_paths: set[str], prefix: str = "../recursos/"
) -> markdown.Resolver:
    """Images beside the lesson (or in another unit's folder) become asset URLs: ``prefix``
    (relative to the page that shows the text) and the asset's path."""

    def resolve(target: str) -> str | None:
        parts = PurePosixPath(target).parts
        if len(parts) == 1:
            path = f"{unit_slug}/{parts[0]}"
        elif len(parts) == 3 and parts[0] == "..":
            parsed = ordered_name(parts[1])
            if parsed is None:
                return None
            path = f"{parsed[1]}/{parts[2]}"
        else:
            return None
        return f"{prefix}{path}" if path in asset_paths else None

    return resolve


def course_image_resolver(asset_paths: set[str]) -> markdown.Resolver:
    """Images in the course description, which sits above the unit folders: ``01-unidad/mapa.png``
    (or ``unidad/mapa.png``) become asset URLs relative to the course page."""

    def resolve(target: str) -> str | None:
        parts = PurePosixPath(target).parts
        if len(parts) != 2:
            return None
        parsed = ordered_name(parts[0])
        path = f"{parsed[1] if parsed else parts[0]}/{parts[1]}"
        return f"recursos/{path}" if path in asset_paths else None

    return resolve


def render_intro(
    body_md: str, asset_paths: set[str], unit_slug: str | None = None
) -> markdown.Rendered:
    """A course description (``unit_slug`` None) or a unit introduction, both shown on the
    course page: checked as lessons are, images only from the course's own files.

    Without this, an image could point at any page of the site, which every visitor's browser
    would then request (a GET that must change nothing, but need not be invited).
    """
    if unit_slug is None:
        resolver = course_image_resolver(asset_paths)
    else:
        resolver = image_resolver(unit_slug, asset_paths, prefix="recursos/")
    return markdown.render(body_md, image_resolver=resolver)


def render_lesson(
    body_md: str, unit_slug: str, lesson_slugs: set[str], asset_paths: set[str]
) -> markdown.Rendered:
    return markdown.render(
        body_md,
        link_resolver=lesson_resolver(lesson_slugs),
        image_resolver=image_resolver(unit_slug, asset_paths),
    )


def _check_markdown(course: CourseSource, problems: list[Problem]) -> None:
    slugs = course.lesson_names
    assets = {asset.path for asset in course.assets}
    course_file = display(course.root / COURSE_FILE, course.root)
    _check_intro(
        course.description_md, course_file, course.description_line, assets, None, problems
    )
    for unit in course.units:
        _check_intro(unit.summary_md, unit.file, unit.summary_line, assets, unit.slug, problems)
    anchors: dict[str, set[str]] = {}
    links: list[tuple[LessonSource, str, str]] = []
    for unit in course.units:
        for lesson in unit.lessons:
            try:
                rendered = render_lesson(lesson.body_md, unit.slug, slugs, assets)
            except markdown.MarkdownRefused as error:
                line = lesson.body_line + error.line - 1 if error.line else None
                problems.append(Problem(lesson.file, line, error.message))
                continue
            for problem in rendered.problems:
                line = lesson.body_line + (problem.line - 1 if problem.line else 0)
                problems.append(Problem(lesson.file, line, problem.message))
            anchors[lesson.slug] = set(_ID_RE.findall(rendered.html))
            links += [(lesson, *link) for link in _LESSON_LINK_RE.findall(rendered.html)]
            problems += _structure_problems(lesson)
    # A section of another lesson can only be checked once every lesson is rendered.
    for lesson, target, fragment in links:
        if target in anchors and unquote(html.unescape(fragment)) not in anchors[target]:
            written = f"#{fragment}"
            line = _line_of(lesson.body_md, written)
            problems.append(
                Problem(
                    lesson.file,
                    lesson.body_line + line - 1 if line else None,
                    f"enlace a una sección que no existe en la lección «{target}»: {written} "
                    "(el ancla es el título de la sección en minúsculas, sin tildes y con "
                    "guiones)",
                )
            )


# What _check_markdown reads back from a lesson's rendered HTML: ids, and links to another
# lesson's section (the resolver writes them "<slug>#<fragment>").
_ID_RE = re.compile(r'\bid="([^"]+)"')
_LESSON_LINK_RE = re.compile(r'<a [^>]*href="([a-z0-9][a-z0-9-]*)#([^"]+)"')
_TABLE_ROW_RE = re.compile(r"^\s*\|?(.*?)\|?\s*$")
_TABLE_RULE_RE = re.compile(r"\s*\|?[\s:|-]*-[\s:|-]*\|?\s*")
_FENCE_RE = re.compile(r"^\s*(```|~~~)")
_ATX_HEADING_RE = re.compile(r"^(#{1,6})[ \t]+\S")


def _line_of(text: str, needle: str) -> int | None:
    position = text.find(needle)
    return None if position < 0 else text.count("\n", 0, position) + 1


def _cells(row: str) -> int:
    """The cells of a Markdown table row (escaped ``\\|`` and code spans are not separators)."""
    inner = _TABLE_ROW_RE.match(row)
    text = re.sub(r"`[^`]*`", "", inner.group(1) if inner else row).replace("\\|", "")
    return text.count("|") + 1


def _structure_problems(lesson: LessonSource) -> list[Problem]:
    """Table rows with more cells than their header (python-markdown drops the extra ones),
    and headings that skip a level (## then ####), which screen reader users navigate by."""
    problems: list[Problem] = []
    lines = lesson.body_md.split("\n")
    in_fence = False
    header_cells: int | None = None
    previous_level = 1  # the lesson's title is the page's h1
    for index, line in enumerate(lines):
        number = lesson.body_line + index
        if _FENCE_RE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        is_row = "|" in line and line.strip()
        if header_cells is None and is_row and _TABLE_RULE_RE.fullmatch(following):
            header_cells = _cells(line)
        elif header_cells is not None and is_row:
            if not _TABLE_RULE_RE.fullmatch(line) and _cells(line) > header_cells:
                problems.append(
                    Problem(
                        lesson.file,
                        number,
                        f"esta fila de la tabla tiene {_cells(line)} celdas y el encabezado "
                        f"{header_cells}: las que sobran no se mostrarán; agrega columnas al "
                        "encabezado o escribe \\| si la barra es parte del texto",
                    )
                )
        elif not line.strip():
            header_cells = None
        heading = _ATX_HEADING_RE.match(line)
        if heading:
            level = len(heading.group(1))
            if level > previous_level + 1:
                after = (
                    f"de {'#' * previous_level}"
                    if previous_level > 1
                    else "del título de la lección, que es de nivel 1"
                )
                problems.append(
                    Problem(
                        lesson.file,
                        number,
                        f"el título salta del nivel {previous_level} al {level} "
                        f"({'#' * level} después {after}): usa "
                        f"{'#' * (previous_level + 1)} para que se lea en orden",
                    )
                )
            previous_level = level
    return problems


def _check_intro(
    body_md: str,
    file: str,
    first_line: int,
    assets: set[str],
    unit_slug: str | None,
    problems: list[Problem],
) -> None:
    """A course description or unit introduction, checked as a lesson's text is."""
    if not body_md:
        return
    try:
        rendered = render_intro(body_md, assets, unit_slug)
    except markdown.MarkdownRefused as error:
        line = first_line + error.line - 1 if error.line else None
        problems.append(Problem(file, line, error.message))
        return
    for problem in rendered.problems:
        line = first_line + (problem.line - 1 if problem.line else 0)
        problems.append(Problem(file, line, problem.message))
