"""The readers' newsletter: subscribing with double opt-in, one issue per
publication or a weekly digest, one-click unsubscribe, bounces, erasure.

An address is pending until its owner confirms from the email we send it, and
forgotten if they don't within NEWSLETTER_CONFIRM_DAYS. A publication writes
one `Mailing` in its own transaction; a mail worker later writes its outbox
rows in batches (`fan_out`), one per confirmed subscriber, so publishing costs
the same with ten subscribers or a hundred thousand. The private links
(confirm, unsubscribe) are signed as each email leaves: no stored copy holds one.
"""

from __future__ import annotations

import csv
import hashlib
import io
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app, render_template
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from .clock import site_zone, utc_to_site, utcnow
from .extensions import db
from .links import public_url
from .models import (
    EMAIL_MAX,
    Interview,
    Mailing,
    OutboxEmail,
    Submission,
    Subscriber,
    SubscribeRequest,
)
from .notifications.outbox import PRIVATE_LINK, header_safe, queue, wrap_text
from .share_image import pull_quote

# The outbox kinds of a newsletter: an issue, and the confirmation email.
ISSUE_KINDS = ("newsletter", "newsletter_weekly")
CONFIRM_KIND = "newsletter_confirm"
KINDS = (*ISSUE_KINDS, CONFIRM_KIND)
CADENCES = {"each": "Every new interview", "weekly": "A weekly digest"}


class NotAnAddress(ValueError):
    """What was typed can't be an email address; the message says why."""


def normalised(address: str) -> str:
    """The address as we keep it (lower-cased), or NotAnAddress."""
    address = (address or "").strip()
    if not address or len(address) > EMAIL_MAX:
        raise NotAnAddress("Give an email address (at most 254 characters).")
    try:
        valid = validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        if not address.split("@")[0].isascii():
            raise NotAnAddress(
                "Give an address whose part before the @ is in plain letters (a-z, 0-9): "
                "we can't send to accented or non-Latin ones yet."
            ) from None
        raise NotAnAddress(f"That is not an email address: {error}") from None
    return valid.ascii_email.lower()


# Links, signed as the email leaves.


def _signer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"newsletter-{purpose}")


def _digest(email: str) -> str:
    """What a link says of the address it was made for: enough to tell that the
    address is still the same, without writing it into the link."""
    return hashlib.sha256(email.encode()).hexdigest()[:16]


def confirm_link(subscriber_id: int, cadence: str) -> str | None:
    """The link in a confirmation email: it subscribes the address at the
    cadence that was asked for (None: the address is gone)."""
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None or cadence not in CADENCES:
        return None
    token = _signer("confirm").dumps([subscriber.id, _digest(subscriber.email), cadence])
    return public_url("publishing.confirm_subscription", token=token)


def manage_link(subscriber_id: int) -> str | None:
    """The subscriber's own page: unsubscribe (also one-click, RFC 8058), change
    how often, forget the address. None when the address is gone."""
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return None
    return manage_link_for(subscriber.id, subscriber.email)


def manage_link_for(subscriber_id: int, email: str) -> str:
    token = _signer("manage").dumps([subscriber_id, _digest(email)])
    return public_url("publishing.unsubscribe", token=token)


def _loads(purpose: str, token: str, size: int, max_age: int | None = None):
    if not token or len(token) > 400:
        return None
    try:
        value = _signer(purpose).loads(token, max_age=max_age)
    except (BadData, ValueError, TypeError):
        return None
    if not (isinstance(value, list) and len(value) == size and isinstance(value[0], int)):
        return None
    return value


def asked_by(token: str) -> tuple[Subscriber, str] | None:
    """The address a confirmation link was made for, and the cadence asked: None
    when the link was not made here, is older than NEWSLETTER_CONFIRM_DAYS, or
    the address was forgotten since."""
    days = current_app.config["NEWSLETTER_CONFIRM_DAYS"]
    value = _loads("confirm", token, 3, days * 86400)
    if value is None or value[2] not in CADENCES:
        return None
    subscriber = db.session.get(Subscriber, value[0])
    if subscriber is None or _digest(subscriber.email) != value[1]:
        return None
    return subscriber, value[2]


