"""Time the import of a 200-question Moodle GIFT bank.

Run: ``.venv/bin/python bench/bench_gift.py``. The bank is the test fixture
(``tests/fixtures/gift/banco.gift``, 30 importable questions of every GIFT type plus three that
are reported and left out) repeated with varied titles until it holds 200 importable questions.
Prints the best and the median of several runs, in milliseconds, for :func:`parse_gift` (GIFT to
checked question objects, every text rendered by academy.markdown) and for
:func:`gift_to_quiz_markdown` (the same, then written as a quiz file).
"""

from __future__ import annotations

import re
import statistics
import timeit
from pathlib import Path

from academy.quizzes.gift import gift_to_quiz_markdown, parse_gift

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "gift" / "banco.gift"
QUESTIONS = 200


def large_bank() -> str:
    sample = FIXTURE.read_text(encoding="utf-8")
    per_copy = len(parse_gift(sample, "banco.gift")[0])
    parts: list[str] = []
    for copy in range(-(-QUESTIONS // per_copy)):
        # Distinct titles (hence keys) and texts, as in a real bank.
        varied = re.sub(r"^::([^:]+)::", rf"::\1 ({copy + 1})::", sample, flags=re.M)
        parts.append(re.sub(r"\[id:([^\]]+)\]", rf"[id:\1-{copy + 1}]", varied))
    text = "\n\n".join(parts)
    blocks = text.split("\n\n")
    # Trim whole questions from the end until exactly QUESTIONS import.
    while len(parse_gift("\n\n".join(blocks), "banco.gift")[0]) > QUESTIONS:
        blocks.pop()
    return "\n\n".join(blocks)


def main() -> None:
    text = large_bank()
    questions, problems = parse_gift(text, "banco.gift")
    assert len(questions) == QUESTIONS, len(questions)
    number, repeat = 3, 7
    for name, run in (
        ("parse_gift", lambda: parse_gift(text, "banco.gift")),
        ("gift_to_quiz_markdown", lambda: gift_to_quiz_markdown(text, "Banco", "banco.gift")),
    ):
        times = [t / number * 1000 for t in timeit.repeat(run, number=number, repeat=repeat)]
        print(
            f"{name}: {QUESTIONS} questions ({len(text) // 1000} kB, {len(problems)} reported "
            f"and left out): best {min(times):.0f} ms, median {statistics.median(times):.0f} ms"
        )


if __name__ == "__main__":
    main()
