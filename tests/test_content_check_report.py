"""`academy content check` as a new trainer meets it: every problem of every file in one run,
in Spanish, each saying how to fix it, named by a path the trainer can open from where they
ran the command; a course imported alone brings its quizzes; the CLI says what it did."""

from __future__ import annotations

from pathlib import Path

import pytest

from academy import markdown
from academy.cases.definition import from_text
from academy.frontmatter import parse_yaml
from tests.conftest import append

LESSON = "courses/curso-ejemplo/01-primeros-pasos/01-que-es-participar.md"
COURSE_FILE = "courses/curso-ejemplo/curso.md"


def check(runner, monkeypatch, where: Path, *paths: str):
    monkeypatch.chdir(where)
    return runner.invoke(args=["content", "check", *paths])


# 1. Messages in Spanish, with the fix ---------------------------------------------------------


@pytest.mark.parametrize(
    ("yaml_text", "line", "fix"),
    [
        ("titulo: Ley 20.500: participación\n", 1, "ponlo entre comillas"),
        ("titulo: Uno\n\tminutos: 3\n", 2, "usa espacios, no tabulaciones"),
        ('titulo: "Sin cerrar\nminutos: 3\n', 3, "una comilla se abre y no se cierra"),
        ("objetivos:\n  - uno\n - dos\n", 3, "la sangría no coincide"),
        ("titulo: @muni\n", 1, "pon el valor entre comillas"),
    ],
)
def test_yaml_errors_are_told_in_spanish_with_their_fix(yaml_text, line, fix):
    _meta, _lines, problems = parse_yaml(yaml_text, "x.md")
    assert len(problems) == 1
    assert problems[0].line == line
    assert fix in problems[0].message
    for english in ("mapping values", "found character", "expected", "scanning"):
        assert english not in problems[0].message


def test_a_callout_title_without_quotes_is_named_with_the_fix():
    rendered = markdown.render("!!! importante Plazos legales\n    El plazo es de 30 días.\n")
    assert [str(p) for p in rendered.problems] == [
        'línea 1: el título del recuadro va entre comillas: !!! importante "Plazos legales"'
    ]
    assert '<aside class="callout callout-importante">' in rendered.html
    assert '<p class="callout-title">Plazos legales</p>' in rendered.html


def test_a_comma_inside_a_rubric_flow_map_is_named_with_the_fix():
    text = (
        "consignas:\n  - titulo: Propón un plan\n"
        "rubrica:\n  puntaje_total: 4\n  criterios:\n"
        "    - nombre: Plan\n      niveles:\n"
        "        - {nombre: Insuficiente, descripcion: Nada., puntos: 0}\n"
        "        - {nombre: Logrado, descripcion: Define medio, plazo y contenido., puntos: 4}\n"
    )
    _case, problems = from_text(text)
    comma = [p for p in problems if "una coma corta el texto" in p]
    assert comma, problems
    assert "«plazo y contenido.»" in comma[0]
    assert "pon el texto entre comillas" in comma[0]


def test_the_case_editor_reads_yaml_errors_in_spanish():
    _case, problems = from_text("consignas:\n\t- titulo: x\n")
    assert problems == [
        "línea 2: no se puede leer: hay una tabulación: usa espacios, no tabulaciones, "
        "al comienzo de la línea y en el texto"
    ]


# 2. Every problem of every file in one run ----------------------------------------------------


def test_a_broken_course_file_does_not_hide_the_lessons_problems(runner, monkeypatch, content_root):
    course_file = content_root / COURSE_FILE
    text = course_file.read_text(encoding="utf-8")
    course_file.write_text(text.replace("titulo:", "titulo: Curso: ejemplo\nx:", 1))
    line = append(content_root / LESSON, "[roto](no-existe.md)")
    result = check(runner, monkeypatch, content_root, ".")
    assert result.exit_code == 1
    assert f"{COURSE_FILE}:" in result.output
    assert f"{LESSON}:{line}: enlace a una lección que no existe: no-existe.md" in result.output


def test_nothing_is_imported_from_a_course_whose_course_file_is_broken(
    runner, monkeypatch, content_root, query
):
    from academy.courses import services

    (content_root / COURSE_FILE).write_text("---\ntitulo: [\n---\n", encoding="utf-8")
    monkeypatch.chdir(content_root)
    result = runner.invoke(args=["content", "import", "."])
    assert result.exit_code == 1
    assert "No se importó nada." in result.output
    assert query(lambda: services.get_course("curso-ejemplo")) is None


# 3. Anchors into another lesson, extra table cells, skipped heading levels --------------------


def test_a_broken_anchor_into_another_lesson_is_reported_at_its_line(
    runner, monkeypatch, content_root
):
    good = append(content_root / LESSON, "[bien](02-niveles.md#el-espectro)")
    bad = append(content_root / LESSON, "[mal](02-niveles.md#no-existe)")
    result = check(runner, monkeypatch, content_root, ".")
    assert f"{LESSON}:{bad}: enlace a una sección que no existe en la lección «niveles»: " in (
        result.output
    )
    assert f"{LESSON}:{good}:" not in result.output


def test_a_table_row_with_more_cells_than_its_header_is_reported(runner, monkeypatch, content_root):
    start = append(content_root / LESSON, "| a | b |\n|---|---|\n| 1 | 2 |\n| 1 | 2 | 3 |")
    append(content_root / LESSON, "| c | d |\n|---|---|\n| 1 \\| uno | 2 |\n| `x|y` | 2 |")
    result = check(runner, monkeypatch, content_root, ".")
    assert f"{LESSON}:{start + 3}: esta fila de la tabla tiene 3 celdas y el encabezado 2" in (
        result.output
    )
    assert result.output.count("esta fila de la tabla") == 1


