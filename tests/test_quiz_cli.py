"""`academy quizzes import-gift|export-gift`: Moodle banks in and out, nothing silently lost."""

from __future__ import annotations

from pathlib import Path

from academy.quizzes import format as quiz_format
from academy.quizzes import gift

BANK = Path(__file__).parent / "fixtures/gift/banco.gift"
QUIZ = Path(__file__).parent / "fixtures/content/quizzes/ejemplo.md"


def test_import_gift_writes_a_quiz_and_names_what_it_skipped(runner, tmp_path):
    target = tmp_path / "quizzes/banco.md"
    result = runner.invoke(args=["quizzes", "import-gift", str(BANK), "--to", str(target)])
    assert result.exit_code == 1  # some questions of the bank are of unsupported kinds
    assert "banco.gift:187: pregunta de desarrollo" in result.output
    assert "no se importaron" in result.output
    quiz, problems = quiz_format.load_quiz(target)
    assert problems == []
    questions, _gift_problems = gift.parse_gift(BANK.read_text("utf-8"), str(BANK))
    assert [q.key for q in quiz.questions] == [q.key for q in questions]


def test_import_gift_refuses_to_overwrite_and_bad_names(runner, tmp_path):
    target = tmp_path / "banco.md"
    target.write_text("mío")
    result = runner.invoke(args=["quizzes", "import-gift", str(BANK), "--to", str(target)])
    assert result.exit_code != 0
    assert "ya existe" in result.output
    assert target.read_text() == "mío"
    bad = runner.invoke(
        args=["quizzes", "import-gift", str(BANK), "--to", str(tmp_path / "Mal.md")]
    )
    assert bad.exit_code != 0
    missing = runner.invoke(args=["quizzes", "import-gift", "nada.gift", "--to", str(target)])
    assert "no existe el archivo" in missing.output


def test_gift_round_trip_keeps_every_question(runner, tmp_path):
    first = tmp_path / "quizzes/banco.md"
    imported = runner.invoke(args=["quizzes", "import-gift", str(BANK), "--to", str(first)])
    # The bank has 2 unsupported items: reported, and the exit status says so.
    assert imported.exit_code == 1 and "31 preguntas." in imported.output, imported.output
    assert first.exists()
    exported = tmp_path / "banco.gift"
    result = runner.invoke(args=["quizzes", "export-gift", str(first), "--to", str(exported)])
    assert result.exit_code == 0, result.output
    second = tmp_path / "quizzes/banco-2.md"
    again = runner.invoke(
        args=["quizzes", "import-gift", str(exported), "--to", str(second), "--title", "Banco"]
    )
    assert again.exit_code == 0, again.output
    one, _ = quiz_format.load_quiz(first)
    two, _ = quiz_format.load_quiz(second)
    assert one.questions == two.questions


def test_export_gift_reports_ordering_questions(runner, tmp_path):
    result = runner.invoke(args=["quizzes", "export-gift", str(QUIZ)])
    assert "de ordenar, un tipo que GIFT no tiene" in result.output
    assert result.exit_code == 1
    assert "::" in result.output


def test_export_gift_by_slug_from_the_database(runner, query):
    from academy.extensions import db
    from academy.quizzes import services

    def load():
        quiz, problems = quiz_format.load_quiz(QUIZ)
        assert not problems
        services.import_quiz(quiz)
        db.session.commit()

    query(load)
    result = runner.invoke(args=["quizzes", "export-gift", "ejemplo"])
    # The ordering question has no GIFT form: said by line, and the exit status says so.
    assert result.exit_code == 1, result.output
    assert "quizzes/ejemplo.md:110: la pregunta «ordena-los-niveles-del-espectro»" in result.output
    assert "$CATEGORY: $course$/top/niveles" in result.output  # pools become categories
    unknown = runner.invoke(args=["quizzes", "export-gift", "no-existe"])
    assert "no existe el cuestionario «no-existe»" in unknown.output
