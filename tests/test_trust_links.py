"""What a visitor learns from /apply, and how long a status link opens anything:
the same answer for a known address as for a new one, one application per
form however often it is posted, links that end when they should."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from portal import operations
from portal.clock import frozen, utcnow
from portal.extensions import db
from portal.models import OutboxEmail, StatusToken, Submission
from portal.workflow import State
from tests.conftest import application, hidden_value, login, post_form
from tests.factories import submission_in


def _count(app, model=Submission, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _shape(client, response) -> tuple[int, str]:
    """What the visitor sees: the status code and the page it leads to, with the
    parts that differ between any two applications taken out."""
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    page = re.sub(r"/status/[A-Za-z0-9_-]+", "/status/T", page)
    page = re.sub(r'value="[^"]*"', 'value=""', page)
    page = re.sub(r"[\w.+-]+@shop\.example", "ADDRESS", page)
    page = re.sub(r"\d\d:\d\d(:\d\d)?", "TIME", page)  # two posts can straddle a minute
    return response.status_code, page


def test_apply_answers_a_known_address_as_it_answers_a_new_one(app, client, editor):
    with app.app_context():
        submission_in(State.IN_REVIEW, email="known@shop.example")
        db.session.commit()
    for n, saving in enumerate(({"save": "1"}, {})):
        answers = [
            _shape(client, post_form(client, "/apply", application(app, email=address, **saving)))
            for address in ("known@shop.example", f"fresh{n}@shop.example")
        ]
        assert answers[0] == answers[1]
        assert "already" not in answers[0][1]
    # Nothing typed is turned away: the editors see both and how they are related.
    assert _count(app, Submission, Submission.email == "known@shop.example") == 3
    with app.app_context():
        newest = db.session.scalar(
            select(Submission.id)
            .where(Submission.email == "known@shop.example")
            .order_by(Submission.id.desc())
        )
    login(client)
    page = client.get(f"/editor/submissions/{newest}").get_data(as_text=True)
    assert "Also from this address" in page and page.count("/editor/submissions/") >= 2


def test_a_form_posted_twice_is_one_application_and_one_receipt(app, client):
    page = client.get("/apply").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = dict(application(app), csrf_token=token, shown=hidden_value(page, "shown"))
    first = client.post("/apply", data=data)
    second = client.post("/apply", data=data)
    assert first.status_code == second.status_code == 302
    assert _count(app) == 1
    # The second post's page is the same application, with its receipt.
    shown = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "Tidewater Kayaks" in shown
    receipts = _count(app, OutboxEmail, OutboxEmail.to_address == "rosa@tidewater.example")
    assert receipts == 1
    # The same form sent to another address after all is another application.
    client.post("/apply", data=dict(data, email="someone@else.example"))
    assert _count(app) == 2


def test_a_double_post_that_races_past_the_check_is_still_one_application(app, client, monkeypatch):
    page = client.get("/apply").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = dict(application(app), csrf_token=token, shown=hidden_value(page, "shown"))
    assert client.post("/apply", data=data).status_code == 302
    # The other request looked before the first one committed: it saw nothing.
    real = operations._made_by_form
    looks = []
    monkeypatch.setattr(
        operations,
        "_made_by_form",
        lambda key: real(key) if looks.append(key) or len(looks) > 1 else None,
    )
    second = client.post("/apply", data=data)
    assert second.status_code == 302
    assert "Tidewater Kayaks" in client.get(second.headers["Location"]).get_data(as_text=True)
    assert _count(app) == 1


def _token_for(app, state: State, **fields) -> tuple[int, str]:
    with app.app_context():
        submission = submission_in(state)
        token = StatusToken.issue(submission)
        db.session.commit()
        for name, value in fields.items():
            db.session.execute(
                StatusToken.__table__.update()
                .where(StatusToken.submission_id == submission.id)
                .values({name: value})
            )
        db.session.commit()
        return submission.id, token


def test_a_status_link_ends_after_a_time_without_use_not_while_in_use(app, client):
    days = app.config["STATUS_LINK_DAYS"]
    old = utcnow() - timedelta(days=days + 5)
    _, unused = _token_for(app, State.IN_REVIEW, created_at=old, last_used_at=old)
    assert client.get(f"/status/{unused}").status_code == 404
    recent = utcnow() - timedelta(days=days - 1)
    _, in_use = _token_for(app, State.IN_REVIEW, created_at=old, last_used_at=recent)
    assert client.get(f"/status/{in_use}").status_code == 200
    # Opening it counts as use: the link lives on past the old deadline.
    with frozen(utcnow() + timedelta(days=2)):
        assert client.get(f"/status/{in_use}").status_code == 200


def test_withdrawing_ends_every_link_and_can_erase_at_once(app, client):
    sid, token = _token_for(app, State.SUBMITTED)
    with app.app_context():
        other = StatusToken.issue(db.session.get(Submission, sid))
        db.session.commit()
    response = post_form(
        client,
        f"/status/{token}/withdraw",
        {"confirm": "yes"},
        action=f"/status/{token}/actions/withdraw",
    )
    assert response.status_code == 200
    assert "Your application is withdrawn" in response.get_data(as_text=True)
    assert client.get(f"/status/{token}").status_code == 404
    assert client.get(f"/status/{other}").status_code == 404
    with app.app_context():
        assert db.session.get(Submission, sid).state == State.WITHDRAWN.value
    # Withdraw and erase in one step.
    sid, token = _token_for(app, State.IN_REVIEW)
    response = post_form(
        client,
        f"/status/{token}/withdraw",
        {"confirm": "yes", "erase": "yes"},
        action=f"/status/{token}/actions/withdraw",
    )
    assert "Your application is erased" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Submission, sid).email.endswith("@erased.invalid")


def test_links_from_before_publication_end_a_set_time_after_it(app, client):
    days = app.config["STATUS_LINK_DAYS_AFTER_PUBLICATION"]
    sid, early = _token_for(app, State.PUBLISHED)
    assert client.get(f"/status/{early}").status_code == 200
    later = utcnow() + timedelta(days=days + 1)
    with frozen(later):
        assert client.get(f"/status/{early}").status_code == 404
        # A fresh link, asked for after that, works.
        with app.app_context():
            fresh = StatusToken.issue(db.session.get(Submission, sid))
            db.session.commit()
        assert client.get(f"/status/{fresh}").status_code == 200


def _referer_a_browser_sends(page: str, url: str) -> str | None:
    """The Referer a browser sends with a same-origin form post from `page`,
    by the policy the page asks for (https throughout, so no downgrade)."""
    policy = re.search(r'<meta name="referrer" content="([^"]+)">', page)
    policy = policy.group(1) if policy else "strict-origin-when-cross-origin"
    if policy == "no-referrer":
        return None
    if policy in ("origin", "strict-origin"):
        return re.match(r"https://[^/]+/", url).group(0)
    return url


def test_status_pages_forms_work_over_https_and_never_send_their_address(app, client):
    """Over HTTPS Flask-WTF also asks for a Referer from this site. A private page
    must not send its own address (the token) anywhere, but must send something:
    its origin."""
    secret_pages = []
    for state, page_path, action, data in (
        (State.SUBMITTED, "/withdraw", "/actions/withdraw", {"confirm": "yes"}),
        (State.IN_REVIEW, "/erase", "/erase", {"confirm": "yes"}),
    ):
        _, token = _token_for(app, state)
        url = f"https://portal.test/status/{token}{page_path}"
        page = client.get(url).get_data(as_text=True)
        secret_pages.append(page)
        form_token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page)
        referer = _referer_a_browser_sends(page, url)
        assert referer is not None and token not in referer
        headers = {"Referer": referer}
        response = client.post(
            f"https://portal.test/status/{token}{action}",
            data=dict(data, csrf_token=form_token.group(1)),
            headers=headers,
        )
        assert response.status_code in (200, 302), response.get_data(as_text=True)[:400]
        assert "This form has expired" not in response.get_data(as_text=True)