def test_a_heading_that_skips_a_level_is_reported(runner, monkeypatch, content_root):
    line = append(content_root / LESSON, "## Sección\n\n#### Detalle")
    result = check(runner, monkeypatch, content_root, ".")
    assert f"{LESSON}:{line + 2}: el título salta del nivel 2 al 4" in result.output
    assert "usa ### para que se lea en orden" in result.output


def test_the_shipped_course_passes_the_new_checks(runner, monkeypatch):
    root = Path(__file__).resolve().parents[1]
    result = check(runner, monkeypatch, root, "courses", "quizzes")
    assert result.exit_code == 0, result.output


# 4. A course folder, the courses folder or the project root; paths the user can open ----------


@pytest.mark.parametrize(
    ("where", "argument", "shown"),
    [
        ("", ".", LESSON),
        ("", "courses", LESSON),
        ("courses", ".", LESSON.removeprefix("courses/")),
        ("courses/curso-ejemplo", ".", LESSON.removeprefix("courses/curso-ejemplo/")),
        ("courses/curso-ejemplo/01-primeros-pasos", "../..", LESSON.removeprefix("courses/")),
    ],
)
def test_check_accepts_any_level_and_names_files_from_there(
    runner, monkeypatch, content_root, where, argument, shown
):
    line = append(content_root / LESSON, "[roto](no-existe.md)")
    result = check(runner, monkeypatch, content_root / where, argument)
    assert result.exit_code == 1, result.output
    if where == "courses/curso-ejemplo/01-primeros-pasos":
        shown = "01-que-es-participar.md"
    assert f"\n{shown}:{line}: enlace a una lección que no existe" in "\n" + result.output
    assert (content_root / where / shown).resolve() == (content_root / LESSON).resolve()


# 5. and 6. A course imported alone brings its quizzes; a missing one is named at its line -----

QUIZ_LESSON = (
    "---\ntitulo: Cuestionario final\nminutos: 10\ntipo: cuestionario\ncuestionario: {}\n---\n"
)


def test_a_course_imported_alone_imports_the_quizzes_its_lessons_use(
    runner, monkeypatch, content_root, query
):
    from academy.quizzes import services as quizzes

    (content_root / "courses/curso-ejemplo/02-mecanismos/02-cuestionario.md").write_text(
        QUIZ_LESSON.format("ejemplo"), encoding="utf-8"
    )
    monkeypatch.chdir(content_root)
    result = runner.invoke(args=["content", "import", "courses/curso-ejemplo"])
    assert result.exit_code == 0, result.output
    assert "cuestionario ejemplo: nuevo." in result.output
    row = query(lambda: quizzes.get_quiz("ejemplo"))
    assert row is not None and row.published_revision_id is not None


def test_a_missing_quiz_stops_the_import_naming_it_at_its_line(
    runner, monkeypatch, content_root, query
):
    from academy.courses import services

    (content_root / "courses/curso-ejemplo/02-mecanismos/02-cuestionario.md").write_text(
        QUIZ_LESSON.format("no-existe"), encoding="utf-8"
    )
    monkeypatch.chdir(content_root)
    result = runner.invoke(args=["content", "import", "courses/curso-ejemplo"])
    assert result.exit_code == 1
    assert (
        "courses/curso-ejemplo/02-mecanismos/02-cuestionario.md:5: "
        "el cuestionario «no-existe» no existe (se busca quizzes/no-existe.md)"
    ) in result.output
    assert "No se importó nada." in result.output
    assert query(lambda: services.get_course("curso-ejemplo")) is None


# 7. CLI wording -------------------------------------------------------------------------------


def test_a_new_quiz_is_reported_as_new_then_unchanged(runner, monkeypatch, content_root):
    monkeypatch.chdir(content_root)
    first = runner.invoke(args=["content", "import", "quizzes"])
    again = runner.invoke(args=["content", "import", "quizzes"])
    assert "cuestionario ejemplo: nuevo." in first.output
    assert "cuestionario ejemplo: sin cambios." in again.output


def test_import_gift_with_only_warnings_succeeds(runner, tmp_path):
    bank = tmp_path / "avisos.gift"
    bank.write_text("::P1:: ¿Sigla? {=<b>COSOC</b>}\n", encoding="utf-8")
    target = tmp_path / "quizzes/avisos.md"
    result = runner.invoke(args=["quizzes", "import-gift", str(bank), "--to", str(target)])
    assert result.exit_code == 0, result.output
    assert "no se importaron" not in result.output
    assert "Se importaron todas las preguntas" in result.output
    assert target.is_file()


def test_a_lesson_whose_first_heading_is_level_three_is_told_to_use_two(
    runner, monkeypatch, content_root
):
    lesson = content_root / "courses/curso-ejemplo/02-mecanismos/01-consejo.md"
    text = lesson.read_text(encoding="utf-8")
    lesson.write_text(text.replace("---\n\n", "---\n\n### Primero\n\n", 1), encoding="utf-8")
    result = check(runner, monkeypatch, content_root, ".")
    assert (
        "el título salta del nivel 1 al 3 (### después del título de la lección, que es de "
        "nivel 1): usa ## para que se lea en orden"
    ) in result.output
