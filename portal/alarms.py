"""Telling the admins when something needs them: email that has been failing or
piling up, a mail worker that is gone, a scheduled job that failed.

Each trouble is one email to the admins (at most one a day while it lasts),
through the outbox like every email: if the SMTP server is the trouble, it
leaves when the server is back. The editors' desk shows the same lines as a
banner at once (`desk_warnings`).
"""

from __future__ import annotations

import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from .clock import utcnow
from .extensions import db
from .links import public_url
from .models import OutboxEmail, User
from .notifications.delivery import deliver_due, last_seen
from .notifications.outbox import queue
from .readiness import WORKER_SILENT


def _minutes() -> int:
    return current_app.config["MAIL_ALERT_MINUTES"]


def _worker_gone() -> bool:
    worker = last_seen()
    return worker is None or utcnow() - worker.last_seen > WORKER_SILENT


def mail_trouble() -> list[str]:
    """What is wrong with email now, one line each; empty when all is well (or
    when no SMTP server is set: then emails wait in the outbox by design)."""
    return [line for _kind, line in troubles()]


def troubles() -> list[tuple[str, str]]:
    """(kind, line) for each trouble: the kinds tell one day's alarms apart."""
    if not current_app.config["MAIL_SERVER"]:
        return []
    now, found = utcnow(), []
    worker = last_seen()
    if worker is None:
        found.append(("worker", "No mail worker has ever run, so no email leaves the outbox."))
    elif now - worker.last_seen > WORKER_SILENT:
        minutes = int((now - worker.last_seen).total_seconds() // 60)
        found.append(
            ("worker", f"The mail worker was last seen {minutes} minutes ago; emails wait.")
        )
    elif worker.trouble:
        found.append(("server", f"The mail worker reports: {worker.trouble}."))
    limit = now - timedelta(minutes=_minutes())
    failing = db.session.scalar(
        select(func.count())
        .select_from(OutboxEmail)
        .where(
            OutboxEmail.status == "failed",
            OutboxEmail.failing_since < limit,
            OutboxEmail.not_to_subscribers(),
        )
    )
    if failing:
        found.append(
            (
                "failing",
                f"{failing} email{'s have' if failing != 1 else ' has'} been failing for over "
                f"{_minutes()} minutes; the server's answer is on the outbox page.",
            )
        )
    late = db.session.scalar(
        select(func.count())
        .select_from(OutboxEmail)
        .where(
            OutboxEmail.status.in_(("pending", "failed")),
            OutboxEmail.deliver_after < limit,
            OutboxEmail.not_to_subscribers(),
        )
    )
    if late:
        found.append(
            (
                "late",
                f"{late} email{'s' if late != 1 else ''} due over {_minutes()} minutes ago "
                f"{'are' if late != 1 else 'is'} not sent yet.",
            )
        )
    return found


def _admins() -> list[tuple[str, str]]:
    admins = db.session.scalars(
        select(User)
        .where(User.role == "admin", User.active.is_(True), User.password_hash.contains("$"))
        .order_by(User.id)
    )
    return [(a.name, a.email) for a in admins]


def raise_mail_alarm() -> bool:
    """Email the admins if email is in trouble: once a day for each kind of
    trouble while it lasts; True if an email was queued. When the mail worker
    is gone, the alarm is sent at once from here, since nobody else would.
    Commits."""
    found = troubles()
    row = None
    if found:
        kinds = "+".join(sorted({kind for kind, _line in found}))
        key = f"alarm:mail:{utcnow().date().isoformat()}:{kinds}"
        row = queue(
            "alarm",
            _admins(),
            "Email is not going out",
            key=key,
            lines=[line for _kind, line in found],
            what="email",
            outbox_link=public_url("review.outbox"),
        )
        db.session.commit()
        if row is not None and _worker_gone():
            alarm_ids = db.session.scalars(
                select(OutboxEmail.id).where(OutboxEmail.dedup_key.startswith(f"{key}:"))
            ).all()
            deliver_due(only=alarm_ids)
    db.session.commit()
    return row is not None


def unit_failed(unit: str) -> bool:
    """A scheduled job (a systemd unit) failed: tell the admins, once a day at
    most per unit. Commits."""
    unit = "".join(c for c in unit if c.isalnum() or c in "@._-:")[:100] or "unknown"
    row = queue(
        "alarm",
        _admins(),
        f"A scheduled job failed: {unit}",
        key=f"alarm:unit:{unit}:{utcnow().date().isoformat()}",
        lines=[f"{unit} failed. Its log says why: journalctl -u {unit} --since today"],
        what="job",
        outbox_link=public_url("review.outbox"),
    )
    db.session.commit()
    return row is not None


_desk_cache: dict[str, tuple[float, list[str]]] = {}


def desk_warnings() -> list[str]:
    """`mail_trouble`, for the banner on every page of the editors' desk:
    computed at most once every ALARM_CHECK_SECONDS in each process."""
    seconds = current_app.config["ALARM_CHECK_SECONDS"]
    key = current_app.config["SQLALCHEMY_DATABASE_URI"]
    checked, lines = _desk_cache.get(key, (float("-inf"), []))
    if time.monotonic() - checked >= seconds:
        lines = mail_trouble()
        _desk_cache[key] = (time.monotonic(), lines)
    return lines
