"""How long an answer's Markdown takes to become the HTML readers get:
markdown-it-py renders it, then the one bleach wrapper checks what it would
remove and sanitizes it (`portal.markup.render`, as each save does).

    .venv/bin/python benchmarks/markdown_render.py [--cap 5000]

The largest answer allowed (10,000 characters of ordinary formatted prose) and
the inputs the sanitizer accepts that cost it most, each rendered 200 times:
median and slowest run. Goal: the slowest under 20 ms.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import markup  # noqa: E402
from portal.sanitize import EDITOR_NESTING_MAX, EDITOR_TAG_COUNT_MAX, TooLong  # noqa: E402

RUNS = 200
GOAL_MS = 20.0
# The editors' cap; `--cap 5000` measures as if it were lower (5,000 is what an
# applicant may write in one answer).
CAP = int(sys.argv[sys.argv.index("--cap") + 1]) if "--cap" in sys.argv else markup.MARKDOWN_MAX


def fill(unit: str) -> str:
    """As many copies of `unit` as the sanitizer accepts (the size, tag and
    nesting caps), then ordinary words up to the size cap."""
    low, high = 0, CAP // len(unit) + 1
    while low < high:  # the most copies that are still accepted
        n = (low + high + 1) // 2
        try:
            markup.render(unit * n)
        except (TooLong, markup.Refused):
            high = n - 1
        else:
            low = n
    body = (unit * low)[:CAP].rstrip()
    padded = (body + " words" * CAP)[:CAP].rstrip()
    try:
        markup.render(padded)
    except (TooLong, markup.Refused):
        return body  # the words would make a tag more: the copies alone
    return padded


PROSE = (
    "We opened the shop in **2019**, with one oven and a *very* patient landlord. "
    "Most customers found us on [Instagram](https://instagram.com/example), and the "
    "rest came because a neighbour can't stop talking about our buns & coffee.\n\n"
)
NESTED = "".join("> " * depth + "- *a* **b**\n" for depth in range(1, EDITOR_NESTING_MAX // 2))

PATTERNS = {
    "largest answer: prose": fill(PROSE),
    "prose, no formatting": fill("Some ordinary prose of an interview answer, at length. "),
    "one long paragraph": fill("word " * 50),
    "links at the tag cap": fill("[a link](https://example.com/some/path?q=1) "),
    "bare web addresses": fill("see https://example.com/path?q=1 and www.example.org "),
    "list items at the cap": fill("- an item of the list\n"),
    "nested quotes and lists": fill(NESTED + "\n"),
    "emphasis runs": fill("*a **b *c* d** e* "),
    "unmatched emphasis": fill("*a **b _c __d "),
    "backslash escapes": fill("\\* \\_ \\[ \\] \\< \\& \\# "),
    "entities": fill("&amp; &lt; &#x3c; &#60; &nbsp; "),
    "raw allowed tags": fill("<strong>bold</strong> and <em>it</em> "),
    "line breaks": fill("a line\n"),
}


def main() -> None:
    gc.collect()
    gc.freeze()  # as gunicorn's master does once the app is loaded (gunicorn.conf.py)
    print(
        f"{RUNS} runs each; Markdown up to {CAP:,} characters, {EDITOR_TAG_COUNT_MAX} tags, "
        f"nesting {EDITOR_NESTING_MAX}; goal: slowest under {GOAL_MS:.0f} ms"
    )
    worst = 0.0
    for name, source in PATTERNS.items():
        assert len(source) <= CAP, name
        runs, refused = [], ""
        for _ in range(RUNS):
            markup._rendered.cache_clear()  # each run renders, as a first save does
            started = time.perf_counter()
            try:
                markup.render(source)
            except (TooLong, markup.Refused) as error:
                refused = f"  (refused: {str(error)[:40]}…)"
            runs.append((time.perf_counter() - started) * 1000)
        if not refused:
            worst = max(worst, max(runs))
        print(
            f"{name:<26} {len(source):>6,} chars  median {statistics.median(runs):6.2f} ms  "
            f"slowest {max(runs):6.2f} ms{refused}"
        )
    verdict = "meets" if worst < GOAL_MS else "MISSES"
    print(f"slowest accepted: {worst:.2f} ms ({verdict} the {GOAL_MS:.0f} ms goal)")


if __name__ == "__main__":
    main()