def subscriber_for(token: str) -> Subscriber | None:
    """Whose page an unsubscribe link opens (any status): None when the link was
    not made here or the address was forgotten."""
    value = _loads("manage", token, 2)
    if value is None:
        return None
    subscriber = db.session.get(Subscriber, value[0])
    if subscriber is None or _digest(subscriber.email) != value[1]:
        return None
    return subscriber


# A reader's own moves.


def ask(address: str, cadence: str, may_email: bool = True) -> None:
    """The form's part: one row, the same work whatever the address (its
    timing tells nobody who subscribes); the mail worker answers it
    (`answer_requests`). NotAnAddress for what can't be one."""
    email = normalised(address)
    db.session.add(
        SubscribeRequest(
            email=email, cadence=cadence if cadence in CADENCES else "each", may_email=may_email
        )
    )
    db.session.commit()


def answer_requests(limit: int = 100) -> int:
    """The worker's part: each request answered (`subscribe`), then deleted."""
    requests = db.session.scalars(
        select(SubscribeRequest).order_by(SubscribeRequest.id).limit(limit)
    ).all()
    for row in requests:
        subscribe(row.email, row.cadence, row.may_email, commit=False)
        db.session.delete(row)
    db.session.commit()
    return len(requests)


def subscribe(address: str, cadence: str, may_email: bool = True, commit: bool = True) -> None:
    """Ask to subscribe `address` at `cadence`: a confirmation email to it,
    whose link does it. Nothing about an address that is on the list changes
    until its owner uses that link: a stranger typing it can't switch how often,
    end an earlier link, or bring back an address that unsubscribed or bounced.
    A confirmed address is sent nothing. `may_email` False (over a sending
    limit): no email."""
    email = normalised(address)
    if cadence not in CADENCES:
        cadence = "each"
    subscriber = db.session.scalar(select(Subscriber).where(Subscriber.email == email))
    now = utcnow()
    if subscriber is None:
        subscriber = Subscriber(email=email, cadence=cadence, status="pending", asked_at=now)
        db.session.add(subscriber)
        db.session.flush()
    elif subscriber.status == "pending":
        subscriber.asked_at = now  # forgotten NEWSLETTER_CONFIRM_DAYS after the last ask
    if subscriber.status != "confirmed" and may_email:
        row = queue(
            CONFIRM_KIND,
            [("", subscriber.email)],
            "Confirm your subscription to new interviews",
            key=f"newsletter-confirm:{subscriber.id}:{now.isoformat()}",
            private_link=f"newsletter-confirm-{cadence}:{subscriber.id}",
            link=PRIVATE_LINK,
            cadence=CADENCES[cadence].lower(),
            days=current_app.config["NEWSLETTER_CONFIRM_DAYS"],
        )
        if row is not None:
            row.subscriber_id = subscriber.id
    if commit:
        db.session.commit()


def confirm(subscriber: Subscriber, cadence: str) -> None:
    """The owner used the link: the address gets the next issue, at the cadence
    the link was made for (again, after an unsubscribe or a bounce). Twice is once."""
    if subscriber.status != "confirmed":
        subscriber.status, subscriber.confirmed_at = "confirmed", utcnow()
        subscriber.left_at, subscriber.bounce = None, ""
    subscriber.cadence = cadence
    db.session.commit()


def unsubscribe(subscriber: Subscriber) -> None:
    """No more issues to this address, including any not yet sent. Twice is once."""
    if subscriber.status in ("pending", "confirmed"):
        subscriber.status, subscriber.left_at = "unsubscribed", utcnow()
    _drop_unsent(subscriber.id)
    db.session.commit()


def change_cadence(subscriber: Subscriber, cadence: str) -> None:
    if cadence in CADENCES:
        subscriber.cadence = cadence
    db.session.commit()


