"""Lesson kinds as plug-ins: the one interface a kind of lesson (reading, quiz, case) provides,
and the registry content and progress ask.

Content knows that every lesson has a kind and nothing more: to read or write a lesson file's
front matter, to fill or read the editor, to check a lesson before it is published, to show
its part of the lesson page and to say how far a learner has come, it asks the registered
kind. The application factory registers the kinds explicitly (``academy.register_lesson_kinds``);
nothing registers itself as a side effect of an import, and asking for a kind nobody
registered is an error, never a silent "reading".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from flask_wtf import FlaskForm

from academy.frontmatter import Key


@dataclass(frozen=True)
class OutlineItem:
    """A published lesson as learners see it in the outline."""

    lesson_id: int
    slug: str
    kind: str
    required: bool
    title: str
    minutes: int
    unit_id: int
    unit_title: str


@dataclass(frozen=True, slots=True)
class CourseRef:
    """What the lesson page shows of its course."""

    id: int
    slug: str
    title: str


@dataclass(frozen=True, slots=True)
class LessonVisit:
    """What a lesson kind's panel is built from: the lesson page's course and lesson, and
    whether the signed-in user is enrolled (else a trainer's preview)."""

    course: CourseRef
    lesson: OutlineItem
    enrolled: bool


# A learner's state in a lesson as a kind reports it: one of academy.progress.services.State's
# values ("pending", "in_progress", "waiting", "returned", "failed", "done") and a short detail.
KindState = tuple[str, str | None]


class LessonKind(Protocol):
    """What a kind of lesson provides. Each method is small; the kind's own package holds the
    logic (``academy.reading``, ``academy.quizzes.kind``, ``academy.cases.kind``)."""

    # The value stored in ``Lesson.kind``; the word a lesson file's ``tipo:`` uses; the name
    # the editor shows.
    name: str
    word: str
    label: str
    # The front matter key that carries this kind's own data (``cuestionario``, ``caso``) and
    # how it is checked, or None when the kind has none.
    key: str | None
    key_schema: Key | None
    # When the kind needs the lesson's text: what a lesson file's check calls it ("texto", "el
    # escenario del caso") and the problem that stops publishing without it; None, None when
    # the text is optional.
    text_name: str | None
    no_text: str | None
    # The template that shows :meth:`panel`'s data on the lesson page, or None.
    panel_template: str | None

    # Content: the front matter ------------------------------------------------------------
    def read(self, value: Any) -> tuple[str | None, dict[str, Any], list[str]]:
        """The value of :attr:`key` in a lesson file (None when absent) as the lesson's
        reference, the revision's data and the problems found (in Spanish)."""
        ...

    def write(self, ref: str | None, extra: Mapping[str, Any] | None) -> dict[str, Any]:
        """The front matter keys that write a lesson's reference and data back (export):
        :meth:`read` of what this writes gives them back unchanged."""
        ...

    def check(self, extra: Mapping[str, Any] | None) -> list[str]:
        """What stops a revision's data from being published (nothing, usually)."""
        ...

    # Content: the editor ------------------------------------------------------------------
    def starter(self) -> dict[str, Any] | None:
        """The data a new lesson of this kind starts with in the editor."""
        ...

    def check_ref(self, ref: str | None) -> tuple[str | None, str | None]:
        """A new lesson's reference as the editor received it: (the reference to keep, the
        problem to show)."""
        ...

    def editor_form(self) -> type[FlaskForm] | None:
        """The editor's form for a lesson of this kind when the kind has fields of its own (a
        subclass of ``academy.courses.forms.LessonForm``); None for the plain form."""
        ...

    def editor_extra(self, form: FlaskForm) -> dict[str, Any] | None:
        """The revision's data from a valid editor form (None for no data)."""
        ...

    def editor_data(self, extra: Mapping[str, Any] | None) -> dict[str, Any]:
        """The form fields the kind's data fills when a lesson is edited."""
        ...

    def text(self, extra: Mapping[str, Any] | None) -> str:
        """The kind's data as text, for comparing two revisions line by line ('' for none)."""
        ...

    # Learning records and the lesson page ---------------------------------------------------
    def states(self, user_id: int, items: Sequence[OutlineItem]) -> dict[int, KindState]:
        """The learner's state in each of these lessons (all of this kind), by the kind's
        completion rule; a lesson left out counts by the learner's own "done" mark."""
        ...

    def panel(self, visit: LessonVisit) -> object | None:
        """The data the kind's part of the lesson page shows (:attr:`panel_template`),
        computed by the page's view: templates run no queries."""
        ...


_kinds: dict[str, LessonKind] = {}


class UnknownKind(LookupError):
    """A lesson's kind that no plug-in registered (the factory registers them)."""


def register(kind: LessonKind) -> None:
    """Make a kind known; registering the same kind again replaces it (a new app)."""
    _kinds[kind.name] = kind


def get(name: str) -> LessonKind:
    try:
        return _kinds[name]
    except KeyError:
        raise UnknownKind(
            f"lesson kind {name!r} is not registered (academy.register_lesson_kinds does it)"
        ) from None


def registered() -> list[LessonKind]:
    """Every registered kind, in the order registered (the editor's choice list)."""
    if not _kinds:
        raise UnknownKind("no lesson kind is registered (academy.register_lesson_kinds does it)")
    return list(_kinds.values())


def by_word() -> dict[str, LessonKind]:
    """The kinds by their front matter word (``tipo: caso``)."""
    return {kind.word: kind for kind in registered()}
