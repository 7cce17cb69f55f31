"""The one Markdown pipeline: author and learner text in, safe HTML out.

Every feature renders Markdown here, once, when the text is saved; the HTML is stored with the
revision and requests never re-render. Two entry points:

- :func:`render` for trainer-written content (lessons, quiz question text, case scenarios):
  tables, footnotes, definition lists, heading ids with a table of contents, and four callout
  boxes written in admonition syntax (``!!! importante``, ``!!! ejemplo``, ``!!! marco-legal``,
  ``!!! reflexion``, each with an optional ``"Título"``).
- :func:`render_light` for learner-written text (case responses): paragraphs, lists, emphasis,
  links, block quotes and code only.

Both return a :class:`Rendered` whose ``problems`` tell the author, in Spanish and with the
source line when it can be found, what will not work: a link to a lesson that does not exist, an
image that is missing or has no alternative text, an unknown callout kind, raw HTML. Problems
never stop rendering; the caller decides whether they block a save. Two kinds of text are
refused outright, with a :class:`MarkdownRefused`, so that an empty result can never be stored
by mistake as if it were the lesson: text longer than ``max_chars``
(:class:`MarkdownTooLarge`), and text nested so deeply that rendering it would take seconds or
exhaust Python's recursion (:class:`MarkdownTooComplex`): hundreds of nested lists, quotes or
callouts, thousands of open ``[`` or ``(``, or long runs of ``*`` and ``_``. A linear pre-scan
(:func:`check_nesting`) finds those before python-markdown sees them, with their line; a
``RecursionError`` that still happens is turned into the same refusal.

Raw HTML in the source is never interpreted: it is shown as text (and reported), so authors
cannot inject elements, classes or ids. The output is then cleaned by nh3 with an explicit
allow-list (:func:`sanitise`). That is the security boundary: whatever the Markdown stage lets
through, no script, event handler, inline style or URL other than http, https, mailto or a
relative one survives.

A new ``markdown.Markdown`` is built for every call. Instances keep per-document state and are
not thread-safe, and building one costs well under a millisecond, little next to the rendering
(about 15 ms for a 3,000-word lesson: ``bench/bench_markdown.py``).
"""

from __future__ import annotations

import bisect
import html
import re
import unicodedata
import xml.etree.ElementTree as etree
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote

import nh3
from markdown import Markdown
from markdown.blockparser import BlockParser
from markdown.extensions import Extension
from markdown.extensions.admonition import AdmonitionProcessor
from markdown.extensions.def_list import DefListExtension
from markdown.extensions.footnotes import FootnoteExtension
from markdown.extensions.sane_lists import SaneListExtension
from markdown.extensions.tables import TableExtension
from markdown.extensions.toc import TocExtension
from markdown.extensions.toc import slugify as toc_slugify
from markdown.inlinepatterns import HTML_RE, HtmlInlineProcessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AMP_SUBSTITUTE

from academy.text import unix_newlines

__all__ = [
    "CALLOUT_KINDS",
    "DEFAULT_MAX_CHARS",
    "MAX_BLOCK_LINES",
    "MAX_ELEMENTS",
    "MAX_EMPHASIS_RUN",
    "MAX_HEADINGS",
    "MAX_NESTING",
    "MAX_OPEN_BRACKETS",
    "MarkdownRefused",
    "MarkdownTooComplex",
    "MarkdownTooLarge",
    "Problem",
    "Rendered",
    "Resolver",
    "TocEntry",
    "check_nesting",
    "render",
    "render_light",
    "sanitise",
    "slugify",
]

DEFAULT_MAX_CHARS: Final = 200_000
#: Lists, block quotes and callouts inside one another (python-markdown recurses once per
#: level and fails a little beyond 200). Six or seven is already a lot for a reader.
MAX_NESTING: Final = 20
#: ``[`` or ``(`` open at once within a paragraph: python-markdown scans to the paragraph's
#: end from each one, so thousands of them take seconds.
MAX_OPEN_BRACKETS: Final = 20
#: ``*`` or ``_`` in a row (a run can open as many nested emphases as it is long).
MAX_EMPHASIS_RUN: Final = 40
#: Lines in one block (a paragraph, list or table with no blank line): python-markdown splits
#: a block at each heading or rule in it and parses the rest again.
MAX_BLOCK_LINES: Final = 1_000
#: Headings (each also costs a table-of-contents entry with a unique id).
MAX_HEADINGS: Final = 500
#: An estimate of the elements python-markdown will build, each costing it some 100 µs:
#: blocks, lines that start a heading, list item, quote, table row or callout, and inline
#: marks (``*``, ``_``, `````, ``[``, ``<``, ``&``, ``\``, ``|``). A 20,000-word lesson with
#: ordinary formatting has a few thousand.
MAX_ELEMENTS: Final = 20_000

