"""The one wrapper around bleach. Nothing else in the portal imports bleach, so
the library can be swapped here alone.

- `plain_to_html`: applicants' plain text, escaped, paragraphs kept, web
  addresses made into links.
- `clean_html`: the small set of formatting editors may use, sanitized when saved.
"""

from __future__ import annotations

import re

import bleach
from bleach.linkifier import Linker
from markupsafe import Markup, escape

EDITOR_TAGS = frozenset({"p", "br", "strong", "b", "em", "i", "a", "ul", "ol", "li", "blockquote"})
EDITOR_ATTRIBUTES = {"a": ["href", "title", "rel"]}
PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"
# Applied before bleach sees the text: bleach is slow on deeply nested markup.
EDITOR_HTML_MAX = 50_000

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_BLOCK_END = re.compile(r"</(?:p|li|blockquote)\s*>|<br\s*/?>", re.IGNORECASE)


def _set_rel(attrs, new=False):
    href = attrs.get((None, "href"), "")
    if not href.lower().startswith(("http://", "https://", "mailto:")):
        return None  # drop the link, keep its text
    attrs[(None, "rel")] = LINK_REL
    return attrs


_linker = Linker(callbacks=[_set_rel], skip_tags={"pre", "code"})


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
    pass


def clean_html(html: str | None) -> str:
    """Sanitize editor-written HTML to the allowed formatting; raise TooLong first."""
    html = html or ""
    if len(html) > EDITOR_HTML_MAX:
        raise TooLong(f"Keep it under {EDITOR_HTML_MAX:,} characters.")
    cleaned = bleach.clean(
        html,
        tags=EDITOR_TAGS,
        attributes=EDITOR_ATTRIBUTES,
        protocols=PROTOCOLS,
        strip=True,
        strip_comments=True,
    )
    return _linker.linkify(cleaned)


def strip_tags(html: str | None) -> str:
    """Text of an HTML fragment, for excerpts and plain-text emails."""
    html = _BLOCK_END.sub("\n\n", html or "")
    text = bleach.clean(html, tags=set(), strip=True)
    # bleach leaves entities escaped; plain text wants them as characters.
    text = Markup(text).unescape()  # noqa: S704 (unescaping, not marking safe)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
