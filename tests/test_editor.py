"""The trainers' course editor: structure, lesson text, publishing, history and images."""

from __future__ import annotations

import html
import re
from io import BytesIO

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import undefer
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from academy import markdown
from academy.cases.definition import parse_case
from academy.courses import services
from academy.courses.models import (
    Course,
    CourseAsset,
    CourseStatus,
    Lesson,
    LessonRevision,
    Unit,
)
from academy.extensions import db
from academy.frontmatter import split
from tests.conftest import PASSWORD
from tests.test_content_format import BOMBS, png_announcing

pytestmark = pytest.mark.usefixtures("example_course")

EDITOR = "/editor/cursos/curso-ejemplo"
LEARNER_PAGE = "/cursos/curso-ejemplo/lecciones"


# Helpers --------------------------------------------------------------------------------


@pytest.fixture
def trainer(auth, make_user):
    return auth.as_role(make_user, "trainer")


@pytest.fixture
def as_learner(app, make_user):
    """A second client: an enrolled learner, to see what learners see meanwhile."""

    def sign_in():
        client = app.test_client()
        user = make_user("learner")
        signed_in = client.post("/entrar", data={"email": user.email, "password": PASSWORD})
        assert signed_in.status_code == 302
        assert client.post("/cursos/curso-ejemplo/inscribirme").status_code == 302
        return client

    return sign_in


def get_lesson(slug: str, course: str = "curso-ejemplo") -> Lesson:
    return db.session.scalar(
        select(Lesson).join(Course).where(Course.slug == course, Lesson.slug == slug)
    )


def revision_numbers(query, slug: str) -> list[int]:
    return query(lambda: [r.number for r in get_lesson(slug).revisions])


def lesson_state(query, slug: str) -> dict:
    def read():
        lesson = get_lesson(slug)
        return {
            "latest": lesson.latest.number,
            "published": lesson.published.number if lesson.published else None,
            "title": lesson.latest.title,
            "body": lesson.latest.body_md,
            "source": lesson.latest.source,
            "note": lesson.latest.note,
            "position": lesson.position,
            "retired": lesson.retired_at is not None,
        }

    return query(read)


def positions(query, unit_slug: str) -> list[tuple[str, int]]:
    def read():
        unit = db.session.scalar(select(Unit).where(Unit.slug == unit_slug))
        return [(lesson.slug, lesson.position) for lesson in services.live_lessons(unit)]

    return query(read)


def unit_positions(query) -> list[tuple[str, int]]:
    return query(
        lambda: [
            (unit.slug, unit.position)
            for unit in services.live_units(services.get_course("curso-ejemplo"))
        ]
    )


def lesson_form(**changes) -> dict:
    data = {
        "title": "Los niveles de participación",
        "minutes": "15",
        "objectives": "Ordenar los niveles de influencia.\nElegir el nivel adecuado.",
        "body": "## El espectro\n\nTexto nuevo de la lección.",
        "note": "",
        "base": "1",
        "action": "save",
    }
    data.update(changes)
    return data


def course_form(**changes) -> dict:
    data = {
        "slug": "cosoc-basico",
        "title": "El COSOC en la práctica",
        "summary": "Cómo funciona el consejo comunal de organizaciones de la sociedad civil.",
        "description": "Un curso **breve**.",
        "hours": "4",
        "language": "es",
        "outcomes": "Explicar qué hace el COSOC.\n\nConvocar una sesión.\n",
        "enrolment": "invitation",
        "case_completion": "submission",
        "certificate_template": "default",
    }
    data.update(changes)
    return data


def image_bytes(fmt: str = "PNG", size=(40, 20), mode: str = "RGB", **save_args) -> bytes:
    image = Image.new(mode, size, "red" if mode in ("RGB", "RGBA") else 1)
    out = BytesIO()
    image.save(out, fmt, **save_args)
    return out.getvalue()


def upload(client, data: bytes, name: str, alt: str = "Mapa de la región", unit="primeros-pasos"):
    # Encoded here, in memory: the test client would spool a large body to a temporary file
    # that it never closes (a ResourceWarning, an error in this suite).
    fields = MultiDict({"image": FileStorage(BytesIO(data), filename=name), "alt": alt})
    boundary, body = encode_multipart(fields)
    return client.post(
        f"{EDITOR}/unidades/{unit}/imagenes",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def stored_asset(query, path: str) -> CourseAsset | None:
    """The stored image, its bytes too (deferred: lists never read them)."""
    statement = select(CourseAsset).where(CourseAsset.path == path).options(undefer("*"))
    return query(lambda: db.session.scalar(statement))


# Access and navigation -------------------------------------------------------------------


def test_header_links_to_the_editor_for_trainers_only(client, auth, make_user):
    auth.as_role(make_user, "learner")
    assert "Editor de cursos" not in client.get("/").text
    assert client.get("/editor/").status_code == 403
    auth.logout()
    auth.as_role(make_user, "admin")
    assert 'href="/editor/"' in client.get("/").text


def test_course_list_shows_every_course_with_its_status(app, client, trainer):
    with app.app_context():
        for slug, status in (("borrador", "draft"), ("viejo", "archived")):
            course = services.create_course(
                slug=slug,
                title=f"Curso {slug}",
                summary="Resumen.",
                description_md="",
                hours=1,
                language="es",
                outcomes=[],
                enrolment="open",
                case_completion="approval",
                certificate_template="default",
            )
            course.status = status
        db.session.commit()
    page = client.get("/editor/").text
    assert "Curso de ejemplo" in page and "Publicado" in page
    assert "Curso borrador" in page and "Borrador" in page
    assert "Curso viejo" in page and "Archivado" in page
    assert page.index("Curso borrador") < page.index("Curso viejo")  # archived last


# Courses --------------------------------------------------------------------------------


def test_create_a_course(client, trainer, query):
    response = client.post("/editor/nuevo-curso", data=course_form())
    assert response.status_code == 302
    assert response.headers["Location"] == "/editor/cursos/cosoc-basico/"
    course = query(lambda: services.get_course("cosoc-basico"))
    assert course.status == CourseStatus.DRAFT
    assert course.title == "El COSOC en la práctica"
    assert course.outcomes == ["Explicar qué hace el COSOC.", "Convocar una sesión."]
    assert (course.hours, course.enrolment) == (4, "invitation")
    assert course.case_completion == "submission"
    assert course.description_html == "<p>Un curso <strong>breve</strong>.</p>"
    page = client.get("/editor/cursos/cosoc-basico/").text
    assert "Creamos el curso" in page
    assert "El curso no tiene unidades todavía." in page
    # A draft is invisible to learners.
    assert client.get("/cursos/cosoc-basico/").status_code == 404


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"slug": "Curso Nuevo"}, "Usa solo minúsculas sin tildes"),
        ({"slug": "participación"}, "Usa solo minúsculas sin tildes"),
        ({"slug": "curso-ejemplo"}, "Ya hay un curso con ese identificador"),
        ({"slug": "x" * 81}, "Escribe como máximo 80 caracteres"),
        ({"title": "  "}, "Este campo es obligatorio"),
        ({"title": "t" * 201}, "Escribe como máximo 200 caracteres"),
        ({"title": "Participación\nciudadana"}, "Escribe una sola línea"),
        ({"hours": "diez"}, "Escribe un número entero"),
        ({"hours": "0"}, "Escribe un número entre 1 y 1000"),
        ({"hours": "1001"}, "Escribe un número entre 1 y 1000"),
        ({"hours": "9" * 5000}, "Escribe un número entero"),
        ({"language": "fr"}, "Elige una opción de la lista"),
        ({"enrolment": "todos"}, "Elige una opción de la lista"),
        ({"outcomes": "a" * 301}, "La línea 1 tiene más de 300 caracteres"),
        ({"certificate_template": "../etc"}, "No existe la plantilla de certificado «../etc»"),
        (
            {"certificate_template": "municipal"},
            "No existe la plantilla de certificado «municipal»",
        ),
        ({"certificate_template": ""}, "Este campo es obligatorio"),
        ({"description": "Mira ![](foto.png)"}, "imagen sin texto alternativo"),
    ],
)
def test_bad_course_input_is_refused_beside_the_field(client, trainer, query, changes, message):
    response = client.post("/editor/nuevo-curso", data=course_form(**changes))
    assert response.status_code == 422
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert query(lambda: db.session.scalar(select(func.count()).select_from(Course))) == 1


