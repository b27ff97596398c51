"""Every editor and admin route, for anonymous, editor, admin and deactivated
users, with GET and POST: who gets in, who is sent to log in, who is refused."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from portal.extensions import db
from portal.models import (
    AfterRequest,
    Opinion,
    OutboxEmail,
    Question,
    ReplyPreset,
    Submission,
    User,
)
from portal.workflow import State
from tests.conftest import csrf_token, login, make_user
from tests.factories import submission_in

PUBLIC = {
    "review.login",
    "review.login_code",
    "review.set_password",
    "review.forgot",
    "review.unsubscribe_digest",  # by its signed link; tests in test_email_format.py
}
ADMIN_ONLY = {
    "review.team",
    "review.member_role",
    "review.member_deactivate",
    "review.member_reactivate",
    "review.member_password_link",
    "review.member_two_factor_reset",
    "review.team_two_factor",
    "review.presets",
    "review.preset_delete",
    "review.preset_edit",
    "review.questions",
    "review.question",
    "review.question_reorder",
    "review.question_retire",
    "review.question_restore",
    "review.privacy",
    "review.newsletter_page",
    "review.newsletter_csv",
}
WHO = ("anonymous", "editor", "admin", "deactivated")


def staff_routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, rule, method) for every route under /editor."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/editor") or rule.endpoint in PUBLIC:
            continue
        for method in sorted(rule.methods & {"GET", "POST"}):
            routes.append((rule.endpoint, rule.rule, method))
    return sorted(routes)


def _world(app):
    """One of everything a route can point at."""
    # This file logs in hundreds of times; the login limits have their own tests.
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "100000 per minute"
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "100000 per minute"
    make_user(app, email="admin@portal.test", name="Ada Admin", role="admin")
    make_user(app)  # editor@portal.test
    make_user(app, email="gone@portal.test", name="Gone Editor")
    with app.app_context():
        submission = submission_in(State.APPROVED)
        db.session.add(ReplyPreset(action="reject", title="T", body="B"))
        submission.after_requests.append(AfterRequest(kind="correction", message="Typo."))
        asked = db.session.scalar(select(User).where(User.email == "editor@portal.test"))
        submission.opinions.append(Opinion(editor=asked, question="Yours?"))
        db.session.commit()
        ids = {
            "submission_id": submission.id,
            "email_id": db.session.scalar(select(OutboxEmail.id)),
            "user_id": db.session.scalar(select(User.id).where(User.email == "gone@portal.test")),
            "preset_id": db.session.scalar(select(ReplyPreset.id)),
            "question_id": db.session.scalar(select(Question.id)),
            "request_id": db.session.scalar(select(AfterRequest.id)),
            "opinion_id": db.session.scalar(select(Opinion.id)),
            "action": "send_proof",
            "direction": "up",
        }
    return ids


def _url(rule: str, ids: dict, missing: bool = False) -> str:
    def fill(match):
        name = match.group(1).split(":")[-1]
        if missing and name.endswith("_id"):
            return "987654"
        return str(ids[name])

    return re.sub(r"<([^>]+)>", fill, rule)


def _client_for(app, who: str):
    client = app.test_client()
    if who == "editor":
        login(client)
    elif who == "admin":
        login(client, email="admin@portal.test")
    elif who == "deactivated":
        with app.app_context():
            db.session.execute(
                update(User).where(User.email == "gone@portal.test").values(active=True)
            )
            db.session.commit()
        login(client, email="gone@portal.test")
        with app.app_context():
            db.session.execute(
                update(User).where(User.email == "gone@portal.test").values(active=False)
            )
            db.session.commit()
    return client


def test_the_matrix(app):
    ids = _world(app)
    routes = staff_routes(app)
    assert len(routes) >= 25, routes  # the matrix covers the whole workspace
    results = []
    signed_in = {}  # one login per role; logging out asks for a new one
    for who in WHO:
        for endpoint, rule, method in routes:
            if who not in signed_in:
                client = _client_for(app, who)
                signed_in[who] = client, csrf_token(client, "/apply")
            client, token = signed_in[who]
            url = _url(rule, ids)
            if method == "GET":
                response = client.get(url)
            else:
                response = client.post(url, data={"csrf_token": token})
            status = response.status_code
            location = response.headers.get("Location", "")
            to_login = status == 302 and location.startswith("/editor/login")
            if who in ("anonymous", "deactivated"):
                ok = to_login
            elif endpoint == "review.logout":
                ok = to_login  # logged out, as asked
            elif who == "editor" and endpoint in ADMIN_ONLY:
                ok = status == 403
            else:
                ok = not to_login and status not in (403, 500)
            results.append((who, method, rule, status, ok))
            if endpoint == "review.logout":
                del signed_in[who]
            # Put back what a POST changed, so every row starts from the same world.
            with app.app_context():
                db.session.execute(
                    update(User).where(User.email != "gone@portal.test").values(active=True)
                )
                db.session.commit()
    failures = [r for r in results if not r[-1]]
    assert failures == [], failures
    assert len(results) == len(WHO) * len(routes)


def test_ids_that_do_not_exist_are_404(app):
    ids = _world(app)
    client = _client_for(app, "admin")
    for _endpoint, rule, method in staff_routes(app):
        if method != "GET" or "_id>" not in rule:
            continue
        assert client.get(_url(rule, ids, missing=True)).status_code == 404, rule


# The draft editor's forms check their own token, so that one left open past it
# comes back with what was typed (the draft page, its autosave, its preview).
OWN_TOKEN_CHECK = {"review.draft": 200, "review.autosave": 422, "review.preview": 422}


@pytest.mark.parametrize("who", ["editor", "admin"])
def test_a_forged_post_without_csrf_is_400(app, who):
    ids = _world(app)
    client = _client_for(app, who)
    for endpoint, rule, method in staff_routes(app):
        if method != "POST":
            continue
        if endpoint in OWN_TOKEN_CHECK:
            response = client.post(_url(rule, ids), data={"title": "Forged title"})
            assert response.status_code == OWN_TOKEN_CHECK[endpoint], rule
            with app.app_context():
                title = db.session.get(Submission, ids["submission_id"]).interview.title
            assert title != "Forged title", rule
            continue
        assert client.post(_url(rule, ids), data={}).status_code == 400, rule
