"""SVG diagrams in courses: what an SVG file may contain, checked before it is stored.

An SVG is XML that a browser can run as a document: script, event handlers, foreign HTML,
external images, fonts and style sheets. Course images are shown with ``<img>`` (where browsers
run none of that) and served with a sandboxing Content-Security-Policy of their own, but the
file must be safe however it is opened (directly, in another viewer, in the offline PDF), so
only drawings pass: an allow-list of elements and attributes, references only to ``#id``s of
the same file, no DOCTYPE or entity, no processing instruction.

The file is parsed with defusedxml's expat reader (no DTD, no entity, no external reference is
ever expanded) and every problem comes back with its line in the file, in Spanish.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from io import BytesIO
from typing import Final
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler, feature_namespaces
from xml.sax.xmlreader import AttributesNSImpl, Locator

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml.expatreader import DefusedExpatParser

__all__ = ["MAX_SVG_BYTES", "SvgCheck", "SvgProblem", "check_svg", "looks_like_svg"]

MAX_SVG_BYTES: Final = 500_000
MAX_ELEMENTS: Final = 5_000
MAX_DEPTH: Final = 40

SVG_NS: Final = "http://www.w3.org/2000/svg"
XLINK_NS: Final = "http://www.w3.org/1999/xlink"
XML_NS: Final = "http://www.w3.org/XML/1998/namespace"

ELEMENTS: Final = frozenset(
    {
        "svg", "g", "title", "desc", "defs", "symbol", "use", "marker", "style", "clipPath",
        "rect", "circle", "ellipse", "line", "polyline", "polygon", "path", "text", "tspan",
        "linearGradient", "radialGradient", "stop",
    }
)  # fmt: skip

# Geometry, presentation, text and accessibility attributes. None of them loads anything;
# the few that can hold a reference (href, url(...)) are checked separately.
ATTRIBUTES: Final = frozenset(
    {
        # identity and structure
        "id", "class", "version", "baseProfile", "viewBox", "preserveAspectRatio", "transform",
        "role", "aria-label", "aria-labelledby", "aria-describedby", "aria-hidden", "focusable",
        "lang", "style",
        # geometry
        "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "fx", "fy", "fr",
        "width", "height", "d", "points", "pathLength",
        # markers, gradients, clipping, use
        "markerWidth", "markerHeight", "markerUnits", "refX", "refY", "orient",
        "offset", "gradientUnits", "gradientTransform", "spreadMethod", "clipPathUnits",
        # presentation
        "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity",
        "stroke-dasharray", "stroke-dashoffset", "stroke-linecap", "stroke-linejoin",
        "stroke-miterlimit", "opacity", "color", "display", "visibility", "overflow",
        "clip-path", "clip-rule", "marker-start", "marker-mid", "marker-end", "stop-color",
        "stop-opacity", "vector-effect", "paint-order", "shape-rendering", "text-rendering",
        # text
        "font-family", "font-size", "font-weight", "font-style", "font-variant", "font-stretch",
        "text-anchor", "dominant-baseline", "alignment-baseline", "baseline-shift",
        "letter-spacing", "word-spacing", "text-decoration", "writing-mode", "direction",
        "dx", "dy", "rotate", "textLength", "lengthAdjust", "white-space",
    }
)  # fmt: skip
XML_ATTRIBUTES: Final = frozenset({"space", "lang"})

_SAME_DOCUMENT = re.compile(r"#[A-Za-z_][\w.\-]*")
_URL = re.compile(r"url\s*\(\s*(?P<quote>['\"]?)(?P<target>.*?)(?P=quote)\s*\)", re.IGNORECASE)
_ANY_URL = re.compile(r"url\s*\(", re.IGNORECASE)
_AT_RULE = re.compile(r"@(import|font-face|namespace)\b", re.IGNORECASE)
# CSS functions that fetch something other than through url(): image-set(), src(), image().
_FETCHING_FUNCTION = re.compile(r"\b(image-set|image|src|cross-fade|element)\s*\(", re.IGNORECASE)
_PREFIXES = {XLINK_NS: "xlink", XML_NS: "xml"}
_LENGTH = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(px)?\s*")


@dataclass(frozen=True, slots=True)
class SvgProblem:
    line: int | None
    message: str


@dataclass(frozen=True, slots=True)
class SvgCheck:
    """What checking found: the problems (none when the file may be used) and its size in
    CSS pixels, from ``width``/``height`` or else the ``viewBox``."""

    problems: tuple[SvgProblem, ...]
    width: int = 0
    height: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def looks_like_svg(data: bytes, filename: str = "") -> bool:
    """True when an upload is meant as an SVG: by its name, or by XML-looking content."""
    if filename.lower().endswith(".svg"):
        return True
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<?xml") or head.startswith(b"<svg")


def check_svg(data: bytes) -> SvgCheck:
    """Check an SVG file; never raises for bad input."""
    if len(data) > MAX_SVG_BYTES:
        return SvgCheck(
            (
                SvgProblem(
                    None, f"el SVG pesa más de {MAX_SVG_BYTES // 1000} kB: simplifica el dibujo"
                ),
            )
        )
    handler = _Checker(data.decode("utf-8", "replace").split("\n"))
    parser = DefusedExpatParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.setFeature(feature_namespaces, True)
    parser.setContentHandler(handler)
    try:
        parser.parse(BytesIO(data))
    except _Stop as error:
        handler.report(error.line, str(error))
    except (DTDForbidden, EntitiesForbidden):
        handler.report(
            _line(parser),
            "el SVG no puede tener DOCTYPE ni entidades (<!DOCTYPE …>, <!ENTITY …>): bórralos",
        )
    except DefusedXmlException:
        handler.report(_line(parser), "el SVG no puede hacer referencia a archivos externos")
    except SAXParseException as error:
        handler.report(
            error.getLineNumber(),
            f"el SVG no es XML válido ({error.getMessage()}): revisa que cada etiqueta "
            "abierta se cierre",
        )
    else:
        if handler.root is None:
            handler.report(1, "el archivo no contiene un dibujo SVG")
    width, height = handler.size()
    problems = sorted(handler.problems, key=lambda p: p.line or 0)
    return SvgCheck(tuple(problems), width, height)


def _line(parser: DefusedExpatParser) -> int | None:
    try:
        return int(parser.getLineNumber())
    except (AttributeError, TypeError):
        return None


class _Stop(Exception):
    """A problem after which checking the rest of the file would say nothing useful."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line


