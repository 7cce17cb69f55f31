"""The course format: what `academy content check` accepts and every problem it names."""

from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from academy.cli.content import content_group
from academy.courses import content

FIXTURE = Path(__file__).parent / "fixtures/content"
COURSE = FIXTURE / "courses/curso-ejemplo"


@pytest.fixture
def course_dir(tmp_path) -> Path:
    """A writable copy of the example course, inside a content root."""
    root = tmp_path / "content"
    shutil.copytree(FIXTURE, root)
    return root / "courses/curso-ejemplo"


def check(path: Path) -> list[str]:
    _course, problems = content.load_course(path)
    return [str(p) for p in problems]


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def test_the_example_course_loads_with_order_and_slugs_from_names():
    course, problems = content.load_course(COURSE)
    assert problems == []
    assert course.slug == "curso-ejemplo"
    assert course.hours == 2
    assert course.enrolment == "open"
    assert course.case_completion == "approval"
    assert [u.slug for u in course.units] == ["primeros-pasos", "mecanismos"]
    lessons = list(course.lessons())
    assert [lesson.slug for lesson in lessons] == ["que-es-participar", "niveles", "consejo"]
    assert lessons[0].title == "¿Qué es participar?"
    assert lessons[0].objectives == ["Explicar qué es la participación ciudadana."]
    assert lessons[2].required is False
    assert [a.path for a in course.assets] == ["primeros-pasos/niveles.png"]


def test_check_command_passes_on_the_example(tmp_path):
    result = CliRunner().invoke(content_group, ["check", str(FIXTURE)])
    assert result.exit_code == 0, result.output
    assert "Todo en orden: 1 curso(s), 2 unidades, 3 lecciones, 1 cuestionario(s)." in result.output


LESSON = "curso-ejemplo/01-primeros-pasos/02-niveles.md"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("titulo: x\n", f"{LESSON}:1: falta el encabezado: la primera línea debe ser ---"),
        ("---\ntitulo: x\nminutos: 5\n", f"{LESSON}:1: el encabezado no se cierra"),
        ("---\ntitulo: [sin cerrar\nminutos: 5\n---\n",
         f"{LESSON}:3: el encabezado no se puede leer"),
        ("---\nminutos: 5\n---\ntexto\n", f"{LESSON}:1: falta la clave obligatoria «titulo»"),
        ("---\ntitulo: T\nminutos: 5\ntitle: T\n---\ntexto\n",
         f"{LESSON}:4: clave desconocida «title»"),
        ("---\ntitulo: T\nminutos: cinco\n---\ntexto\n",
         f"{LESSON}:3: «minutos» debe ser un número entero"),
        ("---\ntitulo: T\nminutos: true\n---\ntexto\n",
         f"{LESSON}:3: «minutos» debe ser un número entero"),
        ("---\ntitulo: T\nminutos: 5\ntipo: video\n---\ntexto\n",
         f"{LESSON}:4: «tipo»: usa uno de: lectura, cuestionario, caso"),
        ("---\ntitulo: T\nminutos: 5\nobjetivos: [1, '']\n---\ntexto\n",
         f"{LESSON}:4: «objetivos»: cada elemento debe ser un texto no vacío"),
        ("---\ntitulo: '  '\nminutos: 5\n---\ntexto\n",
         f"{LESSON}:2: «titulo»: no puede estar vacío"),
        ("---\ntitulo: |\n  Dos\n  líneas\nminutos: 5\n---\ntexto\n",
         f"{LESSON}:2: «titulo»: debe ser una sola línea, sin saltos de línea ni caracteres"),
        ("---\n- a\n- b\n---\n", f"{LESSON}:2: el encabezado debe ser una lista de claves"),
        ("---\ntitulo: T\nminutos: 5\ntipo: cuestionario\n---\n",
         f"{LESSON}:4: una lección de tipo cuestionario necesita la clave «cuestionario»"),
        ("---\ntitulo: T\nminutos: 5\ncuestionario: q\n---\ntexto\n",
         f"{LESSON}:4: «cuestionario» solo va en lecciones de tipo cuestionario"),
        ("---\ntitulo: T\nminutos: 5\ntipo: cuestionario\ncuestionario: no-existe\n---\n",
         f"{LESSON}:5: el cuestionario «no-existe» no existe (se busca quizzes/no-existe.md)"),
        ("---\ntitulo: T\nminutos: 5\n---\n", f"{LESSON}:5: la lección no tiene texto"),
        ("---\ntitulo: T\nminutos: 5\n---\n\nVer [otra](09-no-existe.md).\n",
         f"{LESSON}:6: "),
        ("---\ntitulo: T\nminutos: 5\n---\n\n\n![](niveles.png)\n", f"{LESSON}:7: "),
        ("---\ntitulo: T\nminutos: 5\n---\nTexto\n\n![Mapa](no-esta.png)\n", f"{LESSON}:7: "),
        ("---\ntitulo: T\nminutos: 5\n---\n!!! nota\n    x\n", f"{LESSON}:5: "),
    ],
)  # fmt: skip
def test_each_problem_is_reported_with_file_and_line(course_dir, text, expected):
    write(course_dir / "01-primeros-pasos/02-niveles.md", text)
    problems = check(course_dir)
    assert any(p.startswith(expected) for p in problems), problems


