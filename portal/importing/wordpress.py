"""A WordPress export (WXR): the posts of the old blog, read one at a time.

The export is parsed as a stream with defusedxml (an export is untrusted
input: no DTD, no entities, so no "billion laughs"), and each post's HTML is
split into blocks for `reading`: paragraphs, headings, lists and quotes, with
a question found in a heading, in bold, or by its question mark.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html import escape, unescape
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from ..interviews import shorten, slugify
from ..models import TITLE_MAX, URL_MAX
from . import Found, ImportRefused
from .reading import Block, excerpt, read

MAX_MB = 32  # the default limit on an export's size (--max-mb raises it)
POST_MAX_CHARS = 200_000  # one post's HTML: a long interview is 30,000

_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "blockquote", "pre", "div"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BOLD = {"strong", "b"}
_VOID = {"br", "img", "hr", "input", "meta", "link", "source", "wbr"}
# Elements whose content is no text of the post: left out whole.
# (A caption describes a picture the post no longer shows.)
_UNSEEN = {
    "script",
    "style",
    "noscript",
    "iframe",
    "object",
    "template",
    "svg",
    "math",
    "figcaption",
}
_SHORTCODE = re.compile(
    r"\[(caption|gallery|embed|video|audio|playlist)\b[^\]]*\].*?\[/\1\]"
    r"|\[(?:caption|gallery|embed|video|audio|playlist)\b[^\]]*\]",
    re.IGNORECASE | re.DOTALL,
)
# Any other shortcode's tags ([tweet text="…"], [/column]): dropped, the words
# between them kept. "[sic]" or "[1]" are no shortcodes (no attribute, no "/").
_OTHER_SHORTCODE = re.compile(
    r"\[/[a-z][\w-]*\]|\[[a-z][\w-]*\s+(?:[^\]]*=[^\]]*|\"[^\"\]]*\")\]", re.I
)
_BLOCK_START = re.compile(r"^\s*<(?:p|h[1-6]|ul|ol|blockquote|pre|div|figure|table)\b", re.I)
_BLOCK_OPEN = re.compile(r"<(?P<tag>p|h[1-6]|ul|ol|blockquote|pre|div|figure|table)\b[^>]*>", re.I)


class _Splitter(HTMLParser):
    """The post's top-level blocks, each with its HTML, its text, how much of
    the text is bold, and the bold text it opens with (a question run into its
    answer: "<strong>How did you start?</strong> I was…")."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[dict] = []
        self.images: list[str] = []
        self._open: list[str] = []
        self._block: dict | None = None
        self._bold = 0
        self._unseen = 0

    def _start_block(self, tag: str) -> None:
        self._block = {"tag": tag, "html": [], "text": [], "bold": [], "lead": None}
        self._open = [tag]

    def _end_block(self) -> None:
        if self._block is not None:
            self.blocks.append(self._block)
        self._block, self._open, self._bold = None, [], 0

    def handle_starttag(self, tag, attrs):
        if tag in _UNSEEN:
            self._unseen += 1
            return
        if self._unseen:
            return
        if tag == "img":
            src = dict(attrs).get("src")
            if src:
                self.images.append(src)
            return
        if self._block is None:
            if tag in _BLOCKS:
                self._start_block(tag)
                return
            self._start_block("p")  # loose inline markup: a paragraph of its own
        elif tag in _BLOCKS and self._block["tag"] in ("p", "div") and tag not in ("ul", "ol"):
            # A block inside a paragraph (broken HTML): start a new block.
            self._end_block()
            self._start_block(tag)
            return
        if tag in _BOLD:
            self._bold += 1
        if tag not in _VOID:
            self._open.append(tag)
        self._block["html"].append(self.get_starttag_text() or f"<{tag}>")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._block is not None and not self._unseen:
            self.handle_data(" · ")  # cells kept apart once the table's tags are gone
        elif tag == "tr" and self._block is not None and not self._unseen:
            self._block["html"].append("<br>")
        if tag in _UNSEEN:
            self._unseen = max(0, self._unseen - 1)
            return
        if self._unseen or self._block is None or tag not in self._open:
            return  # a stray end tag: broken HTML, ignored
        while self._open:
            top = self._open.pop()
            if not self._open:
                self._end_block()
                return
            if top in _BOLD:
                self._bold = max(0, self._bold - 1)
                block = self._block
                if (
                    block["lead"] is None
                    and not "".join(
                        t for t, bold in zip(block["text"], block["bold"], strict=True) if not bold
                    ).strip()
                ):
                    block["lead"] = len(block["html"]) + 1
            self._block["html"].append(f"</{top}>")
            if top == tag:
                return

    def handle_data(self, data):
        if self._unseen:
            return
        if self._block is None:
            if not data.strip():
                return
            self._start_block("p")
        self._block["html"].append(escape(data, quote=False))
        self._block["text"].append(data)
        bold = self._bold > 0 or self._block["tag"] in _HEADINGS
        self._block["bold"].append(bold)

    def close(self):
        super().close()
        while self._block is not None and len(self._open) > 1:
            self.handle_endtag(self._open[-1])
        self._end_block()


