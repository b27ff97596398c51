"""Delivering the outbox over SMTP with Flask-Mail.

An email is claimed (pending/failed → sending, with the worker's name) and
committed before it is sent, so two workers never send the same row; its outcome
is committed right after it is sent. A failed send is kept with the server's
reply and tried again later with exponential back-off; nothing is deleted.

An outage costs nothing: when the server can't be reached or the connection
drops, the emails are handed back without a try counted against them. An email
is given up ("dead") when the server refuses it for good, or when it has kept
failing for MAIL_EXPIRE_DAYS. A worker that dies leaves its claimed emails in
"sending": when it starts again it hands them back, and any worker takes them
after the lease.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import random
import re
import smtplib
import socket
import time
from collections.abc import Callable
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, getaddresses, parseaddr
from itertools import groupby
from types import SimpleNamespace

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_mail import BadHeaderError, Message
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError

from .. import accounts, newsletter, readership, share_image
from ..clock import site_time, utcnow
from ..extensions import db, mail
from ..links import public_url
from ..models import MailWorker, OutboxEmail, StatusToken, Submission
from ..workflow import WorkflowError
from .emails import answer_resend_requests
from .outbox import PRIVATE_LINK, numbered_private_link, shown

log = logging.getLogger(__name__)


@dataclass
class Report:
    """What one delivery pass did."""

    sent: int = 0
    failed: int = 0
    dead: int = 0
    released: int = 0
    outage: str = ""  # why the SMTP server could not be reached, if it couldn't

    @property
    def handled(self) -> int:
        return self.sent + self.failed + self.dead

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def _due(now, only: list[int] | None):
    """The statements that find due emails, most urgent first, each read in
    order from an index: emails left "sending" by a worker that died (taken
    back after the lease), then everyone's emails, then newsletters' copies,
    each pending before failed, oldest first."""
    lease = timedelta(seconds=current_app.config["MAIL_LEASE_SECONDS"])
    found = [
        select(OutboxEmail)
        .where(OutboxEmail.status == "sending", OutboxEmail.claimed_at < now - lease)
        .order_by(OutboxEmail.deliver_after, OutboxEmail.id)
    ]
    for mailing in (OutboxEmail.mailing_id.is_(None), OutboxEmail.mailing_id.is_not(None)):
        for status in ("pending", "failed"):
            found.append(
                select(OutboxEmail)
                .where(OutboxEmail.status == status, mailing, OutboxEmail.deliver_after <= now)
                .order_by(OutboxEmail.mailing_id, OutboxEmail.deliver_after, OutboxEmail.id)
            )
    for statement in found:
        if only is not None:
            statement = statement.where(OutboxEmail.id.in_(only))
        yield statement


def _claim(
    limit: int, worker: str | None = None, only: list[int] | None = None
) -> list[OutboxEmail]:
    now = utcnow()
    rows: list[OutboxEmail] = []
    for due in _due(now, only):
        due = due.limit(limit - len(rows))
        if db.engine.dialect.name == "postgresql":
            # Each worker takes rows nobody else has locked, without waiting.
            due = due.with_for_update(skip_locked=True)
        # On SQLite the transaction began with BEGIN IMMEDIATE: no other writer
        # can claim between these SELECTs and the UPDATE below.
        rows.extend(db.session.scalars(due))
        if len(rows) >= limit:
            break
    if rows:
        db.session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id.in_([r.id for r in rows]))
            .values(status="sending", claimed_at=now, claimed_by=worker)
        )
    # Copies of the rows as read: after the commit, reading a row again would
    # open a transaction (on SQLite, the write lock) while the messages are built.
    claimed = [_as_read(row) for row in rows]
    db.session.commit()
    return claimed


def _as_read(row: OutboxEmail) -> OutboxEmail:
    """The row's columns, on an object no commit expires."""
    return SimpleNamespace(**{a.key: getattr(row, a.key) for a in _COLUMNS})  # type: ignore[return-value]


_COLUMNS = OutboxEmail.__mapper__.column_attrs


