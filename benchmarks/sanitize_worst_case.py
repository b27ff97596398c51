"""How long the one sanitizer takes on the worst inputs at its size cap.

    .venv/bin/python benchmarks/sanitize_worst_case.py

bleach (html5lib underneath) slows down on deeply nested markup; the cap is
applied before it sees the text. Each pattern is filled up to the cap and
sanitized several times; the slowest run is what counts. Target: under 50 ms.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal.sanitize import (  # noqa: E402
    EDITOR_HTML_MAX,
    EDITOR_NESTING_MAX,
    EDITOR_TAG_COUNT_MAX,
    TooLong,
    clean_html,
)

TARGET_MS = 50.0


def fill(opening: str, closing: str = "", middle: str = "x") -> str:
    """Repeat `opening`, `middle`, `closing` up to the cap."""
    unit = opening + middle + closing
    return (unit * (EDITOR_HTML_MAX // len(unit) + 1))[:EDITOR_HTML_MAX]


def up_to_tag_cap(unit: str, tags_per_unit: int) -> str:
    """As many copies of `unit` as the tag cap allows, padded with text to the size cap."""
    body = unit * (EDITOR_TAG_COUNT_MAX // tags_per_unit)
    return (body + " words" * EDITOR_HTML_MAX)[:EDITOR_HTML_MAX]


def too_deep(opening: str) -> str:
    """Nested far past the limit: refused before bleach sees it."""
    return (opening * (EDITOR_HTML_MAX // len(opening)))[:EDITOR_HTML_MAX]


PATTERNS = {
    "nested allowed tags": up_to_tag_cap(
        "<blockquote><ul><li><em>x</em></li></ul></blockquote>", 8
    ),
    "nested unknown tags": up_to_tag_cap("<div><span><font><q>x</q></font></span></div>", 8),
    "unclosed tags": up_to_tag_cap("<b><i>" * 4 + "x" + "</i></b>" * 4, 16),
    "too many tags": fill("<b>x</b>"),
    "unclosed, too deep": too_deep("<b><i><p>"),
    "nested, too deep": too_deep("<blockquote><em>"),
    "links at the tag cap": up_to_tag_cap('<a href="https://example.com/a">x</a>', 2),
    "many attributes": up_to_tag_cap(
        '<a href="https://e.com" title="t" onclick="x" style="s" class="c" id="i">l</a> ', 2
    ),
    "bare web addresses": fill("see https://example.com/path?q=1 and www.example.org "),
    "comments and cdata": fill("<!-- c --><![CDATA[x]]>"),
    "scripts and styles": up_to_tag_cap("<script>alert(1)</script><style>p{}</style>", 4),
    "entities": fill("&amp;&lt;&#x3c;&#60;&nbsp;"),
    "plain paragraphs": up_to_tag_cap("<p>Some ordinary prose of an interview answer.</p>", 2),
    "prose without tags": fill("Some ordinary prose of an interview answer, at length. "),
}


def main() -> None:
    worst = 0.0
    print(
        f"size cap: {EDITOR_HTML_MAX:,} characters, nesting cap {EDITOR_NESTING_MAX}; "
        f"target: slowest under {TARGET_MS:.0f} ms"
    )
    for name, html in PATTERNS.items():
        assert len(html) <= EDITOR_HTML_MAX
        runs = []
        refused = False
        for _ in range(5):
            started = time.perf_counter()
            try:
                clean_html(html)
            except TooLong:
                refused = True
            runs.append((time.perf_counter() - started) * 1000)
        worst = max(worst, max(runs))
        note = "  (refused)" if refused else ""
        print(
            f"{name:<22} {len(html):>7,} chars  median {sorted(runs)[2]:7.1f} ms  "
            f"slowest {max(runs):7.1f} ms{note}"
        )
    verdict = "meets" if worst < TARGET_MS else "MISSES"
    print(f"worst case: {worst:.1f} ms ({verdict} the {TARGET_MS:.0f} ms target)")


if __name__ == "__main__":
    main()
