"""Photos (a headshot or a logo): checked, re-encoded without metadata, stored
under a random name outside the code and static folders, served by name."""

from __future__ import annotations

import io
import logging
import os
import re
import secrets
import time
import warnings
from contextlib import suppress

from flask import current_app, has_app_context
from itsdangerous import BadData, URLSafeTimedSerializer
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from .extensions import db

log = logging.getLogger(__name__)

# session.info keys: files written in, and files to delete after, the transaction.
_WRITTEN = "photos_written"
_DISCARDED = "photos_discarded"

MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 1600  # stored photos are at most this wide and tall
# A photo from any phone is under 50 megapixels; more is a decompression bomb.
MAX_PIXELS = 50_000_000
ACCEPTED = {"JPEG", "PNG", "WEBP"}
NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png)$")


class PhotoError(ValueError):
    """A file we won't keep, with a message for the person who sent it."""


class StoreUnavailable(PhotoError):
    """The photo is fine but can't be stored now (the folder is full or read-only)."""

    def __init__(self):
        super().__init__(
            "We could not store your photo just now (our fault, not yours). Everything "
            "else you typed is here: send the form again, or without the photo."
        )


def photo_dir() -> str:
    path = current_app.config.get("PHOTO_DIR") or os.path.join(current_app.instance_path, "photos")
    os.makedirs(path, exist_ok=True)
    return path


def _stored(data: bytes, extension: str) -> str:
    try:
        return write_new(data, extension)
    except OSError as error:
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
    """Write a file under a new random name, tied to the session's transaction:
    if it rolls back (or the request ends without a commit), the file goes too."""
    name = f"{secrets.token_hex(16)}.{extension}"
    path = os.path.join(photo_dir(), name)
    # Written whole under a temporary name, then renamed: a full disk or a
    # crash leaves no half-written photo under a real name.
    partial = f"{path}.partial"
    try:
        with open(partial, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except OSError:
        with suppress(OSError):
            os.remove(partial)
        raise
    db.session.info.setdefault(_WRITTEN, []).append(name)
    return name


# A photo kept while its form goes back to be corrected, for this long.
KEPT_SECONDS = 24 * 3600


def _kept_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="kept-photo")


def keep(data: bytes) -> str:
    """Store an upload whose form goes back to be corrected (another field has
    an error), beyond this request. Returns a signed reference for the form;
    `claim` takes the photo from it, and `sweep` deletes one never claimed."""
    name = store(data)
    db.session.info[_WRITTEN].remove(name)  # not this transaction's: it outlives it
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
    return name if isinstance(name, str) and path_of(name) else None


def claim(reference: str | None) -> str | None:
    """Attach a kept photo: a copy of it under a new name, tied to this
    transaction like an upload; the kept file goes once this commits, so a
    reference attaches a photo once."""
    name = kept(reference)
    if name is None:
        return None
    with open(path_of(name), "rb") as handle:
        copy = _stored(handle.read(), name.rsplit(".", 1)[1])
    discard(name)
    return copy


def sweep(older_than: float = KEPT_SECONDS) -> int:
    """Delete stored files that no row points at and that are older than
    `older_than` seconds: kept photos never sent, and what a crash left."""
    from .models import Interview, InterviewVersion, Submission

    used = set()
    for column in (Submission.photo, Interview.photo, Interview.share_image):
        used.update(db.session.scalars(select(column).where(column.is_not(None))))
    for content in db.session.scalars(select(InterviewVersion.content)):
        used.add((content or {}).get("photo"))
    cutoff = time.time() - older_than
    removed = 0
    for entry in os.scandir(photo_dir()):
        stray = entry.name.endswith(".partial") or (
            NAME.match(entry.name) and entry.name not in used
        )
        if stray and entry.stat().st_mtime < cutoff:
            with suppress(FileNotFoundError):
                os.remove(entry.path)
                removed += 1
    return removed


def discard(*names: str | None) -> None:
    """Delete these files once the session's transaction commits (never before:
    a rollback keeps the rows that point at them, so it keeps the files)."""
    db.session.info.setdefault(_DISCARDED, []).extend(n for n in names if n)


def _delete(names) -> None:
    for name in names:
        path = path_of(name)
        if path:
            with suppress(FileNotFoundError):
                os.remove(path)


def _after_commit(session: Session) -> None:
    session.info.pop(_WRITTEN, None)  # kept: a committed row points at them
    _delete(session.info.pop(_DISCARDED, []))


def _after_rollback(session: Session) -> None:
    session.info.pop(_DISCARDED, None)
    _delete(session.info.pop(_WRITTEN, []))


def forget_uncommitted(_exception=None) -> None:
    """At the end of a request or command: files written for a transaction that
    never committed are orphans; delete them."""
    if has_app_context():
        _delete(db.session.info.pop(_WRITTEN, []))
        db.session.info.pop(_DISCARDED, None)


def init_app(app) -> None:
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", lambda session, _t: _after_rollback(session))
    app.teardown_appcontext(forget_uncommitted)


def path_of(name: str) -> str | None:
    """The file of a stored photo, or None for any name we did not make."""
    if not name or not NAME.match(name):
        return None
    path = os.path.join(photo_dir(), name)
    return path if os.path.isfile(path) else None