def test_the_certificate_template_is_chosen_from_those_the_academy_has(
    app, client, trainer, query, tmp_path
):
    app.config["CERTIFICATE_TEMPLATES_DIR"] = str(tmp_path)
    try:
        (tmp_path / "municipal").mkdir()
        (tmp_path / "municipal/certificate.html").write_text("<p>{{ nombre }}</p>", "utf-8")
        (tmp_path / "a-medias").mkdir()  # a folder without certificate.html is no template
        page = client.get(f"{EDITOR}/datos").text
        assert '<option selected value="default">' in page
        assert '<option value="municipal">' in page
        assert "a-medias" not in page
        response = client.post(
            f"{EDITOR}/datos",
            data=course_form(title="Curso renovado", certificate_template="municipal"),
        )
        assert response.status_code == 302
        assert query(lambda: services.get_course("curso-ejemplo")).certificate_template == (
            "municipal"
        )

        # The folder goes away: the form still shows the course's template, marked, and refuses
        # to save until another is chosen; nothing else is lost.
        (tmp_path / "municipal/certificate.html").unlink()
        page = client.get(f"{EDITOR}/datos").text
        assert '<option selected value="municipal">municipal (no existe)</option>' in page
        refused = client.post(
            f"{EDITOR}/datos",
            data=course_form(title="Otro título", certificate_template="municipal"),
        )
        assert refused.status_code == 422
        assert "No existe la plantilla de certificado «municipal»" in refused.text
        assert "Otro título" in refused.text
        course = query(lambda: services.get_course("curso-ejemplo"))
        assert (course.title, course.certificate_template) == ("Curso renovado", "municipal")
        fixed = client.post(
            f"{EDITOR}/datos", data=course_form(title="Otro título", certificate_template="default")
        )
        assert fixed.status_code == 302
        course = query(lambda: services.get_course("curso-ejemplo"))
        assert (course.title, course.certificate_template) == ("Otro título", "default")
    finally:
        app.config["CERTIFICATE_TEMPLATES_DIR"] = None


def test_edit_course_metadata(client, trainer, query):
    page = client.get(f"{EDITOR}/datos").text
    assert "Reconocer los niveles de participación." in page  # outcomes, one per line
    assert 'name="slug"' not in page  # the slug never changes
    response = client.post(f"{EDITOR}/datos", data=course_form(title="Curso renovado", hours="3"))
    assert response.status_code == 302
    course = query(lambda: services.get_course("curso-ejemplo"))
    assert (course.title, course.hours, course.status) == ("Curso renovado", 3, "published")
    bad = client.post(f"{EDITOR}/datos", data=course_form(title="", hours="-1"))
    assert bad.status_code == 422
    assert query(lambda: services.get_course("curso-ejemplo")).title == "Curso renovado"


def set_status(client, status):
    return client.post(f"{EDITOR}/estado", data={"status": status}, follow_redirects=True)


def test_publish_unpublish_archive_and_restore_a_course(client, trainer, query, as_learner):
    learner = as_learner()
    course_status = lambda: query(lambda: services.get_course("curso-ejemplo").status)  # noqa: E731

    assert (
        "El curso es un borrador: los participantes no lo ven." in set_status(client, "draft").text
    )
    assert course_status() == "draft"
    assert learner.get("/cursos/curso-ejemplo/").status_code == 404

    assert "los participantes ya lo ven" in set_status(client, "published").text
    assert course_status() == "published"
    assert learner.get("/cursos/curso-ejemplo/").status_code == 200

    page = set_status(client, "archived").text
    assert "Archivamos el curso" in page
    assert "Restaurar como borrador" in page
    assert course_status() == "archived"
    assert learner.get("/cursos/curso-ejemplo/").status_code == 404
    assert learner.get(f"{LEARNER_PAGE}/niveles").status_code == 404

    # Archived courses come back as drafts, never straight to published.
    assert "no está en un estado que permita ese cambio" in set_status(client, "published").text
    assert course_status() == "archived"
    set_status(client, "draft")
    assert course_status() == "draft"
    # Nothing was lost on the way.
    assert query(lambda: len(services.course_lessons(services.get_course("curso-ejemplo")))) == 3
    assert client.post(f"{EDITOR}/estado", data={"status": "deleted"}).status_code == 400


