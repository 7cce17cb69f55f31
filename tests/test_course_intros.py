"""Course descriptions and unit introductions are checked as lessons are: images only from the
course's own files, in the files (content check and import) and in the web editor.

An image in a course description used to be able to point at any page of the site, such as a
trainer's review page, which every visitor's browser then requested.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from academy.courses import content, services
from academy.courses.models import Course, Unit
from academy.extensions import db
from tests.conftest import append

COURSE_FILE = "curso-ejemplo/curso.md"
UNIT_FILE = "curso-ejemplo/01-primeros-pasos/unidad.md"
EDITOR = "/editor/cursos/curso-ejemplo"


def problems_of(content_root: Path) -> list[str]:
    _course, problems = content.load_course(content_root / "courses/curso-ejemplo")
    return [str(problem) for problem in problems]


@pytest.mark.parametrize(
    "target", ["/revision/1", "../../casos/envios/1", "https://example.org/x.png", "nada.png"]
)
def test_content_check_refuses_a_description_image_that_is_not_a_course_file(content_root, target):
    line = append(content_root / "courses/curso-ejemplo/curso.md", f"![Aviso]({target})")
    found = problems_of(content_root)
    assert any(p.startswith(f"{COURSE_FILE}:{line}: ") and "imagen" in p for p in found), found


def test_content_check_refuses_a_unit_introduction_image_that_is_not_a_course_file(content_root):
    unit = content_root / "courses/curso-ejemplo/01-primeros-pasos/unidad.md"
    line = append(unit, "Texto.\n\n![Aviso](/revision/1)")
    found = problems_of(content_root)
    assert f"{UNIT_FILE}:{line + 2}: imagen no encontrada: /revision/1" in found, found


def test_introductions_get_the_other_checks_of_lessons_too(content_root):
    unit = content_root / "courses/curso-ejemplo/01-primeros-pasos/unidad.md"
    original = unit.read_text(encoding="utf-8")
    line = append(unit, "Imagen ![](niveles.png) sin descripción.")
    found = problems_of(content_root)
    assert any(p.startswith(f"{UNIT_FILE}:{line}: imagen sin texto alternativo") for p in found)
    unit.write_text(original, encoding="utf-8")
    line = append(content_root / "courses/curso-ejemplo/curso.md", "[" * 500)
    found = problems_of(content_root)
    assert any(p.startswith(f"{COURSE_FILE}:{line}: más de 20 corchetes") for p in found), found


def test_the_cli_import_refuses_them(runner, query, content_root):
    append(content_root / "courses/curso-ejemplo/curso.md", "![Aviso](/revision/1)")
    result = runner.invoke(args=["content", "import", str(content_root)])
    assert result.exit_code == 1
    assert "curso-ejemplo/curso.md:" in result.output and "/revision/1" in result.output
    assert query(lambda: db.session.scalar(select(Course.id))) is None


def test_the_course_s_own_images_show_in_its_description_and_introductions(
    client, runner, query, content_root, auth, make_user
):
    append(
        content_root / "courses/curso-ejemplo/curso.md",
        "![Niveles de participación](01-primeros-pasos/niveles.png)",
    )
    append(
        content_root / "courses/curso-ejemplo/01-primeros-pasos/unidad.md",
        "![Niveles de participación](niveles.png)",
    )
    assert problems_of(content_root) == []
    result = runner.invoke(args=["content", "import", str(content_root)])
    assert result.exit_code == 0, result.output
    page = client.get("/cursos/curso-ejemplo/").text
    assert 'src="recursos/primeros-pasos/niveles.png"' in page
    assert (
        client.get("/cursos/curso-ejemplo/recursos/primeros-pasos/niveles.png").status_code == 200
    )
    summary = query(
        lambda: db.session.scalar(select(Unit.summary_html).where(Unit.slug == "primeros-pasos"))
    )
    assert 'src="recursos/primeros-pasos/niveles.png"' in summary
    # The introduction also opens the unit's first lesson, a level below the course page.
    auth.as_role(make_user, "trainer")
    lesson = client.get("/cursos/curso-ejemplo/lecciones/que-es-participar").text
    intro = lesson[lesson.index("unit-intro-opening") :]
    assert 'src="../recursos/primeros-pasos/niveles.png"' in intro


# The web editor ---------------------------------------------------------------------------------


@pytest.fixture
def editing(client, auth, make_user, example_course):
    auth.as_role(make_user, "trainer")


def course_form(description: str) -> dict[str, str]:
    return {
        "title": "Curso de ejemplo",
        "summary": "Un curso pequeño.",
        "description": description,
        "hours": "2",
        "language": "es",
        "outcomes": "Reconocer los niveles.",
        "enrolment": "open",
        "case_completion": "approval",
        "certificate_template": "default",
    }


def test_the_editor_refuses_a_description_image_that_is_not_a_course_file(client, editing, query):
    response = client.post(f"{EDITOR}/datos", data=course_form("Hola.\n\n![Aviso](/revision/1)"))
    assert response.status_code == 422
    assert "Línea 3: imagen no encontrada: /revision/1" in response.text
    saved = query(lambda: services.get_course("curso-ejemplo").description_html)
    assert "/revision/1" not in saved


def test_the_editor_keeps_a_description_image_of_the_course(client, editing):
    described = course_form("![Niveles de participación](primeros-pasos/niveles.png)")
    assert client.post(f"{EDITOR}/datos", data=described).status_code == 302
    assert 'src="recursos/primeros-pasos/niveles.png"' in client.get("/cursos/curso-ejemplo/").text


def test_the_editor_refuses_a_unit_introduction_image_that_is_not_a_course_file(client, editing):
    form = {"title": "Primeros pasos", "summary": "![Aviso](/revision/1)"}
    response = client.post(f"{EDITOR}/unidades/primeros-pasos", data=form)
    assert response.status_code == 422
    assert "imagen no encontrada: /revision/1" in response.text
    form["summary"] = "![Niveles](niveles.png)"
    assert client.post(f"{EDITOR}/unidades/primeros-pasos", data=form).status_code == 302
    new_unit = {"slug": "otra", "title": "Otra", "summary": "![Aviso](/casos/envios/1)"}
    response = client.post(f"{EDITOR}/nueva-unidad", data=new_unit)
    assert response.status_code == 422
    assert "imagen no encontrada: /casos/envios/1" in response.text
