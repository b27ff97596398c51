"""The share image of an interview: 1200×630 PNG for social cards and the
"you're live" email, made with Pillow from the photo, the name, the business and
the pull quote. Made once, and again only when one of those changes."""

from __future__ import annotations

import hashlib
import io
import logging
import textwrap

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
BACKGROUND = (11, 92, 75)
INK = (255, 255, 255)
SOFT = (214, 236, 229)


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
        "v1",
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def render(interview: Interview) -> bytes:
    submission = interview.submission
    card = Image.new("RGB", SIZE, BACKGROUND)
    draw = ImageDraw.Draw(card)
    left = 80
    photo_path = photos.path_of(interview.photo) if interview.photo else None
    if photo_path:
        with Image.open(photo_path) as source:
            face = ImageOps.fit(source.convert("RGB"), (300, 300))
        mask = Image.new("L", (300, 300), 0)
        ImageDraw.Draw(mask).ellipse((0, 0, 300, 300), fill=255)
        card.paste(face, (80, 165), mask)
        left = 440
    width_chars = 30 if photo_path else 44
    quote = textwrap.wrap(f"“{pull_quote(interview)}”", width=width_chars)[:5]
    y = 90
    for line in quote:
        draw.text((left, y), line, font=_font(40), fill=INK)
        y += 52
    y += 30
    draw.text((left, y), submission.name, font=_font(36), fill=INK)
    draw.text((left, y + 48), submission.business, font=_font(30), fill=SOFT)
    draw.text((left, SIZE[1] - 70), current_app.config["SITE_NAME"], font=_font(26), fill=SOFT)
    out = io.BytesIO()
    card.save(out, "PNG", optimize=True)
    return out.getvalue()


def ensure(interview: Interview) -> bool:
    """Make the share image if it is missing or out of date; say whether it was made."""
    key = inputs_key(interview)
    current = interview.share_image
    if current and interview.share_image_key == key and photos.path_of(current):
        return False
    photos.discard(current)  # the card it replaces goes once this commits
    interview.share_image = photos.write_new(render(interview), "png")
    interview.share_image_key = key
    return True


def try_ensure(interview: Interview) -> bool:
    """`ensure`, best effort: a photo folder that is full or read-only costs the
    share card (made later by `fill_missing`), never the publication or the save."""
    try:
        return ensure(interview)
    except OSError as error:
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