def erase(subscriber: Subscriber) -> None:
    """Forget the address: the subscriber and every email we wrote to it as one."""
    db.session.execute(delete(OutboxEmail).where(OutboxEmail.subscriber_id == subscriber.id))
    db.session.execute(delete(SubscribeRequest).where(SubscribeRequest.email == subscriber.email))
    db.session.delete(subscriber)
    db.session.commit()


def _drop_unsent(subscriber_id: int) -> None:
    db.session.execute(
        delete(OutboxEmail).where(
            OutboxEmail.subscriber_id == subscriber_id,
            OutboxEmail.kind.in_(ISSUE_KINDS),
            OutboxEmail.status.in_(("pending", "failed")),
        )
    )


def bounced(subscriber_id: int, reason: str) -> None:
    """Mail to this address failed for good: send it nothing more (a new
    subscription, confirmed, starts it again)."""
    db.session.execute(
        update(Subscriber)
        .where(Subscriber.id == subscriber_id, Subscriber.status.in_(("pending", "confirmed")))
        .values(status="bounced", left_at=utcnow(), bounce=reason[:300])
    )
    _drop_unsent(subscriber_id)
    db.session.commit()


def forget_unconfirmed(now: datetime | None = None) -> int:
    """Forget the addresses nobody confirmed within NEWSLETTER_CONFIRM_DAYS,
    with their confirmation emails; how many."""
    before = (now or utcnow()) - timedelta(days=current_app.config["NEWSLETTER_CONFIRM_DAYS"])
    stale = select(Subscriber.id).where(
        Subscriber.status == "pending", Subscriber.asked_at < before
    )
    ids = list(db.session.scalars(stale))
    if ids:
        db.session.execute(delete(OutboxEmail).where(OutboxEmail.subscriber_id.in_(ids)))
        db.session.execute(delete(Subscriber).where(Subscriber.id.in_(ids)))
    db.session.commit()
    return len(ids)


# Issues: written with their cause, sent by the worker.


def announce(interview: Interview) -> None:
    """The issue for `interview`, sent once it is live (in the caller's
    transaction). Published again after being taken down, it is not sent again."""
    key = f"interview:{interview.id}"
    when = interview.published_at or utcnow()
    mailing = db.session.scalar(select(Mailing).where(Mailing.key == key))
    if mailing is None:
        db.session.add(
            Mailing(key=key, kind="interview", interview_id=interview.id, send_after=when)
        )
    elif mailing.recipients == 0 and mailing.status in ("waiting", "cancelled"):
        # Its schedule was called off before it went out: it goes at the new time.
        mailing.status, mailing.send_after, mailing.finished_at = "waiting", when, None


def weekly_due(now: datetime) -> tuple[str, datetime]:
    """The latest weekly digest's key and when it is (was) due, in UTC: on
    NEWSLETTER_WEEKLY_DAY at NEWSLETTER_WEEKLY_HOUR in the site's time zone
    (today's, even when that hour is still to come)."""
    config = current_app.config
    local = utc_to_site(now)
    day = local.date() - timedelta(days=(local.weekday() - config["NEWSLETTER_WEEKLY_DAY"]) % 7)
    due = datetime(day.year, day.month, day.day, config["NEWSLETTER_WEEKLY_HOUR"])
    due = due.replace(tzinfo=site_zone()).astimezone(UTC).replace(tzinfo=None)
    year, week, _ = day.isocalendar()
    return f"weekly:{year}-W{week:02d}", due


def plan_weekly(now: datetime | None = None) -> Mailing | None:
    """Write this week's digest once it is due (the worker asks each minute):
    the interviews that went live since the last one, or since a week before.
    A week without any is recorded as empty and mails nobody."""
    now = now or utcnow()
    key, due = weekly_due(now)
    if due > now or db.session.scalar(select(Mailing.id).where(Mailing.key == key)):
        db.session.commit()
        return None
    last = db.session.scalar(select(func.max(Mailing.period_end)).where(Mailing.kind == "weekly"))
    start = max(last, due - timedelta(days=7)) if last else due - timedelta(days=7)
    found = db.session.scalar(
        select(func.count()).select_from(_published_between(start, due).subquery())
    )
    mailing = Mailing(
        key=key,
        kind="weekly",
        period_start=start,
        period_end=due,
        send_after=due,
        status="waiting" if found else "empty",
    )
    db.session.add(mailing)
    try:
        db.session.commit()
    except IntegrityError:  # another worker wrote it first
        db.session.rollback()
        return None
    return mailing


