"""The lesson kind plug-ins: registered by the factory, asked by content and progress, and an
unregistered kind is an error rather than a silent reading."""

from __future__ import annotations

import pytest

from academy.cases import definition
from academy.courses import kinds


def test_the_factory_registers_reading_quiz_and_case_in_the_editors_order(app):
    assert [kind.name for kind in kinds.registered()] == ["reading", "quiz", "case"]
    assert set(kinds.by_word()) == {"lectura", "cuestionario", "caso"}


def test_a_kind_nobody_registered_is_an_error():
    with pytest.raises(kinds.UnknownKind, match="video"):
        kinds.get("video")


@pytest.mark.parametrize(
    ("name", "ref", "extra"),
    [
        ("reading", None, {}),
        ("quiz", "mecanismos", {}),
        ("case", None, definition.parse_case(definition.STARTER)[0].to_data()),
    ],
)
def test_what_a_kind_writes_back_it_reads_the_same(name, ref, extra):
    kind = kinds.get(name)
    written = kind.write(ref, extra)
    assert kind.read(written.get(kind.key) if kind.key else None) == (ref, extra, [])
    assert kind.check(extra) == []


def test_a_kind_with_a_key_says_when_its_lesson_lacks_it():
    for kind in kinds.registered():
        if kind.key:
            _ref, _extra, problems = kind.read(None)
            assert problems and f"«{kind.key}»" in problems[0]
