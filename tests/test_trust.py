"""The security review's findings, each pinned: private pages are not stored,
tokens stay out of logs, production is production, hostile input gets an
answer rather than a 500, and login takes as long for a stranger."""

from __future__ import annotations

import json
import logging
import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from sqlalchemy import select

from portal import accounts, create_app
from portal.config import ConfigError
from portal.extensions import db
from portal.models import OutboxEmail, StatusToken, Submission, User
from portal.security import redact
from portal.workflow import State
from tests.conftest import csrf_token, login, post_form
from tests.factories import submission_in

ROOT = Path(__file__).resolve().parent.parent
STRONG_KEY = "Zq7r-K2vX9pLmA4tWc8yBn0eHs5dFgJ1uRo6iVk3"


def test_private_pages_are_never_stored_and_public_ones_still_are(app, client, editor):
    with app.app_context():
        s = submission_in(State.PUBLISHED)
        token = StatusToken.issue(s)
        db.session.commit()
        slug, sid = s.interview.slug, s.id
    for path in ("/apply", f"/status/{token}", f"/status/{token}/erase", "/status/resend"):
        assert "no-store" in client.get(path).headers["Cache-Control"], path
    login(client)
    for path in ("/editor/", f"/editor/submissions/{sid}", "/editor/outbox", "/editor/account"):
        assert "no-store" in client.get(path).headers["Cache-Control"], path
    reader = app.test_client()
    for path in ("/", f"/interviews/{slug}"):
        control = reader.get(path).headers["Cache-Control"]
        assert "public" in control and "no-store" not in control, path


def test_tokens_are_replaced_in_what_is_logged(app, client, caplog):
    assert redact("/status/AbC-123_xyz/erase") == "/status/[token]/erase"
    assert redact("/editor/set-password/AbC-123") == "/editor/set-password/[token]"
    assert redact("/status/resend") == "/status/resend"
    assert redact("/editor/unsubscribe/digest/eyJhI.x-Y") == "/editor/unsubscribe/digest/[token]"
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/status/<token>/explode")
    def explode(token):
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="portal.errors"):
        assert client.get("/status/s3cr3t-t0ken/explode").status_code == 500
    assert "s3cr3t-t0ken" not in caplog.text and "/status/[token]/explode" in caplog.text


def test_the_access_log_replaces_tokens(monkeypatch):
    # The config sets the metrics folder for the server it configures: not here.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    if settings.get("_made_metrics_dir"):
        settings["on_exit"](None)
    logger = settings["logger_class"](Config())
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/status/s3cr3t-t0ken?x=1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": "/status/s3cr3t-t0ken",
        "HTTP_REFERER": "https://site.example/editor/set-password/an0ther",
    }
    response = SimpleNamespace(status="200 OK", headers=[], sent=10)
    atoms = logger.atoms(response, [], environ, timedelta(milliseconds=3))
    assert "s3cr3t-t0ken" not in repr(atoms) and "an0ther" not in repr(atoms)
    assert atoms["r"] == "GET /status/[token]?x=1 HTTP/1.1"