def _published_between(start: datetime, end: datetime):
    return (
        select(Interview)
        .join(Interview.submission)
        .where(
            Interview.public_filter(end),
            Interview.published_at > start,
            Interview.published_at <= end,
        )
        .order_by(Interview.published_at, Interview.id)
    )


def _render(mailing: Mailing) -> bool:
    """Write the issue's subject and text, once: False when there is nothing
    to send any more (the interview was taken down before it went out)."""
    site = current_app.config["SITE_NAME"]
    values = dict(
        site_name=site,
        recipient_name="",
        private_link=PRIVATE_LINK,
        home=public_url("publishing.home"),
        feed=public_url("publishing.feed"),
    )
    if mailing.kind == "interview":
        interview = mailing.interview
        if interview is None or interview.submission.state != "published":
            return False
        items = [_item(interview)]
        subject = f"New interview: {interview.title}"
    else:
        items = [
            _item(i)
            for i in db.session.scalars(
                _published_between(mailing.period_start, mailing.period_end)
            )
        ]
        if not items:
            return False
        count = len(items)
        subject = f"This week: {count} new interview{'s' if count != 1 else ''}"
    kind = ISSUE_KINDS[mailing.kind == "weekly"]
    values.update(subject=subject, items=items, weekly=mailing.kind == "weekly")
    mailing.subject = header_safe(subject, 300)
    mailing.text_body = wrap_text(render_template(f"email/{kind}.txt", **values))
    mailing.html_body = render_template(f"email/{kind}.html", **values)
    return True


@dataclass
class Item:
    title: str
    who: str
    quote: str
    link: str
    photo: str | None


def _item(interview: Interview) -> Item:
    submission: Submission = interview.submission
    return Item(
        title=interview.title,
        who=", ".join(p for p in (submission.name, submission.business) if p),
        quote=pull_quote(interview),
        link=public_url("publishing.interview", slug=interview.slug),
        photo=public_url("publishing.photo", name=interview.photo) if interview.photo else None,
    )


def _next_mailing(now: datetime) -> Mailing | None:
    due = (
        select(Mailing)
        .where(Mailing.status.in_(("waiting", "sending")), Mailing.send_after <= now)
        .order_by(Mailing.send_after, Mailing.id)
        .limit(1)
    )
    if db.engine.dialect.name == "postgresql":
        # One worker writes an issue's batches; the others go on sending.
        due = due.with_for_update(skip_locked=True)
    return db.session.scalar(due)


def fan_out(batch: int | None = None, seconds: float = 5.0) -> int:
    """Write the outbox rows of the issues that are due, `batch` subscribers a
    transaction, for up to about `seconds`; how many rows were written. Each
    batch moves the issue's cursor in the transaction that writes its rows, so
    a worker stopped halfway leaves nothing written twice or missed."""
    batch = batch or current_app.config["NEWSLETTER_BATCH"]
    deadline, written = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        now = utcnow()
        mailing = _next_mailing(now)
        if mailing is None:
            break
        if mailing.status == "waiting":
            interview = mailing.interview
            if interview is not None and interview.published_at and interview.published_at > now:
                mailing.send_after = interview.published_at  # its publication was moved later
            elif _render(mailing):
                mailing.status = "sending"
            else:
                mailing.status, mailing.finished_at = "cancelled", now
            db.session.commit()
            continue
        cadence = "weekly" if mailing.kind == "weekly" else "each"
        rows = db.session.execute(
            select(Subscriber.id, Subscriber.email)
            .where(
                Subscriber.status == "confirmed",
                Subscriber.cadence == cadence,
                Subscriber.id > mailing.cursor,
            )
            .order_by(Subscriber.id)
            .limit(batch)
        ).all()
        if not rows:
            mailing.status, mailing.finished_at = "done", now
            db.session.commit()
            continue
        kind = ISSUE_KINDS[mailing.kind == "weekly"]
        db.session.execute(
            insert(OutboxEmail),
            [
                dict(
                    dedup_key=f"mailing:{mailing.id}:{sid}",
                    kind=kind,
                    recipients=[["", email]],
                    to_address=email,
                    subject=mailing.subject,
                    text_body="",
                    html_body="",
                    private_link=f"newsletter:{sid}",
                    status="pending",
                    attempts=0,
                    last_error="",
                    deliver_after=now,
                    created_at=now,
                    mailing_id=mailing.id,
                    subscriber_id=sid,
                )
                for sid, email in rows
            ],
        )
        mailing.cursor, mailing.recipients = rows[-1][0], mailing.recipients + len(rows)
        db.session.commit()
        written += len(rows)
    db.session.commit()
    return written


