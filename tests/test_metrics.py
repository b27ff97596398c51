"""/metrics for the operator's Prometheus, and logs a collector can read."""

from __future__ import annotations

import json
import logging
import re

from portal import create_app
from portal.extensions import db
from portal.security import JsonLines
from portal.workflow import State
from tests.factories import submission_in
from tests.test_publishing import publish_some


def _value(text: str, name: str, missing: float | None = None, **labels) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{re.escape(name)}{{{re.escape(wanted)}}} (\S+)$" if labels else rf"^{name} (\S+)$"
    match = re.search(pattern, text, re.M)
    if match is None and missing is not None:
        return missing  # a counter nothing has counted yet in this process
    assert match, (name, labels, text[:3000])
    return float(match.group(1))


def test_metrics_count_requests_cache_outbox_and_applications(app, client):
    slugs = publish_some(app, 1)
    with app.app_context():
        submission_in(State.SUBMITTED)
    before = client.get("/metrics").get_data(as_text=True)
    hits = _value(before, "portal_page_cache_total", missing=0, result="hit")
    client.get(f"/interviews/{slugs[0]}")
    client.get(f"/interviews/{slugs[0]}")
    client.get("/no-such-page")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    text = response.get_data(as_text=True)
    assert _value(text, "portal_page_cache_total", result="hit") >= hits + 1
    seen = _value(
        text, "portal_request_seconds_count", endpoint="publishing.interview", method="GET"
    )
    assert seen >= 2
    assert _value(text, "portal_request_seconds_count", endpoint="unmatched", method="GET") >= 1
    assert _value(text, "portal_outbox_emails", status="pending") > 0  # nothing delivered yet
    assert _value(text, "portal_outbox_oldest_due_seconds") >= 0
    assert _value(text, "portal_applications", state="submitted") == 1
    assert _value(text, "portal_applications", state="published") == 1


def test_metrics_are_for_this_machine_or_the_token(app, client):
    away = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=away).status_code == 404
    app.config["METRICS_TOKEN"] = "scrape-4f9c1d"
    assert client.get("/metrics").status_code == 404  # with a token set, the token
    good = {"Authorization": "Bearer scrape-4f9c1d"}
    assert client.get("/metrics", environ_base=away, headers=good).status_code == 200
    bad = {"Authorization": "Bearer scrape-4f9c1e"}
    assert client.get("/metrics", environ_base=away, headers=bad).status_code == 404


def test_json_logs_carry_the_request_id_the_error_page_shows(app, monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "json")
    root = logging.getLogger()
    saved = [(h, h.formatter) for h in root.handlers]
    try:
        json_app = create_app(dict(app.config, LOG_FORMAT="json", PROPAGATE_EXCEPTIONS=False))
        assert root.handlers and all(isinstance(h.formatter, JsonLines) for h in root.handlers)

        @json_app.route("/explode")
        def explode():
            raise RuntimeError("a fault")

        lines = []
        catcher = logging.Handler()
        catcher.setFormatter(JsonLines())
        catcher.emit = lambda record: lines.append(catcher.format(record))
        logging.getLogger("portal.errors").addHandler(catcher)
        try:
            response = json_app.test_client().get("/explode")
        finally:
            logging.getLogger("portal.errors").removeHandler(catcher)
        [line] = lines
        entry = json.loads(line)
        assert entry["request_id"] == response.headers["X-Request-Id"]
        assert entry["request_id"] in response.get_data(as_text=True)  # the page's reference
        assert entry["level"] == "ERROR" and "RuntimeError: a fault" in entry["exception"]
        assert entry["time"].endswith("+00:00")
        with json_app.app_context():  # the error page read the latest interviews
            db.session.remove()
            db.engine.dispose()
    finally:
        for handler, formatter in saved:
            handler.setFormatter(formatter)
