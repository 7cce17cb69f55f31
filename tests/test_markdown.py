"""The Markdown pipeline: features authors rely on, problems they are told about, and safety."""

from __future__ import annotations

import html
import re
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from academy.markdown import (
    CALLOUT_KINDS,
    DEFAULT_MAX_CHARS,
    MarkdownTooComplex,
    MarkdownTooLarge,
    Problem,
    Rendered,
    TocEntry,
    render,
    render_light,
    sanitise,
    slugify,
)

FIXTURES = Path(__file__).parent / "fixtures" / "markdown"
LESSONS = {"mecanismos.md": "/cursos/participacion/mecanismos", "unidad-2/leccion-3.md": "/l/3"}
IMAGES = {"niveles.png": "/media/niveles.png", "mapa.png": "/media/mapa.png"}


def resolve_lesson(path: str) -> str | None:
    return LESSONS.get(path)


def resolve_image(path: str) -> str | None:
    return IMAGES.get(path)


def messages(rendered: Rendered) -> list[str]:
    return [problem.message for problem in rendered.problems]


# --- what a real lesson uses ------------------------------------------------------------------


def test_sample_lesson_renders_cleanly():
    text = (FIXTURES / "leccion.md").read_text(encoding="utf-8")
    rendered = render(text, link_resolver=resolve_lesson, image_resolver=resolve_image)

    assert rendered.problems == ()
    assert rendered.html.count('<aside class="callout') == 4
    assert '<a href="/cursos/participacion/mecanismos"' in rendered.html
    image = '<img alt="Diagrama con los cinco niveles de participación" src="/media/niveles.png">'
    assert image in rendered.html
    assert [entry.id for entry in rendered.toc[0].children] == [
        "que-es-la-participacion-ciudadana",
        "niveles-de-participacion",
        "marco-legal",
        "costos-y-beneficios",
    ]


def test_tables_align_with_classes_not_inline_style():
    rendered = render("| Nivel | Horas | Nota |\n|:--|--:|:-:|\n| Informar | 2 | a |\n")

    assert '<th class="align-left" scope="col">Nivel</th>' in rendered.html
    assert '<th class="align-right" scope="col">Horas</th>' in rendered.html
    assert '<td class="align-center">a</td>' in rendered.html
    assert "style" not in rendered.html
    assert "align=" not in rendered.html


def test_table_without_alignment_has_no_class():
    rendered = render("| a | b |\n|---|---|\n| 1 | 2 |\n")

    assert '<th scope="col">a</th>' in rendered.html
    assert "<td>1</td>" in rendered.html


def test_footnotes():
    rendered = render("La ley lo exige.[^1]\n\n[^1]: Ley 18.695, art. 93.\n")

    assert (
        '<sup id="fnref:1"><a class="footnote-ref" href="#fn:1" rel="noopener noreferrer">1</a>'
        "</sup>"
    ) in rendered.html
    assert '<div class="footnote">' in rendered.html
    assert '<li id="fn:1">' in rendered.html
    assert 'class="footnote-backref" href="#fnref:1" title="Volver a la nota 1 en el texto"' in (
        rendered.html
    )
    assert rendered.problems == ()


def test_footnote_ids_use_numbers_whatever_the_label():
    text = (
        "Ver[^Ley N° 20.500] y[^b], otra vez[^Ley N° 20.500].\n\n[^Ley N° 20.500]: L.\n[^b]: B.\n"
    )

    rendered = render(text)

    assert re.findall(r'id="([^"]+)"', rendered.html) == [
        "fnref:1",
        "fnref:2",
        "fnref2:1",
        "fn:1",
        "fn:2",
    ]
    assert re.findall(r'href="([^"]+)"', rendered.html) == [
        "#fn:1",
        "#fn:2",
        "#fn:1",
        "#fnref:1",
        "#fnref2:1",
        "#fnref:2",
    ]


def test_footnote_call_without_its_note_is_reported():
    rendered = render("Uno.\n\nDos[^falta] y `[^en-codigo]`.\n\n[^otra]: Sí existe.\n")

    assert rendered.problems == (
        Problem(3, "nota al pie sin texto: [^falta] (falta una línea que empiece con «[^falta]:»)"),
        Problem(5, "nota al pie que no se usa en el texto: [^otra]"),
    )
    assert "#fnref" not in rendered.html