def release_claims_of(worker: str, claimed_before) -> int:
    """A worker starting again hands back what it had claimed when it stopped
    (claimed before this start: never what a namesake running now just took)."""
    result = db.session.execute(
        update(OutboxEmail)
        .where(
            OutboxEmail.status == "sending",
            OutboxEmail.claimed_by == worker,
            OutboxEmail.claimed_at < claimed_before,
        )
        .values(status="pending", claimed_at=None, claimed_by=None)
    )
    db.session.commit()
    return result.rowcount


class MalformedAddress(ValueError):
    """An address no server will take: dead at once, not retried."""


def _check_addresses(recipients: list) -> None:
    for _name, address in recipients:
        try:
            # Syntax only: a private or test domain is the operator's business.
            validate_email(
                address,
                check_deliverability=False,
                globally_deliverable=False,
                test_environment=True,
            )
        except EmailNotValidError as error:
            raise MalformedAddress(f"Malformed address {address!r}: {error}") from None


class LinkUnavailable(ValueError):
    """The private link can't be made any more (its person or application is gone)."""


# The applicant's private pages an email may link, each opened by a status token.
_STATUS_PAGES = {"status": "submissions.status", "follow-ups": "submissions.follow_ups"}


def mint_private_link(spec: str, email_id: int | None = None) -> str:
    """Make the link an email's `private_link` names, for outbox email `email_id`."""
    kind, _, ident = spec.partition(":")
    link = None
    if kind in _STATUS_PAGES and ident.isdigit():
        submission = db.session.get(Submission, int(ident))
        if submission is not None:
            link = public_url(_STATUS_PAGES[kind], token=StatusToken.issue(submission))
    elif kind == "set-password" and ident.isdigit():
        link = accounts.mint_set_password_link(int(ident), email_id)
    elif kind.startswith("newsletter-confirm-") and ident.isdigit():
        link = newsletter.confirm_link(int(ident), kind.rpartition("-")[2])
    elif kind == "newsletter" and ident.isdigit():
        link = newsletter.manage_link(int(ident))
    if link is None:
        raise LinkUnavailable(f"The {kind} link of this email can no longer be made.")
    return link


def _minted(spec: str, email_id: int) -> list[str]:
    """The links an email's `private_link` names (one, or several in order)."""
    return [mint_private_link(part, email_id) for part in spec.split()]


def _message(
    email: OutboxEmail, links: list[str] | None = None, bodies: tuple[str, str] | None = None
) -> Message:
    """The email as it leaves: its private links written in, and a newsletter's
    copy given its issue's text (`bodies`)."""
    text, html = bodies or (email.text_body, email.html_body)
    for n, link in enumerate(links or [], start=1):
        for mark in (numbered_private_link(n), PRIVATE_LINK if n == 1 else None):
            if mark:
                html = html.replace(shown(mark), shown(link))
                text, html = text.replace(mark, link), html.replace(mark, link)
    unsubscribe = None
    if email.kind in newsletter.ISSUE_KINDS and links:
        unsubscribe = links[0]  # the subscriber's own page takes the one-click POST too
    return _Built(
        build(email, text, html, unsubscribe),
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        recipients=[address for _name, address in email.recipients],
    )


class _Built(Message):
    """A Flask-Mail message whose bytes are a standard-library EmailMessage: the
    connection sends it, and builds nothing of its own."""

    def __init__(self, built: EmailMessage, **kwargs):
        super().__init__(**kwargs)
        self.built = built

    def has_bad_headers(self) -> bool:
        return False  # the headers were made by email.headerregistry, which refuses them

    def as_bytes(self) -> bytes:
        return self.built.as_bytes()


def _sender() -> tuple[str, str]:
    """MAIL_DEFAULT_SENDER as (name, address): "Name <a@b>" or a (name, address) pair."""
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    if isinstance(sender, tuple | list):
        return sender[0], sender[1]
    return parseaddr(sender)


def _domain() -> str:
    """Where Message-IDs are made: MAIL_MESSAGE_ID_DOMAIN, else the sender's domain."""
    configured = current_app.config.get("MAIL_MESSAGE_ID_DOMAIN")
    if configured:
        return configured
    return _sender()[1].rpartition("@")[2] or "localhost"


def _opaque(what: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, what.encode(), hashlib.sha256).hexdigest()[:24]


