"""Backups that restore: the database, photos and share cards included (they
are rows of `stored_files`), in one archive.

The database is copied consistently while the site runs: SQLite through its
online backup API (a plain `cp` misses what is still in the write-ahead log),
PostgreSQL with `pg_dump`. Restoring puts it back; the emails that were still
waiting in the copy are held ("dead", with a note) for an editor to send again
from the outbox, never resent blindly: some of them went out after the backup.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import inspect, text, update

from .clock import utcnow
from .extensions import db
from .models import OutboxEmail
from .notifications.delivery import last_seen

MANIFEST = "manifest.json"


class BackupError(RuntimeError):
    """A backup or restore that can't be done, with the reason for the operator."""


def _sqlite_path() -> str:
    return db.engine.url.database


def _pg_url() -> str:
    # libpq's form of the URL: no "+psycopg" driver suffix.
    return db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _run(command: list[str], stdin: str | None = None) -> str:
    try:
        done = subprocess.run(  # noqa: S603
            command, input=stdin, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed on this machine.") from None
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


def _schema_revision() -> str:
    try:
        return db.session.scalar(text("SELECT version_num FROM alembic_version")) or ""
    except Exception:  # a schema made without the migrations (tests): no revision
        db.session.rollback()
        return ""


def backup(target: str | os.PathLike) -> dict:
    """Write a .tar.gz of the database and the photo folder to `target`.
    Returns the manifest."""
    dialect = db.engine.dialect.name
    with tempfile.TemporaryDirectory() as work:
        if dialect == "sqlite":
            dump = Path(work) / "database.sqlite3"
            source = sqlite3.connect(_sqlite_path())
            copy = sqlite3.connect(dump)
            with copy:
                source.backup(copy)  # a consistent copy, the WAL included
            copy.close()
            source.close()
        elif dialect == "postgresql":
            dump = Path(work) / "database.pgdump"
            _run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", _pg_url()])
        else:
            raise BackupError(f"Backups of {dialect} databases are not supported.")
        manifest = {
            "made_at": utcnow().isoformat(timespec="seconds"),
            "database": dialect,
            "schema_revision": _schema_revision(),
            "site": current_app.config["PUBLIC_URL"],
        }
        partial = Path(f"{target}.partial")
        with tarfile.open(partial, "w:gz") as archive:
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
            archive.add(dump, arcname=dump.name)
        os.replace(partial, target)
    return manifest


# A mail worker seen this recently may still be running against this database.
WORKER_RECENT = timedelta(minutes=2)


def _site_running() -> str | None:
    """Why restoring now would be unsafe, or None."""
    try:
        worker = last_seen()
    except Exception:  # no such table yet (an empty database): nothing runs on it
        db.session.rollback()
        return None
    if worker is not None and worker.last_seen > utcnow() - WORKER_RECENT:
        seconds = int((utcnow() - worker.last_seen).total_seconds())
        return (
            f"The mail worker {worker.name} was seen {seconds} s ago: stop the web "
            "service and the mail workers first (or pass --force)."
        )
    return None


def restore(source: str | os.PathLike, force: bool = False) -> dict:
    """Put the database of a backup back; hold the emails that were waiting in
    it. Returns the manifest."""
    running = None if force else _site_running()
    if running:
        raise BackupError(running)
    with tempfile.TemporaryDirectory() as work, tarfile.open(source, "r:gz") as archive:
        archive.extractall(work, filter="data")
        manifest = json.loads((Path(work) / MANIFEST).read_text())
        dialect = db.engine.dialect.name
        if manifest["database"] != dialect:
            raise BackupError(
                f"This backup is of a {manifest['database']} database; this site uses {dialect}."
            )
        db.session.remove()
        db.engine.dispose()
        if dialect == "sqlite":
            target = _sqlite_path()
            partial = f"{target}.restoring"
            shutil.copyfile(Path(work) / "database.sqlite3", partial)
            for leftover in (f"{target}-wal", f"{target}-shm"):
                if os.path.exists(leftover):
                    os.remove(leftover)
            os.replace(partial, target)
        else:
            _restore_postgresql(Path(work) / "database.pgdump")
        _photos_of_an_older_backup(Path(work) / "photos")
        held = hold_waiting_emails(datetime.fromisoformat(manifest["made_at"]))
    manifest["held_emails"] = held
    return manifest


def _restore_postgresql(dump: Path) -> None:
    """The dump's database in place of this one, all or nothing (an error leaves
    the database as it was), in one psql transaction: first the tables a newer
    schema added (a backup from before an upgrade has none of them, and their
    foreign keys would stop its tables being dropped), then the dump's script."""
    listed = _run(["pg_restore", "--list", str(dump)])
    in_dump = set(re.findall(r"^\d+; \d+ \d+ TABLE public (\S+) ", listed, re.MULTILINE))
    with db.engine.connect() as conn:
        here = set(inspect(conn).get_table_names(schema="public"))
    db.engine.dispose()
    drops = "".join(f'DROP TABLE IF EXISTS public."{t}" CASCADE;\n' for t in sorted(here - in_dump))
    script = _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--file=-", str(dump)])
    _run(
        ["psql", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1"]
        + ["--no-psqlrc", f"--dbname={_pg_url()}", "--file=-"],
        stdin=drops + script,
    )


def _photos_of_an_older_backup(folder: Path) -> None:
    """A backup made before 1.4 kept its photos as files beside the database:
    into the photo folder, where `db upgrade` (0017) reads them in."""
    if not folder.is_dir():
        return
    legacy = Path(os.environ.get("PHOTO_DIR") or os.path.join(current_app.instance_path, "photos"))
    legacy.mkdir(parents=True, exist_ok=True)
    for photo in folder.iterdir():
        if not (legacy / photo.name).exists():
            shutil.copy2(photo, legacy / photo.name)


def hold_waiting_emails(made_at: datetime) -> int:
    """The restored copy's unsent emails wait for an editor: some may have gone
    out between the backup and the loss."""
    note = (
        f"Held after restoring a backup made {made_at:%Y-%m-%d %H:%M} UTC: it may have "
        "been sent already. Send it again from the outbox if it is still wanted."
    )
    result = db.session.execute(
        update(OutboxEmail)
        .where(
            OutboxEmail.status.in_(("pending", "sending", "failed")),
            # One waiting for a time still to come ("you're live" at a scheduled
            # publication) can't have gone out: it stays in line.
            OutboxEmail.deliver_after <= utcnow(),
        )
        .values(status="dead", last_error=note, claimed_at=None, claimed_by=None)
    )
    db.session.commit()
    return result.rowcount
