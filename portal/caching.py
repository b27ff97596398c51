"""Readers' pages, rendered once and kept in memory until what they show changes.

A page is stored under its path, the query arguments it reads, and the site's
*public state*: a generation number bumped in the same transaction as any change
readers could see (`watch_changes`: a published interview's text, tags, slug,
photo or person; publishing and unpublishing; not an application, a note, a
resend or a draft), and the newest publication time that has passed, so a
scheduled interview going live turns every listing stale without anyone
writing.

Reading that state is one indexed query, and each worker reuses its answer for
PAGE_CACHE_CHECK_SECONDS (default 1): a stored page then costs no query at
all. The worker that commits a change forgets its answer at once, and the
answer also lapses when the next scheduled interview is due, so only a change
made by another process can take up to that second to show (browsers and
proxies may keep a page for MAX_AGE anyway).

The same key makes the ETag, so a conditional GET gets its 304 before
anything is rendered. Pages for a signed-in editor (their own navigation) or
carrying a flashed message are rendered every time and never stored.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from time import monotonic

from cachetools import LRUCache
from flask import Response, current_app, has_app_context, make_response, request, session
from flask_login import current_user
from sqlalchemy import event, func, insert, inspect, select, update
from sqlalchemy.orm import Session
from werkzeug.http import http_date

from .clock import utcnow
from .extensions import db
from .metrics import PAGE_CACHE
from .models import (
    Interview,
    InterviewItem,
    Question,
    SiteState,
    SlugRedirect,
    Submission,
    Tag,
)

MAX_AGE = 60  # seconds a browser or proxy may reuse a page without asking
# What a public page is made of: a change to one of these may change one, if
# it belongs to an interview that is (or was, until this change) published.
PUBLIC_MODELS = (Interview, InterviewItem, Tag, SlugRedirect, Submission, Question)


@dataclass(frozen=True)
class PublicState:
    generation: int
    changed_at: datetime | None
    newest_live: datetime | None  # the latest publication time already passed
    next_due: datetime | None = None  # the earliest publication still to come

    @property
    def modified(self) -> datetime | None:
        stamps = [s for s in (self.changed_at, self.newest_live) if s is not None]
        return max(stamps) if stamps else None


def read_public_state() -> PublicState:
    """One query: the generation, the newest live publication, the next one due."""
    now = utcnow()
    newest_live = (
        select(func.max(Interview.published_at))
        .where(Interview.published_at <= now)
        .scalar_subquery()
    )
    next_due = (
        select(func.min(Interview.published_at)).where(Interview.published_at > now)
    ).scalar_subquery()
    row = db.session.execute(
        select(SiteState.public_generation, SiteState.changed_at, newest_live, next_due).where(
            SiteState.id == 1
        )
    ).first()
    if row is None:  # no change yet on a database made without the migrations
        return PublicState(0, None, *db.session.execute(select(newest_live, next_due)).one())
    return PublicState(*row)


class _Remembered:
    """A worker's last reading of the public state, and until when it holds."""

    def __init__(self):
        self.reading: PublicState | None = None
        self.until = 0.0


def public_state() -> PublicState:
    """The public state, from this worker's memory while that is still good."""
    memo = current_app.extensions.setdefault("public_state", _Remembered())
    state = memo.reading
    if (
        state is None
        or monotonic() >= memo.until
        or (state.next_due is not None and utcnow() >= state.next_due)
    ):
        state = memo.reading = read_public_state()
        memo.until = monotonic() + current_app.config["PAGE_CACHE_CHECK_SECONDS"]
    return state


def _had(obj, attribute: str, test: Callable[[object], bool]) -> bool:
    """Whether `test` holds for the attribute's value now or before this flush."""
    history = inspect(obj).attrs[attribute].history
    return any(test(v) for v in chain(history.added, history.unchanged, history.deleted))


def _seen_by_readers(obj, new: bool) -> bool:
    """Whether a change to `obj` could change what a reader sees: it belongs to
    an interview that is, or was until now, published (or scheduled). A new
    application, a note, a draft being written: no."""
    if isinstance(obj, Interview):
        return _had(obj, "published_at", lambda v: v is not None)
    if isinstance(obj, Submission):
        return not new and _had(obj, "state", lambda v: v == "published")
    if isinstance(obj, InterviewItem):
        interview = obj.interview
        return interview is not None and _seen_by_readers(interview, new=False)
    if isinstance(obj, Tag | Question):
        # Renamed, re-worded, retired or moved: the archive by question shows
        # them. A new one is on no live page yet.
        return not new
    return isinstance(obj, SlugRedirect)


