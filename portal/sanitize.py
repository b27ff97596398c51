"""The one wrapper around bleach. Nothing else in the portal imports bleach, so
the library can be swapped here alone.

- `plain_to_html`: applicants' plain text, escaped, paragraphs kept, web
  addresses made into links.
- `clean_html`: the small set of formatting editors may use, sanitized when saved.
"""

from __future__ import annotations

import html as html_entities
import re

import bleach
from bleach.linkifier import Linker
from markupsafe import Markup, escape

EDITOR_TAGS = frozenset({"p", "br", "strong", "b", "em", "i", "a", "ul", "ol", "li", "blockquote"})
EDITOR_ATTRIBUTES = {"a": ["href", "title", "rel"]}
PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"
# Applied before bleach sees the text: bleach (html5lib) is slow on long and on
# deeply nested markup. benchmarks/sanitize_worst_case.py measures the worst case
# within these limits.
EDITOR_HTML_MAX = 10_000
EDITOR_NESTING_MAX = 8
EDITOR_TAG_COUNT_MAX = 400

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_TAG = re.compile(r"<\s*(/?)\s*([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)\s*>")
_VOID = frozenset(
    {"br", "hr", "img", "input", "meta", "link", "wbr", "col", "area", "base", "source"}
)
# Where a block starts or ends, or a line breaks: the text on either side are
# separate words ("<h3>" is not allowed, so a heading before a paragraph is
# left as text directly before "<p>").
_BLOCK_EDGE = re.compile(r"</?(?:p|li|blockquote|ul|ol)\b[^>]*>|<br\s*/?>", re.IGNORECASE)
_MADE_TAG = re.compile(r"""<[a-zA-Z/](?:[^>"']|"[^"]*"|'[^']*')*>""")


def _set_rel(attrs, new=False):
    href = attrs.get((None, "href"), "")
    if not href.lower().startswith(("http://", "https://", "mailto:")):
        return None  # drop the link, keep its text
    attrs[(None, "rel")] = LINK_REL
    return attrs


_linker = Linker(callbacks=[_set_rel], skip_tags={"pre", "code"})
# Clean, then turn addresses into links: two parses, as bleach's maintainers
# advise (mozilla/bleach#130). Its linkify filter inside the cleaner decodes a
# level of entities on every pass, so an applicant's "&amp;" became "&" at the
# draft's next save, "&lt;b&gt;" then "<b>" (tests/test_hostile.py).
_cleaner = bleach.Cleaner(
    tags=EDITOR_TAGS,
    attributes=EDITOR_ATTRIBUTES,
    protocols=PROTOCOLS,
    strip=True,
    strip_comments=True,
)


def plain_to_html(text: str | None) -> Markup:
    """Escape plain text, keep its paragraphs and line breaks, link its URLs."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return Markup("")
    paragraphs = []
    for chunk in _PARAGRAPH_BREAK.split(text):
        escaped = str(escape(chunk.strip())).replace("\n", "<br>\n")
        paragraphs.append(f"<p>{escaped}</p>")
    # Every piece was escaped above; linkify only adds <a> tags.
    return Markup(_linker.linkify("\n".join(paragraphs)))  # noqa: S704


class TooLong(ValueError):
    """Refused before sanitizing: too long or too deeply nested."""


def tag_stats(html: str) -> tuple[int, int]:
    """How many tags, and the deepest nesting (unclosed tags count as open)."""
    depth = deepest = 0
    tags = _TAG.findall(html)
    for closing, name, self_closing in tags:
        if name.lower() in _VOID or self_closing:
            continue
        depth = max(0, depth - 1) if closing else depth + 1
        deepest = max(deepest, depth)
    return len(tags), deepest


def clean_html(html: str | None) -> str:
    """Sanitize editor-written HTML to the allowed formatting; refuse what is too big first."""
    html = html or ""
    if len(html) > EDITOR_HTML_MAX:
        raise TooLong(f"Keep it under {EDITOR_HTML_MAX:,} characters (this is {len(html):,}).")
    count, depth = tag_stats(html)
    if count > EDITOR_TAG_COUNT_MAX:
        raise TooLong(
            f"This has {count:,} tags; keep the formatting under {EDITOR_TAG_COUNT_MAX} tags."
        )
    if depth > EDITOR_NESTING_MAX:
        raise TooLong(
            f"The formatting is nested more than {EDITOR_NESTING_MAX} levels deep; "
            "simplify it (or close the tags that are left open)."
        )
    cleaned = _linker.linkify(_cleaner.clean(html))
    # Formatting around no words ("<p> </p>") is nothing: an empty note lets the
    # card and the description fall back on the first answer.
    return cleaned if strip_tags(cleaned) else ""


def strip_tags(html: str | None) -> str:
    """Text of HTML this module made (`clean_html`, `plain_to_html`), for
    excerpts and plain-text emails.

    Without a parse: every card of a listing rendered from the database asks
    for it. What this module writes is serialized by html5lib: no comments,
    every attribute value in quotes (where a ">" may stand), and a "<" of the
    text escaped, so a tag is "<", a letter or "/", then up to the first ">"
    outside quotes (tests/test_hostile.py compares it with bleach's reading)."""
    html = _BLOCK_EDGE.sub("\n\n", html or "")
    text = html_entities.unescape(_MADE_TAG.sub("", html))
    return re.sub(r"\n{3,}", "\n\n", text).strip()