def test_footnote_with_an_ordered_list_inside():
    rendered = render("Texto[^a].\n\n[^a]: Pasos:\n\n    1. uno\n    2. dos\n")

    assert rendered.problems == ()
    assert '<li id="fn:1">' in rendered.html


def test_definition_lists():
    rendered = render("COSOC\n:   Consejo Comunal de Organizaciones de la Sociedad Civil.\n")

    assert rendered.html == (
        "<dl>\n<dt>COSOC</dt>\n<dd>Consejo Comunal de Organizaciones de la Sociedad Civil.</dd>\n"
        "</dl>"
    )


def test_sane_lists_keep_the_starting_number():
    rendered = render("3. tercero\n4. cuarto\n")

    assert '<ol start="3">' in rendered.html


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("¿Qué es el COSOC?", "que-es-el-cosoc"),
        ("Participación ciudadana: Ley N° 20.500", "participacion-ciudadana-ley-n-20500"),
        ("Año 2024 — Ñuñoa y Peñalolén", "ano-2024-nunoa-y-penalolen"),
        ("«Costos» y “beneficios”", "costos-y-beneficios"),
        ("¿?", "seccion"),
    ],
)
def test_heading_ids_are_ascii_slugs_of_spanish_titles(title, slug):
    rendered = render(f"## {title}\n")

    assert f'<h2 id="{slug}">' in rendered.html
    assert rendered.toc == (TocEntry(level=2, id=slug, title=title),)
    assert slugify(title) == slug


def test_heading_ids_are_unique_and_stable():
    text = "# Unidad\n\n## Mecanismos\n\n### Plebiscito\n\n## Mecanismos\n\n## A & B\n"

    first, second = render(text), render(text)

    assert first == second
    assert first.toc == (
        TocEntry(
            1,
            "unidad",
            "Unidad",
            (
                TocEntry(2, "mecanismos", "Mecanismos", (TocEntry(3, "plebiscito", "Plebiscito"),)),
                TocEntry(2, "mecanismos_1", "Mecanismos"),
                TocEntry(2, "a-b", "A & B"),
            ),
        ),
    )


def test_toc_marker_becomes_a_labelled_nav():
    rendered = render("[TOC]\n\n## Uno\n\n## Dos\n")

    assert rendered.html.startswith('<nav aria-label="Índice" class="toc">\n<ul>')
    assert '<a href="#uno" rel="noopener noreferrer">Uno</a>' in rendered.html


def test_no_permalinks_in_headings():
    assert render("## Uno\n").html == '<h2 id="uno">Uno</h2>'


# --- callouts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "default_title"), sorted(CALLOUT_KINDS.items()))
def test_callout_without_title_uses_the_spanish_name(kind, default_title):
    rendered = render(f"!!! {kind}\n    Contenido del recuadro.\n")

    assert rendered.html == (
        f'<aside class="callout callout-{kind}">\n'
        f'<p class="callout-title">{default_title}</p>\n'
        "<p>Contenido del recuadro.</p>\n"
        "</aside>"
    )
    assert rendered.problems == ()


@pytest.mark.parametrize("kind", sorted(CALLOUT_KINDS))
def test_callout_with_title(kind):
    rendered = render(f'!!! {kind} "Ley 18.695, art. 93"\n    Texto.\n')

    assert f'<aside class="callout callout-{kind}">' in rendered.html
    assert '<p class="callout-title">Ley 18.695, art. 93</p>' in rendered.html
    assert rendered.problems == ()


@pytest.mark.parametrize(
    "marker",
    [
        '!!! marco-legal "Ley 20.500"',
        "!!! marco-legal “Ley 20.500”",
        "!!! marco-legal «Ley 20.500»",
        '!!! Marco-Legal "Ley 20.500"',
    ],
)
def test_callout_title_quotes_and_case(marker):
    rendered = render(f"{marker}\n    Texto.\n")

    assert '<aside class="callout callout-marco-legal">' in rendered.html
    assert '<p class="callout-title">Ley 20.500</p>' in rendered.html


def test_callout_kind_accepts_the_accented_spelling():
    rendered = render("!!! reflexión\n    ¿Qué harías tú?\n")

    assert '<aside class="callout callout-reflexion">' in rendered.html
    assert rendered.problems == ()


def test_callout_empty_title_falls_back_to_the_default():
    rendered = render('!!! ejemplo ""\n    Texto.\n')

    assert '<p class="callout-title">Ejemplo</p>' in rendered.html