#: Callout kind (as written after ``!!!``) -> the title shown when the author gives none.
CALLOUT_KINDS: Final[Mapping[str, str]] = {
    "importante": "Importante",
    "ejemplo": "Ejemplo",
    "marco-legal": "Marco legal",
    "reflexion": "Para reflexionar",
}

#: Takes a relative target as written by the author (percent-escapes decoded, no ``#fragment``)
#: and returns the URL to use, or None when nothing exists there.
Resolver = Callable[[str], str | None]


@dataclass(frozen=True, slots=True)
class Problem:
    """Something in the source that will not work as the author meant.

    ``line`` is the 1-based line in the Markdown source, found by searching the source for the
    offending text (best effort: None when it cannot be found). ``message`` is Spanish, meant
    for the author.
    """

    line: int | None
    message: str

    def __str__(self) -> str:
        return self.message if self.line is None else f"línea {self.line}: {self.message}"


@dataclass(frozen=True, slots=True)
class TocEntry:
    """A heading: its level (1-6), its id in the HTML and its text, with its subheadings."""

    level: int
    id: str
    title: str
    children: tuple[TocEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class Rendered:
    """The result of rendering: sanitised HTML, the headings, and the problems found."""

    html: str
    toc: tuple[TocEntry, ...] = ()
    problems: tuple[Problem, ...] = ()


class MarkdownRefused(ValueError):
    """Text that is not rendered at all. ``str()`` is the Spanish message for the author;
    ``line`` is the 1-based line in the text where the problem is, when there is one."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def problem(self) -> Problem:
        return Problem(self.line, self.message)


class MarkdownTooLarge(MarkdownRefused):
    """The text is longer than the limit given to :func:`render` or :func:`render_light`."""

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(
            f"el texto tiene {length} caracteres y el máximo es {limit}; divídelo en partes"
        )
        self.length = length
        self.limit = limit


class MarkdownTooComplex(MarkdownRefused):
    """The text is nested too deeply to be rendered safely (see :func:`check_nesting`)."""


def slugify(value: str, separator: str = "-") -> str:
    """Heading text -> a stable ASCII id: ``"¿Qué es el COSOC?"`` -> ``"que-es-el-cosoc"``."""
    return toc_slugify(value, separator) or "seccion"


# --- sanitising -------------------------------------------------------------------------------

_URL_SCHEMES: Final = frozenset({"http", "https", "mailto"})
_ALIGN_CLASSES: Final = frozenset({"align-left", "align-center", "align-right"})
_CALLOUT_CLASSES: Final = frozenset({"callout", *(f"callout-{kind}" for kind in CALLOUT_KINDS)})
# Dropped with everything inside them rather than unwrapped into text.
_DROPPED_WITH_CONTENT: Final = frozenset(
    {"script", "style", "template", "iframe", "object", "embed", "noscript", "svg", "math"}
)

_LIGHT_TAGS: Final = frozenset(
    {"p", "br", "hr", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a"}
)
_FULL_TAGS: Final = _LIGHT_TAGS | {
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "img",
    "dl",
    "dt",
    "dd",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "sup",
    "div",
    "aside",
    "nav",
}
_LIGHT_ATTRIBUTES: Final = {"a": {"href", "title"}, "ol": {"start"}}
_FULL_ATTRIBUTES: Final = {
    **_LIGHT_ATTRIBUTES,
    **{f"h{level}": {"id"} for level in range(1, 7)},
    "img": {"src", "alt", "title", "width", "height"},
    # A table's scroll box (its role and tabindex values: tag_attribute_values below).
    "div": {"aria-label"},
    "li": {"id"},  # footnotes
    "sup": {"id"},  # footnote references
    "nav": {"aria-label"},
}
_FULL_CLASSES: Final = {
    "a": {"footnote-ref", "footnote-backref", "figure-full"},
    "div": {"footnote", "table-wrap"},
    "aside": set(_CALLOUT_CLASSES),
    "p": {"callout-title"},
    "nav": {"toc"},
    "th": set(_ALIGN_CLASSES),
    "td": set(_ALIGN_CLASSES),
}
# Heading slugs, "seccion_2", footnote ids "fn:1", "fnref2:1": nothing that could shadow a
# global name or a form field of the page the fragment is embedded in.
_SAFE_ID = re.compile(r"[a-z0-9_][a-z0-9_:-]*")


def _keep_safe_ids(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "id" and not _SAFE_ID.fullmatch(value):
        return None
    return value


_FULL_CLEANER: Final = nh3.Cleaner(
    tags=set(_FULL_TAGS),
    clean_content_tags=set(_DROPPED_WITH_CONTENT),
    attributes=_FULL_ATTRIBUTES,
    attribute_filter=_keep_safe_ids,
    tag_attribute_values={
        "th": {"scope": {"col", "row", "colgroup", "rowgroup"}},
        "div": {"role": {"region"}, "tabindex": {"0"}},
    },
    allowed_classes=_FULL_CLASSES,
    url_schemes=set(_URL_SCHEMES),
    link_rel="noopener noreferrer",
    strip_comments=True,
)
_LIGHT_CLEANER: Final = nh3.Cleaner(
    tags=set(_LIGHT_TAGS),
    clean_content_tags=set(_DROPPED_WITH_CONTENT),
    attributes=_LIGHT_ATTRIBUTES,
    url_schemes=set(_URL_SCHEMES),
    url_relative="deny",  # a learner's link must say where it goes
    link_rel="noopener noreferrer",
    strip_comments=True,
)


def sanitise(html_text: str, *, light: bool = False) -> str:
    """Clean HTML through the explicit allow-list; ``light`` is the learner-response subset.

    Idempotent: ``sanitise(sanitise(x)) == sanitise(x)``, and the HTML in a :class:`Rendered`
    is already sanitised. Every ``<a>`` gets ``rel="noopener noreferrer"``.
    """
    return (_LIGHT_CLEANER if light else _FULL_CLEANER).clean(html_text)


# --- bounding the work -------------------------------------------------------------------------

# Block containers at the start of a line: a quote marker, or a list item's marker.
_CONTAINER = re.compile(r"[ \t]*(?:>|[-*+](?=[ \t])|\d{1,9}[.)](?=[ \t]))")
_EMPHASIS_RUN = re.compile(rf"\*{{{MAX_EMPHASIS_RUN + 1},}}|_{{{MAX_EMPHASIS_RUN + 1},}}")
_BRACKET = re.compile(r"\\.|[\[\]()]")
_INLINE_MARK = re.compile(r"[*_`\[<&\\|]")
_HEADING = re.compile(r" {0,3}(?:#{1,6}(?:[ \t]|$)|=+[ \t]*$|-+[ \t]*$)")
_BLOCK_START = re.compile(r"[ \t]*(?:#|>|[-*+=:|](?:[ \t]|$)|\d{1,9}[.)]|!!!|[-=_*]{3})")


def check_nesting(text: str) -> None:
    """Refuse, with :class:`MarkdownTooComplex` and the line, text nested beyond the limits.

    One pass over the text, so that what python-markdown later does is bounded: at most
    :data:`MAX_NESTING` levels of lists, quotes and callouts (four spaces of indentation or a
    marker each), :data:`MAX_OPEN_BRACKETS` ``[`` or ``(`` open at once in a paragraph, and
    runs of at most :data:`MAX_EMPHASIS_RUN` ``*`` or ``_``.
    """
    run = _EMPHASIS_RUN.search(text)
    if run is not None:
        raise MarkdownTooComplex(
            f"más de {MAX_EMPHASIS_RUN} «{run[0][0]}» seguidos: si son parte del texto, "
            f"escribe cada uno con una barra invertida delante (\\{run[0][0]})",
            text.count("\n", 0, run.start()) + 1,
        )
    elements = len(_INLINE_MARK.findall(text))
    brackets = parens = block_lines = headings = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            brackets = parens = block_lines = 0  # a blank line ends the block, and what was open
            continue
        block_lines += 1
        elements += 1 if block_lines == 1 or _BLOCK_START.match(line) else 0
        if elements > MAX_ELEMENTS:
            raise MarkdownTooComplex(
                f"el texto tiene demasiados elementos (más de {MAX_ELEMENTS} párrafos, títulos, "
                "elementos de lista, énfasis, enlaces o celdas): divide la lección en partes",
                number,
            )
        headings += 1 if _HEADING.match(line) else 0
        if headings > MAX_HEADINGS:
            raise MarkdownTooComplex(
                f"el texto tiene más de {MAX_HEADINGS} títulos: divide la lección en partes",
                number,
            )
        if block_lines > MAX_BLOCK_LINES:
            raise MarkdownTooComplex(
                f"más de {MAX_BLOCK_LINES} líneas seguidas sin una línea en blanco: separa los "
                "párrafos, listas y tablas con líneas en blanco",
                number,
            )
        if _nesting(line) > MAX_NESTING:
            raise MarkdownTooComplex(
                f"listas, citas o recuadros anidados en más de {MAX_NESTING} niveles: "
                "simplifica la estructura",
                number,
            )
        if "[" not in line and "(" not in line:
            continue
        for match in _BRACKET.finditer(line):
            char = match[0]
            if char == "[":
                brackets += 1
            elif char == "]":
                brackets = max(brackets - 1, 0)
            elif char == "(":
                parens += 1
            elif char == ")":
                parens = max(parens - 1, 0)
            if brackets > MAX_OPEN_BRACKETS or parens > MAX_OPEN_BRACKETS:
                what = "corchetes «[»" if brackets > MAX_OPEN_BRACKETS else "paréntesis «(»"
                raise MarkdownTooComplex(
                    f"más de {MAX_OPEN_BRACKETS} {what} abiertos a la vez en el mismo párrafo: "
                    "ciérralos, o escribe una barra invertida delante de los que son texto",
                    number,
                )


def _nesting(line: str) -> int:
    """How many containers a line opens or sits in: indentation (four columns a level) plus
    the quote and list markers it starts with."""
    indent = len(line) - len(line.lstrip(" \t"))
    depth = len(line[:indent].expandtabs(4)) // 4
    position = 0
    while depth <= MAX_NESTING and (match := _CONTAINER.match(line, position)) is not None:
        depth += 1
        position = match.end()
    return depth


# --- rendering --------------------------------------------------------------------------------


def render(
    text: str,
    *,
    link_resolver: Resolver | None = None,
    image_resolver: Resolver | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> Rendered:
    """Render trainer-written Markdown (a lesson, a question, a case scenario).

    ``link_resolver`` is called with the path of every relative link to a ``.md`` file
    (``"unidad-2/leccion-3.md"``, without its ``#fragment``, which is put back on the URL it
    returns). None means the lesson does not exist: the link is left without ``href`` and a
    problem is reported. ``image_resolver`` does the same for every relative image ``src``.
    Without a resolver those targets are left as written. External links are kept as they are.

    Raises :class:`MarkdownTooLarge` when ``text`` has more than ``max_chars`` characters, and
    :class:`MarkdownTooComplex` when it is nested too deeply (see :func:`check_nesting`).
    """
    session = _Session(text, max_chars, link_resolver, image_resolver, light=False)
    md = Markdown(
        extensions=[
            TableExtension(use_align_attribute=True),
            FootnoteExtension(
                BACKLINK_TITLE="Volver a la nota {} en el texto",
                # U+FE0E keeps the arrow a text glyph instead of an emoji on phones.
                BACKLINK_TEXT="&#8617;&#xFE0E;",
            ),
            DefListExtension(),
            SaneListExtension(),
            TocExtension(slugify=slugify, permalink=False, anchorlink=False),
            _AcademyExtension(session),
        ],
        output_format="html",
    )
    body = _convert(md, text)
    toc = _toc_entries(getattr(md, "toc_tokens", ()))
    return Rendered(html=sanitise(body), toc=toc, problems=session.sorted_problems())


def render_light(text: str, *, max_chars: int = DEFAULT_MAX_CHARS) -> Rendered:
    """Render learner-written Markdown (a case response): the small, safe subset.

    Paragraphs, lists, emphasis, links (http, https and mailto only), block quotes and code.
    Headings are not recognised (``# 1`` stays text), images are not embedded (``![x](y)``
    stays text), raw HTML is shown as text. ``toc`` is always empty.

    Raises :class:`MarkdownTooLarge` when ``text`` has more than ``max_chars`` characters, and
    :class:`MarkdownTooComplex` when it is nested too deeply (see :func:`check_nesting`).
    """
    session = _Session(text, max_chars, None, None, light=True)
    md = Markdown(
        extensions=[SaneListExtension(), _AcademyExtension(session)], output_format="html"
    )
    body = _convert(md, text)
    return Rendered(html=sanitise(body, light=True), problems=session.sorted_problems())


def _convert(md: Markdown, text: str) -> str:
    try:
        return md.convert(text)
    except RecursionError as error:
        # The last resort: a shape check_nesting does not know about.
        raise MarkdownTooComplex(
            "el texto tiene demasiados elementos unos dentro de otros para mostrarlo: "
            "simplifica las listas, citas, recuadros y énfasis anidados"
        ) from error


def _toc_entries(tokens: Iterable[Mapping[str, Any]]) -> tuple[TocEntry, ...]:
    return tuple(
        TocEntry(
            level=int(token["level"]),
            id=str(token["id"]),
            title=html.unescape(str(token["name"])),
            children=_toc_entries(token["children"]),
        )
        for token in tokens
    )


class _SourceIndex:
    """Finds the line of a piece of source text, the n-th time it is asked, at its n-th place.

    Processors see the document in roughly source order, so asking for the same link target
    twice gives the lines of its first and second occurrences.
    """

    def __init__(self, text: str) -> None:
        self._text = unix_newlines(text)
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", self._text)]
        self._resume: dict[str, int] = {}

    def line_of(self, needle: str) -> int | None:
        needle = needle.strip()
        if not needle:
            return None
        start = self._resume.get(needle, 0)
        position = self._text.find(needle, start)
        if position < 0 and start:
            position = self._text.find(needle)
        if position < 0:
            return None
        self._resume[needle] = position + len(needle)
        return bisect.bisect_right(self._line_starts, position)


class _Session:
    """Per-call state shared by this module's processors."""

    def __init__(
        self,
        text: str,
        max_chars: int,
        link_resolver: Resolver | None,
        image_resolver: Resolver | None,
        *,
        light: bool,
    ) -> None:
        if len(text) > max_chars:
            raise MarkdownTooLarge(len(text), max_chars)
        check_nesting(text)
        self.source = _SourceIndex(text)
        self.link_resolver = link_resolver
        self.image_resolver = image_resolver
        self.light = light
        self.problems: list[Problem] = []

    def report(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(line, message))

    def sorted_problems(self) -> tuple[Problem, ...]:
        # Found in processing order (blocks, then inline); authors read them top to bottom.
        return tuple(sorted(self.problems, key=lambda p: (p.line is None, p.line if p.line else 0)))


class _AcademyExtension(Extension):
    def __init__(self, session: _Session) -> None:
        super().__init__()
        self.session = session

    def extendMarkdown(self, md: Markdown) -> None:
        # Raw HTML is not interpreted: block HTML becomes paragraphs, whose tags are then
        # escaped (and reported) by the replacement inline "html" pattern.
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.register(_RawHtmlAsText(HTML_RE, md, self.session), "html", 90)
        if self.session.light:
            for name in ("hashheader", "setextheader"):
                md.parser.blockprocessors.deregister(name)
            for name in ("image_link", "image_reference", "short_image_ref"):
                md.inlinePatterns.deregister(name)
        else:
            md.parser.blockprocessors.register(
                _CalloutProcessor(md.parser, self.session), "admonition", 105
            )
        # After "toc" (5), so heading ids exist; before "unescape" (0).
        md.treeprocessors.register(_Rewriter(md, self.session), "academy", 3)


class _RawHtmlAsText(HtmlInlineProcessor):
    """Keeps a raw HTML tag or comment as visible text and reports it once per line."""

    def __init__(self, pattern: str, md: Markdown, session: _Session) -> None:
        super().__init__(pattern, md)
        self.session = session
        self.reported_lines: set[int | None] = set()

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[str, int, int]:
        raw = self.backslash_unescape(self.unescape(m.group(1)))
        line = self.session.source.line_of(raw)
        if line not in self.reported_lines:
            self.reported_lines.add(line)
            self.session.report(
                line, f"el HTML no se interpreta y se mostrará como texto: {_shorten(raw)}"
            )
        return raw, m.start(0), m.end(0)


class _CalloutProcessor(AdmonitionProcessor):
    """Admonitions restricted to the four callout kinds, titled in Spanish by default.

    Known kinds become ``div.admonition.callout-<kind>`` here and ``aside.callout`` in
    :class:`_Rewriter`; unknown ones are reported and unwrapped there.
    """

    # As upstream, but the title may also be in typographic quotes (“…” or «…»), which word
    # processors put in when trainers paste text.
    RE = re.compile(r'(?:^|\n)!!! ?([\w\-]+(?: +[\w\-]+)*)(?: +["“«](.*?)["”»])? *(?:\n|$)')

    def __init__(self, parser: BlockParser, session: _Session) -> None:
        super().__init__(parser)
        self.session = session
        self.marker_line: int | None = None

    def get_class_and_title(self, match: re.Match[str]) -> tuple[str, str | None]:
        written = self.RE_SPACES.sub(" ", match.group(1).strip())
        kind = _plain(written)
        title = match.group(2)
        self.marker_line = self.session.source.line_of(match.group(0))
        if kind in CALLOUT_KINDS:
            return f"callout-{kind}", title or CALLOUT_KINDS[kind]
        first, _, rest = written.partition(" ")
        if _plain(first) in CALLOUT_KINDS and title is None:
            # !!! importante Plazos legales: the title was meant, without its quotes.
            self.session.report(
                self.marker_line,
                f'el título del recuadro va entre comillas: !!! {first} "{rest}"',
            )
            return f"callout-{_plain(first)}", rest
        self.session.report(
            self.marker_line,
            f"tipo de recuadro desconocido: '{written}' "
            "(usa importante, ejemplo, marco-legal o reflexion)",
        )
        return _UNKNOWN_CALLOUT, title or None

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        self.marker_line = None
        super().run(parent, blocks)
        if self.marker_line is not None:
            # A new box was opened: remember its line for the checks made on the tree.
            parent[-1].set(_LINE_ATTRIBUTE, str(self.marker_line))


_UNKNOWN_CALLOUT: Final = "callout-unknown"
# Set on callouts by _CalloutProcessor, removed by _Rewriter (and by the sanitiser anyway).
_LINE_ATTRIBUTE: Final = "data-academy-line"
_FOOTNOTE_ID = re.compile(r"^(?P<prefix>fn|fnref\d*):(?P<label>.*)$", re.DOTALL)
_FOOTNOTE_CALL = re.compile(r"\[\^[^\]\s][^\]]*\]")
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):", re.IGNORECASE)
_URL_IGNORED_BY_BROWSERS = re.compile(r"[\x00-\x20]")


def _url_scheme(url: str) -> str | None:
    """The scheme a browser would see in ``url``, lower case; None for a relative URL.

    Entities are decoded and control characters and spaces dropped first, as browsers do, so
    ``jav&#x09;ascript:`` and `` JAVASCRIPT:`` are both seen as ``javascript``.
    """
    decoded = html.unescape(url.replace(AMP_SUBSTITUTE, "&"))
    match = _SCHEME.match(_URL_IGNORED_BY_BROWSERS.sub("", decoded))
    return match.group(1).lower() if match else None


def _plain(value: str) -> str:
    """Lower case without accents: ``"Reflexión"`` -> ``"reflexion"``."""
    decomposed = unicodedata.normalize("NFKD", value)
    return decomposed.encode("ascii", "ignore").decode("ascii").lower()


def _shorten(value: str, limit: int = 80) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


class _Rewriter(Treeprocessor):
    """Turns the parsed document into the markup our templates, CSS and CSP expect.

    Callouts become ``aside``; table alignment becomes a class (the CSP forbids inline style);
    each table is put in a scroll box of its own, so a wide one never makes the page scroll
    sideways on a phone; a figure (an image alone in its paragraph) gets a link to the image
    at full size, where a phone can zoom it; the ``[TOC]`` box becomes a ``nav``; link and
    image targets are checked and resolved.
    """

    def __init__(self, md: Markdown, session: _Session) -> None:
        super().__init__(md)
        self.session = session

    def run(self, root: etree.Element) -> None:
        self._number_footnotes(root)
        parents = {child: parent for parent in root.iter() for child in parent}
        ids = {el.attrib["id"] for el in root.iter() if "id" in el.attrib}
        header_rows = {row for thead in root.iter("thead") for row in thead}
        unknown_callouts = []
        for el in list(root.iter()):
            if el.tag == "div":
                classes = el.get("class", "").split()
                if _UNKNOWN_CALLOUT in classes:
                    unknown_callouts.append(el)
                elif "admonition" in classes:
                    self._callout(el, classes)
                elif "toc" in classes:
                    el.tag = "nav"
                    el.set("aria-label", "Índice")
            elif el.tag in ("th", "td"):
                self._cell(el, in_header=parents.get(el) in header_rows)
            elif el.tag == "a":
                self._link(el, ids)
            elif el.tag == "img":
                self._image(el)
            elif el.tag == "p" and not self.session.light:
                self._check_stray_callout_marker(el)
            if not self.session.light:
                self._check_footnote_calls(el)
        # Innermost first, so each one's parent is still where the map says.
        for el in reversed(unknown_callouts):
            self._unwrap(el, parents[el])
        if not self.session.light:
            # The callouts unwrapped above moved their children: the map is made again.
            parents = {child: parent for parent in root.iter() for child in parent}
            for table in list(root.iter("table")):
                self._scroll_box(table, parents[table])
            for el in list(root.iter("img")):
                parent = parents.get(el)
                if parent is not None and parent.tag == "p":
                    self._full_size_link(el, parent)

    def _number_footnotes(self, root: etree.Element) -> None:
        """Footnote ids use the note's number, not its label (``[^Ley N° 20.500]``).

        Labels are the author's words: spaces, capitals and accents would make invalid or
        unsafe ids, which the sanitiser drops, breaking the links between text and notes.
        """
        box = next((div for div in root.iter("div") if div.get("class") == "footnote"), None)
        notes = box.find("ol") if box is not None else None
        if box is None or notes is None:
            return
        # A heading instead of python-markdown's rule (the box has its own line above it).
        rule = box.find("hr")
        if rule is not None:
            rule.tag = "h2"
            rule.text = "Notas"
        called = {
            match["label"]
            for el in root.iter()
            if (match := _FOOTNOTE_ID.match(el.get("id", ""))) and match["prefix"] != "fn"
        }
        numbers: dict[str, str] = {}
        for number, li in enumerate(notes, start=1):
            label = li.get("id", "").partition(":")[2]
            numbers[label] = str(number)
            if label not in called:
                self._drop_backlinks(li)
                self.session.report(
                    self.session.source.line_of(f"[^{label}]:"),
                    f"nota al pie que no se usa en el texto: [^{label}]",
                )

        def renumber(match: re.Match[str]) -> str:
            number = numbers.get(match["label"])
            return match[0] if number is None else f"{match['prefix']}:{number}"

        for el in root.iter():
            if "id" in el.attrib:
                el.set("id", _FOOTNOTE_ID.sub(renumber, el.get("id", ""), count=1))
            if el.tag == "a" and el.get("href", "").startswith("#"):
                href = el.get("href", "")
                el.set("href", "#" + _FOOTNOTE_ID.sub(renumber, href[1:], count=1))

    @staticmethod
    def _drop_backlinks(note: etree.Element) -> None:
        # Nothing in the text to go back to.
        for parent in note.iter():
            for link in [c for c in parent if c.get("class") == "footnote-backref"]:
                parent.remove(link)

    def _callout(self, el: etree.Element, classes: list[str]) -> None:
        kind = next(c for c in classes if c.startswith("callout-"))
        line = el.attrib.pop(_LINE_ATTRIBUTE, None)
        el.tag = "aside"
        el.set("class", f"callout {kind}")
        el[0].set("class", "callout-title")  # the title is always there, at least by default
        if len(el) == 1:
            self.session.report(
                int(line) if line else None,
                "recuadro vacío: su contenido debe ir en las líneas siguientes, "
                "con 4 espacios al comienzo de cada una",
            )

    @staticmethod
    def _scroll_box(table: etree.Element, parent: etree.Element) -> None:
        """Put the table in a named, focusable region that scrolls sideways by itself
        (focusable so that keyboard users can scroll it too), named by its column headings."""
        headings = [
            _shorten("".join(th.itertext()), 40)
            for th in table.iter("th")
            if "".join(th.itertext()).strip()
        ]
        label = "Tabla: " + ", ".join(headings) if headings else "Tabla"
        box = etree.Element(
            "div",
            {
                "class": "table-wrap",
                "role": "region",
                "tabindex": "0",
                "aria-label": _shorten(label, 120),
            },
        )
        index = list(parent).index(table)
        parent.remove(table)
        box.append(table)
        box.tail, table.tail = table.tail, None
        parent.insert(index, box)

    @staticmethod
    def _full_size_link(img: etree.Element, paragraph: etree.Element) -> None:
        """A figure (an image alone in its paragraph, with somewhere to go) gets a link to the
        image itself, where a phone can zoom into a detailed diagram."""
        src = img.get("src", "")
        alone = len(paragraph) == 1 and not (paragraph.text or "").strip()
        # Images from elsewhere are not shown at all (reported in _image).
        if not src or not alone or (img.tail or "").strip() or _url_scheme(src) is not None:
            return
        link = etree.SubElement(paragraph, "a", {"class": "figure-full", "href": src})
        link.text = "Ver la figura en tamaño completo"
        img.tail = None
        link.tail = None

    def _unwrap(self, el: etree.Element, parent: etree.Element) -> None:
        el.attrib.pop(_LINE_ATTRIBUTE, None)
        if len(el) and el[0].get("class") == "admonition-title":
            del el[0].attrib["class"]
        index = list(parent).index(el)
        parent.remove(el)
        for offset, child in enumerate(el):
            parent.insert(index + offset, child)

    def _cell(self, el: etree.Element, *, in_header: bool) -> None:
        align = el.attrib.pop("align", None)
        if align in ("left", "center", "right"):
            el.set("class", f"align-{align}")
        if el.tag == "th" and in_header:
            el.set("scope", "col")

    def _link(self, el: etree.Element, ids: set[str]) -> None:
        href = el.get("href")
        if href is None:
            return
        line = self.session.source.line_of(href)
        scheme = _url_scheme(href)
        if scheme in _URL_SCHEMES:
            return
        if scheme is not None or self.session.light:
            del el.attrib["href"]
            self.session.report(
                line,
                f"dirección de enlace no permitida (usa http, https o mailto): {_shorten(href)}",
            )
            return
        path, _, fragment = href.partition("#")
        if not path:
            if fragment and unquote(fragment) not in ids:
                self.session.report(line, f"enlace a una sección que no existe: #{fragment}")
            return
        path = path.partition("?")[0]
        if path.lower().startswith("www."):
            self.session.report(line, f"a la dirección le falta «https://» al comienzo: {path}")
            return
        if not path.lower().endswith(".md") or self.session.link_resolver is None:
            return
        url = self.session.link_resolver(unquote(path))
        if url is None:
            del el.attrib["href"]
            self.session.report(line, f"enlace a una lección que no existe: {path}")
        else:
            el.set("href", f"{url}#{fragment}" if fragment else url)

    def _image(self, el: etree.Element) -> None:
        src = el.get("src", "")
        line = self.session.source.line_of(src)
        if not el.get("alt", "").strip():
            self.session.report(line, f"imagen sin texto alternativo: {_shorten(src)}")
        scheme = _url_scheme(src)
        if scheme in ("http", "https"):
            self.session.report(
                line,
                "imagen de otro sitio web, que la página no mostrará; "
                f"guárdala junto a la lección: {_shorten(src)}",
            )
        elif scheme is not None:
            del el.attrib["src"]
            self.session.report(line, f"dirección de imagen no permitida: {_shorten(src)}")
        elif not src:
            self.session.report(line, "imagen sin dirección")
        elif self.session.image_resolver is not None:
            url = self.session.image_resolver(unquote(src))
            if url is None:
                del el.attrib["src"]
                self.session.report(line, f"imagen no encontrada: {src}")
            else:
                el.set("src", url)

    def _check_footnote_calls(self, el: etree.Element) -> None:
        # A call whose note is not defined stays in the text as written.
        texts = (el.tail,) if el.tag == "code" else (el.text, el.tail)
        for text in texts:
            if text and "[^" in text:
                for match in _FOOTNOTE_CALL.finditer(text):
                    self.session.report(
                        self.session.source.line_of(match[0]),
                        f"nota al pie sin texto: {match[0]} "
                        f"(falta una línea que empiece con «{match[0]}:»)",
                    )

    def _check_stray_callout_marker(self, el: etree.Element) -> None:
        first_line = (el.text or "").lstrip().partition("\n")[0]
        if first_line.startswith("!!!"):
            self.session.report(
                self.session.source.line_of(first_line),
                f"recuadro mal escrito: «{_shorten(first_line)}»; escribe el tipo y, si quieres, "
                'un título entre comillas, por ejemplo: !!! marco-legal "Ley 18.695, art. 93"',
            )