def message_id(email_id: int) -> str:
    """The same Message-ID on every try of one outbox email (a retry after an
    unclear timeout is then the same message to the receiving server), telling
    nobody how many emails the site has sent."""
    return f"<{_opaque(f'outbox:{email_id}')}@{_domain()}>"


def _thread(email: OutboxEmail) -> str | None:
    """One References value for every email about one application, so mail
    programs keep them together."""
    if email.submission_id is None:
        return None
    return f"<{_opaque(f'application:{email.submission_id}')}@{_domain()}>"


# Headers holding people's text are encoded here and written as given: the
# standard library's folding loses or adds a space where it splits encoded
# words ("Café Zoë" arrived as "CaféZoë", "Bakery" as "Bake ry").
_POLICY = SMTP.clone(refold_source="none")


def _encoded(text: str, header: str) -> str:
    """`text` as a header value: ASCII as it is; anything else (or text that
    looks encoded) as RFC 2047 encoded words, split between characters."""
    text = " ".join((text or "").split())
    if text.isascii() and "=?" not in text:
        return _folded(text, len(header) + 2)
    return Header(text, "utf-8", header_name=header).encode(linesep="\r\n")


def _folded(text: str, used: int, width: int = 78) -> str:
    """ASCII `text` folded at its spaces (a reader unfolds it back to one space)."""
    lines, line = [], ""
    for word in text.split(" "):
        if line and used + len(line) + 1 + len(word) > width:
            lines.append(line)
            line, used = word, 1
        else:
            line = f"{line} {word}" if line else word
    return "\r\n ".join([*lines, line])


# What makes a word in a display name need quotes (RFC 5322's specials).
_SPECIALS = re.compile(r'[][\\()<>@,:;".]')


def _plain(word: str) -> bool:
    return word.isascii() and "=?" not in word


def _phrase(name: str) -> str:
    """A display name: its ASCII words as they are (quoted where a comma, a colon
    or "Bcc:" would mean something), the others as encoded words. A run of
    non-ASCII words too long for one encoded word is split between words, the
    space inside the next one: mail programs read that exactly; Python's own
    parser shows one space more there."""
    parts = []
    for plain, words in groupby(name.split(" "), key=_plain):
        words = list(words)
        if plain:
            text = " ".join(words)
            if _SPECIALS.search(text):
                text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
            parts.append(text)
            continue
        chunks = [words[0]]
        for word in words[1:]:
            if len(Header(f"{chunks[-1]} {word}", "utf-8").encode()) <= 75:
                chunks[-1] = f"{chunks[-1]} {word}"
            else:
                chunks.append(f" {word}")
        for chunk in chunks:  # a single word too long for one is split by Header
            parts.append(Header(chunk, "utf-8").encode().replace("\n ", " "))
    return " ".join(parts)


def _mailbox(name: str, address: str, header: str) -> str:
    """One mailbox: a name with a comma, a colon or "Bcc:" stays a name."""
    username, _, domain = address.rpartition("@")
    address = Address(username=username, domain=domain).addr_spec  # refuses line breaks
    name = " ".join((name or "").split())
    if not name:
        return address
    return _folded(f"{_phrase(name)} <{address}>", len(header) + 2)


def _mailboxes(pairs, header: str) -> str:
    return ",\r\n ".join(_mailbox(name, address, header) for name, address in pairs)


