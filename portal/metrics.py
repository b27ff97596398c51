"""What an operator's Prometheus scrapes from /metrics.

Counted as requests are answered: the time each takes, by endpoint, and
whether a reader's page came from the page cache. Read from the database at
each scrape: emails in the outbox by status and how long the oldest waiting
one has waited, applications by state.

Under gunicorn every worker counts on its own; gunicorn.conf.py gives them a
folder (PROMETHEUS_MULTIPROC_DIR) where prometheus-client keeps each worker's
numbers, and a scrape adds them up, whichever worker answers it.

/metrics answers requests from this machine (the scraper beside gunicorn), or
anywhere with `Authorization: Bearer METRICS_TOKEN` when that is set; deploy/
nginx.conf does not pass it on.
"""

from __future__ import annotations

import hmac
import os
from time import perf_counter

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

# The text format every Prometheus reads.
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4 as CONTENT_TYPE
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select

from .clock import utcnow
from .extensions import db
from .models import OutboxEmail, Submission

REQUEST_SECONDS = Histogram(
    "portal_request_seconds",
    "Time to answer a request, by endpoint.",
    ["endpoint", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
PAGE_CACHE = Counter(
    "portal_page_cache",
    "Readers' pages: from the page cache (hit), rendered (miss), or 304 (unchanged).",
    ["result"],
)
_COUNTED = (REQUEST_SECONDS, PAGE_CACHE)
# Decided when prometheus-client is imported (just above), so decided here too:
# a folder named later would hold none of this process's numbers.
_MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
LOCAL = ("127.0.0.1", "::1")


class _DatabaseFacts:
    """Gauges read at each scrape: one query per family."""

    def collect(self):
        outbox = GaugeMetricFamily(
            "portal_outbox_emails", "Emails in the outbox, by status.", labels=["status"]
        )
        counts = dict(
            db.session.execute(
                select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status)
            ).all()
        )
        for status in ("pending", "sending", "failed", "dead", "sent"):
            outbox.add_metric([status], counts.get(status, 0))
        yield outbox
        oldest = db.session.scalar(
            select(func.min(OutboxEmail.deliver_after)).where(
                OutboxEmail.status.in_(("pending", "failed")), OutboxEmail.deliver_after <= utcnow()
            )
        )
        waited = (utcnow() - oldest).total_seconds() if oldest is not None else 0
        yield GaugeMetricFamily(
            "portal_outbox_oldest_due_seconds",
            "How long the oldest email due to be sent has waited (0: none waiting).",
            value=waited,
        )
        applications = GaugeMetricFamily(
            "portal_applications", "Applications, by state.", labels=["state"]
        )
        for state, count in db.session.execute(
            select(Submission.state, func.count()).group_by(Submission.state)
        ):
            applications.add_metric([state], count)
        yield applications


def exposition() -> bytes:
    registry = CollectorRegistry()
    if _MULTIPROCESS:
        MultiProcessCollector(registry)  # every worker's counts, added up
    else:
        for collector in _COUNTED:
            registry.register(collector)
    registry.register(_DatabaseFacts())
    try:
        return generate_latest(registry)
    finally:
        db.session.rollback()  # read only: hold no transaction


def _allowed() -> bool:
    token = current_app.config["METRICS_TOKEN"]
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    return request.remote_addr in LOCAL


def init_app(app: Flask) -> None:
    def started():
        g.started = perf_counter()

    # Before the rest, so the time includes what they do.
    app.before_request_funcs.setdefault(None, []).insert(0, started)

    @app.after_request
    def timed(response):
        began = g.get("started")
        if began is not None and request.endpoint != "metrics":
            REQUEST_SECONDS.labels(request.endpoint or "unmatched", request.method).observe(
                perf_counter() - began
            )
        return response

    @app.route("/metrics", endpoint="metrics")
    def metrics():
        if not _allowed():
            abort(404)
        # The text format every Prometheus reads.
        return Response(exposition(), content_type=CONTENT_TYPE)
