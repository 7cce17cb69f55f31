"""Quizzes: question types and their grading, the Markdown quiz format, and Moodle GIFT.

The pure-Python core, with no Flask and no database:

- :mod:`academy.quizzes.questions`: one class per question type (``SingleChoice``,
  ``MultipleChoice``, ``TrueFalse``, ``ShortAnswer``, ``Numeric``, ``Matching``, ``Ordering``),
  each with one grading function, the shape of a learner's response, its validation from form
  values, a full-marks response and the order in which to show options.
- :mod:`academy.quizzes.format`: the quiz file trainers write in ``quizzes/<name>.md`` (front
  matter with the settings, then one ``## `` section per question), parsed with every problem
  reported as ``file:line: message`` and written back canonically; its code is in
  ``schema``, ``model``, ``builder``, ``reader`` and ``writer`` (see that module).
- :mod:`academy.quizzes.gift`: import and export of Moodle's GIFT question banks.

Attempts, storage and pages are built on top of these, elsewhere. The format is described for
trainers, in Spanish, in ``docs/autoria.md`` ("Cuestionarios").
"""