def build(email: OutboxEmail, text: str, html: str, unsubscribe: str | None = None) -> EmailMessage:
    """The message as it leaves: one multipart/alternative, the headers that
    mark it as automatic, and people's names and subjects encoded so that they
    arrive exactly as written (a comma, a colon or "Bcc:" in a name stays in
    the name)."""
    message = EmailMessage(policy=_POLICY)
    message.set_raw("From", _mailboxes([_sender()], "From"))
    message.set_raw("To", _mailboxes(email.recipients, "To"))
    if current_app.config.get("MAIL_REPLY_TO"):
        reply_to = getaddresses([current_app.config["MAIL_REPLY_TO"]])
        message.set_raw("Reply-To", _mailboxes(reply_to, "Reply-To"))
    message.set_raw("Subject", _encoded(email.subject, "Subject"))
    # ASCII values made here, set as they are: parsing each again costs more
    # than the rest of the message (a newsletter sends 100,000 of them).
    message.set_raw("Date", format_datetime(datetime.now(UTC)))
    message.set_raw("Message-ID", message_id(email.id))
    thread = _thread(email)
    if thread is not None:
        message.set_raw("References", thread)
    message.set_raw("Auto-Submitted", "auto-generated")
    if email.kind == "digest":
        unsubscribe = accounts.digest_unsubscribe_link(email.to_address)
    if email.kind in newsletter.ISSUE_KINDS:
        message.set_raw("List-Id", f"<newsletter.{_domain()}>")
    if unsubscribe is not None:
        # As it is, on one line: mail programs read it raw (RFC 2369, 8058).
        message.set_raw("List-Unsubscribe", f"<{unsubscribe}>")
        message.set_raw("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    return message


def backoff(attempts: int) -> timedelta:
    """How long to wait before the next try: doubling, capped, with ±20% jitter."""
    base = current_app.config["MAIL_BACKOFF_SECONDS"]
    seconds = min(base * 2 ** (attempts - 1), 6 * 3600)
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


def _is_permanent(error: Exception) -> bool:
    if isinstance(error, BadHeaderError | ValueError | UnicodeError):
        return True  # a malformed address or header will never go through
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return False


def _bounces(error: Exception | None) -> bool:
    """The address itself will never take mail: refused for good, or malformed."""
    refused = (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException, MalformedAddress)
    return isinstance(error, refused) and _is_permanent(error)


class _Unreachable(OSError):
    """The SMTP server could not be reached at all (whatever it answered)."""

    def __init__(self, error: Exception):
        super().__init__(describe(error))


def _connection_lost(error: Exception | None) -> bool:
    # smtplib's errors are OSErrors too; only a dropped or timed-out socket counts.
    if isinstance(error, _Unreachable | smtplib.SMTPServerDisconnected):
        return True
    return isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)


def _text(reply) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def describe(error: Exception) -> str:
    """The server's reply, or the error, as one line for the outbox page."""
    if isinstance(error, _Unreachable):
        return f"SMTP server unreachable ({error})"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{addr}: {code} {_text(msg)}" for addr, (code, msg) in error.recipients.items()
        )
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return f"{type(error).__name__}: {error}"[:1000]


@contextmanager
def _smtp_timeout(seconds: float):
    # Flask-Mail opens smtplib.SMTP without a timeout; smtplib then uses the
    # socket default, which we set while the connection is made. The socket
    # keeps it, so every later read and write is bounded too.
    before = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(before)


def _record(email_id: int, attempts_before: int, error: Exception | None, failing_since) -> str:
    """Commit one email's outcome: one UPDATE, no read (the row is ours while claimed).

    A connection that failed or dropped is not the email's fault: no try is
    counted, and it is due again after the first back-off step."""
    now = utcnow()
    outage = error is not None and _connection_lost(error)
    attempts = attempts_before + (0 if outage else 1)
    values = {"attempts": attempts, "claimed_at": None, "claimed_by": None}
    if error is not None and not outage:
        failing_since = failing_since or now
        values["failing_since"] = failing_since
    limit = timedelta(days=current_app.config["MAIL_EXPIRE_DAYS"])
    expired = not outage and failing_since is not None and failing_since < now - limit
    if error is None:
        values.update(status="sent", sent_at=now, last_error="")
    elif _is_permanent(error) or expired:
        values.update(status="dead", last_error=describe(error))
    else:
        values.update(
            status="failed",
            last_error=describe(error),
            deliver_after=now + backoff(max(attempts, 1)),
        )
    _until_written(update(OutboxEmail).where(OutboxEmail.id == email_id).values(**values))
    return values["status"]


# While a sent email's outcome can't be written, the worker keeps trying for this
# long: giving up would leave it "sending", to be sent again after the lease.
RECORD_PATIENCE_SECONDS = 600


def _until_written(statement) -> None:
    waited, pause = 0.0, 0.5
    while True:
        try:
            db.session.execute(statement)
            db.session.commit()
            return
        except DBAPIError as error:
            with suppress(Exception):
                db.session.rollback()
            if waited >= RECORD_PATIENCE_SECONDS:
                raise
            log.warning("Database unavailable while recording an email: %s", error.orig)
            time.sleep(pause)
            waited, pause = waited + pause, min(pause * 2, 30)