def test_callouts_nest_and_hold_markdown():
    rendered = render(
        "!!! ejemplo\n    - uno\n    - **dos**\n\n    !!! importante\n        Dentro.\n"
    )

    assert rendered.html.count("<aside") == 2
    assert "<li><strong>dos</strong></li>" in rendered.html
    assert rendered.problems == ()


def test_unknown_callout_kind_is_reported_at_its_line_and_not_boxed():
    text = "# Título\n\nUn párrafo.\n\n!!! nota\n    Esto no es un recuadro válido.\n"

    rendered = render(text)

    assert rendered.problems == (
        Problem(
            5,
            "tipo de recuadro desconocido: 'nota' "
            "(usa importante, ejemplo, marco-legal o reflexion)",
        ),
    )
    assert "<aside" not in rendered.html
    assert "admonition" not in rendered.html
    assert "<p>Esto no es un recuadro válido.</p>" in rendered.html


def test_unknown_callout_lines_when_the_same_marker_repeats():
    text = "!!! nota\n    uno\n\n!!! importante\n    dos\n\n!!! nota\n    tres\n"

    assert [problem.line for problem in render(text).problems] == [1, 7]


def test_callout_with_two_words_is_unknown():
    rendered = render("!!! marco legal\n    Texto.\n")

    assert messages(rendered) == [
        "tipo de recuadro desconocido: 'marco legal' "
        "(usa importante, ejemplo, marco-legal o reflexion)"
    ]


def test_callout_title_without_quotes_is_reported():
    rendered = render("Intro.\n\n!!! marco-legal Ley 18.695, art. 93\n    Texto.\n")

    assert len(rendered.problems) == 1
    assert rendered.problems[0].line == 3
    assert rendered.problems[0].message.startswith(
        "recuadro mal escrito: «!!! marco-legal Ley 18.695, art. 93»"
    )


def test_callout_without_indented_content_is_reported():
    rendered = render("!!! importante\nEsto quedó fuera del recuadro.\n")

    assert rendered.problems[0].line == 1
    assert rendered.problems[0].message.startswith("recuadro vacío")


# --- links and images -------------------------------------------------------------------------


def test_link_to_an_existing_lesson_is_resolved():
    calls: list[str] = []

    def resolver(path: str) -> str | None:
        calls.append(path)
        return "/l/3"

    rendered = render("Ver [la lección 3](unidad-2/leccion-3.md).", link_resolver=resolver)

    assert calls == ["unidad-2/leccion-3.md"]
    assert '<a href="/l/3" rel="noopener noreferrer">la lección 3</a>' in rendered.html
    assert rendered.problems == ()


def test_link_with_anchor_keeps_the_anchor():
    rendered = render(
        "[COSOC](unidad-2/leccion-3.md#que-es-el-cosoc)", link_resolver=resolve_lesson
    )

    assert 'href="/l/3#que-es-el-cosoc"' in rendered.html


def test_link_path_is_percent_decoded_for_the_resolver():
    seen: list[str] = []
    render("[x](lecci%C3%B3n%201.md)", link_resolver=lambda path: seen.append(path) or "/x")

    assert seen == ["lección 1.md"]


def test_missing_lesson_is_reported_with_its_line_and_made_inert():
    text = "# Unidad 2\n\nPárrafo.\n\nVer [la lección 9](unidad-2/leccion-9.md#inicio) también.\n"

    rendered = render(text, link_resolver=resolve_lesson)

    assert rendered.problems == (
        Problem(5, "enlace a una lección que no existe: unidad-2/leccion-9.md"),
    )
    assert '<a rel="noopener noreferrer">la lección 9</a>' in rendered.html
    assert "leccion-9" not in rendered.html


def test_the_same_missing_link_twice_is_reported_at_both_lines():
    text = "[a](falta.md)\n\notro párrafo\n\n[b](falta.md)\n"

    rendered = render(text, link_resolver=resolve_lesson)

    assert [problem.line for problem in rendered.problems] == [1, 5]


def test_reference_style_link_is_resolved_too():
    text = "Ver [mecanismos][m].\n\n[m]: mecanismos.md\n"

    rendered = render(text, link_resolver=resolve_lesson)

    assert 'href="/cursos/participacion/mecanismos"' in rendered.html