def test_a_course_without_published_lessons_cannot_be_published(client, trainer, query):
    client.post("/editor/nuevo-curso", data=course_form())
    response = client.post(
        "/editor/cursos/cosoc-basico/estado", data={"status": "published"}, follow_redirects=True
    )
    assert "Publica al menos una lección antes de publicar el curso." in response.text
    assert query(lambda: services.get_course("cosoc-basico").status) == "draft"


# Units and lessons ---------------------------------------------------------------------------


def test_create_and_edit_a_unit(client, trainer, query):
    response = client.post(
        f"{EDITOR}/nueva-unidad",
        data={"slug": "costos", "title": "Costos y beneficios", "summary": "Lo que **cuesta**."},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("#unidad-costos")
    assert unit_positions(query) == [("primeros-pasos", 1), ("mecanismos", 2), ("costos", 3)]
    page = client.get(f"{EDITOR}/").text
    assert "Unidad 3: Costos y beneficios" in page

    edit = client.get(f"{EDITOR}/unidades/costos").text
    assert "Lo que **cuesta**." in edit
    client.post(f"{EDITOR}/unidades/costos", data={"title": "Costos", "summary": ""})
    unit = query(lambda: services.get_unit(services.get_course("curso-ejemplo"), "costos"))
    assert (unit.title, unit.summary_html) == ("Costos", "")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"slug": "mecanismos", "title": "Otra"}, "Este curso ya tiene una unidad con ese"),
        ({"slug": "Mecanismos 2", "title": "Otra"}, "Usa solo minúsculas"),
        ({"slug": "otra", "title": ""}, "Este campo es obligatorio"),
        ({"slug": "otra", "title": "Otra\u2028unidad"}, "Escribe una sola línea"),
        ({"slug": "otra", "title": "Otra", "summary": "!!! peligro\n    x"}, "tipo de recuadro"),
    ],
)
def test_bad_unit_input(client, trainer, query, data, message):
    response = client.post(f"{EDITOR}/nueva-unidad", data=data)
    assert response.status_code == 422
    assert message in response.text
    assert len(unit_positions(query)) == 2


def test_unknown_units_and_lessons_are_404(client, trainer):
    assert client.get(f"{EDITOR}/unidades/no-existe").status_code == 404
    assert client.get(f"{EDITOR}/unidades/no-existe/nueva-leccion").status_code == 404
    assert client.get(f"{EDITOR}/lecciones/no-existe").status_code == 404
    assert client.get("/editor/cursos/no-existe/").status_code == 404
    assert client.post(f"{EDITOR}/lecciones/no-existe/publicar").status_code == 404


def test_reorder_units_and_lessons(client, trainer, query):
    page = client.get(f"{EDITOR}/").text
    # Buttons say what they move, for people who cannot see the arrow or the row.
    assert 'Bajar<span class="visually-hidden"> ‘¿Qué es participar?’</span>' in page
    assert 'Subir<span class="visually-hidden"> ‘Los niveles de participación’</span>' in page

    response = client.post(f"{EDITOR}/lecciones/niveles/mover", data={"direction": "up"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("#leccion-niveles")
    assert positions(query, "primeros-pasos") == [("niveles", 1), ("que-es-participar", 2)]
    # Already first: nothing moves, nothing breaks.
    client.post(f"{EDITOR}/lecciones/niveles/mover", data={"direction": "up"})
    assert positions(query, "primeros-pasos") == [("niveles", 1), ("que-es-participar", 2)]

    client.post(f"{EDITOR}/unidades/mecanismos/mover", data={"direction": "up"})
    assert unit_positions(query) == [("mecanismos", 1), ("primeros-pasos", 2)]
    client.post(f"{EDITOR}/unidades/mecanismos/mover", data={"direction": "down"})
    assert unit_positions(query) == [("primeros-pasos", 1), ("mecanismos", 2)]

    for path in ("lecciones/niveles/mover", "unidades/mecanismos/mover"):
        assert client.post(f"{EDITOR}/{path}", data={"direction": "sideways"}).status_code == 400


def create_lesson(client, unit="mecanismos", **changes):
    data = {
        "slug": "plebiscito",
        "kind": "reading",
        "title": "El plebiscito comunal",
        "minutes": "12",
        "objectives": "Explicar cuándo procede un plebiscito.",
    }
    data.update(changes)
    return client.post(f"{EDITOR}/unidades/{unit}/nueva-leccion", data=data)


def test_create_a_lesson(client, trainer, query, as_learner):
    response = create_lesson(client)
    assert response.status_code == 302
    assert response.headers["Location"] == f"{EDITOR}/lecciones/plebiscito"
    assert positions(query, "mecanismos") == [("consejo", 1), ("plebiscito", 2)]
    state = lesson_state(query, "plebiscito")
    assert state["latest"] == 1 and state["published"] is None
    assert state["title"] == "El plebiscito comunal"
    page = client.get(response.headers["Location"]).text
    assert "Ninguna: los participantes todavía no ven esta lección." in page
    # Learners do not see an unpublished lesson.
    learner = as_learner()
    assert learner.get(f"{LEARNER_PAGE}/plebiscito").status_code == 404
    assert "El plebiscito comunal" not in learner.get("/cursos/curso-ejemplo/").text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"slug": "niveles"}, "Este curso ya tiene una lección con ese identificador"),
        ({"slug": "Plebiscito!"}, "Usa solo minúsculas"),
        ({"minutes": "doce"}, "Escribe un número entero"),
        ({"minutes": ""}, "Este campo es obligatorio"),
        ({"minutes": "0"}, "Escribe un número entre 1 y 1000"),
        ({"minutes": "1e3"}, "Escribe un número entero"),
        ({"kind": "video"}, "Elige una opción de la lista"),
        ({"title": ""}, "Este campo es obligatorio"),
        ({"title": "El plebiscito\r\ncomunal"}, "Escribe una sola línea"),
        ({"objectives": "\n".join(f"Objetivo {n}" for n in range(21))}, "como máximo 20 líneas"),
    ],
)
def test_bad_lesson_input(client, trainer, query, changes, message):
    response = create_lesson(client, **changes)
    assert response.status_code == 422
    assert message in response.text
    assert response.text.count(message) == 1  # one message per problem, not two
    assert positions(query, "mecanismos") == [("consejo", 1)]