def _release(ids: list[int]) -> int:
    """Hand back claimed emails this worker will not send (it is stopping)."""
    if not ids:
        return 0
    result = db.session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id.in_(ids), OutboxEmail.status == "sending")
        .values(status="pending", claimed_at=None)
    )
    db.session.commit()
    return result.rowcount


def deliver_due(
    limit: int | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    worker: str | None = None,
    only: list[int] | None = None,
) -> Report:
    """Send up to `limit` due emails over one SMTP connection; say what happened.

    `should_stop` is asked before each email: when it says yes, the emails not
    yet sent are handed back and the pass ends after the email in hand.
    `worker` names who claims them; `only`, which emails (an alarm sent when
    no worker is there to send it).
    """
    report = Report()
    if only is None:
        answer_resend_requests()
        newsletter.answer_requests()
    if not current_app.config["MAIL_SERVER"]:
        return report  # kept in the outbox; each was logged when queued
    emails = _claim(limit or current_app.config["MAIL_BATCH_SIZE"], worker, only)
    if not emails:
        return report
    ids = [e.id for e in emails]
    attempts = {e.id: e.attempts for e in emails}
    failing = {e.id: e.failing_since for e in emails}
    recipients = {e.id: [list(r) for r in e.recipients] for e in emails}
    # Whose address a refusal for good marks bounced: a newsletter's.
    subscribers = {e.id: e.subscriber_id for e in emails if e.kind in newsletter.KINDS}
    # A newsletter's text, read once for its copies, and no transaction held
    # while they are built.
    issues = {m: newsletter.bodies(m) for m in {e.mailing_id for e in emails} if m is not None}
    db.session.commit()
    messages, unsendable = {}, {}
    for e in emails:
        try:
            # A private link is made now, for this copy only: the stored row never holds it.
            if e.kind in newsletter.ISSUE_KINDS and e.subscriber_id is not None:
                # The copy was written to the subscriber's address: signed without a read.
                links = [newsletter.manage_link_for(e.subscriber_id, e.to_address)]
            else:
                links = _minted(e.private_link, e.id) if e.private_link else None
            messages[e.id] = _message(e, links, issues.get(e.mailing_id))
        except LinkUnavailable as error:
            unsendable[e.id] = error
        except (ValueError, TypeError) as error:  # a header no message can carry
            unsendable[e.id] = MalformedAddress(f"Can't be written as an email: {error}")
    db.session.commit()  # the minted links; hold no transaction while talking to SMTP
    try:
        with _smtp_timeout(current_app.config["MAIL_TIMEOUT"]):
            connection = mail.connect()
            connection.__enter__()
    except Exception as error:  # down, refused, timed out: every email is retried
        # Said once by the worker when the outage starts, not here at every pass.
        log.debug("SMTP connection failed: %s", describe(error))
        report.outage = describe(error)
        for email_id in ids:
            report.count(
                _record(email_id, attempts[email_id], _Unreachable(error), failing[email_id])
            )
        return report
    try:
        for position, email_id in enumerate(ids):
            if should_stop():
                report.released = _release(ids[position:])
                break
            try:
                if email_id in unsendable:
                    raise unsendable[email_id]
                _check_addresses(recipients[email_id])
                connection.send(messages[email_id])
                error = None
            except Exception as exc:  # kept with the reply, never lost
                error = exc
                log.warning("Email %s not sent: %s", email_id, describe(exc))
            outcome = _record(email_id, attempts[email_id], error, failing[email_id])
            report.count(outcome)
            if outcome == "dead" and subscribers.get(email_id) and _bounces(error):
                newsletter.bounced(subscribers[email_id], describe(error))
            if _connection_lost(error):
                # The connection is gone: hand the rest back for the next pass.
                report.released = _release(ids[position + 1 :])
                break
    finally:
        with suppress(smtplib.SMTPException, OSError):
            connection.__exit__(None, None, None)
    return report


class NotRetryable(WorkflowError):
    """Only a failed or dead email can be sent again by hand."""


