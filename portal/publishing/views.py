"""Readers' pages: the latest interviews, one interview, a tag, the feed, the
sitemap; photos; and /healthz."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy import select, text
from sqlalchemy.orm import joinedload, selectinload

from .. import photos
from ..clock import utcnow
from ..extensions import db
from ..models import Interview, InterviewItem, SlugRedirect, Tag
from ..notifications.outbox import public_url
from . import bp, search
from .caching import conditional, public_signature

PAGE_SIZE = 12


def _published():
    return (
        select(Interview)
        .join(Interview.submission)
        .where(Interview.public_filter(utcnow()))
        .options(joinedload(Interview.submission), selectinload(Interview.tags))
        .order_by(Interview.published_at.desc(), Interview.id.desc())
    )


def _page(query):
    page = max(1, request.args.get("page", 1, type=int) or 1)
    rows = db.session.scalars(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    return rows[:PAGE_SIZE], page, len(rows) > PAGE_SIZE


def _cached(render, *parts, modified=None):
    """Answer 304 before rendering when the reader's copy is current."""
    probe = conditional(Response(), *parts, modified=modified)
    if probe.status_code == 304:
        return probe
    return conditional(make_response(render()), *parts, modified=modified)


@bp.route("/")
def home():
    """The latest published interviews."""
    count, newest = public_signature()

    def render():
        interviews, page, has_next = _page(_published())
        return render_template(
            "publishing/home.html", interviews=interviews, page=page, has_next=has_next
        )

    return _cached(render, "home", count, modified=newest)


@bp.route("/interviews/<slug>")
def interview(slug: str):
    """One published interview."""
    found = db.session.scalar(
        _published()
        .where(Interview.slug == slug)
        .options(selectinload(Interview.items).joinedload(InterviewItem.source_answer))
    )
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
    count, newest = public_signature()  # related interviews change with the rest

    def render():
        return render_template(
            "publishing/interview.html",
            interview=found,
            submission=found.submission,
            related=_related(found),
        )

    modified = max(found.updated_at, found.published_at)
    return _cached(render, "interview", found.id, found.version, count, newest, modified=modified)


def _related(interview: Interview, limit: int = 3) -> list[Interview]:
    """Other public interviews sharing a tag with this one, newest first."""
    tag_ids = [t.id for t in interview.tags]
    if not tag_ids:
        return []
    return list(
        db.session.scalars(
            _published()
            .where(Interview.id != interview.id, Interview.tags.any(Tag.id.in_(tag_ids)))
            .limit(limit)
        )
    )


@bp.route("/tags/<slug>")
def tag(slug: str):
    """Interviews with one tag."""
    found = db.session.scalar(select(Tag).where(Tag.slug == slug))
    if found is None:
        abort(404)
    count, newest = public_signature()

    def render():
        interviews, page, has_next = _page(_published().where(Interview.tags.contains(found)))
        return render_template(
            "publishing/tag.html", tag=found, interviews=interviews, page=page, has_next=has_next
        )

    return _cached(render, "tag", found.id, found.name, count, modified=newest)


@bp.route("/search")
def search_page():
    """Full-text search over published interviews."""
    q = (request.args.get("q") or "").strip()
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 1000))
    hits, has_next = search.search(q, page, PAGE_SIZE, utcnow()) if q else ([], False)
    return render_template(
        "publishing/search.html",
        q=q[: search.QUERY_MAX],
        hits=hits,
        page=page,
        has_next=has_next,
        truncated=len(q) > search.QUERY_MAX,
    )


FEED_SIZE = 20


@bp.route("/feed.atom")
def feed():
    """An Atom feed of the latest interviews, with their full text."""
    count, newest = public_signature()

    def render():
        interviews = db.session.scalars(
            _published().options(selectinload(Interview.items)).limit(FEED_SIZE)
        ).all()
        body = render_template("publishing/feed.xml", interviews=interviews, updated=newest)
        return Response(body, mimetype="application/atom+xml")

    return _cached(render, "feed", count, modified=newest)


@bp.route("/sitemap.xml")
def sitemap():
    """Every public interview and tag, for search engines."""
    count, newest = public_signature()

    def render():
        rows = db.session.execute(
            select(Interview.slug, Interview.updated_at, Interview.published_at)
            .join(Interview.submission)
            .where(Interview.public_filter(utcnow()))
            .order_by(Interview.published_at.desc())
        ).all()
        tags = db.session.scalars(
            select(Tag.slug)
            .join(Tag.interviews)
            .join(Interview.submission)
            .where(Interview.public_filter(utcnow()))
            .distinct()
            .order_by(Tag.slug)
        ).all()
        body = render_template("publishing/sitemap.xml", rows=rows, tags=tags, newest=newest)
        return Response(body, mimetype="application/xml")

    return _cached(render, "sitemap", count, modified=newest)


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


@bp.route("/photos/<name>")
def photo(name: str):
    """A stored photo, by the random name it was given."""
    path = photos.path_of(name)
    if path is None:
        abort(404)
    response = send_file(path, mimetype="image/png" if name.endswith(".png") else "image/jpeg")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/healthz")
def healthz():
    """Liveness: 200 when the database answers."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not healthy"
        db.session.rollback()
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}