def test_retire_a_lesson_keeps_its_history(client, trainer, query, as_learner):
    learner = as_learner()
    assert learner.get(f"{LEARNER_PAGE}/que-es-participar").status_code == 200
    confirm = client.get(f"{EDITOR}/lecciones/que-es-participar/retirar")
    assert "¿Retirar la lección ‘¿Qué es participar?’?" in confirm.text
    response = client.post(f"{EDITOR}/lecciones/que-es-participar/retirar")
    assert response.status_code == 302
    state = lesson_state(query, "que-es-participar")
    assert state["retired"] and state["latest"] == 1 and state["published"] == 1
    assert positions(query, "primeros-pasos") == [("niveles", 1)]
    assert learner.get(f"{LEARNER_PAGE}/que-es-participar").status_code == 404
    page = client.get(f"{EDITOR}/").text
    assert "Lecciones retiradas" in page
    # Its history can still be read, but it is no longer edited.
    assert client.get(f"{EDITOR}/lecciones/que-es-participar/historial").status_code == 200
    assert client.get(f"{EDITOR}/lecciones/que-es-participar").status_code == 404
    # Its slug stays taken.
    assert create_lesson(client, slug="que-es-participar").status_code == 422


# The lesson text -----------------------------------------------------------------------------


def test_edit_page_shows_the_latest_text_with_its_preview(client, trainer):
    page = client.get(f"{EDITOR}/lecciones/que-es-participar").text
    assert "Participar no es lo mismo que informarse." in page  # the Markdown, in the textarea
    assert '<aside class="callout callout-importante">' in page  # the preview
    # Images and lesson links point into the editor, which serves draft courses too.
    assert f'src="{EDITOR}/recursos/primeros-pasos/niveles.png"' in page
    assert f'href="{EDITOR}/lecciones/niveles#el-espectro"' in page
    assert client.get(f"{EDITOR}/recursos/primeros-pasos/niveles.png").mimetype == "image/png"
    assert "Los participantes ven la última revisión." in page
    assert 'aria-live="polite"' in page
    assert '<script src="/static/js/editor.js" defer></script>' in page
    assert "<script>" not in page and " style=" not in page and "<style" not in page


def test_preview_button_renders_without_saving(client, trainer, query):
    response = client.post(
        f"{EDITOR}/lecciones/niveles",
        data=lesson_form(action="preview", body="Texto **en prueba**.\n\n[Mal](no-existe.md)"),
    )
    assert response.status_code == 200
    assert "Texto <strong>en prueba</strong>." in response.text
    assert "Línea 3: enlace a una lección que no existe: no-existe.md" in response.text
    assert revision_numbers(query, "niveles") == [1]


def test_a_lesson_title_is_one_line(client, trainer, query):
    # A crafted POST put a line break in a title; every email naming the case then failed.
    response = client.post(f"{EDITOR}/lecciones/niveles", data=lesson_form(title="Niveles\nBcc: x"))
    assert response.status_code == 422
    assert "Escribe una sola línea" in response.text
    assert revision_numbers(query, "niveles") == [1]


def test_save_a_draft_then_publish_it(client, trainer, query, as_learner):
    learner = as_learner()
    response = client.post(
        f"{EDITOR}/lecciones/niveles",
        data=lesson_form(title="Niveles, versión nueva", note="Reescribí el inicio"),
    )
    assert response.status_code == 302
    state = lesson_state(query, "niveles")
    assert (state["latest"], state["published"]) == (2, 1)
    assert (state["source"], state["note"]) == ("editor", "Reescribí el inicio")

    page = client.get(f"{EDITOR}/lecciones/niveles").text
    assert "Guardamos el borrador: revisión 2" in page
    assert "Hay cambios sin publicar: la revisión 2 es un borrador" in page
    assert "Publicar la revisión 2" in page
    # Learners still see the published revision.
    seen = learner.get(f"{LEARNER_PAGE}/niveles").text
    assert "Los niveles de participación" in seen and "Niveles, versión nueva" not in seen

    published = client.post(
        f"{EDITOR}/lecciones/niveles/publicar", data={"revision": "2"}, follow_redirects=True
    )
    assert "Publicamos la revisión 2. Los participantes ya la ven." in published.text
    assert lesson_state(query, "niveles")["published"] == 2
    seen = learner.get(f"{LEARNER_PAGE}/niveles").text
    assert "Niveles, versión nueva" in seen and "Texto nuevo de la lección." in seen


def test_saving_the_same_text_adds_no_revision(client, trainer, query):
    client.post(f"{EDITOR}/lecciones/niveles", data=lesson_form())
    again = client.post(
        f"{EDITOR}/lecciones/niveles", data=lesson_form(base="2"), follow_redirects=True
    )
    assert "No había cambios que guardar." in again.text
    assert revision_numbers(query, "niveles") == [1, 2]


BROKEN = """## Con problemas

Ver [otra lección](../02-mecanismos/09-no-existe.md).

![Mapa](no-esta.png)

![](niveles.png)

!!! peligro
    Cuidado.
"""


def test_rendering_problems_block_saving_and_show_their_lines(client, trainer, query):
    response = client.post(f"{EDITOR}/lecciones/niveles", data=lesson_form(body=BROKEN))
    assert response.status_code == 422
    page = response.text
    assert "No guardamos: hay 4 problemas en el texto." in page
    assert "Línea 3: enlace a una lección que no existe" in page
    assert "Línea 5: imagen no encontrada: no-esta.png" in page
    assert "Línea 7: imagen sin texto alternativo" in page
    assert "Línea 9: tipo de recuadro desconocido" in page
    assert 'aria-describedby="editor-body-help editor-body-problems"' in page
    assert BROKEN.splitlines()[2] in page  # the text is kept in the textarea
    assert revision_numbers(query, "niveles") == [1]