class _Checker(ContentHandler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines
        self.locator: Locator | None = None
        self.problems: list[SvgProblem] = []
        self.root: dict[str, str] | None = None
        self.root_line: int | None = None
        self.open: list[str] = []
        self.count = 0
        self.style_text: list[str] = []
        self.style_line: int | None = None

    def setDocumentLocator(self, locator: Locator) -> None:
        self.locator = locator

    def line(self) -> int | None:
        return self.locator.getLineNumber() if self.locator is not None else None

    def report(self, line: int | None, message: str) -> None:
        self.problems.append(SvgProblem(line, message))

    def processingInstruction(self, target: str, data: str) -> None:
        self.report(
            self.line(),
            f"instrucción <?{target} …?> no permitida en un SVG (puede cargar otros archivos)",
        )

    def startElementNS(
        self, name: tuple[str | None, str], qname: str | None, attrs: AttributesNSImpl
    ) -> None:
        line = self.line()
        namespace, local = name
        self.count += 1
        if self.count > MAX_ELEMENTS:
            raise _Stop(line, f"el SVG tiene más de {MAX_ELEMENTS} elementos: simplifícalo")
        if len(self.open) >= MAX_DEPTH:
            raise _Stop(line, f"el SVG anida más de {MAX_DEPTH} niveles de elementos")
        if self.root is None:
            self.root, self.root_line = {}, line
            if namespace != SVG_NS or local != "svg":
                # Nothing else can be judged: every element would be "of another format".
                raise _Stop(
                    line,
                    f'el elemento raíz debe ser <svg xmlns="{SVG_NS}">, no <{_shown(name)}>',
                )
            self.root = {key[1]: value for key, value in attrs.items() if key[0] is None}
        self.open.append(local if namespace == SVG_NS else "")
        if namespace != SVG_NS or local not in ELEMENTS:
            self.report(line, _element_message(name))
        elif local == "style":
            self.style_text, self.style_line = [], line
        for key, value in attrs.items():
            self._attribute(line, key, value)

    def endElementNS(self, name: tuple[str | None, str], qname: str | None) -> None:
        if self.open.pop() == "style":
            self._css(self.style_line, "".join(self.style_text), "el estilo")

    def characters(self, content: str) -> None:
        if self.open and self.open[-1] == "style":
            self.style_text.append(content)

    def attribute_line(self, line: int | None, local: str) -> int | None:
        """The line where attribute ``local`` is written, in the tag that starts at ``line``.

        Expat says where a tag starts; its attributes may be on the lines below.
        """
        if line is None:
            return None
        written = re.compile(rf"(?<![\w.:-])(?:[\w.-]+:)?{re.escape(local)}\s*=")
        for number in range(line, min(line + 50, len(self.lines) + 1)):
            text = self.lines[number - 1]
            if written.search(text):
                return number
            if ">" in text and number > line:
                break
        return line

    def _attribute(self, tag_line: int | None, key: tuple[str | None, str], value: str) -> None:
        namespace, local = key
        shown = _shown(key)
        line = self.attribute_line(tag_line, local)
        if local.lower().startswith("on"):
            self.report(line, f"atributo de evento no permitido en un SVG: {shown}")
            return
        if local == "href" and namespace in (None, XLINK_NS):
            if not _SAME_DOCUMENT.fullmatch(value.strip()):
                self.report(
                    line,
                    f"{shown} solo puede apuntar a un elemento del mismo SVG (#id), "
                    f"no a «{_short(value)}»",
                )
            return
        if namespace == XML_NS and local in XML_ATTRIBUTES:
            return
        if namespace is not None or local not in ATTRIBUTES:
            self.report(line, f"atributo no permitido en un SVG: {shown}")
            return
        self._css(line, value, f"el atributo {shown}")

    def _css(self, line: int | None, value: str, where: str) -> None:
        """Style sheets and attribute values: nothing that loads another file."""

        def at(offset: int) -> int | None:
            # A style sheet spans lines: point at the one with the problem.
            return line + value.count("\n", 0, offset) if line is not None else None

        if "\\" in value:
            self.report(at(value.index("\\")), f"{where} no puede tener barras invertidas (\\)")
            return
        for match in _AT_RULE.finditer(value):
            self.report(at(match.start()), f"{where} no puede usar @{match[1].lower()}")
        for match in _FETCHING_FUNCTION.finditer(value):
            self.report(at(match.start()), f"{where} no puede usar {match[1].lower()}()")
        for match in _ANY_URL.finditer(value):
            url = _URL.match(value, match.start())
            if url is None or not _SAME_DOCUMENT.fullmatch(url["target"].strip()):
                written = value[match.start() : url.end() if url else match.start() + 60]
                self.report(
                    at(match.start()),
                    f"{where} solo puede usar url(#id), que apunta a un elemento del mismo SVG, "
                    f"no «{_short(written)}»",
                )

    def size(self) -> tuple[int, int]:
        """The drawing's size in CSS pixels: width and height, or else the viewBox's."""
        attrs = self.root or {}
        width, height = _length(attrs.get("width")), _length(attrs.get("height"))
        box = _view_box(attrs.get("viewBox"))
        if box is not None and not (width and height):
            box_width, box_height = box
            if width:
                height = round(width * box_height / box_width)
            elif height:
                width = round(height * box_width / box_height)
            else:
                width, height = round(box_width), round(box_height)
        if self.root is not None and not self.problems and not (width and height):
            self.report(
                self.root_line,
                'el <svg> necesita viewBox="0 0 ancho alto" (o width y height en píxeles) '
                "para saber su tamaño",
            )
        return width or 0, height or 0


def _view_box(value: str | None) -> tuple[float, float] | None:
    parts = (value or "").replace(",", " ").split()
    try:
        width, height = (float(part) for part in parts[2:]) if len(parts) == 4 else (0.0, 0.0)
    except ValueError:
        return None
    return (width, height) if width > 0 and height > 0 else None


def _length(value: str | None) -> int | None:
    """``"640"`` or ``"640px"`` -> 640; percentages, ems and the like -> None."""
    match = _LENGTH.fullmatch(value or "")
    return (round(float(match[1])) or None) if match else None


def _shown(key: tuple[str | None, str]) -> str:
    namespace, local = key
    if namespace is None or namespace == SVG_NS:
        return local
    prefix = _PREFIXES.get(namespace)
    return f"{prefix}:{local}" if prefix else f"{local} (de {namespace})"


def _element_message(name: tuple[str | None, str]) -> str:
    namespace, local = name
    shown = f"<{_shown(name)}>"
    if namespace == SVG_NS and local == "script":
        return "el SVG no puede tener <script>"
    if namespace == SVG_NS and local in ("foreignObject", "image", "a", "iframe", "feImage"):
        return f"elemento no permitido en un SVG: {shown} (puede cargar o mostrar otro contenido)"
    if namespace != SVG_NS:
        return f"elemento de otro formato no permitido en un SVG: {shown}"
    return f"elemento no permitido en un SVG: {shown}"


def _short(value: str, limit: int = 60) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"