def _autop(html: str) -> str:
    """What WordPress does when it shows a post: text between blank lines is
    a paragraph, a single line break a <br> (the export keeps the post as the
    editor typed it); lists, quotes and headings stay as they are."""
    html = html.replace("\r\n", "\n")
    out, at = [], 0
    for start, end in [*_block_elements(html), (len(html), len(html))]:
        for chunk in re.split(r"\n\s*\n", html[at:start]):
            out += ["<p>" + "<br>\n".join(lines) + "</p>" for lines in _line_groups(chunk)]
        if start < end:
            out.append(html[start:end])
        at = end
    return "\n".join(out)


# A line that starts a paragraph of its own, even after a single line break
# (the classic editor's "<strong>Question?</strong>⏎answer⏎<strong>Next?</strong>"):
# a bold opening, a "Q:", a "Follow <name> on <network>".
_OWN_LINE = re.compile(
    r"^\s*(?:<(?:strong|b)\b|(?:Q|Question)\s*\d*\s*[:.)]|Follow\s+\S+.*\s+on\s+\S)", re.I
)


def _line_groups(chunk: str) -> list[list[str]]:
    groups: list[list[str]] = []
    for line in chunk.strip().split("\n"):
        if not line.strip():
            continue
        if not groups or _OWN_LINE.match(line):
            groups.append([])
        groups[-1].append(line.strip())
    return groups


def _block_elements(html: str):
    """(start, end) of each top-level block element, its nested ones inside
    (a list in a list ends at its own </ul>, not the first one)."""
    at = 0
    while (opening := _BLOCK_OPEN.search(html, at)) is not None:
        tag = opening["tag"].lower()
        depth, end = 0, None
        for mark in re.finditer(rf"<(/?){tag}\b[^>]*>", html[opening.start() :], re.I):
            depth += -1 if mark.group(1) else 1
            if depth == 0:
                end = opening.start() + mark.end()
                break
        end = end or len(html)  # never closed (broken HTML): the rest is in it
        yield opening.start(), end
        at = end


def blocks_of(html: str) -> tuple[list[Block], list[str]]:
    """The post's blocks for `reading`, and the addresses of its images."""
    html = _SHORTCODE.sub(lambda m: _caption_images(m.group(0)), html)
    html = _OTHER_SHORTCODE.sub("", html)
    splitter = _Splitter()
    splitter.feed(_autop(html))
    splitter.close()
    blocks: list[Block] = []
    for raw in splitter.blocks:
        text = " ".join("".join(raw["text"]).split())
        if not text:
            continue
        tag = raw["tag"]
        inner = "".join(raw["html"])
        bold = "".join(t for t, b in zip(raw["text"], raw["bold"], strict=True) if b)
        emphasised = tag in _HEADINGS or " ".join(bold.split()) == text
        lead = raw["lead"]
        if not emphasised and lead is not None:
            head = "".join(raw["html"][:lead])
            lead_text = " ".join(_text_of(head).split())
            if lead_text.endswith("?") and len(lead_text) < len(text):
                blocks.append(Block(lead_text, "", True))
                rest = re.sub(r"^(?:\s|<br\s*/?>)+", "", "".join(raw["html"][lead:]))
                blocks.append(Block(" ".join(_text_of(rest).split()), _wrap(tag, rest)))
                continue
        wrapped = _wrap(tag, inner)
        blocks.append(Block(text, "" if emphasised else wrapped, emphasised))
    return blocks, splitter.images


def _wrap(tag: str, inner: str) -> str:
    if tag in ("ul", "ol", "blockquote"):
        return f"<{tag}>{inner}</{tag}>"
    return f"<p>{inner}</p>"


def _text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


def _caption_images(shortcode: str) -> str:
    """A [caption] keeps its image (it may be the person's photo), not its words."""
    return " ".join(re.findall(r"<img\b[^>]*>", shortcode, re.IGNORECASE))


