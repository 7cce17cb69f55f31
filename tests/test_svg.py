"""SVG drawings in courses: checked before they are stored, served only as images."""

from __future__ import annotations

import logging
import shutil
from io import BytesIO
from pathlib import Path

import pytest
from click.testing import CliRunner
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from academy.cli.content import content_group
from academy.courses import content, services
from academy.extensions import db
from academy.learning import offline
from academy.security import IMAGE_CONTENT_SECURITY_POLICY
from academy.svg import check_svg

FIXTURE = Path(__file__).parent / "fixtures/content"

GOOD = """<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 120" role="img"
     aria-labelledby="titulo">
  <title id="titulo">Tres niveles de participación</title>
  <desc>Informar, consultar y participar activamente, de izquierda a derecha.</desc>
  <defs>
    <marker id="flecha" markerWidth="10" markerHeight="10" refX="9" refY="5" orient="auto">
      <path d="M0,0 L10,5 L0,10 z" fill="#333"/>
    </marker>
    <linearGradient id="fondo" x1="0" x2="1">
      <stop offset="0" stop-color="#e8f0fe"/>
      <stop offset="1" stop-color="#c6dafc"/>
    </linearGradient>
  </defs>
  <style>.caja { fill: url(#fondo); stroke: #333; }</style>
  <g font-family="sans-serif" font-size="14" text-anchor="middle">
    <rect class="caja" x="10" y="30" width="100" height="50" rx="6"/>
    <text x="60" y="60">Informar</text>
    <line x1="110" y1="55" x2="150" y2="55" stroke="#333" marker-end="url(#flecha)"/>
    <circle cx="200" cy="55" r="25" fill="none" stroke="#333"/>
    <text x="200" y="60"><tspan font-weight="bold">Consultar</tspan></text>
    <polygon points="300,30 350,55 300,80" fill="#c6dafc"/>
  </g>
</svg>
"""

HOSTILE = {
    "script": (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">\n'
        "<rect width='1' height='1'/>\n"
        "<script>alert(document.cookie)</script>\n"
        "</svg>",
        3,
        "el SVG no puede tener <script>",
    ),
    "onload": (
        '<svg xmlns="http://www.w3.org/2000/svg"\n     viewBox="0 0 10 10"\n'
        '     onload="alert(1)">\n</svg>',
        3,
        "atributo de evento no permitido en un SVG: onload",
    ),
    "event handler on a shape": (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">\n'
        '<rect width="1" height="1" ONclick="alert(1)"/>\n</svg>',
        2,
        "atributo de evento no permitido en un SVG: ONclick",
    ),
    "foreignObject": (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">\n\n'
        '<foreignObject width="10" height="10"><p xmlns="http://www.w3.org/1999/xhtml">'
        "x</p></foreignObject>\n</svg>",
        3,
        "elemento no permitido en un SVG: <foreignObject>",
    ),
    "external href": (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">\n'
        '<use href="https://example.org/otro.svg#x"/>\n</svg>',
        2,
        "href solo puede apuntar a un elemento del mismo SVG (#id)",
    ),
    "xlink:href": (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"\n'
        '     viewBox="0 0 10 10">\n<defs/>\n'
        '<use xlink:href="javascript:alert(1)"/>\n</svg>',
        4,
        "xlink:href solo puede apuntar a un elemento del mismo SVG (#id)",
    ),
    "image": (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">\n'
        '<image href="#a" width="1" height="1"/>\n</svg>',
        2,
        "elemento no permitido en un SVG: <image>",
    ),
    "link": (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">\n'
        '<a href="#b"><text>x</text></a>\n</svg>',
        2,
        "elemento no permitido en un SVG: <a>",
    ),
    "entity bomb": (
        '<?xml version="1.0"?>\n<!DOCTYPE svg [\n<!ENTITY a "aaaaaaaaaaaaaaaaaaaa">\n'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><text>&c;</text></svg>',
        2,
        "el SVG no puede tener DOCTYPE ni entidades",
    ),
    "external entity": (
        '<?xml version="1.0"?>\n<!DOCTYPE svg SYSTEM "file:///etc/passwd">\n'
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"/>',
        2,
        "el SVG no puede tener DOCTYPE ni entidades",
    ),
    "style url(http…)": (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">\n<style>\n'
        ".a { fill: red; }\n"
        ".b { fill: url(http://example.org/x.svg#g); }\n"
        "</style>\n</svg>",
        4,
        "el estilo solo puede usar url(#id)",
    ),
    "style @import": (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">\n'
        '<style>@import "https://example.org/a.css";</style>\n</svg>',
        2,
        "el estilo no puede usar @import",
    ),
    "style attribute with an escaped url": (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">\n'
        '<rect style="fill: u\\72l(http://example.org/)"/>\n</svg>',
        2,
        "el atributo style no puede tener barras invertidas",
    ),
    "presentation attribute url(http…)": (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">\n'
        "<line x1='0' y1='0' x2='1' y2='1'\n"
        "      marker-end=\"url('https://example.org/m.svg#m')\"/>\n</svg>",
        3,
        "el atributo marker-end solo puede usar url(#id)",
    ),
    "stylesheet instruction": (
        '<?xml-stylesheet href="https://example.org/a.css"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"/>',
        1,
        "instrucción <?xml-stylesheet …?> no permitida",
    ),
    "animation that rewrites a link": (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">\n<rect/>\n'
        '<set attributeName="href" to="javascript:alert(1)"/>\n</svg>',
        3,
        "elemento no permitido en un SVG: <set>",
    ),
    "no SVG namespace": (
        '\n<svg viewBox="0 0 10 10"><script>alert(1)</script></svg>',
        2,
        'el elemento raíz debe ser <svg xmlns="http://www.w3.org/2000/svg">',
    ),
    "not XML": (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">\n<rect>\n</svg>',
        3,
        "el SVG no es XML válido",
    ),
}


