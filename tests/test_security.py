"""Security headers on every page type, errors logged and not shown, and the
production server started as documented."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from portal.extensions import db
from portal.models import StatusToken
from portal.workflow import State
from tests.conftest import free_port, login
from tests.factories import submission_in

ROOT = Path(__file__).resolve().parent.parent


def test_every_page_type_carries_the_security_headers(app, client, editor):
    with app.app_context():
        s = submission_in(State.PUBLISHED)
        token = StatusToken.issue(s)
        db.session.commit()
        slug, sid = s.interview.slug, s.id
    login(client)
    pages = [
        "/",
        f"/interviews/{slug}",
        "/tags/nothing",
        "/search?q=x",
        "/feed.atom",
        "/sitemap.xml",
        "/apply",
        f"/status/{token}",
        "/status/resend",
        "/privacy",
        "/editor/",
        f"/editor/submissions/{sid}",
        f"/editor/submissions/{sid}/preview",
        "/editor/outbox",
        "/editor/dashboard",
        "/editor/account",
        "/healthz",
        "/no-such-page",
    ]
    for path in pages:
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "script-src 'self'" in csp, path
        assert "frame-ancestors 'none'" in csp, path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin", path
        assert headers["X-Frame-Options"] == "DENY", path
        assert "Strict-Transport-Security" not in headers  # only in production
    email = client.get("/editor/outbox/1/html").headers
    assert email["Content-Security-Policy"].startswith("sandbox")


def test_hsts_in_production(monkeypatch, tmp_path):
    from portal import create_app

    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PUBLIC_URL", "https://interviews.example.org")
    monkeypatch.setenv("SECRET_KEY", "Zq7r-K2vX9pLmA4tWc8yBn0eHs5dFgJ1uRo6iVk3")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite3'}"})
    assert (
        "max-age=31536000" in app.test_client().get("/healthz").headers["Strict-Transport-Security"]
    )


def test_a_500_shows_a_reference_that_is_in_the_log(app, client, caplog):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/explode")
    def explode():
        raise RuntimeError("secret configuration detail")

    caplog.set_level(logging.ERROR, logger="portal.errors")
    response = client.get("/explode")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side" in page
    assert "secret configuration detail" not in page and "Traceback" not in page
    reference = page.split('class="reference">')[1].split("<")[0]
    assert reference in caplog.text
    assert "secret configuration detail" in caplog.text  # the traceback is logged
    # The reference is the request's id: in the response's header (and so in the
    # access log) and on every line the request logged.
    assert response.headers["X-Request-Id"] == reference
    assert [r.request_id for r in caplog.records] == [reference]


def test_an_error_page_offers_the_latest_interviews_and_survives_a_broken_database(app, client):
    from sqlalchemy import text

    from portal.extensions import db
    from portal.workflow import State
    from tests.factories import submission_in

    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/explode-in-the-database")
    def explode_in_the_database():
        db.session.execute(text("SELECT * FROM no_such_table"))

    @app.route("/explode-with-no-database")
    def explode_with_no_database():
        raise RuntimeError("the database went away")

    with app.app_context():
        title = submission_in(State.PUBLISHED).interview.title
    page = client.get("/explode-in-the-database").get_data(as_text=True)
    assert "Something went wrong on our side" in page and title in page  # after a rollback
    assert 'role="search"' in page

    from portal.publishing import loading

    def gone(*_args, **_kwargs):
        from sqlalchemy.exc import OperationalError

        raise OperationalError("SELECT", {}, Exception("unable to open database file"))

    loading_listing, loading.listing = loading.listing, gone
    try:
        response = client.get("/explode-with-no-database")
    finally:
        loading.listing = loading_listing
    page = response.get_data(as_text=True)
    assert response.status_code == 500 and "Something went wrong on our side" in page
    assert 'role="search"' in page and "Go to the home page" in page


def test_every_response_names_its_request(app, client):
    first = client.get("/healthz").headers["X-Request-Id"]
    second = client.get("/healthz").headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{16}", first) and first != second
    # nginx's $request_id, passed on, is kept: one id from the proxy to the app.
    given = client.get("/healthz", headers={"X-Request-Id": "5f1c2a9be03d4e7f"})
    assert given.headers["X-Request-Id"] == "5f1c2a9be03d4e7f"
    forged = client.get("/healthz", headers={"X-Request-Id": "<script>alert(1)</script> two"})
    assert re.fullmatch(r"[0-9a-f]{16}", forged.headers["X-Request-Id"])
    # A request refused before any view (an expired form) still has its id.
    refused = client.post(
        "/editor/login", data={"email": "a@b.c"}, headers={"X-Request-Id": "5f1c2a9be03d4e80"}
    )
    assert refused.status_code == 400 and refused.headers["X-Request-Id"] == "5f1c2a9be03d4e80"


def test_gunicorn_with_the_shipped_config_serves_healthz(app, database_url):
    port = free_port()
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        SECRET_KEY="Gx4n-T8wQ2zLp7RmV1cYb5KsE9hJa3dUo6fN0iWq",
        PORTAL_ENV="production",
        PUBLIC_URL="https://interviews.example.org",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15",
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    assert b'"ok"' in r.read()
                    assert "max-age" in r.headers["Strict-Transport-Security"]
                    break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.2)
        # /metrics adds up both workers' counts, whichever answers the scrape.
        for _ in range(20):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).close()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as scraped:
            metrics = scraped.read().decode()
        counted = re.search(
            r'^portal_request_seconds_count\{endpoint="publishing.healthz",method="GET"\} (\S+)$',
            metrics,
            re.M,
        )
        assert counted and float(counted.group(1)) >= 21, metrics[-2000:]
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    # The access log: when, the request, its status, how long it took, its id.
    [line] = [x for x in (out + err).decode().splitlines() if "GET /healthz" in x][:1]
    rid = r.headers["X-Request-Id"]
    assert re.search(rf'\[[^]]+\] "GET /healthz HTTP/1.1" 200 \d+ \d+ms .* rid={rid}$', line), line


def test_production_refuses_per_worker_rate_limits():
    env = dict(
        os.environ,
        PORTAL_ENV="production",
        PUBLIC_URL="https://interviews.example.org",
        SECRET_KEY="Gx4n-T8wQ2zLp7RmV1cYb5KsE9hJa3dUo6fN0iWq",
        GUNICORN_WORKERS="3",
        GUNICORN_BIND=f"127.0.0.1:{free_port()}",
    )
    env.pop("RATELIMIT_STORAGE_URI", None)
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--check-config", "wsgi:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "rate limits are counted in memory with 3 workers" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