def test_text_over_the_limit_gets_a_clear_message(client, trainer, query):
    body = "a" * (markdown.DEFAULT_MAX_CHARS + 1)
    for action in ("preview", "save"):
        data = lesson_form(body=body, action=action)
        response = client.post(f"{EDITOR}/lecciones/niveles", data=data)
        assert response.status_code == 422
        assert "el máximo es 200000" in response.text
    assert revision_numbers(query, "niveles") == [1]
    preview = client.post(f"{EDITOR}/lecciones/niveles/vista-previa", json={"body": body})
    assert preview.status_code == 422
    assert "el máximo es 200000" in preview.json["problems"][0]


def test_a_long_lesson_with_accents_fits_in_one_request(client, trainer, query):
    # URL-encoded, "ó" takes 6 bytes: beyond Flask's default 500 kB for a form field.
    body = ("Participación ciudadana en la gestión municipal. " * 3000)[:120_000]
    response = client.post(f"{EDITOR}/lecciones/niveles", data=lesson_form(body=body))
    assert response.status_code == 302
    assert lesson_state(query, "niveles")["body"] == body.strip()


def test_fields_are_checked_when_saving(client, trainer, query):
    response = client.post(
        f"{EDITOR}/lecciones/niveles",
        data=lesson_form(title="", minutes="muchos", note="n" * 201),
    )
    assert response.status_code == 422
    assert "Este campo es obligatorio." in response.text
    assert "Escribe un número entero" in response.text
    assert "Escribe como máximo 200 caracteres." in response.text
    assert revision_numbers(query, "niveles") == [1]


def test_saving_over_a_newer_revision_is_refused_once(app, client, trainer, make_user, query):
    other = make_user("trainer", full_name="Rosa Carrasco")
    with app.app_context():
        services.save_draft(
            get_lesson("niveles"),
            trainer_id=other.id,
            title="De Rosa",
            minutes=5,
            objectives=[],
            body_md="Cambio de Rosa.",
        )
        db.session.commit()
    response = client.post(f"{EDITOR}/lecciones/niveles", data=lesson_form(base="1"))
    assert response.status_code == 409
    assert "Mientras editabas, Rosa Carrasco guardó la revisión 2." in response.text
    assert 'name="base" type="hidden" value="2"' in response.text
    assert revision_numbers(query, "niveles") == [1, 2]
    # Having seen the warning, the trainer may save deliberately.
    assert client.post(f"{EDITOR}/lecciones/niveles", data=lesson_form(base="2")).status_code == 302
    assert revision_numbers(query, "niveles") == [1, 2, 3]


