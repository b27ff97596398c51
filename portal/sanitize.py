"""The one wrapper around bleach. Nothing else in the portal imports bleach, so
the library can be swapped here alone.

- `plain_to_html`: applicants' plain text, escaped, paragraphs kept, web
  addresses made into links.
- `clean_html`: the small set of formatting editors may use, sanitized when saved.
"""

from __future__ import annotations

import html as html_entities
import re
from html.parser import HTMLParser

import bleach
from bleach.linkifier import Linker
from markupsafe import Markup, escape

EDITOR_TAGS = frozenset({"p", "br", "strong", "b", "em", "i", "a", "ul", "ol", "li", "blockquote"})
EDITOR_ATTRIBUTES = {"a": ["href", "title", "rel"], "ol": ["start"]}
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


def clean_html(html: str | None, limit: int = EDITOR_HTML_MAX) -> str:
    """Sanitize editor-written HTML to the allowed formatting; refuse what is too
    big first (`limit` characters: more for HTML rendered from Markdown whose
    own length was capped, as its tags add to it)."""
    html = html or ""
    if len(html) > limit:
        raise TooLong(f"Keep it under {limit:,} characters (this is {len(html):,}).")
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
    cleaned = _cleaner.clean(html)
    # The linker parses the whole text again: only where there is a link (its
    # `rel` set, or dropped if not http, https or mailto) or an address to link.
    if "<a " in cleaned or _linker.url_re.search(_MADE_TAG.sub(" ", cleaned)):
        cleaned = _linker.linkify(cleaned)
    # Formatting around no words ("<p> </p>") is nothing: an empty note lets the
    # card and the description fall back on the first answer.
    return cleaned if strip_tags(cleaned) else ""


# What Markdown makes that the allowed formatting has no place for, by name.
_NAMED = {
    **{f"h{n}": "a heading" for n in range(1, 7)},
    "hr": "a horizontal line",
    "img": "an image",
    "code": "code formatting",
    "pre": "code formatting",
}


class _Removed(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def _add(self, what: str) -> None:
        if what not in self.found:
            self.found.append(what)

    def handle_starttag(self, tag, attrs):
        if tag not in EDITOR_TAGS:
            self._add(f"{_NAMED[tag]} (<{tag}>)" if tag in _NAMED else f"<{tag}>")
            return
        allowed = EDITOR_ATTRIBUTES.get(tag, [])
        for name, value in attrs:
            if name not in allowed:
                self._add(f"the {name} attribute of <{tag}>")
            elif name == "href" and not looks_linkable(value or ""):
                self._add(f"the link to “{value}” (links start with https://, http:// or mailto:)")

    handle_startendtag = handle_starttag

    def handle_comment(self, data):
        self._add("a comment (<!-- … -->)")

    def handle_decl(self, decl):
        self._add(f"<!{decl}>")

    def handle_pi(self, data):
        self._add(f"<?{data}>")

    unknown_decl = handle_decl


def removed(html: str | None) -> list[str]:
    """What `clean_html` would take out of `html`, each named for an editor:
    tags and attributes beyond the allowed formatting, links it would unlink,
    comments. Empty when it would keep all of it."""
    parser = _Removed()
    parser.feed(html or "")
    parser.close()
    return parser.found


def looks_linkable(href: str) -> bool:
    """A link the cleaner keeps (see `_set_rel`)."""
    return href.strip().lower().startswith(("http://", "https://", "mailto:"))


def looks_like_web_address(text: str) -> bool:
    """Text the linker turns into a link to itself, whole."""
    made = re.fullmatch(r'<a href="([^"]*)"[^>]*>(.*)</a>', _linker.linkify(str(escape(text))))
    return made is not None and html_entities.unescape(
        made.group(1)
    ) == text == html_entities.unescape(made.group(2))


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