@pytest.mark.parametrize("shape", HOSTILE, ids=list(HOSTILE))
def test_hostile_svg_is_refused_with_its_line(shape):
    text, line, message = HOSTILE[shape]
    problems = check_svg(text.encode()).problems
    assert any(p.line == line and message in p.message for p in problems), problems


def test_a_plain_diagram_is_accepted_with_its_size():
    checked = check_svg(GOOD.encode())
    assert checked.problems == ()
    assert (checked.width, checked.height) == (400, 120)
    sized = GOOD.replace('viewBox="0 0 400 120"', 'width="800px" viewBox="0 0 400 120"')
    assert (check_svg(sized.encode()).width, check_svg(sized.encode()).height) == (800, 240)


def test_a_drawing_without_size_and_a_huge_one_are_refused():
    no_size = check_svg(b'<svg xmlns="http://www.w3.org/2000/svg">\n<rect/></svg>')
    assert [p.message[:40] for p in no_size.problems] == [
        'el <svg> necesita viewBox="0 0 ancho alt'
    ]
    many = "<rect/>" * 6000
    huge = check_svg(f'<svg xmlns="http://www.w3.org/2000/svg">{many}</svg>'.encode())
    assert "más de 5000 elementos" in huge.problems[0].message
    heavy = check_svg(b" " * 600_000)
    assert "pesa más de 500 kB" in heavy.problems[0].message


# The course format --------------------------------------------------------------------------


