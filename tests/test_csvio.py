"""CSV in and out: Excel's encodings and delimiters read, formulas neutralised on the way out."""

from __future__ import annotations

import csv
import io

import pytest

from academy import csvio


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+56 9 1234", "'+56 9 1234"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ñuñoa", "Ñuñoa"),
        ("a=b", "a=b"),
        (None, ""),
        (12, "12"),
    ],
)
def test_safe_cell(value, expected):
    assert csvio.safe_cell(value) == expected


@pytest.mark.parametrize("value", ["=1+1", "-Ana", "@x", "+56 9", "Ñuñoa", "'quoted", ""])
def test_unsafe_cell_reads_back_what_safe_cell_wrote(value):
    assert csvio.unsafe_cell(csvio.safe_cell(value)) == value


def test_csv_chunks_start_with_a_bom_and_neutralise_every_cell():
    rows = ([f"=cmd{n}", "Peñalolén"] for n in range(450))
    text = "".join(csvio.csv_chunks(["=col", "comuna"], rows, rows_per_chunk=200))
    assert text.startswith("\ufeff")
    parsed = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert parsed[0] == ["'=col", "comuna"]
    assert parsed[1] == ["'=cmd0", "Peñalolén"]
    assert len(parsed) == 451


def test_csv_chunks_are_streamed():
    chunks = list(csvio.csv_chunks(["a"], ([str(n)] for n in range(500)), rows_per_chunk=200))
    assert len(chunks) == 3


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("correo;nombre\nñ@x.cl;Ñuñoa\n".encode(), "utf-8-sig"),
        ("\ufeffcorreo,nombre\n".encode(), "utf-8-sig"),
        ("correo;nombre\nx;Peñalolén\n".encode("cp1252"), "cp1252"),
        (b"correo\n\x81\n", "latin-1"),  # a byte Windows-1252 leaves undefined
    ],
)
def test_detect_encoding(data, encoding):
    assert csvio.detect_encoding(data) == encoding


def test_a_multibyte_character_across_chunks_is_still_utf8(monkeypatch):
    monkeypatch.setattr(csvio, "CHUNK", 3)
    assert csvio.detect_encoding("aañbñ".encode()) == "utf-8-sig"


def test_read_rows_drops_the_bom_and_sniffs_the_delimiter():
    rows, dialect = csvio.read_rows("\ufeffcorreo;nombre\na@x.cl;Ana, María\n".encode())
    assert dialect == csvio.Dialect("utf-8-sig", ";")
    assert list(rows) == [["correo", "nombre"], ["a@x.cl", "Ana, María"]]
    rows, dialect = csvio.read_rows(b"solo\nuno\n")
    assert dialect.delimiter == ","