def _bump(session: Session, _context, _instances) -> None:
    with session.no_autoflush:
        public = any(_seen_by_readers(obj, new=True) for obj in session.new) or any(
            _seen_by_readers(obj, new=False) for obj in chain(session.dirty, session.deleted)
        )
    if not public:
        return
    connection = session.connection()
    table = SiteState.__table__
    bumped = connection.execute(
        update(table)
        .where(table.c.id == 1)
        .values(public_generation=table.c.public_generation + 1, changed_at=utcnow())
    )
    if bumped.rowcount == 0:
        connection.execute(insert(table).values(id=1, public_generation=1, changed_at=utcnow()))
    session.info["public_change"] = True


def _forget(session: Session) -> None:
    """After committing a public change, this worker reads the state afresh."""
    if session.info.pop("public_change", False) and has_app_context():
        current_app.extensions.pop("public_state", None)


def _drop_mark(session: Session) -> None:
    session.info.pop("public_change", None)


def watch_changes() -> None:
    """Bump the public generation in every flush that touches a public model."""
    if not event.contains(Session, "before_flush", _bump):
        event.listen(Session, "before_flush", _bump)
        event.listen(Session, "after_commit", _forget)
        event.listen(Session, "after_rollback", _drop_mark)


@dataclass(frozen=True)
class Page:
    body: bytes
    mimetype: str


class PageCache:
    """A bounded, thread-safe store of rendered pages; the least recently used
    goes first. cachetools keeps the order; it is not thread-safe, so a lock."""

    def __init__(self, size: int):
        self.size = size
        self._pages: LRUCache[tuple, Page] | None = LRUCache(maxsize=size) if size > 0 else None
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Page | None:
        if self._pages is None:
            return None
        with self._lock:
            return self._pages.get(key)

    def put(self, key: tuple, page: Page) -> None:
        if self._pages is None:
            return
        with self._lock:
            self._pages[key] = page

    def __len__(self) -> int:
        return len(self._pages) if self._pages is not None else 0


def page_cache() -> PageCache:
    cache = current_app.extensions.get("page_cache")
    if cache is None:
        cache = current_app.extensions["page_cache"] = PageCache(
            current_app.config["PAGE_CACHE_SIZE"]
        )
    return cache


def _shared() -> bool:
    """Whether this reader gets the page everyone gets (and it may be stored).
    A request without a session or remember-me cookie is such a reader, known
    without loading one (most readers' requests)."""
    cookies = request.cookies
    config = current_app.config
    if config["SESSION_COOKIE_NAME"] not in cookies and (
        config.get("REMEMBER_COOKIE_NAME", "remember_token") not in cookies
    ):
        return True
    return not current_user.is_authenticated and "_flashes" not in session


def cached(render: Callable[[], Response | str], uses: tuple[str, ...] = ()) -> Response:
    """Answer from the reader's copy (304), the stored page, or `render()`.

    `uses` names the query arguments the page reads: only they make a page
    different, so "?utm_source=..." is the same stored page, and nobody can
    push real pages out of the cache with made-up query strings."""
    state = public_state()
    shared = _shared()
    arguments = tuple((name, request.args[name]) for name in uses if name in request.args)
    key = (request.path, arguments, state.generation, state.newest_live)
    etag = hashlib.sha256(repr((key, shared)).encode()).hexdigest()[:32]
    since = request.if_modified_since
    if since is not None and since > datetime.now(UTC):
        since = None  # a date in the future proves nothing about what the reader has
    if request.if_none_match or since:
        environ = dict(request.environ)
        if since is None:
            environ.pop("HTTP_IF_MODIFIED_SINCE", None)
        probe = _finish(Response(), etag, state, shared).make_conditional(environ)
        if probe.status_code == 304:
            PAGE_CACHE.labels("unchanged").inc()
            return probe
    page = page_cache().get(key) if shared else None
    if page is not None:
        PAGE_CACHE.labels("hit").inc()
        return _finish(Response(page.body, mimetype=page.mimetype), etag, state, shared)
    PAGE_CACHE.labels("miss" if shared else "private").inc()
    response = make_response(render())
    if response.status_code == 200 and shared:
        page_cache().put(key, Page(response.get_data(), response.mimetype))
    return _finish(response, etag, state, shared)


def _finish(response: Response, etag: str, state: PublicState, shared: bool) -> Response:
    """The page's caching headers, written as strings (werkzeug's header objects
    rewrite the headers on every change: a cost on every stored page served)."""
    if response.status_code not in (200, 304):
        return response
    h = response.headers
    h["ETag"] = f'"{etag}"'
    if state.modified is not None:
        h["Last-Modified"] = http_date(state.modified.replace(tzinfo=UTC))
    vary = h.get("Vary")
    h["Vary"] = f"{vary}, Cookie" if vary and "cookie" not in vary.lower() else vary or "Cookie"
    if shared:
        h["Cache-Control"] = f"public, max-age={MAX_AGE}"
        # How long a proxy in front (deploy/nginx.conf) may answer with it.
        h["X-Accel-Expires"] = str(current_app.config["PROXY_CACHE_SECONDS"])
    else:
        h["Cache-Control"] = "private, no-cache"
    return response