def test_live_preview_endpoint(client, trainer, query):
    response = client.post(
        f"{EDITOR}/lecciones/que-es-participar/vista-previa",
        json={"body": "Hola <script>alert(1)</script> ![x](niveles.png) [n](02-niveles.md)"},
    )
    assert response.status_code == 200
    html = response.json["html"]
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert f'src="{EDITOR}/recursos/primeros-pasos/niveles.png"' in html
    assert f'href="{EDITOR}/lecciones/niveles"' in html
    assert response.json["problems"] == [
        "Línea 1: el HTML no se interpreta y se mostrará como texto: <script>"
    ]
    assert revision_numbers(query, "que-es-participar") == [1]


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def test_live_preview_sends_the_csrf_token_in_a_header(client, trainer, csrf_on):
    page = client.get(f"{EDITOR}/lecciones/niveles").text
    token = re.search(r'data-csrf-token="([^"]+)"', page).group(1)
    url = f"{EDITOR}/lecciones/niveles/vista-previa"
    assert client.post(url, json={"body": "*hola*"}).status_code == 400
    response = client.post(url, json={"body": "*hola*"}, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert response.json["html"] == "<p><em>hola</em></p>"


def test_publishing_refuses_a_revision_with_problems_or_a_stale_one(app, client, trainer, query):
    with app.app_context():
        lesson = get_lesson("niveles")
        # Written around the editor (which would refuse it), as an old restore might be.
        services.save_draft(
            lesson,
            trainer_id=trainer.id,
            title="Rota",
            minutes=5,
            objectives=[],
            body_md="![](nada.png)",
        )
        db.session.commit()
    stale = client.post(
        f"{EDITOR}/lecciones/niveles/publicar", data={"revision": "1"}, follow_redirects=True
    )
    assert "Hay una revisión más reciente" in stale.text
    broken = client.post(
        f"{EDITOR}/lecciones/niveles/publicar", data={"revision": "2"}, follow_redirects=True
    )
    assert "No publicamos la revisión 2" in broken.text
    assert "imagen sin texto alternativo" in broken.text
    assert lesson_state(query, "niveles")["published"] == 1


# History -------------------------------------------------------------------------------------


@pytest.fixture
def three_revisions(app, trainer):
    with app.app_context():
        lesson = get_lesson("niveles")
        base = lesson.latest.body_md
        objectives = ["Ordenar los niveles de influencia."]
        added = base + "\n\nUn párrafo añadido."
        services.save_draft(
            lesson,
            trainer_id=trainer.id,
            title="Los niveles",
            minutes=15,
            objectives=objectives,
            body_md=added,
            note="Agrego un párrafo",
        )
        renamed = added.replace("## El espectro", "## El espectro completo")
        services.save_draft(
            lesson,
            trainer_id=trainer.id,
            title="Los niveles",
            minutes=20,
            objectives=objectives,
            body_md=renamed,
        )
        db.session.commit()
    return trainer


def test_history_lists_every_revision(client, three_revisions):
    page = client.get(f"{EDITOR}/lecciones/niveles/historial").text
    for n in (1, 2, 3):
        assert f"Revisión {n}</a>" in page
    assert "Importación de archivos" in page and "Editor" in page
    assert "Agrego un párrafo" in page
    assert three_revisions.full_name in page
    assert page.count('<span class="badge badge-published">Publicada</span>') == 1
    assert '<th scope="col">' in page and '<th scope="row">' in page
    assert 'Restaurar<span class="visually-hidden"> la revisión 1</span>' in page


def test_view_any_revision(client, three_revisions):
    page = client.get(f"{EDITOR}/lecciones/niveles/revisiones/1").text
    assert "Revisión 1 de" in page
    assert "Es la versión publicada." in page
    assert '<h2 id="el-espectro">El espectro</h2>' in page  # rendered
    assert "!!! ejemplo &#34;Una plaza&#34;" in page or "!!! ejemplo &quot;Una plaza&quot;" in page
    assert "Restaurar esta revisión" in page
    latest = client.get(f"{EDITOR}/lecciones/niveles/revisiones/3").text
    assert "Restaurar esta revisión" not in latest


def test_compare_two_revisions(client, three_revisions):
    response = client.get(f"{EDITOR}/lecciones/niveles/comparar?desde=1&hasta=3")
    assert response.status_code == 200
    page = response.text
    assert "De la revisión 1" in page and "a la revisión 3" in page
    # Changed fields, old and new side by side.
    assert '<th scope="row">Título</th>' in page
    assert "Los niveles de participación" in page
    assert '<th scope="row">Minutos estimados</th>' in page
    # The text, line by line, with visible and spoken markers and classes for colour.
    removed = re.search(r'<tr class="diff-removed">(.*?)</tr>', page, re.S).group(1)
    assert "## El espectro" in removed and '<span aria-hidden="true">−</span>' in removed
    assert '<span class="visually-hidden">eliminada</span>' in removed
    added = re.findall(r'<tr class="diff-added">(.*?)</tr>', page, re.S)
    assert any("## El espectro completo" in row for row in added)
    assert any("Un párrafo añadido." in row for row in added)
    assert '<tr class="diff-context">' in page
    assert " style=" not in page
    same = client.get(f"{EDITOR}/lecciones/niveles/comparar?desde=2&hasta=2").text
    assert "Estas revisiones tienen el mismo título" in same


def test_diff_lines_numbers_both_sides():
    hunks = services.diff_lines("a\nb\nc\nd", "a\nB\nc\nd\ne", context=1)
    assert [(line.kind, line.old, line.new, line.text) for hunk in hunks for line in hunk] == [
        ("context", 1, 1, "a"),
        ("removed", 2, None, "b"),
        ("added", None, 2, "B"),
        ("context", 3, 3, "c"),
        ("context", 4, 4, "d"),
        ("added", None, 5, "e"),
    ]
    assert services.diff_lines("igual", "igual") == []


def test_restore_copies_an_old_revision_forward(client, three_revisions, query, as_learner):
    learner = as_learner()
    response = client.post(f"{EDITOR}/lecciones/niveles/revisiones/1/restaurar")
    assert response.status_code == 302
    assert revision_numbers(query, "niveles") == [1, 2, 3, 4]
    state = lesson_state(query, "niveles")
    assert state["source"] == "restore"
    assert state["note"] == "restaurada desde la revisión 1"
    assert state["title"] == "Los niveles de participación"
    assert state["published"] == 1
    bodies = query(lambda: [r.body_md for r in get_lesson("niveles").revisions])
    assert bodies[3] == bodies[0] and bodies[2] != bodies[0]  # history is untouched
    page = client.get(f"{EDITOR}/lecciones/niveles").text
    assert "Restauramos la revisión 1 como un borrador nuevo, la revisión 4." in page
    assert "Los niveles de participación" in learner.get(f"{LEARNER_PAGE}/niveles").text
    # Restoring the newest revision changes nothing.
    client.post(f"{EDITOR}/lecciones/niveles/revisiones/4/restaurar")
    assert revision_numbers(query, "niveles") == [1, 2, 3, 4]


def test_ids_from_elsewhere_are_404(app, client, trainer, three_revisions):
    with app.app_context():
        other = services.create_course(
            slug="otro",
            title="Otro curso",
            summary="Otro.",
            description_md="",
            hours=1,
            language="es",
            outcomes=[],
            enrolment="open",
            case_completion="approval",
            certificate_template="default",
        )
        unit = services.create_unit(other, slug="unica", title="Única", summary_md="")
        services.create_lesson(
            unit,
            slug="ajena",
            kind="reading",
            title="Ajena",
            minutes=5,
            objectives=[],
            trainer_id=trainer.id,
        )
        db.session.commit()
    # A lesson of another course, reached through this one.
    for method, path in (
        ("GET", f"{EDITOR}/lecciones/ajena"),
        ("POST", f"{EDITOR}/lecciones/ajena/publicar"),
        ("POST", f"{EDITOR}/lecciones/ajena/revisiones/1/restaurar"),
        ("GET", f"{EDITOR}/lecciones/ajena/historial"),
        ("GET", f"{EDITOR}/unidades/unica/imagenes"),
    ):
        assert client.open(path, method=method).status_code == 404, path
    # A revision number that exists for another lesson only (niveles has 3, consejo has 1).
    for method, path in (
        ("GET", f"{EDITOR}/lecciones/consejo/revisiones/3"),
        ("POST", f"{EDITOR}/lecciones/consejo/revisiones/3/restaurar"),
        ("GET", f"{EDITOR}/lecciones/consejo/comparar?desde=1&hasta=3"),
        ("GET", f"{EDITOR}/lecciones/consejo/comparar?desde=1"),
        ("GET", f"{EDITOR}/lecciones/consejo/comparar?desde=uno&hasta=1"),
    ):
        assert client.open(path, method=method).status_code == 404, path


# Images --------------------------------------------------------------------------------------


def test_upload_a_png(client, trainer, query):
    response = upload(client, image_bytes("PNG"), "Mapa Comunal.PNG")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert "Guardamos la imagen mapa_comunal.png." in page
    assert 'value="![Mapa de la región](mapa_comunal.png)"' in page
    asset = stored_asset(query, "primeros-pasos/mapa_comunal.png")
    assert (asset.mime, asset.width, asset.height) == ("image/png", 40, 20)
    served = client.get(f"{EDITOR}/recursos/primeros-pasos/mapa_comunal.png")
    assert served.data == asset.data
    # The new image can be used in a lesson of the unit right away.
    saved = client.post(
        f"{EDITOR}/lecciones/niveles",
        data=lesson_form(body="![Mapa de la región](mapa_comunal.png)"),
    )
    assert saved.status_code == 302


def test_uploaded_jpeg_loses_its_metadata_and_stays_upright(client, trainer, query):
    exif = Image.Exif()
    exif[0x010F] = "Camara Municipal"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x9003] = "2024:03:01 10:00:00"  # DateTimeOriginal
    data = image_bytes("JPEG", size=(60, 30), exif=exif.tobytes(), comment=b"secreto")
    with Image.open(BytesIO(data)) as original:
        assert original.getexif()[0x010F] == "Camara Municipal"
    assert upload(client, data, "foto.jpeg").status_code == 302
    asset = stored_asset(query, "primeros-pasos/foto.jpeg")
    assert asset.mime == "image/jpeg"
    with Image.open(BytesIO(asset.data)) as stored:
        assert stored.format == "JPEG"
        assert stored.size == (30, 60)  # the orientation was applied to the pixels
        assert dict(stored.getexif()) == {}
        assert "exif" not in stored.info and "comment" not in stored.info
    assert b"Municipal" not in asset.data and b"secreto" not in asset.data


