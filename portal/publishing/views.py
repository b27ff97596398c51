"""Readers' pages: the latest interviews, one interview, a tag; and /healthz."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, send_file, url_for
from sqlalchemy import select, text
from sqlalchemy.orm import joinedload, selectinload

from .. import photos
from ..clock import utcnow
from ..extensions import db
from ..models import Interview, SlugRedirect, Tag
from . import bp

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


@bp.route("/")
def home():
    """The latest published interviews."""
    interviews, page, has_next = _page(_published())
    return render_template(
        "publishing/home.html", interviews=interviews, page=page, has_next=has_next
    )


@bp.route("/interviews/<slug>")
def interview(slug: str):
    """One published interview."""
    found = db.session.scalar(
        _published().where(Interview.slug == slug).options(selectinload(Interview.items))
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
    return render_template(
        "publishing/interview.html", interview=found, submission=found.submission
    )


@bp.route("/tags/<slug>")
def tag(slug: str):
    """Interviews with one tag."""
    found = db.session.scalar(select(Tag).where(Tag.slug == slug))
    if found is None:
        abort(404)
    interviews, page, has_next = _page(_published().where(Interview.tags.contains(found)))
    return render_template(
        "publishing/tag.html", tag=found, interviews=interviews, page=page, has_next=has_next
    )


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
