"""Readiness, and the operator's checkup: is this site able to do its work, and
if not, what is wrong?

`/healthz` only asks whether the process and its database answer (cheap, for a
liveness probe). `/readyz` asks what an operator gets wrong or what breaks
quietly: a schema behind the code, a database folder the service can't write, the
rate limiter's Redis away, a mail worker nobody has seen for a while. Each
problem is one short line naming the fix.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import timedelta
from functools import lru_cache

from alembic.script import ScriptDirectory
from flask import current_app
from limits.storage import storage_from_string
from sqlalchemy import func, select, text

from . import share_image
from .clock import utcnow
from .extensions import db
from .models import OutboxEmail
from .notifications.delivery import last_seen

# A worker polls every few seconds; longer than this without a heartbeat is gone.
WORKER_SILENT = timedelta(minutes=5)


@lru_cache(maxsize=4)
def _newest_migration(directory: str) -> str:
    return ScriptDirectory(directory).get_current_head() or ""


def problems() -> list[str]:
    """What stops this site from working now; empty when it is ready."""
    found = []
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not ready", and nothing more can be checked
        db.session.rollback()
        return ["database: not answering (check DATABASE_URL and the server)"]
    found += _schema()
    found += _storage()
    found += _rate_limits()
    found += _mail_worker()
    return found


def database_schema() -> str:
    """The newest migration the database has run ("" when none)."""
    try:
        return db.session.scalar(text("SELECT version_num FROM alembic_version")) or ""
    except Exception:  # no version table: the migrations never ran
        db.session.rollback()
        return ""


def newest_schema() -> str:
    """The newest migration this code has."""
    return _newest_migration(current_app.extensions["migrate"].directory)


def _schema() -> list[str]:
    current, newest = database_schema(), newest_schema()
    if current != newest:
        return [
            f"database schema: at {current or 'nothing'}, the code needs {newest} "
            "(run `portal db upgrade`, or `flask --app wsgi db upgrade` with the site's settings)"
        ]
    return []


def _database_folder() -> str | None:
    """Where a SQLite database keeps its file (and its write-ahead log); None
    for a database server, whose disk is its own."""
    if db.engine.dialect.name != "sqlite" or not db.engine.url.database:
        return None
    return os.path.dirname(os.path.abspath(db.engine.url.database))


def _storage() -> list[str]:
    """The SQLite database's folder takes files (its journal needs to)."""
    folder = _database_folder()
    if folder is None:
        return []
    try:
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as error:
        return [
            f"database folder: can't write to {folder} ({error.strerror}); "
            "give the service its folder"
        ]
    return []


def _rate_limits() -> list[str]:
    if current_app.config["RATELIMIT_STORAGE_URI"].startswith("memory"):
        return []
    config = current_app.config
    try:
        # Asked afresh: while it is away the limiter counts in memory, and its
        # own storage would answer for that.
        storage = storage_from_string(
            config["RATELIMIT_STORAGE_URI"], **config["RATELIMIT_STORAGE_OPTIONS"]
        )
        answering = storage.check()
    except Exception:  # the storage's own connection errors
        answering = False
    if answering:
        return []
    return ["rate limit storage (Redis): not answering; limits are counted per process meanwhile"]


def _mail_worker() -> list[str]:
    if not current_app.config["MAIL_SERVER"]:
        return []
    worker = last_seen()
    if worker is None:
        return ["mail worker: never seen (run `flask --app wsgi mail deliver --loop`)"]
    silent = utcnow() - worker.last_seen
    if silent > WORKER_SILENT:
        minutes = int(silent.total_seconds() // 60)
        return [f"mail worker: last seen {minutes} minutes ago; emails are waiting"]
    return []


# What `flask doctor` adds: what an operator gets wrong in the settings, and
# what has piled up while nobody looked.
DISK_FREE_MIN = 1024**3  # bytes: below this, a SQLite database soon fails
STUCK = timedelta(hours=1)


def checkup() -> list[str]:
    """Everything `problems` finds, and the settings and backlog an operator
    should know about; one line each, with the fix."""
    found = problems()
    config = current_app.config
    if config["ENV_NAME"] != "production":
        found.append("PORTAL_ENV: not production (set PORTAL_ENV=production on a live site)")
    if not config["PUBLIC_URL"].startswith("https://"):
        found.append(f"PUBLIC_URL: {config['PUBLIC_URL']} is not https (links in emails use it)")
    if not config["MAIL_SERVER"]:
        found.append("MAIL_SERVER: not set, so no email leaves the outbox")
    from .alarms import troubles  # it builds on this module

    # A worker gone is named above (problems); what else is wrong with email:
    found += [f"email: {line}" for kind, line in troubles() if kind != "worker"]
    if share_image.font_file() is None:
        found.append(
            "share cards: no font with accented letters "
            "(apt install fonts-dejavu-core, or set SHARE_FONT to a .ttf file)"
        )
    found += _backlog()
    found += _disk()
    found += _photos()
    return found


def _backlog() -> list[str]:
    try:
        dead = db.session.scalar(
            select(func.count())
            .select_from(OutboxEmail)
            .where(OutboxEmail.status == "dead", OutboxEmail.not_to_subscribers())
        )
        stuck = db.session.scalar(
            select(func.count())
            .select_from(OutboxEmail)
            .where(
                OutboxEmail.status.in_(("pending", "failed")),
                OutboxEmail.deliver_after < utcnow() - STUCK,
                OutboxEmail.not_to_subscribers(),
            )
        )
    except Exception:  # the schema check above has said why
        db.session.rollback()
        return []
    found = []
    if dead:
        found.append(f"outbox: {dead} dead emails (read why on /editor/outbox; retry them there)")
    if stuck:
        found.append(f"outbox: {stuck} emails due over an hour ago and not sent")
    return found


def _photos() -> list[str]:
    """Photos the pages show that are not stored (an upgrade that missed the
    old folder), and the old folder still there after the upgrade."""
    from .models import Interview, StoredFile, Submission
    from .photos import NAME

    found = []
    try:
        named = select(Submission.photo.label("name")).where(Submission.photo.is_not(None))
        named = named.union(select(Interview.photo).where(Interview.photo.is_not(None)))
        names = named.subquery()
        missing = db.session.scalar(
            select(func.count())
            .select_from(names)
            .where(~select(StoredFile.name).where(StoredFile.name == names.c.name).exists())
        )
    except Exception:  # the schema check has said why
        db.session.rollback()
        return []
    if missing:
        found.append(
            f"photos: {missing} that pages show are not stored (did `db upgrade` to 0017 "
            "run without PHOTO_DIR? downgrade to 0016 and upgrade again with it set)"
        )
    old = os.environ.get("PHOTO_DIR") or os.path.join(current_app.instance_path, "photos")
    if os.path.isdir(old) and any(NAME.match(n) for n in os.listdir(old)):
        found.append(
            f"photo folder {old}: photos are in the database since 1.3.0; delete the "
            "folder once the site is checked (it keeps copies of erased applicants' photos)"
        )
    return found


def _disk() -> list[str]:
    try:
        folder = _database_folder()
        if folder is None:
            return []
        free = shutil.disk_usage(folder).free
    except OSError:
        return []  # the storage check has said why
    if free < DISK_FREE_MIN:
        return [f"disk: {free // 1024**2} MB free where the database is"]
    return []