def test_external_links_are_untouched_and_get_rel():
    calls: list[str] = []

    def resolver(path: str) -> str | None:
        calls.append(path)
        return None

    rendered = render(
        "[BCN](https://www.bcn.cl/leychile/ley.md) y [correo](mailto:academia@subdere.gov.cl)",
        link_resolver=resolver,
    )

    assert calls == []
    assert (
        '<a href="https://www.bcn.cl/leychile/ley.md" rel="noopener noreferrer">BCN</a>'
        in rendered.html
    )
    assert 'href="mailto:academia@subdere.gov.cl"' in rendered.html
    assert rendered.problems == ()


def test_other_relative_links_are_left_alone():
    calls: list[str] = []

    def resolver(path: str) -> str | None:
        calls.append(path)
        return None

    rendered = render("[guía](anexos/guia.pdf)", link_resolver=resolver)

    assert calls == []
    assert 'href="anexos/guia.pdf"' in rendered.html


def test_web_address_without_scheme_is_reported():
    rendered = render("Ver [la ley](www.bcn.cl/leychile).")

    assert messages(rendered) == [
        "a la dirección le falta «https://» al comienzo: www.bcn.cl/leychile"
    ]


def test_without_resolver_lesson_links_are_left_as_written():
    assert 'href="unidad-2/leccion-9.md"' in render("[x](unidad-2/leccion-9.md)").html


def test_link_to_a_missing_section_of_the_same_page_is_reported():
    rendered = render("## Costos\n\nVer [costos](#costos) y [beneficios](#beneficios).\n")

    assert messages(rendered) == ["enlace a una sección que no existe: #beneficios"]


def test_image_is_resolved():
    rendered = render("![Mapa de la comuna](mapa.png)", image_resolver=resolve_image)

    assert '<img alt="Mapa de la comuna" src="/media/mapa.png">' in rendered.html
    assert rendered.problems == ()


def test_missing_image_is_reported_and_has_no_src():
    rendered = render("Texto.\n\n![Plano](plano.png)\n", image_resolver=resolve_image)

    assert rendered.problems == (Problem(3, "imagen no encontrada: plano.png"),)
    assert '<img alt="Plano">' in rendered.html


@pytest.mark.parametrize("alt", ["", "   "])
def test_image_without_alt_text_is_reported(alt):
    rendered = render(f"![{alt}](mapa.png)", image_resolver=resolve_image)

    assert rendered.problems == (Problem(1, "imagen sin texto alternativo: mapa.png"),)


def test_external_image_is_reported():
    rendered = render("![Logo](https://example.org/logo.png)", image_resolver=resolve_image)

    assert messages(rendered) == [
        "imagen de otro sitio web, que la página no mostrará; guárdala junto a la lección: "
        "https://example.org/logo.png"
    ]


def test_data_image_is_refused():
    rendered = render("![Punto](data:image/png;base64,iVBORw0KGgo=)")

    assert "data:" not in rendered.html
    assert messages(rendered) == [
        "dirección de imagen no permitida: data:image/png;base64,iVBORw0KGgo="
    ]


def test_raw_html_is_shown_as_text_and_reported():
    rendered = render("Hola\n\n<div class='x'>caja</div>\n")

    assert "<p>&lt;div class='x'&gt;caja&lt;/div&gt;</p>" in rendered.html
    assert rendered.problems == (
        Problem(3, "el HTML no se interpreta y se mostrará como texto: <div class='x'>"),
    )


def test_problems_are_sorted_by_line():
    text = "[a](falta.md)\n\n!!! nota\n    x\n\n![](mapa.png)\n"

    rendered = render(text, link_resolver=resolve_lesson, image_resolver=resolve_image)

    assert [problem.line for problem in rendered.problems] == [1, 3, 6]
    assert str(rendered.problems[0]) == "línea 1: enlace a una lección que no existe: falta.md"


# --- size limit -------------------------------------------------------------------------------


def test_text_over_the_limit_is_refused():
    with pytest.raises(MarkdownTooLarge) as caught:
        render("a" * (DEFAULT_MAX_CHARS + 1))

    assert caught.value.length == DEFAULT_MAX_CHARS + 1
    assert caught.value.limit == DEFAULT_MAX_CHARS
    assert isinstance(caught.value, ValueError)
    assert "máximo" in str(caught.value)


def test_the_limit_is_configurable_and_inclusive():
    assert render("abc", max_chars=3).html == "<p>abc</p>"
    with pytest.raises(MarkdownTooLarge):
        render_light("abcd", max_chars=3)


