"""Photos (a headshot or a logo) and share cards: checked, re-encoded without
metadata, stored as rows of `stored_files` under a random name, served by name.

A row is written and deleted in the transaction of the change that adds or
removes it, so a failed save leaves nothing behind, erasure removes the photo
with the rest, a backup of the database holds them all, and every host serves
every photo.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import secrets
import warnings
from datetime import timedelta

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import undefer

from .clock import utcnow
from .extensions import db
from .models import StoredFile

log = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 1600  # stored photos are at most this wide and tall
# A photo from any phone is under 50 megapixels; more is a decompression bomb.
MAX_PIXELS = 50_000_000
ACCEPTED = {"JPEG", "PNG", "WEBP"}
NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png)$")
TYPES = {"jpg": "image/jpeg", "png": "image/png"}


class PhotoError(ValueError):
    """A file we won't keep, with a message for the person who sent it."""


class StoreUnavailable(PhotoError):
    """The photo is fine but can't be stored now (the database refused it)."""

    def __init__(self):
        super().__init__(
            "We could not store your photo just now (our fault, not yours). Everything "
            "else you typed is here: send the form again, or without the photo."
        )


def _stored(data: bytes, extension: str) -> str:
    try:
        return write_new(data, extension)
    except SQLAlchemyError as error:
        log.error("Photo not stored: %s", error)
        raise StoreUnavailable() from None


def _open(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            probe = Image.open(io.BytesIO(data))
            if probe.format not in ACCEPTED:
                raise PhotoError("Send a JPEG, PNG or WebP image.")
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise PhotoError("That image is far too large; send one under 50 megapixels.")
            probe.verify()  # a truncated or corrupt file stops here
            image = Image.open(io.BytesIO(data))
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PhotoError("That image is far too large; send one under 50 megapixels.") from None
        except PhotoError:
            raise
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise PhotoError(
                "That file is not an image we can read: send a JPEG, PNG or WebP."
            ) from None
    return image


def check(data: bytes) -> Image.Image:
    """The image in an upload, or PhotoError saying why it can't be one."""
    if not data:
        raise PhotoError("That file is empty.")
    if len(data) > MAX_BYTES:
        raise PhotoError("Keep the photo under 5 MB.")
    return _open(data)


def store(data: bytes) -> str:
    """Check, re-encode and store an uploaded image; return its new name."""
    image = check(data)
    image = ImageOps.exif_transpose(image)  # turn it the right way up, then drop EXIF
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
    out = io.BytesIO()
    if has_alpha:
        image.convert("RGBA").save(out, "PNG", optimize=True)
        extension = "png"
    else:
        image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
        extension = "jpg"
    return _stored(out.getvalue(), extension)


def write_new(data: bytes, extension: str) -> str:
    """Add a file under a new random name, in the session's transaction: if it
    rolls back (or the request ends without a commit), the file was never kept."""
    name = f"{secrets.token_hex(16)}.{extension}"
    db.session.add(
        StoredFile(
            name=name,
            content_type=TYPES[extension],
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            data=data,
        )
    )
    return name


def load(name: str | None) -> StoredFile | None:
    """The stored file of that name, bytes and all, or None for any name we did not make."""
    if not name or not NAME.match(name):
        return None
    return db.session.get(StoredFile, name, options=[undefer(StoredFile.data)])


def exists(name: str | None) -> bool:
    if not name or not NAME.match(name):
        return False
    return db.session.scalar(select(StoredFile.name).where(StoredFile.name == name)) is not None


# A photo kept while its form goes back to be corrected, for this long.
KEPT_SECONDS = 24 * 3600


def _kept_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="kept-photo")


def keep(data: bytes) -> str:
    """Store an upload whose form goes back to be corrected (another field has
    an error), beyond this request: committed now, on its own. Returns a signed
    reference for the form; `claim` takes the photo from it, and `sweep`
    deletes one never claimed."""
    name = store(data)
    try:
        db.session.commit()
    except SQLAlchemyError as error:
        db.session.rollback()
        log.error("Kept photo not stored: %s", error)
        raise StoreUnavailable() from None
    return _kept_serializer().dumps(name)


def kept(reference: str | None) -> str | None:
    """The photo a reference from `keep` names, if the reference is genuine,
    recent, and the photo still waits to be claimed; else None."""
    if not reference or len(reference) > 200:
        return None
    try:
        name = _kept_serializer().loads(reference, max_age=KEPT_SECONDS)
    except BadData:
        return None
    return name if isinstance(name, str) and exists(name) else None


def claim(reference: str | None) -> str | None:
    """Attach a kept photo: a copy of it under a new name, in this transaction
    like an upload; the kept one goes when this commits, so a reference
    attaches a photo once."""
    name = kept(reference)
    if name is None:
        return None
    original = load(name)
    copy = _stored(original.data, name.rsplit(".", 1)[1])
    discard(name)
    return copy


def sweep(older_than: float = KEPT_SECONDS) -> int:
    """Delete stored files that no row points at and that are older than
    `older_than` seconds: kept photos never sent."""
    from .models import Interview, InterviewVersion, Submission

    used = set()
    for column in (Submission.photo, Interview.photo, Interview.share_image):
        used.update(db.session.scalars(select(column).where(column.is_not(None))))
    for content in db.session.scalars(select(InterviewVersion.content)):
        used.add((content or {}).get("photo"))
    cutoff = utcnow() - timedelta(seconds=older_than)
    stray = [
        name
        for name in db.session.scalars(
            select(StoredFile.name).where(StoredFile.created_at < cutoff)
        )
        if name not in used
    ]
    discard(*stray)
    db.session.commit()
    return len(stray)


def discard(*names: str | None) -> None:
    """Delete these files in the session's transaction: gone when it commits,
    kept (with the rows that point at them) if it rolls back."""
    wanted = [n for n in names if n]
    if wanted:
        db.session.execute(delete(StoredFile).where(StoredFile.name.in_(wanted)))
