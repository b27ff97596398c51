"""The share image of an interview: 1200×630 PNG for social cards and the
"you're live" email, made with Pillow from the photo, the name, the business and
the pull quote. Made once, and again only when one of those changes."""

from __future__ import annotations

import hashlib
import io
import logging
import os
from functools import lru_cache

from flask import current_app
from PIL import Image, ImageDraw, ImageFont, ImageOps
from sqlalchemy import select

from . import photos
from .extensions import db
from .models import Interview, Submission
from .sanitize import strip_tags
from .workflow import State

log = logging.getLogger(__name__)

SIZE = (1200, 630)
MARGIN = 80
BACKGROUND = (11, 92, 75)
INK = (255, 255, 255)
SOFT = (214, 236, 229)

# A font with accented letters (Pillow's own draws boxes for "é", "Å", "ł"):
# SHARE_FONT, else DejaVu Sans where Debian, Fedora or Arch put it.
FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
)


def pull_quote(interview: Interview) -> str:
    """The editor's pull quote, or the start of the first answer."""
    if interview.pull_quote:
        return interview.pull_quote
    first = interview.items[0].answer_html if interview.items else ""
    text = " ".join(strip_tags(first).split())
    return text[:160].rsplit(" ", 1)[0] + "…" if len(text) > 160 else text


def inputs_key(interview: Interview) -> str:
    submission = interview.submission
    parts = (
        submission.name,
        submission.business,
        pull_quote(interview),
        interview.photo or "",
        "v2",  # drawn with a font that has accented letters, names wrapped
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def font_file() -> str | None:
    """The font the cards are drawn with; None when there is none but Pillow's."""
    configured = current_app.config.get("SHARE_FONT")
    for path in ([configured] if configured else []) + list(FONT_FILES):
        if _loads(path):
            return path
    return None


@lru_cache(maxsize=8)
def _loads(path: str) -> bool:
    try:
        ImageFont.truetype(path, 12)
    except OSError:  # missing, or not a font
        return False
    return True


@lru_cache(maxsize=32)
def _font_at(path: str | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if path is None:
        log.warning("No font with accented letters for share cards: apt install fonts-dejavu-core")
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(path, size)


def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = font_file()
    if bold and path and os.path.isfile(path.replace(".ttf", "-Bold.ttf")):
        path = path.replace(".ttf", "-Bold.ttf")
    return _font_at(path, size)


def _wrap(text: str, font, width: int) -> list[str]:
    """`text` in lines no wider than `width` pixels; a word wider than a line is
    broken where it must be."""
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if font.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = word
        while font.getlength(line) > width:
            cut = len(line) - 1
            while cut > 1 and font.getlength(line[:cut]) > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    if line:
        lines.append(line)
    return lines


def _fitted(
    text: str, sizes: range, width: int, most: int, bold: bool = False
) -> tuple[object, list[str], int]:
    """The largest of `sizes` that fits `text` in `most` lines of `width`; at
    the smallest, the last line ends in "…"."""
    for size in sizes:
        font = _font(size, bold)
        lines = _wrap(text, font, width)
        if len(lines) <= most:
            return font, lines, size
    kept = lines[:most]
    last = kept[-1]
    while last and font.getlength(last + "…") > width:
        last = last[:-1]
    kept[-1] = last.rstrip(" ,;:-") + "…"
    return font, kept, size


def render(interview: Interview) -> bytes:
    submission = interview.submission
    card = Image.new("RGB", SIZE, BACKGROUND)
    draw = ImageDraw.Draw(card)
    left = MARGIN
    photo = photos.load(interview.photo)
    if photo is not None:
        with Image.open(io.BytesIO(photo.data)) as source:
            face = ImageOps.fit(source.convert("RGB"), (300, 300))
        mask = Image.new("L", (300, 300), 0)
        ImageDraw.Draw(mask).ellipse((0, 0, 300, 300), fill=255)
        card.paste(face, (MARGIN, 165), mask)
        left = MARGIN + 300 + 60
    width = SIZE[0] - MARGIN - left
    name_font, name_lines, name_size = _fitted(
        submission.name, range(36, 25, -2), width, 2, bold=True
    )
    business_font, business_lines, business_size = _fitted(
        submission.business, range(30, 21, -2), width, 2
    )
    # The quote takes the room the name and the business leave.
    below = len(name_lines) * (name_size + 12) + len(business_lines) * (business_size + 10)
    room = SIZE[1] - 80 - 90 - 30 - below
    quote_font, quote_lines, quote_size = _fitted(
        f"“{pull_quote(interview)}”", range(40, 27, -2), width, max(1, room // 52)
    )
    block = len(quote_lines) * (quote_size + 12) + 30 + below
    y = max(60, (SIZE[1] - 90 - block) // 2 + 10)  # the block in the middle, above the site's name
    for line in quote_lines:
        draw.text((left, y), line, font=quote_font, fill=INK)
        y += quote_size + 12
    y += 30
    for line in name_lines:
        draw.text((left, y), line, font=name_font, fill=INK)
        y += name_size + 12
    for line in business_lines:
        draw.text((left, y), line, font=business_font, fill=SOFT)
        y += business_size + 10
    draw.text((left, SIZE[1] - 70), current_app.config["SITE_NAME"], font=_font(26), fill=SOFT)
    out = io.BytesIO()
    card.save(out, "PNG", optimize=True)
    return out.getvalue()


def ensure(interview: Interview) -> bool:
    """Make the share image if it is missing or out of date; say whether it was made."""
    key = inputs_key(interview)
    current = interview.share_image
    if current and interview.share_image_key == key and photos.exists(current):
        return False
    photos.discard(current)  # the card it replaces goes once this commits
    interview.share_image = photos.write_new(render(interview), "png")
    interview.share_image_key = key
    return True


def try_ensure(interview: Interview) -> bool:
    """`ensure`, best effort: a card that can't be drawn (a font or an image it
    can't read) costs the share card (tried again by `fill_missing`), never the
    publication or the save."""
    try:
        return ensure(interview)
    except (OSError, ValueError) as error:
        log.warning("Share image of interview %s not made: %s", interview.id, error)
        return False


def fill_missing(limit: int = 5) -> int:
    """Make the share cards that could not be made when their interviews were
    published (the mail worker calls this between its rounds)."""
    missing = db.session.scalars(
        select(Interview)
        .join(Interview.submission)
        .where(Interview.share_image.is_(None), Submission.state == State.PUBLISHED.value)
        .limit(limit)
    ).all()
    made = 0
    for interview in missing:
        if try_ensure(interview):
            made += 1
    db.session.commit()
    return made
