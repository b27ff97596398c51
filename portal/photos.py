"""Photos (a headshot or a logo): checked, re-encoded without metadata, stored
under a random name outside the code and static folders, served by name."""

from __future__ import annotations

import io
import os
import re
import secrets
import warnings

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 1600  # stored photos are at most this wide and tall
# A photo from any phone is under 50 megapixels; more is a decompression bomb.
MAX_PIXELS = 50_000_000
ACCEPTED = {"JPEG", "PNG", "WEBP"}
NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png)$")


class PhotoError(ValueError):
    """A file we won't keep, with a message for the person who sent it."""


def photo_dir() -> str:
    path = current_app.config.get("PHOTO_DIR") or os.path.join(current_app.instance_path, "photos")
    os.makedirs(path, exist_ok=True)
    return path


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


def store(data: bytes) -> str:
    """Check, re-encode and store an uploaded image; return its new name."""
    if not data:
        raise PhotoError("That file is empty.")
    if len(data) > MAX_BYTES:
        raise PhotoError("Keep the photo under 5 MB.")
    image = _open(data)
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
    name = f"{secrets.token_hex(16)}.{extension}"
    with open(os.path.join(photo_dir(), name), "wb") as handle:
        handle.write(out.getvalue())
    return name


def path_of(name: str) -> str | None:
    """The file of a stored photo, or None for any name we did not make."""
    if not name or not NAME.match(name):
        return None
    path = os.path.join(photo_dir(), name)
    return path if os.path.isfile(path) else None
