"""Text as people type it and files bring it, made one shape before anything reads it: one
kind of line end (Windows' ``\\r\\n`` and old Macs' ``\\r`` become ``\\n``) and, for a file,
no byte-order mark."""

from __future__ import annotations

import unicodedata


def unix_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def file_text(text: str) -> str:
    """A whole file's text: without the BOM some editors write first, with ``\\n`` line ends."""
    return unix_newlines(text.removeprefix("\ufeff"))


def plain(text: str) -> str:
    """Lower case, no accents, single spaces: how headers, comunas and cohort names typed by
    people are compared ("Ñuñoa", "NUNOA" and "ñuñoa " are one comuna)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.replace("_", " ").split())
