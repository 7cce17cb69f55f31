"""Dry run and import of 5,000 people from one CSV file (issue 14's figure).

Run: ``.venv/bin/python bench/bench_people_import.py [--people 5000] [--rounds 3]
[--postgresql URL]`` (an empty PostgreSQL database to measure on too; its tables are created
and dropped; ``--no-sqlite`` for PostgreSQL only).

The file is generated as Excel writes it on a Spanish Windows, the slowest path the reader
takes: Windows-1252, ``;`` between cells. Each person has a valid RUT, a comuna among the
345 of ``academy/data/comunas-cut.csv`` (one in five written by its CUT code, the others by
name, some in capitals or without accents) and a job title. Each round, on a freshly migrated
database:

1. **dry run, empty academy**: ``imports.check`` (5,000 new);
2. **import**: ``imports.apply`` and the commit (5,000 accounts; one job enqueued);
   then, timed apart, what that job does in the worker before sending: the 5,000 invitations
   composed and written to ``outgoing_mail`` (the SMTP sending itself is not timed);
3. **dry run again**: the same file, 5,000 unchanged;
4. **import again**: nothing changes, nothing is written;
5. then, on a fresh database again, the **web steps** as an admin's browser makes them (Flask
   test client, no network): upload and redirect, the dry-run page with its 5,000-row table,
   and the confirmation.

Prints each step's median over the rounds (and min–max).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402
from stdnum.cl import rut as rut_number  # noqa: E402

from academy import comunas, create_app  # noqa: E402
from academy.auth import services as accounts  # noqa: E402
from academy.auth.models import Role, User  # noqa: E402
from academy.db import transaction  # noqa: E402
from academy.extensions import db  # noqa: E402
from academy.people import imports  # noqa: E402
from academy.people.models import PeopleImport  # noqa: E402

FIRST = ["Ana", "Luis", "María José", "Pedro", "Camila", "Jorge", "Valentina", "Ñuño", "Sofía"]
LAST = ["Rojas", "Soto", "Muñoz", "González", "Peñaloza", "Díaz", "Núñez", "Araya", "Fuentes"]
TITLES = ["Encargada de participación", "Director de Dideco", "Profesional Secplan", ""]
ADMIN_PASSWORD = "una frase de banco larga"  # a throwaway bench account


def generate(people: int, seed: int = 14) -> bytes:
    """A CSV of ``people`` rows as Excel saves it (Windows-1252, ``;``)."""
    rng = random.Random(seed)
    all_comunas = list(comunas.all_comunas().values())
    lines = ["correo;nombre;rut;comuna;cargo"]
    for n in range(people):
        number = str(5_000_000 + n * 37)
        rut = rut_number.format(number + rut_number.calc_check_digit(number))
        comuna = rng.choice(all_comunas)
        style = n % 5
        written = (
            comuna.cut
            if style == 0
            else comuna.name.upper()
            if style == 1
            else imports.plain(comuna.name)
            if style == 2
            else comuna.name
        )
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {rng.choice(LAST)}"
        lines.append(f"persona{n}@muni{n % 345}.cl;{name};{rut};{written};{rng.choice(TITLES)}")
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def configure(database_url: str, scratch: Path) -> dict[str, object]:
    return {
        "ENV": "testing",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
        "MAIL_BACKEND": "console",
        "QUEUE_URL": f"sqlite:///{scratch / 'queue.db'}",
        "QUEUE_IMMEDIATE": False,
        "RATELIMIT_ENABLED": False,
        "WTF_CSRF_ENABLED": False,
    }


def reset(app: Flask) -> None:
    """An empty, migrated database with one admin."""
    with app.app_context():
        db.drop_all()
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        upgrade()
        with transaction():
            accounts.create_user(
                email="admin@academia.cl",
                full_name="Administración",
                password=ADMIN_PASSWORD,
                role=Role.ADMIN,
            )


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def service_round(app: Flask, data: bytes, people: int) -> dict[str, float]:
    reset(app)
    times: dict[str, float] = {}
    with app.app_context():
        times["dry run, empty academy"], report = timed(lambda: imports.check(data))
        assert report.ok and report.count(imports.Outcome.NEW) == people, report.errors[:3]
        db.session.rollback()

        def do_import() -> imports.Applied:
            with transaction():
                upload = imports.record_file(data, "personas.csv", actor=None)
                return imports.apply(data, actor=None, upload=upload)[1]

        times["import (and commit)"], applied = timed(do_import)
        assert applied.created == people

        def write_invitations() -> int:
            import_id = db.session.scalar(select(func.max(PeopleImport.id)))
            written = 0
            while True:
                with transaction():
                    ids = imports.queue_invitations(import_id)
                if ids is None:
                    return written
                written += len(ids)

        times["worker: invitations into the outbox"], written = timed(write_invitations)
        assert written == people
        times["dry run again (all unchanged)"], report = timed(lambda: imports.check(data))
        assert report.count(imports.Outcome.UNCHANGED) == people
        db.session.rollback()
        times["import again (nothing changes)"], applied = timed(do_import)
        assert (applied.created, applied.updated) == (0, 0)
        assert db.session.scalar(select(func.count(User.id))) == people + 1
    return times


def web_round(app: Flask, data: bytes, people: int) -> dict[str, float]:
    reset(app)
    client = app.test_client()
    response = client.post(
        "/entrar", data={"email": "admin@academia.cl", "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 302
    times: dict[str, float] = {}

    def upload() -> Any:
        return client.post(
            "/admin/personas/importar",
            data={"file": (io.BytesIO(data), "personas.csv")},
            content_type="multipart/form-data",
        )

    times["web: upload (stored)"], response = timed(upload)
    assert response.status_code == 303, response.status_code
    location = response.headers["Location"]
    times["web: dry-run page"], page = timed(lambda: client.get(location))
    assert page.status_code == 200 and f"Personas nuevas: {people}" in page.text
    sha = page.text.split('name="sha256" type="hidden" value="')[1][:64]
    times["web: confirm (import and commit)"], done = timed(
        lambda: client.post(location, data={"sha256": sha})
    )
    assert done.status_code == 303, done.status_code
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == people + 1
    return times


def bench(label: str, database_url: str, people: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(configure(database_url, Path(folder)))
        data = generate(people)
        print(f"\n{label}: {people:,} people, {len(data) / 1024:.0f} KiB (cp1252, ';')")
        samples: dict[str, list[float]] = {}
        for _ in range(rounds):
            for step in (service_round, web_round):
                for name, seconds in step(app, data, people).items():
                    samples.setdefault(name, []).append(seconds)
        for name, values in samples.items():
            print(
                f"  {name:<36} median {statistics.median(values):6.2f} s"
                f"  (min {min(values):.2f}, max {max(values):.2f}, {len(values)} rounds)"
            )
        with app.app_context():
            db.drop_all()
            db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
            db.session.commit()
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--postgresql",
        default=os.environ.get("ACADEMY_BENCH_DATABASE_URL"),
        help="an empty PostgreSQL database to measure on too",
    )
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    options = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    if not options.no_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            bench("sqlite", f"sqlite:///{folder}/bench.db", options.people, options.rounds)
    if options.postgresql:
        bench("postgresql", options.postgresql, options.people, options.rounds)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