def test_replacing_an_image_updates_it(client, trainer, query):
    upload(client, image_bytes("PNG", size=(10, 10)), "plano.png")
    response = upload(client, image_bytes("PNG", size=(30, 10)), "plano.png", alt="Plano nuevo")
    assert "Reemplazamos la imagen plano.png." in client.get(response.headers["Location"]).text
    asset = stored_asset(query, "primeros-pasos/plano.png")
    assert (asset.width, asset.height) == (30, 10)
    count = query(lambda: db.session.scalar(select(func.count()).select_from(CourseAsset)))
    assert count == 2  # niveles.png from the import, and this one


def test_the_extension_follows_the_real_format(client, trainer, query):
    assert upload(client, image_bytes("PNG"), "diagrama.jpg").status_code == 302
    assert stored_asset(query, "primeros-pasos/diagrama.png").mime == "image/png"
    assert upload(client, image_bytes("WEBP"), "foto").status_code == 302
    assert stored_asset(query, "primeros-pasos/foto.webp").mime == "image/webp"


def test_cmyk_and_palette_images_are_converted_sensibly():
    cmyk = services.clean_image(image_bytes("JPEG", mode="CMYK"))
    with Image.open(BytesIO(cmyk.data)) as image:
        assert (image.format, image.mode) == ("JPEG", "RGB")
    palette = Image.new("P", (8, 8), 0)
    palette.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    out = BytesIO()
    palette.save(out, "PNG", transparency=0)
    clean = services.clean_image(out.getvalue())
    with Image.open(BytesIO(clean.data)) as image:
        assert image.mode == "RGBA"
        assert image.getpixel((0, 0))[3] == 0  # transparency kept


NOT_AN_IMAGE = "no es una imagen PNG, JPEG o WebP"


@pytest.mark.parametrize(
    ("data", "name", "alt", "message"),
    [
        (b"esto no es una imagen, solo texto", "mapa.png", "Mapa", NOT_AN_IMAGE),
        (b"GIF89a" + b"\x00" * 40, "animado.gif", "Gif", NOT_AN_IMAGE),
        (image_bytes("PNG")[:40], "cortada.png", "Cortada", NOT_AN_IMAGE),
        (b"\x89PNG" + b"0" * (2 * 1024 * 1024), "enorme.png", "Enorme", "pesa más de 2 MB"),
        (image_bytes("PNG"), "mapa.png", "", "Este campo es obligatorio."),
    ],
)
def test_bad_uploads_are_refused_beside_the_field(client, trainer, query, data, name, alt, message):
    response = upload(client, data, name, alt=alt)
    assert response.status_code == 422
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert query(lambda: db.session.scalar(select(func.count()).select_from(CourseAsset))) == 1


@pytest.mark.parametrize(("width", "height"), BOMBS)
def test_a_decompression_bomb_is_refused_for_its_pixels(client, trainer, query, width, height):
    # Pillow's own guard used to stop the largest first, and that read as "not an image".
    response = upload(client, png_announcing(width, height), "bomba.png", alt="Bomba")
    assert response.status_code == 422
    assert "La imagen es demasiado grande en píxeles" in response.text
    assert NOT_AN_IMAGE not in response.text
    assert query(lambda: db.session.scalar(select(func.count()).select_from(CourseAsset))) == 1


