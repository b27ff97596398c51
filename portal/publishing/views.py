"""Readers' pages: the latest interviews, one interview, a tag, the feed, the
sitemap; photos; and /healthz."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask import (
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload, selectinload

from .. import photos, readiness, search
from ..caching import cached
from ..clock import utcnow
from ..extensions import db
from ..links import public_url
from ..models import (
    URL_MAX,
    Interview,
    OldAddress,
    Question,
    SlugRedirect,
    Tag,
)
from ..notifications.delivery import last_seen
from . import bp, loading, sharing
from .forms import SearchForm

PAGE_SIZE = 12
# The query arguments a listing reads (a page of it by keyset).
PAGING = ("before", "after")
# A listing's place: the publication time and id of the card it continues from.
_CURSOR = re.compile(r"(\d{8}T\d{6}\.\d{6})-(\d{1,18})")
_CURSOR_TIME = "%Y%m%dT%H%M%S.%f"


def _published():
    return (
        select(Interview)
        .join(Interview.submission)
        .where(Interview.public_filter(utcnow()))
        .options(joinedload(Interview.submission), selectinload(Interview.tags))
        .order_by(Interview.published_at.desc(), Interview.id.desc())
    )


@dataclass
class Listing:
    """One page of cards and the cursors of the pages beside it (None: no page)."""

    interviews: list[Interview]
    newer: str | None
    older: str | None


def _cursor(position: tuple[datetime, int] | None) -> str | None:
    """The `before`/`after` argument naming a card's (published_at, id)."""
    if position is None:
        return None
    published_at, id_ = position
    return f"{published_at.strftime(_CURSOR_TIME)}-{id_}"


def _position(name: str):
    """The (published_at, id) a `before`/`after` argument names; 400 if it names none."""
    match = _CURSOR.fullmatch(request.args[name])
    try:
        return datetime.strptime(match.group(1), _CURSOR_TIME), int(match.group(2))
    except (AttributeError, ValueError):
        abort(400, "That page address is not one we made. Start again from the newest interviews.")


def _cards(**only) -> Listing:
    """A page of public cards, by the request's cursor; `only` as loading.listing takes it."""
    after = _position("after") if "after" in request.args else None
    before = _position("before") if "before" in request.args and not after else None
    found = loading.listing(PAGE_SIZE, before=before, after=after, **only)
    return Listing(found.interviews, _cursor(found.newer), _cursor(found.older))


@bp.route("/")
def home():
    """The latest published interviews."""
    if "p" in request.args or "page_id" in request.args:
        moved = old_address()  # a WordPress short link of an imported post
        if moved is not None:
            return moved
    return cached(
        lambda: render_template("publishing/home.html", listing=_cards()),
        uses=PAGING,
    )


@bp.route("/interviews/<slug>")
def interview(slug: str):
    """One published interview."""
    return cached(lambda: _interview_page(slug))


def _interview_page(slug: str):
    found = loading.page(slug)
    if found is None:
        # An address the interview had before keeps answering.
        moved = db.session.scalar(
            select(Interview)
            .join(SlugRedirect, SlugRedirect.interview_id == Interview.id)
            .join(Interview.submission)
            .where(SlugRedirect.old_slug == slug, Interview.public_filter(utcnow()))
        )
        if moved is None:
            abort(404)
        return redirect(url_for("publishing.interview", slug=moved.slug), 301)
    return render_template(
        "publishing/interview.html",
        interview=found,
        submission=found.submission,
        related=found.related,
        corrections=found.corrections,
    )


MASTODON_COOKIE = "mastodon"