def retry_dead(since: datetime, until: datetime | None = None) -> int:
    """Put every dead email queued in [since, until) back in line at once (after
    an outage, or a restore): the command's and the outbox page's bulk retry."""
    # Not the newsletter's: a copy dies when its address bounced, for good.
    conditions = [
        OutboxEmail.status == "dead",
        OutboxEmail.created_at >= since,
        OutboxEmail.not_to_subscribers(),
    ]
    if until is not None:
        conditions.append(OutboxEmail.created_at < until)
    result = db.session.execute(
        update(OutboxEmail)
        .where(*conditions)
        .values(
            status="pending",
            attempts=0,
            # Never before its time: a "you're live" email waits for its publication.
            deliver_after=func.max(OutboxEmail.deliver_after, utcnow())
            if db.engine.dialect.name == "sqlite"
            else func.greatest(OutboxEmail.deliver_after, utcnow()),
            claimed_at=None,
        )
    )
    db.session.commit()
    return result.rowcount


def retry(email: OutboxEmail) -> None:
    """Put a failed or dead email back in line, now (the outbox page's button)."""
    if email.status not in ("failed", "dead"):
        raise NotRetryable(
            f"This email is {email.status}; only a failed or dead one can be retried."
        )
    email.status = "pending"
    email.attempts = 0
    email.deliver_after = max(utcnow(), email.deliver_after)  # never before its time
    email.claimed_at = None
    db.session.commit()


# The worker: a loop around deliver_due that outlives its database and its SMTP
# server, and says it is alive.


def default_worker_name() -> str:
    """The same name each time a worker starts on this host, so that it can hand
    back what it claimed before it stopped."""
    return f"{socket.gethostname()}:mail"


def beat(worker: str, trouble: str = "") -> None:
    """Note that `worker` is alive now (and what, if anything, it is up against)."""
    row = db.session.get(MailWorker, worker)
    if row is None:
        row = MailWorker(name=worker, pid=os.getpid(), started_at=utcnow())
        db.session.add(row)
    row.pid, row.last_seen, row.trouble = os.getpid(), utcnow(), trouble[:300]
    db.session.commit()


def last_seen() -> MailWorker | None:
    """The worker seen most recently, if any has ever run."""
    return db.session.scalar(select(MailWorker).order_by(MailWorker.last_seen.desc()).limit(1))


# How often the worker makes share cards that could not be made at publication.
FILL_EVERY_SECONDS = 60.0
FILL_BATCH = 5  # share cards drawn in one round (~0.1 s each)

# Longest wait between tries while the database or the SMTP server is away.
MAX_PAUSE_SECONDS = 60.0


