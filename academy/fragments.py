"""Pages rendered once with holes, kept, and filled in on each request.

Much of a page is the same for everyone who sees it with the same language and role: a
lesson's text, its course's outline, the site's header. A *frame* is such a page rendered
once by its usual template, with each value of one person (their progress, their CSRF token,
their flashed messages) rendered as a :func:`hole`: a marker that autoescaping leaves as it
is. The rendered HTML is split at the markers and kept; each request then joins the kept
pieces with its own values, which costs a string join instead of a template run.

What a frame is kept under (its key) must name everything it shows that is not a hole, and a
hole's value must be escaped HTML: :meth:`Frame.fill` puts it in as given.
"""

from __future__ import annotations

import re
import secrets
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

from flask import Flask, current_app
from markupsafe import Markup

# Plain letters, digits and dashes, which autoescaping leaves as they are, ending with a
# random word drawn when the process starts: no page's text can contain a hole, by chance or
# by design (a trainer writing one into a lesson), since the word never leaves the process
# (every hole is filled before a page is sent).
_WORD = secrets.token_hex(8)
_HOLE = "academyHole-{}-" + _WORD
_HOLES = re.compile(r"academyHole-([A-Za-z0-9]+)-" + _WORD)
_KEPT = "academy_frames"


def hole(name: str) -> Markup:
    """Where the value named ``name`` (letters and digits) goes in a frame being rendered."""
    return Markup(_HOLE.format(name))  # noqa: S704 (letters and digits only)


@dataclass(frozen=True, slots=True)
class Frame:
    """Rendered HTML split at its holes: ``pieces[0]``, ``holes[0]``'s value, ``pieces[1]``…"""

    pieces: tuple[str, ...]
    holes: tuple[str, ...]

    @classmethod
    def split(cls, html: str) -> Frame:
        parts = _HOLES.split(html)  # the text, then each hole's name and the text after it
        return cls(tuple(parts[0::2]), tuple(parts[1::2]))

    def fill(self, values: Mapping[str, str]) -> Markup:
        """The page with every hole's value put in (each value escaped HTML already)."""
        out = [self.pieces[0]]
        for name, piece in zip(self.holes, self.pieces[1:], strict=True):
            out.append(values[name])
            out.append(piece)
        return Markup("".join(out))  # noqa: S704 (rendered with autoescape; values escaped)

    @property
    def size(self) -> int:
        return sum(map(len, self.pieces))


def kept(key: Hashable, render: Callable[[], str]) -> Frame:
    """The frame kept under ``key``, or ``render()`` split into one and kept.

    Frames are kept per application, the least recently used dropped once their text passes
    a budget (a frame is a page: tens of kilobytes).
    """
    frames: _Frames = current_app.extensions[_KEPT]
    frame = frames.get(key)
    if frame is None:
        frame = Frame.split(render())
        frames.put(key, frame)
    return frame


class _Frames:
    """A least-recently-used map of frames with a budget in characters."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self.frames: OrderedDict[Hashable, Frame] = OrderedDict()

    def get(self, key: Hashable) -> Frame | None:
        frame = self.frames.get(key)
        if frame is not None:
            self.frames.move_to_end(key)
        return frame

    def put(self, key: Hashable, frame: Frame) -> None:
        old = self.frames.pop(key, None)
        if old is not None:
            self.used -= old.size
        self.frames[key] = frame
        self.used += frame.size
        while self.used > self.budget and self.frames:
            _, dropped = self.frames.popitem(last=False)
            self.used -= dropped.size


def init_app(app: Flask) -> None:
    # FRAME_BUDGET: characters of frames kept per application (academy/config.py).
    app.extensions[_KEPT] = _Frames(app.config["FRAME_BUDGET"])
