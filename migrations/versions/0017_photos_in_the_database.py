"""photos and share cards in the database

Revision ID: 0017
Revises: 0016

`stored_files`: each photo and share card as a row (its type, size, SHA-256
and bytes), so that every host serves every photo, a failed save leaves no
file behind and one backup holds everything. The files of the photo folder
(PHOTO_DIR, else the instance folder's `photos`) are read in; the folder is
left as it was, to delete by hand once the upgrade is checked. Downgrading
writes the rows back to that folder.
"""

import hashlib
import os
import re
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from flask import current_app

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png)$")
TYPES = {"jpg": "image/jpeg", "png": "image/png"}


def _folder() -> str:
    return os.environ.get("PHOTO_DIR") or os.path.join(current_app.instance_path, "photos")


def _referenced(conn) -> tuple[set[str], set[str]]:
    """The photos and the share cards the site's rows name."""
    photos = set(
        conn.execute(sa.text("SELECT photo FROM submissions WHERE photo IS NOT NULL")).scalars()
    )
    photos |= set(
        conn.execute(sa.text("SELECT photo FROM interviews WHERE photo IS NOT NULL")).scalars()
    )
    cards = set(
        conn.execute(
            sa.text("SELECT share_image FROM interviews WHERE share_image IS NOT NULL")
        ).scalars()
    )
    return photos, cards


def upgrade():
    conn = op.get_bind()
    folder = _folder()
    here = set(os.listdir(folder)) if os.path.isdir(folder) else set()
    photos, cards = _referenced(conn)
    if photos and not photos & here:
        # The wrong folder (PHOTO_DIR not set for this command?): reading none
        # in would lose every photo. Nothing is changed.
        raise RuntimeError(
            f"None of the {len(photos)} photos the site's pages show is in {folder}. "
            "Set PHOTO_DIR to the folder they are in (1.2.0's settings had "
            "PHOTO_DIR=/var/lib/portal/photos) and run `db upgrade` again; nothing was changed."
        )
    missing = photos - here
    if missing:
        print(
            f"0017: {len(missing)} of the {len(photos)} photos the pages show are not in "
            f"{folder} (lost before this upgrade); those pages show no photo."
        )
    table = op.create_table(
        "stored_files",
        sa.Column("name", sa.String(length=40), primary_key=True),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    if here:
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if not (entry.is_file() and NAME.match(entry.name)):
                continue  # a .partial a crash left, or anything not ours
            with open(entry.path, "rb") as handle:
                data = handle.read()
            conn.execute(
                table.insert().values(
                    name=entry.name,
                    content_type=TYPES[entry.name.rsplit(".", 1)[1]],
                    size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    data=data,
                    created_at=datetime.now(UTC).replace(tzinfo=None),
                )
            )

    # A card not found is drawn again by the mail worker (share_image.fill_missing).
    lost = cards - here
    if lost:
        conn.execute(
            sa.text(
                "UPDATE interviews SET share_image = NULL, share_image_key = NULL "
                "WHERE share_image IN :names"
            ).bindparams(sa.bindparam("names", expanding=True)),
            {"names": sorted(lost)},
        )


def downgrade():
    folder = _folder()
    os.makedirs(folder, exist_ok=True)
    conn = op.get_bind()
    for name, data in conn.execute(sa.text("SELECT name, data FROM stored_files")):
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            with open(path, "wb") as handle:
                handle.write(data)
    op.drop_table("stored_files")
