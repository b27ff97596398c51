"""Delivering the outbox over SMTP with Flask-Mail.

An email is claimed (pending/failed → sending) and committed before it is sent,
so two workers never send the same row; its outcome is committed after. A failed
send is kept with the server's reply and tried again later; nothing is deleted.
"""

from __future__ import annotations

import logging
import random
import smtplib
import socket
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_mail import BadHeaderError, Message
from sqlalchemy import or_, select, update

from ..clock import utcnow
from ..extensions import db, mail
from ..models import OutboxEmail

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=10)


@dataclass
class Report:
    """What one delivery pass did."""

    sent: int = 0
    failed: int = 0
    dead: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.failed + self.dead


def _claim(limit: int) -> list[OutboxEmail]:
    now = utcnow()
    due = (
        select(OutboxEmail)
        .where(
            or_(
                OutboxEmail.status.in_(("pending", "failed")) & (OutboxEmail.deliver_after <= now),
                # Left in "sending" by a worker that died: take it back.
                (OutboxEmail.status == "sending") & (OutboxEmail.claimed_at < now - LEASE),
            )
        )
        .order_by(OutboxEmail.deliver_after, OutboxEmail.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    # On SQLite the transaction began with BEGIN IMMEDIATE: no other writer
    # can claim between this SELECT and the UPDATE below.
    rows = list(db.session.scalars(due))
    if rows:
        db.session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id.in_([r.id for r in rows]))
            .values(status="sending", claimed_at=now)
        )
    db.session.commit()
    return rows


def _message(email: OutboxEmail) -> Message:
    return Message(
        subject=email.subject,
        recipients=[tuple(r) for r in email.recipients],
        body=email.text_body,
        html=email.html_body,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
    )


def _backoff(attempts: int) -> timedelta:
    base = min(60 * 2 ** (attempts - 1), 6 * 3600)
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


def _is_permanent(error: Exception) -> bool:
    if isinstance(error, BadHeaderError | ValueError):
        return True  # a malformed address or header will never go through
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return False


def _describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{addr}: {code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
            for addr, (code, msg) in error.recipients.items()
        )
    if isinstance(error, smtplib.SMTPResponseException):
        msg = error.smtp_error
        text = msg.decode(errors="replace") if isinstance(msg, bytes) else str(msg)
        return f"{error.smtp_code} {text}"
    return f"{type(error).__name__}: {error}"


@contextmanager
def _smtp_timeout(seconds: float):
    # Flask-Mail opens smtplib.SMTP without a timeout; smtplib then falls back
    # to the socket default, which we set for the length of the connection.
    before = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(before)


def _record(email_id: int, error: Exception | None) -> str:
    email = db.session.get(OutboxEmail, email_id)
    email.attempts += 1
    if error is None:
        email.status, email.sent_at, email.last_error = "sent", utcnow(), ""
    elif _is_permanent(error) or email.attempts >= MAX_ATTEMPTS:
        email.status, email.last_error = "dead", _describe(error)
    else:
        email.status, email.last_error = "failed", _describe(error)
        email.deliver_after = utcnow() + _backoff(email.attempts)
    db.session.commit()
    return email.status


def deliver_due(limit: int = 50) -> Report:
    """Send up to `limit` due emails over one SMTP connection; return what happened."""
    report = Report()
    if not current_app.config["MAIL_SERVER"]:
        return report  # kept in the outbox; each was logged when queued
    emails = _claim(limit)
    if not emails:
        return report
    ids = [e.id for e in emails]
    messages = {e.id: _message(e) for e in emails}
    db.session.rollback()  # end the read transaction before talking to SMTP
    try:
        with _smtp_timeout(current_app.config["MAIL_TIMEOUT"]):
            connection = mail.connect()
            connection.__enter__()
    except Exception as error:  # server down, refused, timed out: all retried
        log.warning("SMTP connection failed: %s", error)
        for email_id in ids:
            outcome = _record(email_id, error)
            setattr(report, outcome, getattr(report, outcome) + 1)
        return report
    try:
        for email_id in ids:
            try:
                with _smtp_timeout(current_app.config["MAIL_TIMEOUT"]):
                    connection.send(messages[email_id])
                error = None
            except Exception as exc:  # kept with the reply, never lost
                error = exc
                log.warning("Email %s not sent: %s", email_id, _describe(exc))
            outcome = _record(email_id, error)
            setattr(report, outcome, getattr(report, outcome) + 1)
    finally:
        with suppress(smtplib.SMTPException, OSError):
            connection.__exit__(None, None, None)
    return report