# --- the export ------------------------------------------------------------


def _local(tag: str) -> tuple[str, str]:
    """(namespace kind, local name): WordPress's own namespace changed with
    its versions (export/1.0, 1.1, 1.2), so it is matched by its host."""
    if tag.startswith("{"):
        space, local = tag[1:].split("}", 1)
        if "wordpress.org/export" in space:
            return "wp", local
        if "purl.org/rss/1.0/modules/content" in space:
            return "content", local
        if "purl.org/dc/elements" in space:
            return "dc", local
        return space, local
    return "", tag


def _date(post: dict) -> datetime | None:
    for key in ("post_date_gmt", "post_date"):
        value = (post.get(key) or "").strip()
        if value and not value.startswith("0000"):
            try:
                return datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
            except ValueError:
                continue
    try:
        parsed = parsedate_to_datetime(post.get("pubDate") or "")
    except (TypeError, ValueError):
        return None
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def old_path(address: str) -> str | None:
    """The part of an old address the portal can answer: its path (and a
    `?p=123` or `?page_id=` query), without the trailing slash."""
    try:
        parts = urlsplit((address or "").strip())
    except ValueError:
        return None
    if not parts.path and not parts.query:
        return None
    path = unquote(parts.path).rstrip("/")
    query = "&".join(q for q in parts.query.split("&") if re.match(r"^(?:p|page_id)=\d+$", q))
    if query:
        return f"{path}?{query}"[:URL_MAX]
    return path[:URL_MAX] if path else None


def _posts(source, on_progress: Callable[[int], None] | None) -> Iterator[dict]:
    """Each <item> of the export as a dict, and the authors' display names,
    read as a stream: memory stays flat however long the export is."""
    authors: dict[str, str] = {}
    seen_root = False
    position = 0
    for event, element in iterparse(source, events=("start", "end"), forbid_dtd=True):
        if event == "start":
            if not seen_root:
                seen_root = True
                if _local(element.tag)[1] != "rss":
                    raise ImportRefused(
                        "This is not a WordPress export: an export (WXR) is an RSS file "
                        "that WordPress writes under Tools → Export."
                    )
            continue
        kind, local = _local(element.tag)
        if kind == "wp" and local == "author":
            fields = {_local(child.tag)[1]: (child.text or "").strip() for child in element}
            authors[fields.get("author_login", "")] = fields.get("author_display_name", "")
            element.clear()
        elif local == "item" and kind == "":
            yield _item(element, authors)
            element.clear()
            if on_progress is not None:
                now = source.tell()
                on_progress(now - position)
                position = now


def _item(element, authors: dict[str, str]) -> dict:
    post: dict = {"categories": [], "meta": {}}
    for child in element:
        kind, local = _local(child.tag)
        text = child.text or ""
        if local == "category" and kind == "":
            post["categories"].append(
                (child.get("domain", ""), child.get("nicename", ""), text.strip())
            )
        elif kind == "wp" and local == "postmeta":
            fields = {_local(c.tag)[1]: (c.text or "").strip() for c in child}
            post["meta"][fields.get("meta_key", "")] = fields.get("meta_value", "")
        elif kind == "content" and local == "encoded":
            post["content"] = text
        elif kind == "dc" and local == "creator":
            post["author"] = authors.get(text.strip(), text.strip())
        else:
            post[local] = text
    return post


def check_size(path: str, max_mb: int = MAX_MB) -> int:
    """The export's size in bytes; ImportRefused past `max_mb` or unreadable."""
    label = os.path.basename(path)
    try:
        size = os.path.getsize(path)
    except OSError as error:
        raise ImportRefused(f"{label} could not be read: {error.strerror or error}.") from None
    if size > max_mb * 1024 * 1024:
        raise ImportRefused(
            f"{label} is {size / 1024 / 1024:.0f} MB, over the {max_mb} MB limit: "
            f"check it is the export you meant, then pass --max-mb "
            f"{int(size / 1024 / 1024) + 1} to import it."
        )
    return size


