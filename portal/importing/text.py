"""Plain-text interviews, as they read on the old blog: the title on the first
line, then paragraphs separated by blank lines (see `reading` for the rules)."""

from __future__ import annotations

import hashlib
import os
import re

from ..interviews import shorten, slugify
from ..models import TITLE_MAX
from . import Found, ImportRefused
from .reading import Block, read

# A blog post is a few thousand words; a file far past that is not one.
MAX_BYTES = 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def decode(data: bytes, path: str) -> str:
    """The file's text: UTF-8, else Windows-1252 (what old blogs were pasted
    from); anything with control characters is not text."""
    name = os.path.basename(path)
    if b"\x00" in data:
        raise ImportRefused(f"{name} is not a text file (it has binary data in it).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    if _CONTROL.search(text) or "\ufffd" in text:
        raise ImportRefused(f"{name} is not a text file (it has bytes no text has).")
    return text


# A line that starts a paragraph of its own even without a blank line before
# it: a question marked "Q:", a "Follow <name> on <network>" line.
_OWN_LINE = re.compile(r"^\s*(?:(?:Q|Question)\s*\d*\s*[:.)]|Follow\s+\S+.*\s+on\s+\S)", re.I)


def paragraphs(text: str) -> list[str]:
    """Paragraphs split at blank lines (or at every line, when a file has no
    blank line at all), each on one line with its spaces collapsed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if re.search(r"\n[ \t\u00a0]*\n", text):
        chunks = re.split(r"\n[ \t\u00a0]*\n", text)
    else:
        chunks = text.split("\n")
    out = []
    for chunk in chunks:
        lines: list[str] = []
        for line in chunk.split("\n"):
            if lines and _OWN_LINE.match(line):
                out.append(" ".join(" ".join(lines).split()))
                lines = []
            lines.append(line)
        if " ".join(lines).strip():
            out.append(" ".join(" ".join(lines).split()))
    return out


def fingerprint(text: str) -> str:
    """The same text gives the same key, whatever its line ends and spacing."""
    return "text:" + hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:56]


def read_file(
    path: str,
    *,
    footers: tuple[str, ...] = (),
    name: str = "",
    business: str = "",
    profiles: dict[str, str] | None = None,
) -> Found:
    """One interview from a text file; ImportRefused if it can't be one."""
    label = os.path.basename(path)
    try:
        size = os.path.getsize(path)
        if size > MAX_BYTES:
            raise ImportRefused(
                f"{label} is {size / 1024 / 1024:.1f} MB: too large to be one interview "
                f"(the limit is {MAX_BYTES // 1024 // 1024} MB)."
            )
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise ImportRefused(f"{label} could not be read: {error.strerror or error}.") from None
    text = decode(data, path)
    first, _, body = text.replace("\r\n", "\n").replace("\r", "\n").strip().partition("\n")
    title = " ".join(first.split())
    if not title:
        raise ImportRefused(f"{label} is empty.")
    found = Found(
        source="text",
        origin=label,
        key=fingerprint(text),
        title=shorten(title, TITLE_MAX),
        slug=slugify(title),
    )
    if len(title) > TITLE_MAX:
        found.doubts.append(f"the title was cut to {TITLE_MAX} characters")
    blocks = [Block(line) for line in paragraphs(body)]
    return read(blocks, found, footers=footers, name=name, business=business, profiles=profiles)
