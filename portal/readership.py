"""How many times each interview is read: counted without a cookie, without
an address, without a database write per read, and a week after publication
told to the interviewee with their share links.

A read is the page's own script saying, once the page has been in view for a
few seconds, "read" (a POST to /interviews/<slug>/read, answered before the
app by `CountReads`: every cache in front of the site,
nginx's included, lets it through, and crawlers, which run no scripts, don't
send it; user agents that say they are bots are left out too). Each web
process keeps its counts in memory and writes them, one upsert per interview
and day, every READ_FLUSH_SECONDS: a process that dies loses at most those
seconds of counts.
"""

from __future__ import annotations

import atexit
import logging
import re
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
    r"bot|crawl|spider|slurp|archiver|preview|fetch|scan|monitor|uptime|pingdom|lighthouse"
    r"|headless|phantom|facebookexternalhit|embedly|whatsapp|telegram|discord|slack|skype"
    r"|curl|wget|python|httpx|aiohttp|go-http|java/|okhttp|libwww|node-fetch|axios",
    re.IGNORECASE,
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


def _at_exit(app) -> None:
    with app.app_context():
        flush_quietly()


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
        due = (
            config["READ_COUNTING"]
            and is_reader(environ.get("HTTP_USER_AGENT"))
            and count(
                path[len(READ_PREFIX) : -len(READ_SUFFIX)],
                _zone(config["SITE_TIMEZONE"]),
                config["READ_FLUSH_SECONDS"],
            )
        )
        start_response(
            "204 No Content",
            [("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")],
        )
        if due:  # written after the answer has gone: the reader doesn't wait
            return ClosingIterator([], lambda: _write(self.app))
        return []


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)  # kept by zoneinfo: the same object each time
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _write(app) -> None:
    with app.app_context():
        flush_quietly()


def init_app(app) -> None:
    """Reads are answered before the app; a process that stops writes what it
    holds (not each test's app)."""
    app.wsgi_app = CountReads(app.wsgi_app, app)
    if not app.testing:
        atexit.register(_at_exit, app)


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
# whose email could not be written for weeks.
TOO_LATE = timedelta(days=21)


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

    due = due_for_week_after(now)
    counted = reads([interview.id for interview in due])
    for interview in due:
        week_after(interview, counted.get(interview.id, 0), week_after_key(interview.id))
    db.session.commit()
    return len(due)