def bodies(mailing_id: int) -> tuple[str, str]:
    """An issue's text and HTML, for the worker building each copy."""
    return db.session.execute(
        select(Mailing.text_body, Mailing.html_body).where(Mailing.id == mailing_id)
    ).one()


# The admins' page.


@dataclass
class Figures:
    counts: dict[str, int]
    by_cadence: dict[str, int]
    growth: list[tuple[datetime, int]]  # (a week's Monday, confirmed subscribers at its end)
    mailings: list[tuple[Mailing, dict[str, int]]]


def figures(weeks: int = 12) -> Figures:
    counts = dict(
        db.session.execute(
            select(Subscriber.status, func.count()).group_by(Subscriber.status)
        ).all()
    )
    by_cadence = dict(
        db.session.execute(
            select(Subscriber.cadence, func.count())
            .where(Subscriber.status == "confirmed")
            .group_by(Subscriber.cadence)
        ).all()
    )
    now = utcnow()
    growth = []
    today = utc_to_site(now).date()
    monday = today - timedelta(days=today.weekday())
    for back in range(weeks - 1, -1, -1):
        start = monday - timedelta(weeks=back)
        end_local = datetime(start.year, start.month, start.day) + timedelta(weeks=1)
        end = min(end_local.replace(tzinfo=site_zone()).astimezone(UTC).replace(tzinfo=None), now)
        # Confirmed by then, and not gone by then.
        subscribed = db.session.scalar(
            select(func.count())
            .select_from(Subscriber)
            .where(
                Subscriber.confirmed_at.is_not(None),
                Subscriber.confirmed_at <= end,
                (Subscriber.left_at.is_(None)) | (Subscriber.left_at > end),
            )
        )
        growth.append((datetime(start.year, start.month, start.day), subscribed))
    recent = list(db.session.scalars(select(Mailing).order_by(Mailing.id.desc()).limit(10)))
    progress = {}
    if recent:
        rows = db.session.execute(
            select(OutboxEmail.mailing_id, OutboxEmail.status, func.count())
            .where(OutboxEmail.mailing_id.in_([m.id for m in recent]))
            .group_by(OutboxEmail.mailing_id, OutboxEmail.status)
        )
        for mailing_id, status, n in rows:
            progress.setdefault(mailing_id, {})[status] = n
    return Figures(counts, by_cadence, growth, [(m, progress.get(m.id, {})) for m in recent])


# What a spreadsheet opens as a formula when a cell starts with it.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def csv_export() -> str:
    """Every address with its status and dates, for an admin's spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "status", "cadence", "asked", "confirmed", "left", "bounce"])
    for s in db.session.scalars(select(Subscriber).order_by(Subscriber.id)):
        writer.writerow(
            _cell(v)
            for v in (
                s.email,
                s.status,
                s.cadence,
                s.asked_at.isoformat(timespec="seconds"),
                s.confirmed_at.isoformat(timespec="seconds") if s.confirmed_at else "",
                s.left_at.isoformat(timespec="seconds") if s.left_at else "",
                s.bounce,
            )
        )
    return out.getvalue()
