"""A parsed quiz: its settings and questions, what the reader gives and the writer takes."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

from academy.quizzes.questions import EMPTY, Question, RichText

# --- the parsed quiz --------------------------------------------------------------------------


@dataclass(frozen=True)
class QuizSettings:
    """The front matter, in English and with defaults filled in."""

    title: str
    passing: Fraction  # percentage of the points needed to pass, 0-100
    attempts: int | None = None  # None: unlimited
    time_limit: int | None = None  # minutes; None: no limit
    shuffle_questions: bool = False
    shuffle_options: bool = False
    draw: Mapping[str, int] = field(default_factory=dict)  # pool -> questions drawn from it
    counts: Literal["best", "last"] = "best"  # which attempt counts
    review: Literal["score", "responses", "full"] = "full"  # what is shown after submitting
    # pool -> the Moodle category path it came from ("Participación/Marcos"), for GIFT export
    categories: Mapping[str, str] = field(default_factory=dict)

    def passed(self, score: Fraction, total: Fraction) -> bool:
        """Whether ``score`` out of ``total`` points reaches the passing percentage."""
        return total > 0 and score * 100 >= self.passing * total


@dataclass(frozen=True)
class Quiz:
    """A parsed quiz file. ``file`` (for messages) is not part of equality."""

    slug: str
    settings: QuizSettings
    intro: RichText = EMPTY
    questions: tuple[Question, ...] = ()
    file: str = field(default="", compare=False)

    def question(self, key: str) -> Question | None:
        return next((q for q in self.questions if q.key == key), None)

    def pools(self) -> dict[str, tuple[Question, ...]]:
        """The questions of each pool, in file order."""
        pools: dict[str, list[Question]] = {}
        for question in self.questions:
            if question.pool is not None:
                pools.setdefault(question.pool, []).append(question)
        return {pool: tuple(members) for pool, members in pools.items()}

    def draw(self, rng: random.Random) -> tuple[Question, ...]:
        """The questions of a new attempt: fix them when it starts.

        Every question of a pool named in ``sorteo`` competes for that pool's places; all the
        others (no pool, or a pool not in ``sorteo``) are always included. File order is kept
        unless ``barajar_preguntas``.
        """
        chosen: set[str] = set()
        pools = self.pools()
        for pool, count in self.settings.draw.items():
            members = [q.key for q in pools.get(pool, ())]
            chosen.update(rng.sample(members, min(count, len(members))))
        drawn = [q for q in self.questions if q.pool not in self.settings.draw or q.key in chosen]
        if self.settings.shuffle_questions:
            rng.shuffle(drawn)
        return tuple(drawn)

    @property
    def question_count(self) -> int:
        """How many questions an attempt has: what :meth:`draw` gives, without drawing."""
        pools, draw = self.pools(), self.settings.draw
        fixed = sum(1 for q in self.questions if q.pool not in draw)
        return fixed + sum(min(count, len(pools.get(pool, ()))) for pool, count in draw.items())

    def arrange(self, question: Question, rng: random.Random) -> dict[str, list[str]]:
        """``question.arrangement()``, shuffled when the quiz says ``barajar_opciones``."""
        return question.arrangement(rng if self.settings.shuffle_options else None)
