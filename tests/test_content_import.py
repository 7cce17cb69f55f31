"""`academy content import|export`: upsert by slug, revisions, conflicts, lossless round trip."""

from __future__ import annotations

import filecmp
import getpass
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from academy.audit import AuditEvent
from academy.courses import services
from academy.courses.models import Course, Lesson, LessonRevision
from academy.extensions import db

FIXTURE = Path(__file__).parent / "fixtures/content"


@pytest.fixture
def content_root(tmp_path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(FIXTURE, root)
    return root


@pytest.fixture
def course_dir(content_root) -> Path:
    return content_root / "courses/curso-ejemplo"


def run_import(runner, *paths, force=False):
    args = ["content", "import", *map(str, paths)] + (["--force"] if force else [])
    return runner.invoke(args=args)


def revisions_count(query) -> int:
    return query(lambda: db.session.scalar(select(func.count(LessonRevision.id))))


def lesson(query, slug):
    def find():
        found = db.session.scalar(select(Lesson).where(Lesson.slug == slug))
        found.latest  # noqa: B018  (load while the session is open)
        found.published  # noqa: B018
        found.unit  # noqa: B018
        return found

    return query(find)


def test_import_creates_the_course_published(runner, query, content_root):
    result = run_import(runner, content_root)
    assert result.exit_code == 0, result.output
    assert "curso-ejemplo: curso nuevo, 3 lecciones nuevas, 1 imágenes." in result.output
    course = query(lambda: services.get_course("curso-ejemplo"))
    assert course.title == "Curso de ejemplo"
    assert course.is_published
    first = lesson(query, "que-es-participar")
    assert first.published is not None
    html = first.published.body_html
    assert 'href="niveles#el-espectro"' in html
    assert 'src="../recursos/primeros-pasos/niveles.png"' in html
    assert 'class="callout callout-importante"' in html
    assert "<table>" in html


def test_a_draft_import_of_a_new_course_leaves_it_unpublished(runner, query, content_root):
    # It used to publish the course with not one lesson published.
    result = runner.invoke(args=["content", "import", str(content_root), "--draft"])
    assert result.exit_code == 0, result.output
    course = query(lambda: services.get_course("curso-ejemplo"))
    assert not course.is_published
    assert lesson(query, "que-es-participar").published is None
    # Published later, a draft import of new text leaves it published with its lessons.
    assert run_import(runner, content_root).exit_code == 0
    assert query(lambda: services.get_course("curso-ejemplo")).is_published
    result = runner.invoke(args=["content", "import", str(content_root), "--draft"])
    assert result.exit_code == 0, result.output
    assert query(lambda: services.get_course("curso-ejemplo")).is_published
    assert lesson(query, "que-es-participar").published is not None


def test_importing_unchanged_files_twice_changes_nothing(runner, query, content_root):
    run_import(runner, content_root)
    before = revisions_count(query)
    result = run_import(runner, content_root)
    assert result.exit_code == 0
    assert "curso-ejemplo: sin cambios." in result.output
    assert revisions_count(query) == before


def test_a_changed_lesson_becomes_a_new_revision(runner, query, course_dir):
    run_import(runner, course_dir)
    path = course_dir / "01-primeros-pasos/02-niveles.md"
    path.write_text(path.read_text().replace("Su definición.", "Su nueva definición."))
    result = run_import(runner, course_dir)
    assert "1 lecciones cambiadas" in result.output
    changed = lesson(query, "niveles")
    assert [changed.latest.number, changed.published.number] == [2, 2]
    assert "Su nueva definición." in changed.published.body_html


def test_renaming_a_title_or_reordering_keeps_the_lesson(runner, query, course_dir):
    run_import(runner, course_dir)
    original = lesson(query, "niveles")
    path = course_dir / "01-primeros-pasos/02-niveles.md"
    path.write_text(path.read_text().replace("titulo: Los niveles", "titulo: Niveles"))
    path.rename(course_dir / "02-mecanismos/05-niveles.md")
    (course_dir / "01-primeros-pasos/01-que-es-participar.md").write_text(
        (course_dir / "01-primeros-pasos/01-que-es-participar.md")
        .read_text()
        .replace("(02-niveles.md#", "(../02-mecanismos/05-niveles.md#")
    )
    assert run_import(runner, course_dir).exit_code == 0
    moved = lesson(query, "niveles")
    assert moved.id == original.id
    assert moved.position == 5
    assert moved.latest.title == "Niveles de participación"
    assert moved.unit.slug == "mecanismos"


def test_removed_lessons_are_retired_not_deleted(runner, query, course_dir):
    run_import(runner, course_dir)
    (course_dir / "02-mecanismos/01-consejo.md").unlink()
    (course_dir / "02-mecanismos/02-otra.md").write_text("---\ntitulo: Otra\nminutos: 3\n---\nx\n")
    result = run_import(runner, course_dir)
    assert "1 lecciones retiradas" in result.output
    retired = lesson(query, "consejo")
    assert retired.retired_at is not None
    assert retired.published is not None  # history kept


def test_web_edits_are_not_overwritten_without_force(runner, query, course_dir, make_user):
    run_import(runner, course_dir)
    trainer = make_user("trainer", full_name="Rosa Vidal")

    def edit_in_editor():
        found = db.session.scalar(select(Lesson).where(Lesson.slug == "niveles"))
        services.save_draft(
            found,
            trainer_id=trainer.id,
            title="Editado en la web",
            minutes=15,
            objectives=[],
            body_md="Texto editado en la web.",
        )
        db.session.commit()

    query(edit_in_editor)
    path = course_dir / "01-primeros-pasos/02-niveles.md"
    path.write_text(path.read_text().replace("Su definición.", "Cambio en el archivo."))
    before = revisions_count(query)

    result = run_import(runner, course_dir)
    assert result.exit_code == 1
    assert (
        "conflicto: curso-ejemplo/01-primeros-pasos/02-niveles.md: la lección «niveles» "
        "se editó en la web (revisión 2, Rosa Vidal)" in result.output
    )
    assert "No se importó nada" in result.output
    assert revisions_count(query) == before

    result = run_import(runner, course_dir, force=True)
    assert result.exit_code == 0, result.output
    forced = lesson(query, "niveles")
    assert forced.latest.number == 3
    assert "Cambio en el archivo." in forced.latest.body_md


def test_a_file_equal_to_the_web_edit_is_no_conflict(
    runner, query, course_dir, tmp_path, make_user
):
    run_import(runner, course_dir)
    trainer = make_user("trainer")

    def edit():
        found = db.session.scalar(select(Lesson).where(Lesson.slug == "niveles"))
        services.save_draft(
            found,
            trainer_id=trainer.id,
            title="Editado",
            minutes=15,
            objectives=["Uno"],
            # The section the first lesson links to stays (a link to a missing one is a problem).
            body_md="## El espectro\n\nTexto editado.",
        )
        db.session.commit()

    query(edit)
    out = tmp_path / "export"
    runner.invoke(args=["content", "export", "curso-ejemplo", str(out)])
    result = run_import(runner, out / "courses/curso-ejemplo")
    assert result.exit_code == 0, result.output


def test_problems_stop_the_import_with_nothing_written(runner, query, course_dir):
    (course_dir / "01-primeros-pasos/02-niveles.md").write_text("---\ntitulo: T\n---\nx\n")
    result = run_import(runner, course_dir)
    assert result.exit_code == 1
    assert "falta la clave obligatoria «minutos»" in result.output
    assert query(lambda: db.session.scalar(select(func.count(Course.id)))) == 0


def test_learner_progress_keys_survive_reimport(runner, query, course_dir):
    run_import(runner, course_dir)
    ids = {slug: lesson(query, slug).id for slug in ("que-es-participar", "niveles", "consejo")}
    path = course_dir / "01-primeros-pasos/01-que-es-participar.md"
    path.write_text(path.read_text() + "\nOtro párrafo.\n")
    run_import(runner, course_dir, force=True)
    assert {slug: lesson(query, slug).id for slug in ids} == ids


def snapshot(query):
    def take():
        course = services.get_course("curso-ejemplo")
        return {
            "course": (course.title, course.summary, course.hours, course.outcomes,
                       course.description_md, course.enrolment, course.case_completion),
            "units": [(u.slug, u.position, u.title, u.summary_md) for u in course.units],
            "lessons": sorted(
                (ls.slug, ls.unit.slug, ls.position, ls.kind, ls.required, ls.latest.title,
                 ls.latest.minutes, ls.latest.objectives, ls.latest.body_md, ls.latest.body_html)
                for ls in db.session.scalars(select(Lesson))
            ),
            "assets": sorted((a, b.sha256) for a, b in services.assets_by_path(course).items()),
        }  # fmt: skip

    return query(take)


def same_tree(a: Path, b: Path) -> bool:
    comparison = filecmp.dircmp(a, b)
    if comparison.left_only or comparison.right_only or comparison.diff_files:
        return False
    _match, mismatch, errors = filecmp.cmpfiles(a, b, comparison.common_files, shallow=False)
    if mismatch or errors:
        return False
    return all(same_tree(a / d, b / d) for d in comparison.common_dirs)


def test_import_export_import_is_lossless(runner, query, course_dir, tmp_path):
    assert run_import(runner, course_dir).exit_code == 0
    first = snapshot(query)
    out1, out2 = tmp_path / "out1", tmp_path / "out2"
    assert runner.invoke(args=["content", "export", "curso-ejemplo", str(out1)]).exit_code == 0
    result = run_import(runner, out1 / "courses/curso-ejemplo")
    assert result.exit_code == 0, result.output
    assert "sin cambios" in result.output
    assert snapshot(query) == first
    runner.invoke(args=["content", "export", "curso-ejemplo", str(out2)])
    assert same_tree(out1, out2)
    assert (out1 / "courses/curso-ejemplo/01-primeros-pasos/niveles.png").read_bytes() == (
        course_dir / "01-primeros-pasos/niveles.png"
    ).read_bytes()


def test_export_of_an_unknown_course(runner, tmp_path):
    result = runner.invoke(args=["content", "export", "no-existe", str(tmp_path)])
    assert result.exit_code != 0
    assert "no existe el curso «no-existe»" in result.output


QUIZ_LESSON = (
    "---\ntitulo: Cuestionario final\nminutos: 10\ntipo: cuestionario\ncuestionario: ejemplo\n---\n"
)


def test_quizzes_import_with_their_course_and_export_back(runner, query, content_root, tmp_path):
    (content_root / "courses/curso-ejemplo/02-mecanismos/02-cuestionario.md").write_text(
        QUIZ_LESSON, encoding="utf-8"
    )
    result = run_import(runner, content_root)
    assert result.exit_code == 0, result.output
    assert "cuestionario ejemplo: nuevo." in result.output
    from academy.quizzes import services as quizzes

    row = query(lambda: quizzes.get_quiz("ejemplo"))
    assert row.published_revision_id is not None
    again = run_import(runner, content_root)
    assert "cuestionario ejemplo: sin cambios." in again.output

    out = tmp_path / "out"
    assert runner.invoke(args=["content", "export", "curso-ejemplo", str(out)]).exit_code == 0
    assert (out / "quizzes/ejemplo.md").is_file()
    reimport = run_import(runner, out)
    assert reimport.exit_code == 0, reimport.output
    assert "cuestionario ejemplo: sin cambios." in reimport.output
    assert "curso-ejemplo: sin cambios." in reimport.output


def test_a_quiz_edited_on_the_web_is_a_conflict(runner, query, content_root, make_user):
    run_import(runner, content_root)
    trainer = make_user("trainer", full_name="Rosa Vidal")
    from academy.quizzes import services as quizzes

    def edit():
        row = quizzes.get_quiz("ejemplo")
        text = row.latest.source_md.replace("aprobacion: 60", "aprobacion: 75")
        revision, problems = quizzes.save_draft(row, text, author_id=trainer.id)
        assert revision is not None, problems
        db.session.commit()

    query(edit)
    quiz_file = content_root / "quizzes/ejemplo.md"
    quiz_file.write_text(quiz_file.read_text().replace("aprobacion: 60", "aprobacion: 80"))
    result = run_import(runner, content_root)
    assert result.exit_code == 1
    assert "el cuestionario «ejemplo» se editó en la web (revisión 2, Rosa Vidal)" in result.output
    assert run_import(runner, content_root, force=True).exit_code == 0


def test_case_lessons_round_trip(runner, content_root, tmp_path):
    case = FIXTURE / "casos/03-caso-plaza.md"
    target = content_root / "courses/curso-ejemplo/02-mecanismos/03-caso-plaza.md"
    target.write_text(case.read_text("utf-8"), encoding="utf-8")
    assert run_import(runner, content_root).exit_code == 0
    out1, out2 = tmp_path / "out1", tmp_path / "out2"
    runner.invoke(args=["content", "export", "curso-ejemplo", str(out1)])
    again = run_import(runner, out1)
    assert again.exit_code == 0, again.output
    assert "curso-ejemplo: sin cambios." in again.output
    runner.invoke(args=["content", "export", "curso-ejemplo", str(out2)])
    assert same_tree(out1, out2)
    exported = (out1 / "courses/curso-ejemplo/02-mecanismos/03-caso-plaza.md").read_text("utf-8")
    assert "puntaje_total: 12" in exported


def import_events(query) -> list[tuple[str, str | None, str | None, dict]]:
    def read():
        rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        return [(e.action, e.actor, e.target_label, e.detail) for e in rows]

    return query(read)


def test_what_an_import_publishes_is_in_the_audit_log_by_the_command_line(
    runner, query, content_root
):
    result = runner.invoke(args=["content", "import", str(content_root), "--draft"])
    assert result.exit_code == 0, result.output
    assert import_events(query) == []  # a draft import publishes nothing

    assert run_import(runner, content_root).exit_code == 0
    found = import_events(query)
    assert {actor for _, actor, _, _ in found} == {f"cli:{getpass.getuser()}"}
    assert [(action, label, detail) for action, _, label, detail in found] == [
        ("quiz.published", "ejemplo", {"revision": 1, "via": "import"}),
        ("course.published", "curso-ejemplo", {"via": "import"}),
        ("lesson.published", "curso-ejemplo/que-es-participar", {"revision": 1, "via": "import"}),
        ("lesson.published", "curso-ejemplo/niveles", {"revision": 1, "via": "import"}),
        ("lesson.published", "curso-ejemplo/consejo", {"revision": 1, "via": "import"}),
    ]
    lesson_ids = query(
        lambda: {slug: id_ for slug, id_ in db.session.execute(select(Lesson.slug, Lesson.id))}
    )
    targets = query(
        lambda: [
            (e.target_type, e.target_id)
            for e in db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "lesson.published")
            )
        ]
    )
    assert targets == [
        ("lesson", lesson_ids[slug]) for slug in ("que-es-participar", "niveles", "consejo")
    ]

    # The same files again publish nothing new, so record nothing; a changed lesson, one event.
    assert run_import(runner, content_root).exit_code == 0
    assert len(import_events(query)) == 5
    path = content_root / "courses/curso-ejemplo/01-primeros-pasos/02-niveles.md"
    path.write_text(path.read_text().replace("Su definición.", "Su nueva definición."))
    assert run_import(runner, content_root).exit_code == 0
    assert import_events(query)[5:] == [
        (
            "lesson.published",
            f"cli:{getpass.getuser()}",
            "curso-ejemplo/niveles",
            {"revision": 2, "via": "import"},
        )
    ]


