"""Comparing two revisions of a lesson: its fields and its text, line by line."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from academy.courses import kinds
from academy.courses.models import LessonRevision


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "context", "added" or "removed"
    old: int | None  # line number in the older text
    new: int | None  # line number in the newer text
    text: str


@dataclass(frozen=True)
class FieldChange:
    name: str  # "title", "minutes" or "objectives"
    old: Any
    new: Any


@dataclass(frozen=True)
class RevisionDiff:
    old: LessonRevision
    new: LessonRevision
    fields: list[FieldChange]
    hunks: list[list[DiffLine]]
    case_hunks: list[list[DiffLine]]  # a case's prompts and rubric, as the editor shows them

    @property
    def same(self) -> bool:
        return not self.fields and not self.hunks and not self.case_hunks


def diff_revisions(old: LessonRevision, new: LessonRevision, context: int = 3) -> RevisionDiff:
    """What changed from ``old`` to ``new``: the fields, and the Markdown (and a case's prompts
    and rubric) line by line."""
    kind = kinds.get(old.lesson.kind)
    fields = [
        FieldChange(name, getattr(old, name), getattr(new, name))
        for name in ("title", "minutes", "objectives")
        if getattr(old, name) != getattr(new, name)
    ]
    return RevisionDiff(
        old,
        new,
        fields,
        diff_lines(old.body_md, new.body_md, context),
        diff_lines(kind.text(old.extra), kind.text(new.extra), context),
    )


def diff_lines(old: str, new: str, context: int = 3) -> list[list[DiffLine]]:
    """Groups of changed lines with ``context`` unchanged lines around them."""
    if old == new:
        return []
    before, after = old.split("\n"), new.split("\n")
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    hunks = []
    for group in matcher.get_grouped_opcodes(context):
        lines = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [
                    DiffLine("context", i + 1, j + 1, before[i])
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                ]
                continue
            lines += [DiffLine("removed", i + 1, None, before[i]) for i in range(i1, i2)]
            lines += [DiffLine("added", None, j + 1, after[j]) for j in range(j1, j2)]
        hunks.append(lines)
    return hunks
