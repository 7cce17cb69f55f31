"""The academy command: init, users create, and the installed console script."""

from __future__ import annotations

import re
import subprocess
import sys

from sqlalchemy import select

from academy.auth import services
from academy.auth.models import User
from academy.extensions import db


def test_init_creates_the_first_admin_once(runner, query):
    first = runner.invoke(args=["init", "--admin-email", "Jefa@Academia.cl"])
    assert first.exit_code == 0, first.output
    password = re.search(r"contraseña: (\S+)", first.output).group(1)
    admin = query(lambda: services.find_by_email("jefa@academia.cl"))
    assert admin.role == "admin"
    assert query(lambda: admin.check_password(password))

    second = runner.invoke(args=["init", "--admin-email", "Jefa@Academia.cl"])
    assert second.exit_code == 0
    assert "contraseña" not in second.output
    assert "al día" in second.output


def test_init_serves_the_shipped_participation_course(runner, query):
    """The README's first command opens a catalogue with the academy's course in it."""
    from academy.courses import services as courses
    from academy.quizzes import services as quizzes

    result = runner.invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert "participacion-ciudadana: curso nuevo" in result.output
    course = query(lambda: courses.get_course("participacion-ciudadana"))
    assert course.is_published
    assert course.title == "Participación ciudadana en la gestión municipal"
    assert query(lambda: quizzes.get_quiz("pc-evaluacion-final")) is not None


def test_users_create_with_a_generated_password(runner, query):
    result = runner.invoke(
        args=["users", "create", "--email", "relatora@muni.cl", "--name", "Rosa Vidal",
              "--role", "trainer", "--generate-password"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    password = re.search(r"Contraseña: (\S+)", result.output).group(1)
    user = query(lambda: services.find_by_email("relatora@muni.cl"))
    assert (user.full_name, user.role) == ("Rosa Vidal", "trainer")
    assert query(lambda: user.check_password(password))


def test_users_create_asks_for_the_password(runner, query):
    result = runner.invoke(
        args=["users", "create", "--email", "a@muni.cl", "--name", "Ana Soto"],
        input="una clave muy larga\nuna clave muy larga\n",
    )
    assert result.exit_code == 0, result.output
    user = query(lambda: services.find_by_email("a@muni.cl"))
    assert user.role == "learner"
    assert query(lambda: user.check_password("una clave muy larga"))


def test_users_create_refuses_bad_input(runner, make_user, query):
    make_user(email="dup@muni.cl")
    cases = [
        (["--email", "dup@muni.cl", "--name", "Otra Persona"], "ya existe una cuenta"),
        (["--email", "no-email", "--name", "Otra Persona"], "--email"),
        (["--email", "b@muni.cl", "--name", "X"], "--name"),
        (["--email", "b@muni.cl", "--name", "Otra", "--role", "root"], "--role"),
    ]
    for args, message in cases:
        result = runner.invoke(args=["users", "create", *args, "--generate-password"])
        assert result.exit_code != 0
        assert message in result.output
    weak = runner.invoke(
        args=["users", "create", "--email", "b@muni.cl", "--name", "Otra Persona"],
        input="corta\ncorta\n",
    )
    assert weak.exit_code != 0
    assert "al menos 10 caracteres" in weak.output
    count = query(lambda: db.session.scalar(select(db.func.count(User.id))))
    assert count == 1


def test_console_script_lists_the_commands():
    script = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "academy", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for command in ("init", "users", "db", "run", "serve"):
        assert re.search(rf"^\s+{command}\b", script.stdout, re.M), script.stdout


def test_init_imports_the_bundled_content(app, runner, query):
    from pathlib import Path

    from academy.courses import services as courses

    fixture = Path(__file__).parent / "fixtures/content"
    app.config["CONTENT_DIR"] = str(fixture)
    try:
        result = runner.invoke(args=["init"])
        again = runner.invoke(args=["init"])
    finally:
        app.config["CONTENT_DIR"] = str(Path(__file__).resolve().parents[1])
    assert result.exit_code == 0, result.output
    assert "curso-ejemplo: curso nuevo" in result.output
    assert "cuestionario ejemplo: nuevo." in result.output
    assert "curso-ejemplo: sin cambios." in again.output
    assert query(lambda: courses.get_course("curso-ejemplo")).is_published


def test_init_without_bundled_content(app, runner, tmp_path):
    app.config["CONTENT_DIR"] = str(tmp_path)
    try:
        result = runner.invoke(args=["init"])
    finally:
        from pathlib import Path

        app.config["CONTENT_DIR"] = str(Path(__file__).resolve().parents[1])
    assert result.exit_code == 0
    assert "Sin cursos que importar" in result.output
