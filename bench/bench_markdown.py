"""Time ``academy.markdown.render`` on a 3,000-word lesson.

Run: ``.venv/bin/python bench/bench_markdown.py``. The lesson is the test fixture (headings, a
table, the four callouts, a definition list, footnotes, links and an image) repeated until it
passes 3,000 words. Prints the best and the median of several runs, in milliseconds.
"""

from __future__ import annotations

import statistics
import timeit
from pathlib import Path

from academy import markdown

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "markdown" / "leccion.md"
WORDS = 3_000


def long_lesson() -> str:
    sample = FIXTURE.read_text(encoding="utf-8")
    parts: list[str] = []
    while sum(len(part.split()) for part in parts) < WORDS:
        n = len(parts)
        # Footnote labels must differ between copies; repeated headings get _1, _2... ids.
        parts.append(sample.replace("[^marco]", f"[^marco{n}]").replace("[^bcn]", f"[^bcn{n}]"))
    return "\n\n".join(parts)


def main() -> None:
    text = long_lesson()

    def run() -> markdown.Rendered:
        return markdown.render(
            text, link_resolver=lambda path: f"/l/{path}", image_resolver=lambda path: f"/m/{path}"
        )

    rendered = run()
    assert not rendered.problems, rendered.problems
    number = 20
    times = [t / number * 1000 for t in timeit.repeat(run, number=number, repeat=5)]
    print(
        f"render(): {len(text.split())} words, {len(text)} characters -> "
        f"{len(rendered.html)} characters of HTML"
    )
    print(f"best {min(times):.1f} ms, median {statistics.median(times):.1f} ms per call")


if __name__ == "__main__":
    main()