def test_an_upload_without_a_file_is_refused(client, trainer):
    response = client.post(
        f"{EDITOR}/unidades/primeros-pasos/imagenes",
        data={"alt": "Mapa"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Elige un archivo de imagen." in response.text


def test_only_the_upload_accepts_requests_over_the_global_limit(client, trainer):
    big = b"0" * (3 * 1024 * 1024)
    assert upload(client, big, "grande.png").status_code == 422  # a message beside the field
    response = client.post(f"{EDITOR}/lecciones/niveles", data=lesson_form(body=big.decode()))
    assert response.status_code == 413


def test_image_list_shows_a_snippet_for_each_image(client, trainer):
    page = client.get(f"{EDITOR}/unidades/primeros-pasos/imagenes?leccion=niveles").text
    assert "niveles.png" in page
    assert "![Describe la imagen](niveles.png)" in page
    assert "Volver a ‘Los niveles de participación’" in page


def test_image_markdown_escapes_brackets():
    assert services.image_markdown("Plano [v2]\n", "plano.png") == r"![Plano \[v2\]](plano.png)"


def test_file_names_are_safe():
    assert services.image_file_name("../../etc/Passwd.PNG", "PNG") == "etc_passwd.png"
    assert services.image_file_name("Niños y niñas.jpeg", "JPEG") == "ninos_y_ninas.jpeg"
    assert services.image_file_name("水.png", "PNG") == "imagen.png"
    assert services.image_file_name("mapa.webp", "JPEG") == "mapa.jpg"


def test_revisions_are_never_deleted(client, trainer, three_revisions, query):
    client.post(f"{EDITOR}/lecciones/niveles/retirar")
    count = query(lambda: db.session.scalar(select(func.count()).select_from(LessonRevision)))
    assert count == 5  # 3 imported lessons + 2 drafts of niveles


def test_a_quiz_lesson_names_an_existing_quiz(
    client, auth, make_user, example_course, example_quiz
):
    auth.as_role(make_user, "trainer")
    url = "/editor/cursos/curso-ejemplo/unidades/mecanismos/nueva-leccion"
    data = {"slug": "prueba-final", "kind": "quiz", "title": "Prueba final", "minutes": "15"}
    missing = client.post(url, data=data)
    assert missing.status_code == 422
    assert "Escribe el identificador del cuestionario." in missing.text
    unknown = client.post(url, data={**data, "quiz": "no-existe"})
    assert "No hay un cuestionario con ese identificador." in unknown.text
    created = client.post(url, data={**data, "quiz": example_quiz})
    assert created.status_code == 302


CASE_LESSON = "/editor/cursos/curso-ejemplo/lecciones/caso-plaza"


@pytest.fixture
def new_case(client, auth, make_user, example_course):
    """A trainer who has just created a case lesson in the editor."""
    auth.as_role(make_user, "trainer")
    response = client.post(
        "/editor/cursos/curso-ejemplo/unidades/mecanismos/nueva-leccion",
        data={"slug": "caso-plaza", "kind": "case", "title": "Caso: la plaza", "minutes": "30"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == CASE_LESSON
    return client


def case_form(client, **changes) -> dict:
    """The case lesson's edit form as the page fills it, with ``changes``."""
    page = client.get(CASE_LESSON).text
    text = re.search(r'<textarea[^>]*name="case"[^>]*>\n?(.*?)</textarea>', page, re.S)
    assert text is not None, "the page has no prompts-and-rubric field"
    base = re.search(r'name="base" type="hidden" value="(\d+)"', page)
    data = {
        "title": "Caso: la plaza",
        "minutes": "30",
        "objectives": "",
        "body": "La municipalidad renovará la plaza del barrio Los Aromos.",
        "case": html.unescape(text.group(1)),
        "note": "",
        "base": base.group(1) if base else "1",
        "action": "save",
    }
    data.update(changes)
    return data


def stored_case(query, slug: str = "caso-plaza") -> dict:
    return query(lambda: dict(get_lesson(slug).latest.extra))


def test_a_case_lesson_starts_with_an_example_to_rewrite(new_case, query):
    extra = stored_case(query)
    definition, problems = parse_case(extra)
    assert not problems and definition is not None
    assert len(definition.criteria) == 3 and definition.total_points == 12
    page = new_case.get(CASE_LESSON).text
    assert "Escenario del caso (Markdown)" in page
    assert "Consignas y rúbrica" in page
    assert "puntaje_total: 12" in page


def test_edit_a_case_s_prompts_and_rubric(new_case, query, as_learner):
    data = case_form(new_case)
    data["case"] = data["case"].replace(
        "Escribe aquí la primera consigna", "¿Qué nivel de participación propondrías?"
    )
    response = new_case.post(CASE_LESSON, data=data)
    assert response.status_code == 302
    assert revision_numbers(query, "caso-plaza") == [1, 2]
    extra = stored_case(query)
    assert extra["consignas"][0]["titulo"] == "¿Qué nivel de participación propondrías?"
    # The history shows what changed in the prompts, line by line.
    compare = new_case.get(f"{CASE_LESSON}/comparar?desde=1&hasta=2").text
    assert "Cambios en las consignas y la rúbrica" in compare
    assert "¿Qué nivel de participación propondrías?" in compare
    # Published, learners see the scenario and the new prompt.
    assert new_case.post(f"{CASE_LESSON}/publicar", data={"revision": "2"}).status_code == 302
    learner = as_learner()
    page = learner.get("/cursos/curso-ejemplo/lecciones/caso-plaza").text
    assert "La municipalidad renovará la plaza" in page
    assert "¿Qué nivel de participación propondrías?" in page


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("consignas: [\n", "línea 2: no se puede leer: el texto termina antes de cerrar algo"),
        ("- una lista", "«caso» debe ser un bloque con «consignas» y «rubrica»"),
        ("", "«caso» debe ser un bloque con «consignas» y «rubrica»"),
        (None, "los puntajes no cuadran"),
    ],
)
def test_bad_prompts_or_rubric_save_nothing(new_case, query, case, message):
    data = case_form(new_case)
    if case is None:  # a total that does not add up
        data["case"] = data["case"].replace("puntaje_total: 12", "puntaje_total: 10")
    else:
        data["case"] = case
    before = stored_case(query)
    response = new_case.post(CASE_LESSON, data=data)
    assert response.status_code == 422
    assert message in html.unescape(response.text)
    assert "Problemas en las consignas o la rúbrica:" in response.text
    assert revision_numbers(query, "caso-plaza") == [1]
    assert stored_case(query) == before


def test_every_rubric_problem_is_listed(new_case, query):
    data = case_form(new_case)
    data["case"] = data["case"].replace("puntos: 4", "puntos: 0").replace("puntos: 2", "puntos: 0")
    response = new_case.post(CASE_LESSON, data=data)
    assert response.status_code == 422
    problems = re.search(r'id="editor-case-problems".*?<ul>(.*?)</ul>', response.text, re.S)
    assert problems is not None
    assert problems.group(1).count("<li>") >= 3  # one per criterion, at least


def test_a_case_without_a_scenario_cannot_be_published(new_case, query):
    response = new_case.post(f"{CASE_LESSON}/publicar", data={"revision": "1"})
    assert response.status_code == 302
    page = new_case.get(CASE_LESSON).text
    assert "el caso no tiene escenario" in page
    assert query(lambda: get_lesson("caso-plaza").published) is None


def test_a_case_made_in_the_editor_exports_as_a_case_file(new_case, query):
    assert new_case.post(CASE_LESSON, data=case_form(new_case)).status_code == 302
    doc = split(query(lambda: services.lesson_file(get_lesson("caso-plaza"))), "caso-plaza.md")
    assert doc.meta["tipo"] == "caso"
    definition, problems = parse_case(doc.meta["caso"])
    assert not problems and definition is not None
    assert definition.to_data() == stored_case(query)
    assert doc.body.strip() == "La municipalidad renovará la plaza del barrio Los Aromos."
