"""HTTP caching for readers' pages: ETag and Last-Modified from what the page
shows, 304 for a matching conditional GET, and a short shared Cache-Control."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from flask import Response, request
from sqlalchemy import func, select

from ..clock import utcnow
from ..extensions import db
from ..models import Interview

MAX_AGE = 60  # seconds a browser or proxy may reuse a page without asking


def public_signature() -> tuple[int, datetime | None]:
    """(how many interviews are public, when the newest public change happened).

    One query. A scheduled interview going live changes the count and the newest
    publication time, so cached listings turn stale exactly then.
    """
    count, newest_update, newest_publication = db.session.execute(
        select(
            func.count(Interview.id),
            func.max(Interview.updated_at),
            func.max(Interview.published_at),
        )
        .join(Interview.submission)
        .where(Interview.public_filter(utcnow()))
    ).one()
    stamps = [s for s in (newest_update, newest_publication) if s is not None]
    return count, max(stamps) if stamps else None


def conditional(response: Response, *parts, modified: datetime | None = None) -> Response:
    """Tag `response` with an ETag of `parts` and `modified`; answer 304 if it matches."""
    digest = hashlib.sha256(repr((parts, modified, request.full_path)).encode()).hexdigest()[:32]
    response.set_etag(digest)
    if modified is not None:
        response.last_modified = modified.replace(tzinfo=UTC)
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    return response.make_conditional(request)