def test_link_and_image_problems_say_what_is_wrong(course_dir):
    write(
        course_dir / "01-primeros-pasos/02-niveles.md",
        "---\ntitulo: T\nminutos: 5\n---\nVer [otra](09-no-existe.md).\n\n![](niveles.png)\n\n"
        "![Mapa](no-esta.png)\n",
    )
    text = "\n".join(check(course_dir))
    assert "09-no-existe.md" in text
    assert "niveles.png" in text
    assert "no-esta.png" in text


def test_duplicate_slugs_and_positions(course_dir):
    shutil.copy(
        course_dir / "01-primeros-pasos/02-niveles.md", course_dir / "02-mecanismos/02-niveles.md"
    )
    shutil.copy(
        course_dir / "01-primeros-pasos/02-niveles.md",
        course_dir / "01-primeros-pasos/02-otra.md",
    )
    problems = "\n".join(check(course_dir))
    assert "lección repetida «niveles»" in problems
    assert "dos lecciones con el número 2" in problems


def test_bad_names_missing_files_and_stray_files(course_dir):
    (course_dir / "Unidad Tres").mkdir()
    (course_dir / "03-vacia").mkdir()
    write(course_dir / "01-primeros-pasos/Leccion Mala.md", "---\ntitulo: x\n---\n")
    write(course_dir / "01-primeros-pasos/notas.txt", "x")
    problems = "\n".join(check(course_dir))
    assert "curso-ejemplo/Unidad Tres:1: nombre de unidad no válido" in problems
    assert "curso-ejemplo/03-vacia/unidad.md:1: falta el archivo unidad.md" in problems
    assert "Leccion Mala.md:1: nombre de lección no válido" in problems
    assert "notas.txt:1: archivo no reconocido" in problems


def png_announcing(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` × ``height`` pixels: a decompression bomb's
    first bytes, which is all an image check should need to read."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


# Past our limit only; past Pillow's warning (89 million); past Pillow's error (179 million).
BOMBS = [(7_000, 7_000), (10_000, 10_000), (20_000, 20_000)]


@pytest.mark.parametrize(("width", "height"), BOMBS)
def test_an_image_with_too_many_pixels_is_named_as_such(course_dir, width, height):
    (course_dir / "01-primeros-pasos/bomba.png").write_bytes(png_announcing(width, height))
    problems = "\n".join(check(course_dir))
    assert "bomba.png:1: la imagen tiene demasiados píxeles (más de 40 millones)" in problems
    assert "no es una imagen que se pueda leer" not in problems


def test_images_that_cannot_be_read_are_problems_not_crashes(course_dir):
    write(course_dir / "01-primeros-pasos/falsa.png", "no soy una imagen")
    jpeg = course_dir / "01-primeros-pasos/foto.png"  # a JPEG named .png
    Image.new("RGB", (4, 4), "red").save(jpeg, "JPEG")
    problems = "\n".join(check(course_dir))
    assert "falsa.png:1: no es una imagen que se pueda leer" in problems
    assert "foto.png:1: es una imagen image/jpeg, no image/png: cambia su extensión" in problems
    course, _problems = content.load_course(course_dir)
    assert [asset.path for asset in course.assets] == ["primeros-pasos/niveles.png"]


def test_a_file_that_is_not_utf8(course_dir):
    path = course_dir / "01-primeros-pasos/02-niveles.md"
    path.write_bytes("---\ntitulo: Niveles\nminutos: 5\n---\nParticipación\n".encode("latin-1"))
    assert any("02-niveles.md:5: el archivo no está en UTF-8" in p for p in check(course_dir))


def test_a_huge_file_is_refused(course_dir):
    write(
        course_dir / "01-primeros-pasos/02-niveles.md",
        "---\ntitulo: T\nminutos: 5\n---\n" + "palabra " * 200_000,
    )
    assert any("el archivo es demasiado grande" in p for p in check(course_dir))


def test_course_file_problems(course_dir):
    write(course_dir / "curso.md", "---\ntitulo: T\nhoras: 0\n---\n")
    problems = "\n".join(check(course_dir))
    assert "curso.md:3: «horas»: debe ser un número entre 1 y 1000" in problems
    assert "curso.md:1: falta la clave obligatoria «resumen»" in problems
    assert "curso.md:1: falta la clave obligatoria «resultados»" in problems


def test_check_command_lists_problems_and_fails(course_dir):
    write(course_dir / "01-primeros-pasos/02-niveles.md", "---\ntitulo: T\nminutos: x\n---\nt\n")
    result = CliRunner().invoke(content_group, ["check", str(course_dir)])
    assert result.exit_code == 1
    assert "02-niveles.md:3: «minutos» debe ser un número entero" in result.output
    assert "1 problema." in result.output


def test_check_command_on_a_missing_path(tmp_path):
    result = CliRunner().invoke(content_group, ["check", str(tmp_path / "nada")])
    assert result.exit_code == 1
    assert "no existe" in result.output


def test_hostile_markdown_is_sanitised_on_load(course_dir):
    write(
        course_dir / "01-primeros-pasos/02-niveles.md",
        "---\ntitulo: T\nminutos: 5\n---\n<script>alert(1)</script>\n\n[x](javascript:alert(1))\n",
    )
    course, _problems = content.load_course(course_dir)
    lesson = next(lesson for lesson in course.lessons() if lesson.slug == "niveles")
    html = content.render_lesson(lesson.body_md, "primeros-pasos", {"niveles"}, set()).html
    assert "<script" not in html
    assert "javascript:" not in html