@bp.route("/interviews/<slug>/share/mastodon")
def share_on_mastodon(slug: str):
    """Ask for the reader's Mastodon server, then send them to its share page
    with the post written (the server is remembered for next time)."""
    found = loading.page(slug, related=0)
    if found is None:
        abort(404)
    typed = request.args.get("server")
    error = None
    if typed is not None:
        try:
            server = sharing.mastodon_server(typed)
        except sharing.NotAServer as refused:
            server, error = None, str(refused)
        # Only our own form (or the reader's own typing) sends them on: a link
        # from elsewhere gets the form, filled in, for the reader to confirm.
        ours = request.headers.get("Sec-Fetch-Site") in ("same-origin", "none")
        if server is not None and ours:
            link = public_url("publishing.interview", slug=found.slug)
            response = redirect(sharing.mastodon_link(server, found.title, link), 303)
            response.set_cookie(
                MASTODON_COOKIE,
                server,
                max_age=365 * 86400,
                secure=current_app.config["SESSION_COOKIE_SECURE"],
                httponly=True,
                samesite="Lax",
            )
            response.headers["Cache-Control"] = "private, no-store"
            return response
    try:
        remembered = sharing.mastodon_server(request.cookies.get(MASTODON_COOKIE, ""))
    except sharing.NotAServer:
        remembered = ""
    response = make_response(
        render_template(
            "publishing/share_mastodon.html",
            interview=found,
            typed=typed if typed is not None else remembered,
            error=error,
        ),
        400 if error else 200,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def old_address():
    """A 301 to the interview an address of the old blog was (`flask import
    wordpress` keeps them), or None. Asked only for what no route answers, and
    for the old blog's `/?p=123` short links."""
    if request.method not in ("GET", "HEAD"):
        return None
    path = re.sub(r"/(?:feed|amp|embed|comment-page-\d+)/?$", "", request.path).rstrip("/")
    if path == "/index.php":  # WordPress's own address of its front page
        path = ""
    query = "&".join(
        f"{key}={value}"
        for key, value in request.args.items()
        if key in ("p", "page_id") and value.isdigit()
    )
    wanted = f"{path}?{query}" if query else path
    if not wanted or len(wanted) > URL_MAX:
        return None
    moved = db.session.scalar(
        select(Interview.slug)
        .join(OldAddress, OldAddress.interview_id == Interview.id)
        .join(Interview.submission)
        .where(OldAddress.path == wanted, Interview.public_filter(utcnow()))
    )
    if moved is None:
        return None
    return redirect(url_for("publishing.interview", slug=moved), 301)


@bp.route("/tags/<slug>")
def tag(slug: str):
    """Interviews with one tag."""

    def render():
        found = loading.tag(slug)
        if found is None:
            abort(404)
        listing = _cards(tag_id=found.id)
        if not listing.interviews and not loading.tag_is_live(found.id):
            abort(404)  # used only by interviews not live (scheduled, unpublished, erased)
        return render_template("publishing/tag.html", tag=found, listing=listing)

    return cached(render, uses=PAGING)


@bp.route("/search")
def search_page():
    """Full-text search over published interviews."""
    q = (request.args.get("q") or "").strip()
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 1000))
    # ?question=<slug>: only the answers to that question of the questionnaire.
    question = None
    if request.args.get("question"):
        question = db.session.scalar(
            select(Question).where(Question.slug == request.args["question"])
        )
        if question is None:
            abort(404)
    # From the page's script as the reader types (and the address it leaves):
    # the last word is a prefix, unless a space after it says it is whole.
    typed = request.args.get("q") or ""
    typing = request.args.get("as_you_type") == "1" and typed == typed.rstrip()
    if not q:
        hits, has_next = [], False
    elif question is not None:
        hits, has_next = search.search_answers(q, question.id, page, PAGE_SIZE, utcnow())
    else:
        hits, has_next = search.search(q, page, PAGE_SIZE, utcnow(), typing=typing)
    return render_template(
        "publishing/search.html",
        q=q[: search.QUERY_MAX],
        hits=hits,
        page=page,
        has_next=has_next,
        question=question,
        typing=typing or None,
        truncated=len(q) > search.QUERY_MAX,
        # Where else to look: an empty search shows the latest interviews and
        # the tags, one that found nothing the tags.
        **(elsewhere(latest=not q) if not hits and question is None else {}),
        suggestion=search.suggestion(q, utcnow())
        if q and not hits and page == 1 and question is None
        else None,
        form=SearchForm(formdata=None, q=q[: search.QUERY_MAX]),
    )


FEED_SIZE = 20


@bp.route("/feed.atom")
def feed():
    """An Atom feed of the latest interviews, with their full text."""
    return cached(lambda: _feed(_published()))


@bp.route("/tags/<slug>/feed.atom")
def tag_feed(slug: str):
    """The latest interviews with one tag: an Atom feed."""

    def render():
        found = loading.tag(slug)
        if found is None or not loading.tag_is_live(found.id):
            abort(404)
        return _feed(_published().where(Interview.tags.any(Tag.id == found.id)), tag=found)

    return cached(render)


def _feed(query, tag=None) -> Response:
    interviews = db.session.scalars(
        query.options(selectinload(Interview.items)).limit(FEED_SIZE)
    ).all()
    updated = max((max(i.published_at, i.updated_at) for i in interviews), default=utcnow())
    body = render_template(
        "publishing/feed.xml",
        interviews=interviews,
        updated=updated,
        tag=tag,
        # Entry ids that outlive a change of address (RFC 4151 tag URIs).
        authority=urlsplit(current_app.config["PUBLIC_URL"]).hostname,
    )
    return Response(body, mimetype="application/atom+xml")


# Addresses per sitemap file; the protocol allows 50,000. Past this many public
# interviews /sitemap.xml becomes an index of files of consecutive ids.
SITEMAP_SIZE = 10_000


def _public_interviews():
    return (
        select(Interview.slug, Interview.updated_at, Interview.published_at)
        .join(Interview.submission)
        .where(Interview.public_filter(utcnow()))
    )


def _urlset(rows, tags, home: bool) -> Response:
    from .questions import public_question_slugs  # it builds on this module

    newest = max((max(u, p) for _, u, p in rows), default=None)
    questions = public_question_slugs() if home else []
    body = render_template(
        "publishing/sitemap.xml",
        rows=rows,
        tags=tags,
        questions=questions,
        newest=newest,
        home=home,
    )
    return Response(body, mimetype="application/xml")