def _namesake_running(worker: str) -> bool:
    """Another process on this host that beats under this name is alive: what
    it has claimed is in its hands, not left over."""
    row = db.session.get(MailWorker, worker)
    db.session.commit()
    if row is None or row.pid == os.getpid():
        return False
    try:
        os.kill(row.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, someone else's
    return True


def _raise_alarms() -> None:
    """Each minute: email the admins if emails have been failing or piling up."""
    from ..alarms import raise_mail_alarm  # it reads the worker's heartbeat from here

    if raise_mail_alarm():
        log.warning("emails are failing or late: the admins are told")


# The worker's chores besides sending, each minute.
CHORES = (
    ("the weekly digest", lambda: newsletter.plan_weekly()),
    ("forgetting unconfirmed subscribers", lambda: newsletter.forget_unconfirmed()),
    ("the week-after emails", lambda: readership.tell_interviewees()),
)


def _each_minute(echo: Callable[[str], None]) -> None:
    """Each chore on its own: one that fails says so (with its error) and
    leaves the others, and the sending, to go on. A database that is away
    shows at the next pass's sending, as "database unavailable"."""
    for name, chore in CHORES:
        try:
            chore()
        except Exception as error:  # its own error, named: not an outage of everything
            with suppress(Exception):
                db.session.rollback()
            echo(f"{name} failed: {type(error).__name__}: {str(error).splitlines()[0][:200]}")


def _wait_longer(stopping, pause: float) -> float:
    """Wait out `pause` (or until stopped); the next wait is twice as long."""
    stopping.wait(pause)
    return min(max(pause, 0.5) * 2, MAX_PAUSE_SECONDS)


def run_worker(
    worker: str,
    *,
    batch: int | None,
    interval: float,
    stopping,
    until_empty: bool = False,
    echo: Callable[[str], None] = log.info,
) -> Report:
    """Deliver until `stopping` is set (or, with `until_empty`, nothing is due).

    A database or SMTP failure is one line in the log and a pause that grows
    (up to MAX_PAUSE_SECONDS), never the end of the worker; nothing claimed is
    lost, and what this worker claimed before it last stopped is handed back.
    """
    totals, pause, trouble = Report(), interval, ""
    started, start, next_fill = False, utcnow(), 0.0
    while not stopping.is_set():
        try:
            if not started:
                if _namesake_running(worker):
                    echo(f"another worker named {worker} is running: give each its own --name")
                else:
                    released = release_claims_of(worker, start)
                    if released:
                        echo(f"handed back {released} emails claimed before a restart")
                started = True
            beat(worker, trouble)
            # A newsletter's copies, a few seconds' worth of batches a pass.
            written = newsletter.fan_out()
            report = deliver_due(batch, should_stop=stopping.is_set, worker=worker)
            if time.monotonic() >= next_fill:  # a folder that refuses files: try each minute
                drew = share_image.fill_missing(FILL_BATCH)
                # More waiting (a long import): the next batch on the next round.
                next_fill = time.monotonic() + (0 if drew == FILL_BATCH else FILL_EVERY_SECONDS)
                _each_minute(echo)
                _raise_alarms()
            # Between passes the worker holds no transaction: on SQLite even a
            # read here begins IMMEDIATE, and a lock kept while it sleeps would
            # make every writer on the site wait.
            db.session.commit()
        except DBAPIError as error:
            with suppress(Exception):
                db.session.rollback()
            with suppress(Exception):
                db.session.remove()
                db.engine.dispose()  # connections to a server that restarted are dead
            if not trouble.startswith("database"):
                echo(f"database unavailable ({type(error.orig).__name__}); trying again")
                trouble = f"database unavailable since {site_time(utcnow(), '%H:%M')}"
            pause = _wait_longer(stopping, pause)
            continue
        for name in ("sent", "failed", "dead"):
            setattr(totals, name, getattr(totals, name) + getattr(report, name))
        if report.outage:
            if not trouble.startswith("SMTP"):
                echo(f"SMTP server unreachable ({report.outage}); trying again")
                trouble = f"SMTP server unreachable since {site_time(utcnow(), '%H:%M')}"
                # Said at once on the outbox page and in /healthz, not after the wait.
                with suppress(DBAPIError):
                    beat(worker, trouble)
            pause = _wait_longer(stopping, pause)
            continue
        # The database answered; the SMTP server is only known to be back once
        # an email went through it.
        if trouble.startswith("database") or (trouble and report.handled):
            echo("back to normal")
            trouble = ""
        pause = interval
        if report.handled:
            echo(f"sent {report.sent}, failed {report.failed}, dead {report.dead}")
        if report.handled == 0 and report.released == 0 and not written:
            if until_empty:
                break
            stopping.wait(interval)
    return totals


def send_test(address: str) -> str:
    """Send one test email to `address` now, through the configured server, and
    return what the server answered (the operator's `flask mail test`)."""
    if not current_app.config["MAIL_SERVER"]:
        raise ValueError("No MAIL_SERVER is set: emails stay in the outbox.")
    _check_addresses([("", address)])
    message = EmailMessage(policy=_POLICY)
    message.set_raw("From", _mailboxes([_sender()], "From"))
    message.set_raw("To", _mailboxes([("", address)], "To"))
    message.set_raw(
        "Subject", _encoded(f"Test email from {current_app.config['SITE_NAME']}", "Subject")
    )
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = f"<test-{_opaque(utcnow().isoformat())}@{_domain()}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        "This is a test from the operator of the interview portal: if you can read "
        "it, the portal's email reaches this address.\n"
    )
    with _smtp_timeout(current_app.config["MAIL_TIMEOUT"]):
        connection = mail.connect()
        with connection:
            smtp = connection.host
            smtp.ehlo_or_helo_if_needed()
            smtp.mail(_sender()[1])
            code, reply = smtp.rcpt(address)
            if code >= 400:
                return f"{code} {_text(reply)} (refused the recipient)"
            code, reply = smtp.data(message.as_bytes())
            return f"{code} {_text(reply)}"