@pytest.mark.parametrize("value", ["Production", "prod", "staging"])
def test_an_unknown_environment_name_stops_start_up(monkeypatch, value):
    monkeypatch.setenv("PORTAL_ENV", value)
    with pytest.raises(ConfigError, match="PORTAL_ENV"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


@pytest.mark.parametrize("key", ["a", "short-but-not-32", "k" * 40])
def test_production_refuses_a_weak_secret_key(monkeypatch, key):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PUBLIC_URL", "https://interviews.example.org")
    monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    assert create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["ENV_NAME"] == "production"


def test_demo_seed_refuses_in_production(app):
    app.config["ENV_NAME"] = "production"
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code != 0 and "not for production" in result.output
    with app.app_context():
        assert db.session.scalar(select(User.id)) is None


def test_a_json_body_is_refused_not_a_500(app, client):
    token = csrf_token(client, "/apply")
    response = client.post(
        "/apply",
        data=json.dumps({"name": 1, "csrf_token": token}),
        content_type="application/json",
    )
    assert response.status_code in (400, 415)


def test_numbers_too_large_for_the_database_are_404_or_ignored(app, client, editor):
    huge = "9" * 25
    assert client.get(f"/sitemap-{huge}.xml").status_code == 404
    login(client)
    assert client.get(f"/editor/submissions/{huge}").status_code == 404
    assert client.get(f"/editor/outbox/{huge}").status_code == 404
    assert client.get(f"/editor/?page={huge}").status_code == 200
    assert client.get(f"/editor/outbox?page={huge}").status_code == 200
    with app.app_context():
        sid = submission_in(State.SUBMITTED).id
    bulk = {"ids": [huge, str(sid)], "action": "assign", "assignee": huge}
    assert post_form(client, "/editor/", bulk, action="/editor/bulk").status_code == 302
    with app.app_context():
        version = db.session.get(Submission, sid).version
    assign = {"assignee": huge, "version": str(version)}
    response = post_form(client, "/editor/", assign, action=f"/editor/submissions/{sid}/assign")
    assert response.status_code == 302


def test_a_login_for_an_unknown_address_checks_a_hash_too(app, editor, monkeypatch):
    # Equal work, so equal time (benchmarks/login_timing.py measures it): a hash
    # is checked whether or not the address belongs to anyone.
    checked = []
    real = accounts.check_password_hash
    monkeypatch.setattr(accounts, "check_password_hash", lambda *a: checked.append(1) or real(*a))
    monkeypatch.setattr(
        "portal.models.check_password_hash", lambda *a: checked.append(1) or real(*a)
    )
    with app.app_context():
        assert accounts.authenticate("nobody@portal.test", "a password") is None
        assert accounts.authenticate("editor@portal.test", "a wrong password") is None
        assert accounts.authenticate("EDITOR@portal.test", "correct horse battery").id == editor
    assert len(checked) == 3


def _emails_to(app, address: str) -> int:
    with app.app_context():
        return db.session.query(OutboxEmail).filter(OutboxEmail.to_address == address).count()


def test_saving_for_later_cannot_flood_an_address(app, client):
    app.config["EMAIL_LIMIT_PER_RECIPIENT"] = "3 per hour"
    victim = "victim@elsewhere.example"
    # Each save makes a draft and its email: past the limit, drafts are still
    # kept, but nothing more is sent to the address.
    for n in range(6):
        post_form(client, "/apply", {"name": f"Prank {n}", "email": victim, "save": "1"})
    assert _emails_to(app, victim) == 3
    # A draft to a fresh address past the client's limit is still kept, unmailed.
    app.config["EMAIL_LIMIT_PER_CLIENT"] = "1 per hour"
    post_form(client, "/apply", {"name": "First", "email": "first@x.example", "save": "1"})
    response = post_form(client, "/apply", {"name": "Kept", "email": "kept@x.example", "save": "1"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "We did not email you this time" in page and "emailed you a link" not in page
    assert _emails_to(app, "kept@x.example") == 0


def test_resend_and_apply_count_per_client_too(app, client):
    app.config["EMAIL_LIMIT_PER_CLIENT"] = "2 per hour"
    with app.app_context():
        submission_in(State.SUBMITTED, email="known@shop.example")
        db.session.commit()
    before = _emails_to(app, "known@shop.example")
    for address in ("known@shop.example", "other@shop.example", "known@shop.example"):
        response = post_form(client, "/status/resend", {"email": address}, follow_redirects=True)
        assert "If we have an application from that address" in response.get_data(as_text=True)
    with app.app_context():
        from portal.notifications.emails import answer_resend_requests

        answer_resend_requests()
    # Two requests counted; the third asked too often from this client.
    assert _emails_to(app, "known@shop.example") == before + 1


def test_a_refused_action_on_an_erased_submission_is_an_answer_not_a_500(app, client, editor):
    from portal import operations

    with app.app_context():
        submission = submission_in(State.IN_REVIEW)
        sid = submission.id
        operations.erase(submission)
    login(client)
    page = f"/editor/submissions/{sid}"
    response = post_form(
        client, page, {"message": "x" * 20_000}, action=f"{page}/actions/request_changes"
    )
    assert response.status_code in (400, 409)


def test_two_drafts_taking_one_address_at_once_is_a_conflict_not_a_500(
    app, client, editor, monkeypatch
):
    from portal import interviews
    from tests.conftest import draft_data

    with app.app_context():
        first = submission_in(State.APPROVED)
        second = submission_in(State.APPROVED)
        taken, sid = first.interview.slug, second.id
    login(client)
    # The race: the other draft takes the address between our check and our save.
    monkeypatch.setattr(interviews, "slug_owner", lambda slug: None)
    page = f"/editor/submissions/{sid}/draft"
    response = post_form(client, page, draft_data(app, sid, slug=taken))
    assert response.status_code == 409
    assert "save again" in response.get_data(as_text=True)
