"""Chile's comunas and regions, from the official CUT list shipped in ``academy/data``.

Source: Código Único Territorial, SUBDERE and Biblioteca del Congreso Nacional
(Ley 21.074 and Decreto 1115 of 2018 for the current 16 regions).
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class Comuna:
    cut: str
    name: str
    region_code: str
    region: str


@cache
def all_comunas() -> dict[str, Comuna]:
    """Every comuna by its CUT code."""
    text = resources.files("academy").joinpath("data/comunas-cut.csv").read_text("utf-8")
    rows = csv.DictReader(text.splitlines())
    return {
        row["cut_comuna"]: Comuna(
            row["cut_comuna"], row["comuna"], row["cut_region"], row["region"]
        )
        for row in rows
    }


def get(cut: str | None) -> Comuna | None:
    return all_comunas().get(cut) if cut else None


# Regions from north to south, the order Chileans expect in a list.
REGION_ORDER = (
    "15",
    "01",
    "02",
    "03",
    "04",
    "05",
    "13",
    "06",
    "07",
    "16",
    "08",
    "09",
    "14",
    "10",
    "11",
    "12",
)


@cache
def choices_by_region() -> dict[str, list[tuple[str, str]]]:
    """Choices for a select grouped by region (WTForms renders the groups as optgroups)."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    ordered = sorted(all_comunas().values(), key=lambda c: REGION_ORDER.index(c.region_code))
    for comuna in ordered:
        grouped.setdefault(comuna.region, []).append((comuna.cut, comuna.name))
    return {
        region: sorted(items, key=lambda item: sort_key(item[1]))
        for region, items in grouped.items()
    }


def sort_key(name: str) -> str:
    """Alphabetical as Spanish speakers expect: accents ignored, Ñ right after N."""
    decomposed = unicodedata.normalize("NFD", name.casefold().replace("ñ", "n~"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
