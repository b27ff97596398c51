"""How many times each interview is read: counted without a cookie, without
an address, without a database write per read, and a week after publication
told to the interviewee with their share links.

A read is the page's own script saying, once the page has been in view for a
few seconds, "read" (a POST to /interviews/<slug>/read, answered before the
app by `CountReads`: every cache in front of the site,
nginx's included, lets it through, and crawlers, which run no scripts, don't
send it; user agents that say they are bots are left out too). One reader
reading one interview again within half an hour is one read (told apart by a
hash with a secret of the day, in memory only). Each web process keeps its
counts in memory and a thread of its own writes them, one upsert per
interview and day, every READ_FLUSH_SECONDS; a process that stops writes what
it holds, one that is killed loses at most those seconds of counts.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import re
import secrets
import threading
import time
from collections import Counter
from datetime import UTC, date, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import String, cast, exists, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from werkzeug.wsgi import ClosingIterator

from .clock import utc_to_site, utcnow
from .extensions import db
from .models import Interview, InterviewReads, OutboxEmail, Submission

log = logging.getLogger(__name__)

# Who is not a reader: crawlers, link previews, monitors, scripts.
BOTS = re.compile(
    # "Googlebot", "bingbot", "AhrefsBot" (not a CUBOT phone: case counts here)
    r"(?:[a-z]bot|Bot)\b|(?i:crawl|spider|slurp|archiver|preview|fetch|scan|monitor|uptime"
    r"|pingdom|lighthouse|inspectiontool|headless|phantom|facebookexternalhit|embedly"
    r"|whatsapp|curl|wget|python|httpx|aiohttp|go-http|java/|okhttp|libwww|node-fetch|axios)",
)
SLUG_MAX = 200
# Distinct interviews a process holds counts for between two writes; past
# that (made-up addresses, say), it writes at once.
HELD_AT_MOST = 5000

_lock = threading.Lock()
_pending: Counter[tuple[str, date]] = Counter()
_last_flush = time.monotonic()


def is_reader(user_agent: str | None) -> bool:
    return bool(user_agent) and not BOTS.search(user_agent)


def count(slug: str, zone: ZoneInfo, flush_seconds: float) -> bool:
    """One read of the interview at `slug`, today (in the site's time `zone`),
    kept in memory; True when it is time to write the counts (`flush_seconds`
    since the last write)."""
    if not slug or len(slug) > SLUG_MAX or "/" in slug:
        return False
    key = (slug, utcnow().replace(tzinfo=UTC).astimezone(zone).date())
    with _lock:
        _pending[key] += 1
        due = time.monotonic() - _last_flush >= flush_seconds
        return due or len(_pending) >= HELD_AT_MOST


def flush() -> int:
    """Write the counts held in memory: one upsert per interview and day, for
    the interviews published at that address now (others are dropped). How
    many reads were written."""
    global _last_flush
    with _lock:
        held = dict(_pending)
        _pending.clear()
        _last_flush = time.monotonic()
    if not held:
        return 0
    slugs = {slug for slug, _day in held}
    ids = dict(
        db.session.execute(
            select(Interview.slug, Interview.id)
            .join(Interview.submission)
            .where(Interview.slug.in_(slugs), Interview.public_filter(utcnow()))
        ).all()
    )
    rows = [
        {"interview_id": ids[slug], "day": day, "reads": n}
        for (slug, day), n in held.items()
        if slug in ids
    ]
    if rows:
        insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
        statement = insert(InterviewReads).values(rows)
        db.session.execute(
            statement.on_conflict_do_update(
                index_elements=["interview_id", "day"],
                set_={"reads": InterviewReads.reads + statement.excluded.reads},
            )
        )
    db.session.commit()
    return sum(row["reads"] for row in rows)


def flush_quietly() -> None:
    """For after a response has gone: a failure is a line in the log, and the
    counts wait for the next write."""
    try:
        flush()
    except Exception as error:  # the database away: the reader has their page
        db.session.rollback()
        log.warning("Read counts not written (%s); they are lost", type(error).__name__)


# The address the page's script posts a read to: /interviews/<slug>/read.
READ_PREFIX, READ_SUFFIX = "/interviews/", "/read"


class CountReads:
    """Answers the page's "read" before Flask does anything: a read costs a
    count in memory and an empty answer (204), not a whole request's hooks,
    so counting costs the site next to nothing. Everything else goes on."""

    def __init__(self, wsgi, app):
        self.wsgi, self.app = wsgi, app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not (
            path.endswith(READ_SUFFIX)
            and path.startswith(READ_PREFIX)
            and environ.get("REQUEST_METHOD") == "POST"
        ):
            return self.wsgi(environ, start_response)
        config = self.app.config
        agent = environ.get("HTTP_USER_AGENT")
        slug = path[len(READ_PREFIX) : -len(READ_SUFFIX)]
        due = (
            config["READ_COUNTING"]
            and is_reader(agent)
            and _first_in_a_while(environ.get("REMOTE_ADDR", ""), agent, slug)
            and count(slug, _zone(config["SITE_TIMEZONE"]), config["READ_FLUSH_SECONDS"])
        )
        if config["READ_COUNTING"]:
            _keep_writing(self.app)
        start_response(
            "204 No Content",
            [("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")],
        )
        if due:  # written after the answer has gone: the reader doesn't wait
            return ClosingIterator([], lambda: _write(self.app))
        return []


# One reader reading one interview again within this long is one read. Who
# they are is never kept: a hash of their address and browser with a secret
# that changes each day and lives only in this process's memory, forgotten
# after the window.
AGAIN_SECONDS = 30 * 60
_seen: dict[bytes, float] = {}
_salt = [b"", -1]  # (the day's secret, its day)


def _first_in_a_while(address: str, agent: str, slug: str) -> bool:
    now = time.monotonic()
    day = int(time.time() // 86400)
    with _lock:
        if _salt[1] != day:
            _salt[0], _salt[1] = secrets.token_bytes(16), day
            _seen.clear()
        key = hashlib.blake2b(
            "\x1f".join((address, agent or "", slug)).encode("utf-8", "replace"),
            key=_salt[0],
            digest_size=12,
        ).digest()
        last = _seen.get(key)
        if last is not None and now - last < AGAIN_SECONDS:
            return False
        if len(_seen) >= HELD_AT_MOST * 20:  # a flood of made-up readers: start afresh
            cutoff = now - AGAIN_SECONDS
            for stale in [k for k, t in _seen.items() if t < cutoff]:
                del _seen[stale]
            if len(_seen) >= HELD_AT_MOST * 20:
                _seen.clear()
        _seen[key] = now
        return True


# Each process writes what it holds every READ_FLUSH_SECONDS from a thread of
# its own, so counts reach the database on a quiet site too.
_writer: dict = {"thread": None, "pid": None, "app": None}


def _keep_writing(app) -> None:
    _writer["app"] = app  # the newest app (a test makes many)
    thread = _writer["thread"]
    if thread is not None and thread.is_alive() and _writer["pid"] == os.getpid():
        return
    with _lock:
        running = _writer["thread"] is not None and _writer["thread"].is_alive()
        if running and _writer["pid"] == os.getpid():
            return  # another request started it meanwhile
        thread = threading.Thread(target=_write_every, name="read-counts", daemon=True)
        _writer["thread"], _writer["pid"] = thread, os.getpid()
        thread.start()


def _write_every() -> None:
    """Look twice a second; write when counts are held and the app's
    READ_FLUSH_SECONDS have passed since the last write."""
    while True:
        time.sleep(0.5)
        app = _writer["app"]
        if app is None or not _pending:
            continue
        if time.monotonic() - _last_flush >= app.config["READ_FLUSH_SECONDS"]:
            _write(app)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)  # kept by zoneinfo: the same object each time
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _write(app) -> None:
    """Write what this process holds, in `app`'s context (after a response,
    from the writing thread, at exit)."""
    with app.app_context():
        flush_quietly()


def init_app(app) -> None:
    """A process that stops writes what it holds (not each test's app). The
    middleware is put in place by create_app, inside the proxy's fix."""
    if not app.testing:
        atexit.register(_write, app)


def reads(interview_ids: list[int], since: date | None = None) -> dict[int, int]:
    """Reads of each interview (since a day, if given)."""
    if not interview_ids:
        return {}
    query = (
        select(InterviewReads.interview_id, func.sum(InterviewReads.reads))
        .where(InterviewReads.interview_id.in_(interview_ids))
        .group_by(InterviewReads.interview_id)
    )
    if since is not None:
        query = query.where(InterviewReads.day >= since)
    return {interview_id: int(n) for interview_id, n in db.session.execute(query)}


def most_read(limit: int = 20, days: int = 7) -> list[tuple[Interview, int, int]]:
    """The published interviews most read in the last `days` days: (interview,
    reads in those days, reads in all)."""
    since = utc_to_site(utcnow()).date() - timedelta(days=days - 1)
    recent = func.coalesce(
        select(func.sum(InterviewReads.reads))
        .where(InterviewReads.interview_id == Interview.id, InterviewReads.day >= since)
        .scalar_subquery(),
        0,
    )
    rows = db.session.execute(
        select(Interview, recent.label("recent"))
        .join(Interview.submission)
        .where(Interview.public_filter(utcnow()))
        .order_by(recent.desc(), Interview.published_at.desc())
        .limit(limit)
    ).all()
    totals = reads([interview.id for interview, _n in rows])
    return [(interview, int(n), totals.get(interview.id, 0)) for interview, n in rows]


# A week after publication: the interviewee hears how it went.

WEEK = timedelta(days=7)
# Not for interviews older than this when the feature arrives, nor for one
# whose email could not be written for a week more.
TOO_LATE = timedelta(days=14)


def week_after_key(interview_id: int) -> str:
    return f"week-after:{interview_id}"


def due_for_week_after(now=None) -> list[Interview]:
    """Published interviews that have been live a week and whose interviewee
    has not had the email (one query; imported ones have nobody to tell)."""
    now = now or utcnow()
    prefix = literal("week-after:") + cast(Interview.id, String) + literal(":%")
    told = exists().where(OutboxEmail.dedup_key.like(prefix))
    return list(
        db.session.scalars(
            select(Interview)
            .join(Interview.submission)
            .where(
                Interview.public_filter(now),
                Interview.published_at <= now - WEEK,
                Interview.published_at > now - TOO_LATE,
                Submission.email != "",
                ~told,
            )
        )
    )


def tell_interviewees(now=None) -> int:
    """The week-after email to each interviewee whose interview has been live
    a week: how many times it was read, and their share links (the mail
    worker asks each minute). How many were written."""
    from .notifications.emails import week_after

    now = now or utcnow()
    due = due_for_week_after(now)
    counted = reads([interview.id for interview in due])
    for interview in due:
        days = (now - interview.published_at).days
        week_after(interview, counted.get(interview.id, 0), days, week_after_key(interview.id))
    db.session.commit()
    return len(due)