def read_export(
    path: str,
    *,
    category: str = "",
    uploads: str | None = None,
    footers: tuple[str, ...] = (),
    max_mb: int = MAX_MB,
    on_progress: Callable[[int], None] | None = None,
) -> list[Found]:
    """Every post of the export (of `category`, if given), read; ImportRefused
    when the file can't be an export at all."""
    label = os.path.basename(path)
    check_size(path, max_mb)
    posts, attachments = [], {}
    try:
        with open(path, "rb") as source:
            head = source.read(512).lstrip()
            if not head.startswith((b"<", b"\xef\xbb\xbf<", b"\xff\xfe", b"\xfe\xff")):
                raise ImportRefused(f"{label} is not a WordPress export (it is not XML).")
            source.seek(0)
            for post in _posts(source, on_progress):
                kind = post.get("post_type", "post")
                if kind == "attachment":
                    attachments[post.get("post_id", "")] = post.get("attachment_url", "")
                elif kind == "post":
                    posts.append(post)
    except ParseError as error:
        line, column = getattr(error, "position", (0, 0))
        raise ImportRefused(
            f"{label} is not well-formed XML (line {line}, column {column}); "
            "nothing was imported. Export it again from WordPress."
        ) from None
    except DefusedXmlException:
        raise ImportRefused(
            f"{label} declares a DTD or entities, which a WordPress export never does: "
            "refused as unsafe, nothing was imported."
        ) from None
    except OSError as error:
        raise ImportRefused(f"{label} could not be read: {error.strerror or error}.") from None
    if not posts:
        raise ImportRefused(f"{label} has no posts in it: nothing to import.")
    return [_found(post, category, uploads, footers, attachments) for post in posts]


def _plain(text: str) -> str:
    """A title or a tag's name as WordPress stores it (HTML: "Fay&#8217;s"),
    as words."""
    return " ".join(unescape(re.sub(r"<[^>]*>", "", text)).split())


def _in_category(post: dict, category: str) -> bool:
    wanted = category.strip().lower()
    return any(
        wanted in (nicename.lower(), _plain(name).lower(), slugify(_plain(name)))
        for _domain, nicename, name in post["categories"]
    )


def _found(post, category, uploads, footers, attachments) -> Found:
    address = (post.get("link") or "").strip()
    guid = (post.get("guid") or "").strip() or address or post.get("post_id", "")
    title = _plain(post.get("title") or "") or "(no title)"
    found = Found(
        source="wordpress",
        origin=(address or guid)[:URL_MAX],
        # The post's own id, whatever its length: hashed to fit.
        key="wp:" + hashlib.sha256(guid.encode()).hexdigest()[:61],
        title=shorten(title, TITLE_MAX),
        slug=slugify(unquote(post.get("post_name") or "") or title),
        published_at=_date(post),
        author=post.get("author", ""),
        tags=[
            _plain(name)
            for domain, _nicename, name in post["categories"]
            if domain == "post_tag" and _plain(name)
        ],
    )
    found.old_paths = sorted({p for p in (old_path(address), old_path(guid)) if p})
    gmt = (post.get("post_date_gmt") or "").strip()
    if found.published_at is not None and (not gmt or gmt.startswith("0000")):
        found.doubts.append("the date is in the old blog's own time zone (no UTC time given)")
    if post.get("status", "publish") != "publish":
        found.skipped = f"not published on the old blog ({post.get('status')})"
        return found
    if category and not _in_category(post, category):
        found.skipped = f"not in “{category}”"
        return found
    content = post.get("content") or ""
    if len(content) > POST_MAX_CHARS:
        found.skipped = f"its text is over {POST_MAX_CHARS:,} characters: not an interview"
        return found
    blocks, images = blocks_of(content)
    read(blocks, found, footers=footers)
    featured = attachments.get(post["meta"].get("_thumbnail_id", ""), "")
    _photo(found, [u for u in (featured, *images) if u], uploads)
    return found


def _photo(found: Found, images: list[str], uploads: str | None) -> None:
    """The person's photo: the featured image, else the post's first image,
    found under --uploads by its path after /uploads/."""
    if not images:
        return
    if uploads is None:
        found.doubts.append(
            f"{len(images)} image(s) not brought in: pass --uploads DIR (the old "
            "blog's wp-content/uploads folder)"
        )
        return
    root = os.path.realpath(uploads)
    for address in images:
        path = urlsplit(address).path
        relative = path.split("/uploads/", 1)[1] if "/uploads/" in path else path.lstrip("/")
        candidate = os.path.realpath(os.path.join(root, unquote(relative)))
        if candidate.startswith(root + os.sep) and os.path.isfile(candidate):
            found.photo_paths.append(candidate)
    if not found.photo_paths:
        found.doubts.append(f"no image of the post was found under {uploads}: {excerpt(images[0])}")