def test_an_import_is_refused_at_the_line_naming_a_certificate_template_that_does_not_exist(
    runner, query, course_dir
):
    course_file = course_dir / "curso.md"
    text = course_file.read_text("utf-8")
    line = text.split("\n").index("certificado: default") + 1
    course_file.write_text(text.replace("certificado: default", "certificado: municipal"), "utf-8")
    result = run_import(runner, course_dir)
    assert result.exit_code == 1
    assert f"curso-ejemplo/curso.md:{line}: no existe la plantilla de certificado «municipal»" in (
        result.output
    )
    assert "No se importó nada." in result.output
    assert query(lambda: services.get_course("curso-ejemplo")) is None
    assert import_events(query) == []


def test_an_import_is_refused_when_the_platform_lacks_the_certificate_template(
    app, runner, query, content_root, course_dir, tmp_path
):
    # The files bring their template, but certificates are issued from the platform's folder.
    template = content_root / "certificates/municipal"
    template.mkdir(parents=True)
    (template / "certificate.html").write_text("<p>{{ nombre }}</p>", "utf-8")
    course_file = course_dir / "curso.md"
    text = course_file.read_text("utf-8")
    line = text.split("\n").index("certificado: default") + 1
    course_file.write_text(text.replace("certificado: default", "certificado: municipal"), "utf-8")
    platform = tmp_path / "plantillas"
    platform.mkdir()
    app.config["CERTIFICATE_TEMPLATES_DIR"] = str(platform)
    try:
        assert runner.invoke(args=["content", "check", str(course_dir)]).exit_code == 0
        result = run_import(runner, course_dir)
        assert result.exit_code == 1
        assert (
            f"curso-ejemplo/curso.md:{line}: la plataforma no tiene la plantilla de certificado "
            f"«municipal»: falta {platform / 'municipal/certificate.html'}"
        ) in result.output
        assert query(lambda: services.get_course("curso-ejemplo")) is None
        # Once the platform has it, the course imports and names it.
        shutil.copytree(template, platform / "municipal")
        result = run_import(runner, course_dir)
        assert result.exit_code == 0, result.output
        course = query(lambda: services.get_course("curso-ejemplo"))
        assert course.certificate_template == "municipal"
    finally:
        app.config["CERTIFICATE_TEMPLATES_DIR"] = None