@pytest.fixture
def course_dir(tmp_path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(FIXTURE, root)
    course = root / "courses/curso-ejemplo"
    (course / "01-primeros-pasos/espectro.svg").write_text(GOOD, encoding="utf-8")
    lesson = course / "01-primeros-pasos/02-niveles.md"
    lesson.write_text(
        lesson.read_text(encoding="utf-8")
        + "\n\n![Espectro: informar, consultar, participar](espectro.svg)\n\n"
        "El diagrama muestra tres niveles: informar, consultar y participar.\n",
        encoding="utf-8",
    )
    return course


def test_content_check_accepts_a_good_svg(course_dir):
    course, problems = content.load_course(course_dir)
    assert problems == []
    assert "primeros-pasos/espectro.svg" in {asset.path for asset in course.assets}
    result = CliRunner().invoke(content_group, ["check", str(course_dir.parent.parent)])
    assert result.exit_code == 0, result.output


def test_content_check_reports_each_svg_problem_with_file_and_line(course_dir):
    hostile = course_dir / "01-primeros-pasos/malo.svg"
    hostile.write_text(HOSTILE["script"][0], encoding="utf-8")
    (course_dir / "01-primeros-pasos/bomba.svg").write_text(
        HOSTILE["entity bomb"][0], encoding="utf-8"
    )
    result = CliRunner().invoke(content_group, ["check", str(course_dir.parent.parent)])
    assert result.exit_code != 0
    assert "curso-ejemplo/01-primeros-pasos/malo.svg:3: el SVG no puede tener <script>" in (
        result.output
    )
    assert "curso-ejemplo/01-primeros-pasos/bomba.svg:2: el SVG no puede tener DOCTYPE" in (
        result.output
    )
    course, _problems = content.load_course(course_dir)
    assert "primeros-pasos/malo.svg" not in {asset.path for asset in course.assets}


@pytest.fixture
def svg_course(app, course_dir):
    with app.app_context():
        source, problems = content.load_course(course_dir)
        assert source is not None and not problems, problems
        services.import_course(source)
        db.session.commit()
    return course_dir


def test_an_imported_svg_is_served_as_an_image_with_its_own_policy(client, svg_course, query):
    asset = query(
        lambda: services.get_asset(
            services.get_course("curso-ejemplo"), "primeros-pasos/espectro.svg"
        )
    )
    assert (asset.mime, asset.width, asset.height) == ("image/svg+xml", 400, 120)
    response = client.get("/cursos/curso-ejemplo/recursos/primeros-pasos/espectro.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Content-Security-Policy"] == IMAGE_CONTENT_SECURITY_POLICY
    assert "sandbox" in IMAGE_CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in IMAGE_CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.data == GOOD.encode()


def test_the_offline_pdf_draws_the_svg(app, svg_course, caplog):
    from weasyprint.images import SVGImage

    def images(box):
        if getattr(box, "replacement", None) is not None:
            yield box.replacement
        for child in getattr(box, "children", ()):
            yield from images(child)

    with app.test_request_context(), caplog.at_level(logging.WARNING, logger="weasyprint"):
        document = offline.build_document(services.get_course("curso-ejemplo"))
        drawn = [image for page in document.pages for image in images(page._page_box)]
        pdf = document.write_pdf()
    assert pdf.startswith(b"%PDF")
    assert any(isinstance(image, SVGImage) for image in drawn)
    assert not [r for r in caplog.records if "Failed to load" in r.getMessage()]


# The editor's upload --------------------------------------------------------------------------


EDITOR = "/editor/cursos/curso-ejemplo"


def upload(client, data: bytes, name: str, alt: str = "Espectro de participación"):
    fields = MultiDict({"image": FileStorage(BytesIO(data), filename=name), "alt": alt})
    boundary, body = encode_multipart(fields)
    return client.post(
        f"{EDITOR}/unidades/primeros-pasos/imagenes",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


@pytest.fixture
def trainer(auth, make_user, example_course):
    return auth.as_role(make_user, "trainer")


def test_the_editor_accepts_a_good_svg_and_serves_it_with_the_policy(client, trainer, query):
    response = upload(client, GOOD.encode(), "Espectro.SVG")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert 'value="![Espectro de participación](espectro.svg)"' in page
    served = client.get(f"{EDITOR}/recursos/primeros-pasos/espectro.svg")
    assert served.mimetype == "image/svg+xml"
    assert served.data == GOOD.encode()
    assert served.headers["Content-Security-Policy"] == IMAGE_CONTENT_SECURITY_POLICY
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    saved = client.post(
        f"{EDITOR}/lecciones/niveles",
        data={
            "title": "Los niveles de participación",
            "minutes": "15",
            "objectives": "",
            "body": "![Espectro](espectro.svg)\n\nInformar, consultar, participar.",
            "note": "",
            "base": "1",
            "action": "save",
        },
    )
    assert saved.status_code == 302


@pytest.mark.parametrize("shape", ["script", "onload", "xlink:href", "entity bomb"])
def test_the_editor_refuses_a_hostile_svg_naming_each_line(client, trainer, query, shape):
    text, line, _message = HOSTILE[shape]
    # Named .png: the content, not the name, decides that it is an SVG to check.
    response = upload(client, text.encode(), "diagrama.png")
    assert response.status_code == 422
    assert "El SVG no se puede usar" in response.text
    assert f"línea {line}: " in response.text
    assert (
        query(
            lambda: services.get_asset(
                services.get_course("curso-ejemplo"), "primeros-pasos/diagrama.svg"
            )
        )
        is None
    )


def test_content_import_refuses_a_hostile_svg(runner, query, course_dir):
    (course_dir / "01-primeros-pasos/malo.svg").write_text(HOSTILE["onload"][0], encoding="utf-8")
    result = runner.invoke(args=["content", "import", str(course_dir.parent.parent)])
    assert result.exit_code == 1
    assert "curso-ejemplo/01-primeros-pasos/malo.svg:3: atributo de evento" in result.output
    assert query(lambda: services.get_course("curso-ejemplo")) is None