def test_empty_text():
    assert render("") == Rendered(html="")
    assert render_light("  \n") == Rendered(html="")


# --- light rendering (learner responses) ------------------------------------------------------


def test_light_keeps_the_basics():
    text = "Mi **respuesta**:\n\n- uno\n- *dos*\n\n> cita\n\n`código` [ley](https://www.bcn.cl)\n"

    rendered = render_light(text)

    assert "<strong>respuesta</strong>" in rendered.html
    assert "<li><em>dos</em></li>" in rendered.html
    assert "<blockquote>" in rendered.html
    assert "<code>código</code>" in rendered.html
    assert '<a href="https://www.bcn.cl" rel="noopener noreferrer">ley</a>' in rendered.html
    assert rendered.toc == ()
    assert rendered.problems == ()


def test_light_has_no_headings_images_callouts_or_tables():
    text = "# 1. Diagnóstico\n\n![x](mapa.png)\n\n!!! importante\n    a\n\n| a | b |\n|---|---|\n"

    rendered = render_light(text)

    for tag in ("<h1", "<img", "<aside", "<table", "id="):
        assert tag not in rendered.html
    assert "<p># 1. Diagnóstico</p>" in rendered.html


def test_light_links_must_be_absolute():
    rendered = render_light("[a](/admin/usuarios) [b](#x) [c](otra.md)")

    assert "href" not in rendered.html
    assert len(rendered.problems) == 3


def test_light_sanitiser_is_narrower():
    dirty = '<h2 id="x">T</h2><img src="a.png" alt="a"><a href="/x">r</a><table><tr><td>1'

    assert sanitise(dirty, light=True) == 'T<a rel="noopener noreferrer">r</a>1'


# --- hostile input ----------------------------------------------------------------------------

DANGEROUS_TAGS = {
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "form",
    "input",
    "button",
    "textarea",
    "select",
    "svg",
    "math",
    "link",
    "meta",
    "base",
    "template",
    "frame",
    "frameset",
}
DANGEROUS_SCHEME = re.compile(r"^(javascript|data|vbscript):", re.IGNORECASE)


