"""The coverage chart, drawn on the server as SVG and put inline in the page: it needs no
script and no style sheet (presentation attributes only, which the page's CSP allows), it is
read as one image with a title and a description, and the table beside it is its accessible
alternative, with the same figures.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _
from markupsafe import Markup, escape

from academy.reports.services import PlaceRow

WIDTH = 780
LABEL_WIDTH = 330
BAR_WIDTH = 330
ROW_HEIGHT = 28
TOP = 34
BAR_COLOUR = "#1f5f8b"  # 7.0:1 on white
TRACK_COLOUR = "#e3e8ee"
TEXT_COLOUR = "#1a1a1a"


def _percent(value: float) -> str:
    return f"{round(100 * value)} %"


def coverage_chart(rows: Sequence[PlaceRow], *, chart_id: str = "grafico-cobertura") -> Markup:
    """Horizontal bars, one per region: the share of its municipalities with at least one
    certified person, and the count beside it."""
    regions = [row for row in rows if row.municipalities]
    height = TOP + ROW_HEIGHT * len(regions) + 10
    title = _("Cobertura por región")
    desc = _(
        "Porcentaje de municipios de cada región con al menos una persona certificada, "
        "de norte a sur. Las mismas cifras están en la tabla que sigue."
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" class="report-chart" '
        f'aria-labelledby="{chart_id}-titulo {chart_id}-desc">',
        f'<title id="{chart_id}-titulo">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
        f'<g font-family="sans-serif" font-size="14" fill="{TEXT_COLOUR}">',
    ]
    for tick in (0, 50, 100):
        x = LABEL_WIDTH + BAR_WIDTH * tick / 100
        parts.append(
            f'<line x1="{x:.0f}" y1="{TOP - 8}" x2="{x:.0f}" y2="{height - 6}" '
            f'stroke="#8a96a3" stroke-width="1" stroke-dasharray="3 3"/>'
            f'<text x="{x:.0f}" y="{TOP - 14}" text-anchor="middle" font-size="12">{tick} %</text>'
        )
    for n, row in enumerate(regions):
        y = TOP + n * ROW_HEIGHT
        share = row.coverage or 0.0
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 18}" text-anchor="end">{escape(row.name)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 5}" width="{BAR_WIDTH}" height="{ROW_HEIGHT - 10}" '
            f'fill="{TRACK_COLOUR}"/>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 5}" width="{BAR_WIDTH * share:.1f}" '
            f'height="{ROW_HEIGHT - 10}" fill="{BAR_COLOUR}"/>'
            f'<text x="{LABEL_WIDTH + BAR_WIDTH + 8}" y="{y + 18}">'
            f"{escape(_percent(share))} ({row.covered}/{row.municipalities})</text>"
        )
    parts.append("</g></svg>")
    return Markup("".join(parts))  # noqa: S704 (every text in it is escaped above)


def histogram_chart(histogram: Sequence[int], *, chart_id: str = "grafico-notas") -> Markup:
    """Vertical bars: how many best scores fall in each ten-point bucket."""
    width, height, left, bottom, top = 520, 220, 40, 30, 20
    most = max(histogram) if any(histogram) else 1
    slot = (width - left - 10) / len(histogram)
    title = _("Distribución de las notas")
    desc = _(
        "Cuántas notas (el mejor intento de cada persona en cada cuestionario) caen en cada "
        "tramo de diez puntos. Las mismas cifras están en la tabla que sigue."
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" class="report-chart" '
        f'aria-labelledby="{chart_id}-titulo {chart_id}-desc">',
        f'<title id="{chart_id}-titulo">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
        f'<g font-family="sans-serif" font-size="12" fill="{TEXT_COLOUR}">',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" '
        f'stroke="{TEXT_COLOUR}" stroke-width="1"/>',
    ]
    usable = height - bottom - top
    for n, count in enumerate(histogram):
        bar = usable * count / most
        x = left + n * slot
        parts.append(
            f'<rect x="{x + 3:.1f}" y="{height - bottom - bar:.1f}" width="{slot - 6:.1f}" '
            f'height="{bar:.1f}" fill="{BAR_COLOUR}"/>'
            f'<text x="{x + slot / 2:.1f}" y="{height - bottom - bar - 4:.1f}" '
            f'text-anchor="middle">{count}</text>'
            f'<text x="{x + slot / 2:.1f}" y="{height - 12}" text-anchor="middle">{10 * n}</text>'
        )
    parts.append("</g></svg>")
    return Markup("".join(parts))  # noqa: S704 (every text in it is escaped above)