# The latest interviews a page with nothing else to show offers.
ELSEWHERE_LATEST = 6


def elsewhere(latest: bool = True, after_error: bool = False) -> dict:
    """Where a reader can go from an empty search, a page not found or an
    error page: the latest interviews and the tags of live ones. Nothing when
    the database cannot say (the error may be the database's)."""
    try:
        if after_error:
            db.session.rollback()
        return {
            "latest": loading.listing(ELSEWHERE_LATEST).interviews if latest else [],
            "tags": loading.live_tags(),
        }
    except SQLAlchemyError:
        db.session.rollback()
        return {"latest": [], "tags": []}


def _public_tags() -> list[str]:
    """The slugs of the tags of at least one public interview."""
    return sorted(tag.slug for tag in loading.live_tags())


@bp.route("/sitemap.xml")
def sitemap():
    """Every public interview and tag for search engines; an index of parts when
    there are more than one file may hold."""

    def render():
        chunk = (Interview.id // SITEMAP_SIZE).label("chunk")
        parts = db.session.execute(
            select(
                chunk,
                func.count(),
                func.max(Interview.updated_at),
                func.max(Interview.published_at),
            )
            .join(Interview.submission)
            .where(Interview.public_filter(utcnow()))
            .group_by(chunk)
            .order_by(chunk)
        ).all()
        if sum(count for _, count, _, _ in parts) <= SITEMAP_SIZE:
            rows = db.session.execute(
                _public_interviews().order_by(Interview.published_at.desc())
            ).all()
            return _urlset(rows, _public_tags(), home=True)
        body = render_template(
            "publishing/sitemap_index.xml",
            parts=[(n, max(updated, published)) for n, _, updated, published in parts],
        )
        return Response(body, mimetype="application/xml")

    return cached(render)


@bp.route("/sitemap-<int:part>.xml")
def sitemap_part(part: int):
    """The public interviews whose ids fall in one SITEMAP_SIZE range."""

    def render():
        rows = db.session.execute(
            _public_interviews()
            .where(Interview.id.between(part * SITEMAP_SIZE, (part + 1) * SITEMAP_SIZE - 1))
            .order_by(Interview.id)
        ).all()
        if not rows:
            abort(404)
        return _urlset(rows, [], home=False)

    return cached(render)


@bp.route("/sitemap-pages.xml")
def sitemap_pages():
    """The home page, the tag pages and the question pages, for the index."""
    return cached(lambda: _urlset([], _public_tags(), home=True))


@bp.route("/favicon.ico")
def favicon():
    """The icon browsers ask for at this address whatever the page says."""
    return send_from_directory(
        current_app.static_folder, "favicon.ico", max_age=7 * 86400, mimetype="image/x-icon"
    )


@bp.route("/robots.txt")
def robots():
    """Crawl the public pages; stay out of the editors' and applicants' ones."""
    lines = [
        "User-agent: *",
        "Disallow: /editor/",
        "Disallow: /status/",
        "Disallow: /apply",
        f"Sitemap: {public_url('publishing.sitemap')}",
    ]
    return Response("\n".join(lines) + "\n", mimetype="text/plain")


# A name never shows another picture, so nobody need ask again while it is
# kept (immutable, with an ETag after); but an erased person's photo must not
# outlive the erasure in any cache for long: a day, not a year.
PHOTO_CACHE = "public, max-age=86400, immutable"
# A photo is no page: it runs nothing, loads nothing, is framed by nobody.
PHOTO_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


@bp.route("/photos/<name>")
def photo(name: str):
    """A stored photo or share card, by the random name it was given."""
    stored = photos.load(name)
    if stored is None:
        abort(404)
    response = Response(stored.data, mimetype=stored.content_type)
    response.set_etag(stored.sha256)
    response.headers["Cache-Control"] = PHOTO_CACHE
    response.headers["Content-Security-Policy"] = PHOTO_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response.make_conditional(request)


@bp.route("/readyz")
def readyz():
    """Readiness: 200 when the site can do its work, else 503 naming each problem."""
    found = readiness.problems()
    if found:
        return {"status": "not ready", "problems": found}, 503
    return {"status": "ready"}


@bp.route("/healthz")
def healthz():
    """Liveness: 200 when the database answers; the detail says when a mail
    worker was last seen (a monitor can alert on it)."""
    try:
        db.session.execute(text("SELECT 1"))
        worker = last_seen()
    except Exception:  # any database failure means "not healthy"
        db.session.rollback()
        return {"status": "database unavailable"}, 503
    if worker is None:
        mail = {"worker": "never seen"}
    else:
        seconds = int((utcnow() - worker.last_seen).total_seconds())
        mail = {"worker": worker.name, "last_seen_seconds": seconds, "trouble": worker.trouble}
    return {"status": "ok", "mail": mail}
