"""CSV in and out, the way the academy's admins' spreadsheets write and read it.

**Out** (every export: people, reports): UTF-8 with a byte-order mark, so that Excel shows
accents; every cell that a spreadsheet would run as a formula (it starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) gets a leading apostrophe, the OWASP advice against
CSV injection: a name typed as ``=HYPERLINK(...)`` stays text. Rows are written a few at a
time, for a streamed response that never holds the whole file.

**In** (imports): the bytes as Excel saves them: UTF-8 with or without a BOM, or, when the text
is not UTF-8, Windows-1252 (Excel's "CSV" on a Spanish Windows; Latin-1 for the few bytes
1252 leaves undefined); the delimiter ``,`` or ``;`` (Excel uses ``;`` where the decimal mark
is a comma, as in Chile), chosen by the header line. Rows are read one at a time.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Response, stream_with_context

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_CHARACTERS = frozenset(FORMULA_STARTS)
DELIMITERS = (",", ";")
# How much of the file is decoded at a time to tell UTF-8 from Windows-1252.
CHUNK = 64 * 1024


# Out --------------------------------------------------------------------------------------


def safe_cell(value: Any) -> str:
    """The cell as text a spreadsheet shows and never evaluates."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def unsafe_cell(text: str) -> str:
    """A cell read back as it was before :func:`safe_cell`: an exported file imports back
    unchanged (a name written "-Ana" stays "-Ana", not "'-Ana")."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def csv_chunks(
    header: Iterable[Any], rows: Iterable[Iterable[Any]], *, rows_per_chunk: int = 200
) -> Iterator[str]:
    """The CSV text, BOM first, a few rows at a time; every cell made safe."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(cell) for cell in header])
    for n, row in enumerate(rows, start=1):
        writer.writerow([safe_cell(cell) for cell in row])
        if n % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def column_chunks(
    header: Iterable[Any],
    parts: Iterable[Sequence[Iterable[Any]]],
    *,
    text_columns: Iterable[int],
) -> Iterator[str]:
    """The CSV text, BOM first, one chunk per part of the rows, each part given as its
    columns (for a long list read a few hundred rows at a time); the same text as
    :func:`csv_chunks` writes.

    ``text_columns``: the positions of the only columns that can hold text someone typed (str
    or None); the others are numbers, dates or names from a reference list, which never start
    with a formula character. Only those columns are checked, a column at a time, and a part
    is written by joining its cells (quoting, as the csv module does, only the columns that
    hold a comma, a quote or a line break): for a list of tens of thousands of people, a
    fraction of the time of the csv module's writer, cell by cell.
    """
    buffer = io.StringIO()
    buffer.write(BOM)
    csv.writer(buffer, lineterminator=LINE_END).writerow([safe_cell(cell) for cell in header])
    yield buffer.getvalue()
    text_columns = frozenset(text_columns)
    for part in parts:
        columns = [
            _column_text(column, typed=index in text_columns) for index, column in enumerate(part)
        ]
        if len(columns) < 2:  # a row of one empty cell is written "" by the csv module
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator=LINE_END).writerows(zip(*columns, strict=True))
            yield buffer.getvalue()
        else:
            yield "".join(line + LINE_END for line in map(",".join, zip(*columns, strict=True)))


LINE_END = "\r\n"
_QUOTED = (",", '"', "\r", "\n")


def _column_text(column: Iterable[Any], *, typed: bool) -> list[str]:
    """A column's cells as CSV text: typed text made safe, None as nothing, quoted when the
    cell holds a comma, a quote or a line break (the csv module's minimal quoting)."""
    if typed:
        cells = [
            "" if text is None else "'" + text if text and text[0] in FORMULA_CHARACTERS else text
            for text in column
        ]
    else:
        values = list(column)
        cells = (
            ["" if value is None else str(value) for value in values]
            if None in values
            else list(map(str, values))
        )
    joined = "\0".join(cells)
    if any(mark in joined for mark in _QUOTED):
        cells = [
            '"' + cell.replace('"', '""') + '"' if any(mark in cell for mark in _QUOTED) else cell
            for cell in cells
        ]
    return cells


def download(filename: str, chunks: Iterable[str]) -> Response:
    """A streamed download of CSV text; the request (its session, its locale) lasts until
    the last chunk."""
    encoded = (chunk.encode("utf-8") for chunk in chunks)
    response = Response(stream_with_context(encoded), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.cache_control.no_store = True
    return response


def csv_response(filename: str, header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> Response:
    """A streamed download of the rows, every cell made safe."""
    return download(filename, csv_chunks(header, rows))


# In ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dialect:
    encoding: str  # "utf-8-sig" or "cp1252" or "latin-1"
    delimiter: str


def detect_encoding(data: bytes) -> str:
    """``utf-8-sig`` when the bytes are UTF-8 (the BOM, if any, is dropped on reading), else
    ``cp1252``, else ``latin-1`` (which reads any byte)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(view), CHUNK):
            decoder.decode(view[start : start + CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        try:
            for start in range(0, len(view), CHUNK):
                codecs.decode(view[start : start + CHUNK], "cp1252")
        except UnicodeDecodeError:
            return "latin-1"
        return "cp1252"
    return "utf-8-sig"


def detect_delimiter(header_line: str) -> str:
    """The delimiter that splits the header line into more fields; ``,`` when neither does."""
    counts = {delimiter: header_line.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def open_text(data: bytes) -> tuple[io.TextIOWrapper, Dialect]:
    """The bytes as text to read line by line, and how they are written."""
    encoding = detect_encoding(data)
    text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    first = text.readline()
    text.seek(0)
    return text, Dialect(encoding, detect_delimiter(first))


def read_rows(data: bytes) -> tuple[Iterator[list[str]], Dialect]:
    """The rows of a CSV file (the header first), read one at a time, with its dialect."""
    text, dialect = open_text(data)
    return csv.reader(text, delimiter=dialect.delimiter, strict=False), dialect