class _Audit(HTMLParser):
    """Reads HTML the way a browser tokenises it and records anything executable."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DANGEROUS_TAGS:
            self.findings.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "srcdoc", "formaction"):
                self.findings.append(f"{tag}[{name}]")
            if name in ("href", "src", "action", "xlink:href") and value is not None:
                compact = re.sub(r"[\x00-\x20]", "", html.unescape(value))
                if DANGEROUS_SCHEME.match(compact):
                    self.findings.append(f"{tag}[{name}={value}]")

    handle_startendtag = handle_starttag


def assert_inert(fragment: str) -> None:
    """No script, event handler, style or dangerous URL, as a browser would parse it.

    Substring checks such as ``"style=" not in html`` would fail on harmless escaped text
    (``&lt;p style="x"&gt;`` shown to the reader), so attributes are checked on parsed tags. A
    raw ``<script`` can only be a tag: text ``<`` is always escaped.
    """
    assert "<script" not in fragment.lower()
    audit = _Audit()
    audit.feed(fragment)
    audit.close()
    assert audit.findings == []


HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '<img src=x onerror="alert(1)">',
    "![x](x.png) <img src=x onerror=alert(1)//",
    "[clic](javascript:alert(1))",
    "[clic](JAVASCRIPT:alert(1))",
    "[clic](   javascript:alert(1))",
    "[clic](jav&#x09;ascript:alert(1))",
    "[clic](jav&#9;ascript:alert(1))",
    "[clic](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;:alert(1))",
    "[clic](java\tscript:alert(1))",
    "[clic](<javascript:alert(1)>)",
    "[clic][r]\n\n[r]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "[clic](vbscript:msgbox(1))",
    "[clic](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![img](javascript:alert(1))",
    '<iframe src="https://evil.example"></iframe>',
    "<svg onload=alert(1)><circle r=1 /></svg>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
    "<style>body { display: none }</style>",
    '<p style="position:fixed;top:0">tapa la página</p>',
    '<form action="https://evil.example"><input name="clave"><button>Enviar</button></form>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<a href="javascript:alert(1)">raw</a>',
    '[t](https://ok.example "x\\" onmouseover=\\"alert(1)")',
    "[t](https://ok.example 'x\" onmouseover=\"alert(1)')",
    '[t](#" onclick="alert(1))',
    '![a" onerror="alert(1)](x.png)',
    "<div>\n<script>alert(1)</script>\n</div>",
    '<div markdown="1">\n*md* <img src=x onerror=alert(1)>\n</div>',
    "<details open ontoggle=alert(1)>",
    "<b><i><u>sin cerrar <a href='",
    "<!--><script>alert(1)</script>-->",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    'Texto\n{: onclick="alert(1)" }',
    "## Título {: #x onclick=alert(1) style=color:red }",
    '!!! importante "<img src=x onerror=alert(1)>"\n    cuerpo',
    '!!! importante "x\\" onclick=\\"alert(1)"\n    cuerpo',
    "    <script>alert(1)</script>",
    "`<script>alert(1)</script>`",
    "[^1]\n\n[^1]: <script>alert(1)</script> [x](javascript:alert(1))",
    "| a |\n|---|\n| <script>alert(1)</script> [x](javascript:alert(1)) |",
    "Término\n:   <img src=x onerror=alert(1)>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<base href='https://evil.example/'><link rel=stylesheet href=x><meta http-equiv=refresh>",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markdown_renders_inert(text):
    rendered = render(text, link_resolver=resolve_lesson, image_resolver=resolve_image)

    assert_inert(rendered.html)
    assert sanitise(rendered.html) == rendered.html


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markdown_renders_inert_in_light_mode(text):
    rendered = render_light(text)

    assert_inert(rendered.html)
    assert sanitise(rendered.html, light=True) == rendered.html


@pytest.mark.parametrize(
    "dirty",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        '<a href=" JAVASCRIPT:alert(1)">x</a>',
        '<a href="data:text/html,x">x</a>',
        '<img src="data:image/png;base64,AAAA" alt="x">',
        "<iframe src=x></iframe>",
        "<svg onload=alert(1)></svg>",
        "<style>*{}</style>",
        '<p style="color:red" onclick="alert(1)">p</p>',
        "<form><input></form>",
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
        "<template><script>alert(1)</script></template>",
    ],
)
def test_sanitise_removes_everything_executable(dirty):
    for light in (False, True):
        cleaned = sanitise(dirty, light=light)
        assert_inert(cleaned)
        assert sanitise(cleaned, light=light) == cleaned


def test_sanitise_keeps_only_listed_classes_and_ids():
    dirty = (
        '<aside class="callout callout-importante evil"><p class="callout-title x">T</p></aside>'
        '<h2 id="que-es" class="big">H</h2><p id="main">p</p><h3 id="Bad Id">h</h3>'
        '<td class="align-right foo">1</td>'
    )

    assert sanitise(dirty) == (
        '<aside class="callout callout-importante"><p class="callout-title">T</p></aside>'
        '<h2 id="que-es">H</h2><p>p</p><h3>h</h3>1'
    )


def test_sanitise_restricts_th_scope():
    table = '<table><tr><th scope="col">a</th><th scope="evil">b</th></tr></table>'

    assert sanitise(table) == (
        '<table><tbody><tr><th scope="col">a</th><th>b</th></tr></tbody></table>'
    )


MARKDOWN_PIECES = st.sampled_from(
    [
        "\n",
        "\n\n",
        "    ",
        "# ",
        "## ¿Qué es? ",
        "- ",
        "1. ",
        "> ",
        "!!! importante",
        '!!! marco-legal "Ley 18.695"',
        "!!! nota",
        "| a | b |\n|:--|--:|\n| 1 | 2 |\n",
        "[^1]",
        "[^1]: ",
        ":   ",
        "[TOC]",
        "[x](",
        "](",
        ")",
        "![",
        "leccion.md",
        "#ancla",
        "mapa.png",
        "javascript:alert(1)",
        "jav&#x09;ascript:",
        "data:image/png;base64,AA",
        "<script>",
        "</script>",
        "<img src=x onerror=alert(1)>",
        "<div>",
        " onclick=",
        ' style="x"',
        "{: #id .clase }",
        "`",
        "*",
        "_",
        "&amp;",
        "&#",
        '"',
        "'",
        "<",
        ">",
    ]
)
MARKDOWNISH = st.lists(st.one_of(MARKDOWN_PIECES, st.text(max_size=12)), max_size=30).map("".join)


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(MARKDOWNISH)
def test_any_text_renders_to_stable_inert_html(text):
    rendered = render(text, link_resolver=resolve_lesson, image_resolver=resolve_image)
    light = render_light(text)

    assert sanitise(rendered.html) == rendered.html
    assert sanitise(light.html, light=True) == light.html
    assert "<script" not in rendered.html.lower()
    assert "<script" not in light.html.lower()
    assert_inert(rendered.html)
    assert_inert(light.html)


def test_render_is_safe_to_call_from_many_threads():
    text = (FIXTURES / "leccion.md").read_text(encoding="utf-8")
    expected = render(text, link_resolver=resolve_lesson, image_resolver=resolve_image)

    def work(_: int) -> Rendered:
        return render(text, link_resolver=resolve_lesson, image_resolver=resolve_image)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(32)))

    assert all(result == expected for result in results)


# --- bounded work: pathological nesting is refused, ordinary depth is not -----------------------


def test_six_nested_list_levels_and_a_callout_with_a_list_render():
    text = "".join("    " * level + f"- nivel {level + 1}\n" for level in range(6))
    text += "\n!!! ejemplo\n    - uno\n        - dos\n\n> cita\n>\n> > respuesta\n"
    rendered = render(text)
    assert rendered.html.count("<ul>") == 8
    assert "nivel 6" in rendered.html and rendered.html.count("<blockquote>") == 2


def test_a_long_lesson_of_20000_words_renders():
    paragraph = (
        "La **participación ciudadana** en la *gestión municipal* exige [informar bien]"
        "(https://www.leychile.cl/) y consultar a tiempo, con reglas claras y plazos que "
        "todos conozcan antes de empezar, para que cada aporte pueda influir de verdad."
    )
    parts = []
    for section in range(40):
        parts.append(f"## Sección {section + 1}")
        parts += [paragraph] * 16
        parts.append("- primero\n- segundo\n    1. detalle\n    2. otro detalle")
        parts.append("| Nivel | Promesa |\n|---|---|\n| Informar | Mantenerle al tanto |")
    text = "\n\n".join(parts)
    assert len(text.split()) > 20_000
    rendered = render(text)
    assert rendered.problems == ()
    assert rendered.html.count("<strong>participación ciudadana</strong>") == 640
    assert len(rendered.toc) == 40


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a\n\n" + "".join("    " * i + "- a\n" for i in range(25)), 23, "anidados en más de 20"),
        ("a\n" + "- " * 21 + "x", 2, "anidados en más de 20"),
        ("a\n" + "> " * 21 + "x", 2, "anidados en más de 20"),
        ("a\n" + "[" * 21, 2, "más de 20 corchetes «[» abiertos"),
        ("a [b\n" * 21, 21, "más de 20 corchetes «[» abiertos"),
        ("(" * 21, 1, "más de 20 paréntesis «(» abiertos"),
        ("x\n\nb " + "*" * 41 + "c", 3, "más de 40 «*» seguidos"),
        ("_" * 41, 1, "más de 40 «_» seguidos"),
        ("# a\n\n" * 501, 1001, "más de 500 títulos"),
        ("a\n" * 1001, 1001, "más de 1000 líneas seguidas"),
        ("*a* " * 10_001, 1, "demasiados elementos"),
    ],
)
def test_nesting_beyond_the_limits_is_refused_with_its_line(text, line, message):
    with pytest.raises(MarkdownTooComplex) as refused:
        render(text)
    assert refused.value.line == line
    assert message in refused.value.message
    with pytest.raises(MarkdownTooComplex):
        render_light(text)


@pytest.mark.parametrize(
    "text",
    [
        "".join("    " * i + "- a\n" for i in range(20)),
        "- " * 19 + "x",
        "[" * 20 + "x",
        "\\[" * 500 + "x",  # escaped: text, not brackets
        ("[" * 20 + "x\n\n") * 50,  # a blank line closes what a paragraph left open
        "*" * 40 + "x" + "*" * 40,
        "# a\n\n" * 500,
        "a\n" * 1000,
    ],
)
def test_nesting_up_to_the_limits_renders(text):
    render(text)


def test_a_recursion_error_becomes_a_refusal(monkeypatch):
    from markdown import Markdown

    def too_deep(self, source):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(Markdown, "convert", too_deep)
    with pytest.raises(MarkdownTooComplex, match="demasiados elementos unos dentro de otros"):
        render("texto")
