"""The quiz format on disk: ``quizzes/<nombre>.md``, parsed and written back.

::

    ---
    titulo: Mecanismos de participación
    aprobacion: 60
    intentos: 3
    ---

    Introducción opcional, en Markdown.

    ## ¿Qué órgano municipal es consultivo?
    tipo: unica
    puntos: 2

    Texto de la pregunta, en Markdown (opcional si el título basta).

    - [x] El consejo comunal de organizaciones de la sociedad civil
      > Correcto: es un órgano consultivo.
    - [ ] El concejo municipal

    Retroalimentación: texto general que se muestra después de responder.

Each question is a section that starts with a ``## `` line (its title), followed at once by
``clave: valor`` lines (YAML, checked against a schema like the front matter), then the
question text, then the answers (the last list of the section), then an optional paragraph
starting ``Retroalimentación:`` that runs to the end of the section. ``docs/autoria.md``
("Cuestionarios") describes it for trainers; every problem is reported as
:class:`~academy.frontmatter.Problem` with the file line.

The format's code is in one module per topic, each importing only those before it:

- :mod:`academy.quizzes.schema`: its Spanish words, limits, key schemas and line patterns;
- :mod:`academy.quizzes.model`: the parsed quiz (:class:`Quiz`, :class:`QuizSettings`);
- :mod:`academy.quizzes.builder`: the specs a parser fills and the checks that build questions
  from them (the GIFT importer builds the same specs, so both sources get the same checks);
- :mod:`academy.quizzes.reader`: :func:`parse_quiz`, :func:`load_quiz`;
- :mod:`academy.quizzes.writer`: :func:`dump_quiz`, the canonical form, and
  :func:`content_hash`.

This module names the format's public parts in one place, for callers that use several.
"""

from __future__ import annotations

from academy.quizzes.builder import (
    AnswerSpec,
    QuestionSpec,
    build_question,
    build_questions,
    derive_key,
)
from academy.quizzes.model import Quiz, QuizSettings
from academy.quizzes.reader import load_quiz, parse_quiz
from academy.quizzes.schema import COUNTS, QUIZ_SCHEMA, REVIEWS, SHORT_OPTIONS, check_points
from academy.quizzes.writer import content_hash, dump_question, dump_quiz

__all__ = [
    "COUNTS",
    "QUIZ_SCHEMA",
    "REVIEWS",
    "SHORT_OPTIONS",
    "AnswerSpec",
    "QuestionSpec",
    "Quiz",
    "QuizSettings",
    "build_question",
    "build_questions",
    "check_points",
    "content_hash",
    "derive_key",
    "dump_question",
    "dump_quiz",
    "load_quiz",
    "parse_quiz",
]
