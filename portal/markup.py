"""Editors write Markdown (CommonMark, a line break kept as a break): rendered
by markdown-it-py, then sanitized by the one bleach wrapper (`sanitize`).

- `render`: Markdown to the HTML readers get; refuses, naming it, whatever the
  sanitizer would remove, rather than dropping it.
- `from_html`: the HTML the portal stored before (and what importers and the
  applicants' plain text give) as Markdown that renders to the same text.

Readers' pages are made from the stored HTML; the Markdown beside it is what
editors see and change.
"""

from __future__ import annotations

import functools
import re
from html.parser import HTMLParser

from markdown_it import MarkdownIt

from . import sanitize

# The source an editor may write; the rendered HTML then meets sanitize's caps.
MARKDOWN_MAX = 10_000
# What the sanitizer accepts from it: each character of Markdown can become a
# few of HTML ("- x" is "<li>x</li>"); the tag cap still holds.
RENDERED_MAX = 4 * MARKDOWN_MAX

_markdown = MarkdownIt("commonmark", {"html": True, "breaks": True})
# markdown-it leaves a javascript:, vbscript:, file: or data: link as its text,
# so it would go out as "[x](javascript:…)": made a link, the sanitizer's check
# refuses it by name like any other address it would drop.
_markdown.validateLink = lambda url: True


class Refused(ValueError):
    """The text asks for what readers would not get; says what."""

    def __init__(self, removed: list[str]):
        self.removed = removed
        super().__init__(
            f"{_and(removed)} would be removed, so nothing is saved yet: "
            "write it without, in paragraphs, bold, italics, links, lists and quotes."
        )


def render(source: str | None) -> str:
    """The HTML readers get for this Markdown; raises `Refused` and
    `sanitize.TooLong` rather than dropping anything."""
    source = (source or "").replace("\r\n", "\n").replace("\r", "\n")
    if len(source) > MARKDOWN_MAX:
        raise sanitize.TooLong(
            f"Keep it under {MARKDOWN_MAX:,} characters (this is {len(source):,})."
        )
    if not source.strip():
        return ""
    return _rendered(source)


# Each autosave checks every field of the draft and a published interview's
# pending version renders every answer: the same texts, again and again.
@functools.lru_cache(maxsize=256)
def _rendered(source: str) -> str:
    html = _markdown.render(source)
    removed = sanitize.removed(html)
    if removed:
        raise Refused(removed)
    # Tags add to the length: the source's cap is what an editor meets.
    return sanitize.clean_html(html, limit=RENDERED_MAX)


def _and(words: list[str]) -> str:
    text = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    return text[:1].upper() + text[1:]


# HTML back to Markdown. Only what `sanitize.clean_html` keeps is expected;
# any other tag's text is kept as text.

_BLOCKS = frozenset({"p", "ul", "ol", "li", "blockquote"})
_STRONG, _EM = frozenset({"strong", "b"}), frozenset({"em", "i"})


class _Node:
    __slots__ = ("attrs", "children", "tag")

    def __init__(self, tag: str, attrs: dict[str, str] | None = None):
        self.tag, self.attrs, self.children = tag, attrs or {}, []


class _Tree(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = _Node("root")
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = _Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag != "br":
            self.stack.append(node)

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def from_html(html: str | None) -> str:
    """Markdown for HTML of the allowed formatting, with the text escaped so
    that it renders as the same words (`render(from_html(h))` reads as `h`)."""
    parser = _Tree()
    parser.feed(html or "")
    parser.close()
    return "\n\n".join(_blocks(parser.root.children)).strip()


def _blocks(children) -> list[str]:
    """Block-level Markdown for these nodes; loose inline content is one paragraph."""
    out, inline = [], []

    def flush():
        text = _lines(inline)
        if text:
            out.append(text)
        inline.clear()

    for child in children:
        if isinstance(child, _Node) and child.tag in _BLOCKS:
            flush()
            block = _block(child)
            if block:
                out.append(block)
        else:
            inline.append(child)
    flush()
    return out


def _block(node: _Node) -> str:
    if node.tag == "p" or node.tag == "li":
        return "\n\n".join(_blocks(node.children))
    if node.tag == "blockquote":
        inner = "\n\n".join(_blocks(node.children))
        return "\n".join(f"> {line}" if line else ">" for line in inner.split("\n"))
    items = [c for c in node.children if isinstance(c, _Node) and c.tag == "li"]
    start = int(node.attrs["start"]) if node.attrs.get("start", "").isdigit() else 1
    lines = []
    for n, item in enumerate(items):
        marker = f"{start + n}. " if node.tag == "ol" else "- "
        body = _block(item) or ""
        pad = " " * len(marker)
        first, *rest = body.split("\n") if body else [""]
        lines.append(marker + first + "".join(f"\n{pad}{r}" if r else "\n" for r in rest))
    return "\n".join(lines)


def _lines(nodes) -> str:
    """Inline Markdown, a <br> a line break, each line safe at a line's start."""
    text = "".join(_inline(n) for n in nodes)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return "\n".join(_line_start(line) for line in lines if line).strip()


def _inline(node) -> str:
    if isinstance(node, str):
        return _escape(re.sub(r"\s+", " ", node))
    if node.tag == "br":
        return "\n"
    inner = "".join(_inline(c) for c in node.children)
    if node.tag in _STRONG or node.tag in _EM:
        mark = "**" if node.tag in _STRONG else "*"
        core = inner.strip()
        if not core:
            return inner
        lead, trail = inner[: len(inner) - len(inner.lstrip())], inner[len(inner.rstrip()) :]
        return f"{lead}{mark}{core}{mark}{trail}"
    if node.tag == "a" and node.attrs.get("href"):
        href = node.attrs["href"]
        plain = "".join(_text(c) for c in node.children)
        if plain == href and sanitize.looks_like_web_address(href):
            return plain  # linked again as it is rendered
        target = f"<{href}>" if re.search(r"[\s()<>]", href) else href
        title = node.attrs.get("title")
        title = ' "{}"'.format(title.replace('"', '\\"')) if title else ""
        return f"[{inner}]({target}{title})"
    return inner


def _text(node) -> str:
    if isinstance(node, str):
        return node
    return "".join(_text(c) for c in node.children)


_ESCAPE = re.compile(
    r"[\\`\[\]]"  # always meaningful
    r"|(?<=\S)\*|\*(?=\S)"  # an asterisk, unless spaces stand on both sides ("5 * 3")
    r"|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])"  # an underscore at a word's edge
    r"|<(?=[A-Za-z/!?])"  # a tag or an autolink
    r"|&(?=#?[A-Za-z0-9]+;)"  # an entity
)


def _escape(text: str) -> str:
    return _ESCAPE.sub(lambda m: "\\" + m.group(0), text)


_LINE_START = re.compile(
    r"^(?:"
    r"(?P<mark>[#>+=~-]|\*(?=\s|$))"  # a heading, quote, list, underline, fence
    r"|(?P<digits>\d{1,9})(?P<dot>[.)])(?=\s|$)"  # an ordered list
    r")"
)


def _line_start(line: str) -> str:
    match = _LINE_START.match(line)
    if match is None:
        return line
    if match.group("mark"):
        return "\\" + line
    return match.group("digits") + "\\" + line[match.end("digits") :]
