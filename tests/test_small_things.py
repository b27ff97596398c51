"""Issue 21's rough edges, each pinned (the spam blocklist, the error summary
and the share texts have theirs in test_spam, test_submissions and
test_notifications)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal import create_app, operations
from portal.clock import utcnow
from portal.config import ConfigError
from portal.extensions import db
from portal.models import Tag
from portal.workflow import State
from tests.conftest import login, post_form
from tests.factories import actor_for, submission_in

STRONG_KEY = "Zq7r-K2vX9pLmA4tWc8yBn0eHs5dFgJ1uRo6iVk3"


def test_an_admin_is_not_offered_to_deactivate_themselves_and_is_told_why(app, client, admin):
    login(client, email="admin@portal.test")
    page = client.get("/editor/team").get_data(as_text=True)
    assert f"/editor/team/{admin}/deactivate" not in page
    assert "another admin can deactivate your account" in page
    response = post_form(client, "/editor/team", {}, action=f"/editor/team/{admin}/deactivate")
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "You can&#39;t deactivate yourself" in body and "<h1>Team</h1>" in body


@pytest.mark.parametrize("url", ["http://127.0.0.1:5000", "http://localhost:8000"])
def test_production_refuses_a_public_url_on_this_machine(monkeypatch, url):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    monkeypatch.setenv("PUBLIC_URL", url)
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_the_bulk_confirmation_lists_only_what_the_action_applies_to(app, client, editor):
    with app.app_context():
        draft, _ = operations.apply(
            operations.Profile(name="Unsent Draftwriter", email="d@x.example", business="B"),
            {},
            submit=False,
        )
        real = submission_in(State.SUBMITTED)
        ids = [str(draft.id), str(real.id)]
        real_name = real.name
    login(client)
    data = {"ids": ids, "action": "mark_spam", "assignee": ""}
    page = post_form(client, "/editor/", data, action="/editor/bulk").get_data(as_text=True)
    assert real_name in page and "Unsent Draftwriter" not in page
    assert "these 1 submissions" not in page


def test_a_tag_used_only_by_interviews_not_live_is_404(app, client):
    with app.app_context():
        scheduled = submission_in(State.READY)
        scheduled.interview.tags = [Tag(name="Only Tomorrow", slug="only-tomorrow")]
        db.session.commit()
        later = utcnow() + timedelta(days=1)
        operations.publish(scheduled, actor_for(operations.Action.PUBLISH), when=later)
    assert client.get("/tags/only-tomorrow").status_code == 404


def test_an_if_modified_since_in_the_future_is_ignored(app, client):
    with app.app_context():
        submission_in(State.PUBLISHED)
    future = "Tue, 01 Jan 2999 00:00:00 GMT"
    for path in ("/", "/no-such-page-either", "/feed.atom"):
        response = client.get(path, headers={"If-Modified-Since": future})
        assert response.status_code != 304, path


def test_the_bulk_confirmation_leaves_out_what_the_action_cannot_apply_to(app, client, editor):
    with app.app_context():
        received = submission_in(State.SUBMITTED)
        held = submission_in(State.SUBMITTED)
        operations.mark_spam(held, actor_for(operations.Action.MARK_SPAM))
        ids, received_name, held_name = [str(received.id), str(held.id)], received.name, held.name
    login(client)
    data = {"ids": ids, "action": "release", "assignee": ""}
    page = post_form(client, "/editor/", data, action="/editor/bulk").get_data(as_text=True)
    assert held_name in page and received_name not in page
    assert "Release this submission from spam?" in page
    nothing = {"ids": [ids[0]], "action": "release", "assignee": ""}
    response = post_form(client, "/editor/", nothing, action="/editor/bulk", follow_redirects=True)
    assert "Nothing to do" in response.get_data(as_text=True)


def test_a_bad_photo_is_in_the_error_summary_with_the_other_errors(app, client):
    import io

    from tests.conftest import application

    form = application(app, name="")
    form["photo"] = (io.BytesIO(b"not an image at all"), "notes.txt")
    page = post_form(client, "/apply", form, content_type="multipart/form-data").get_data(
        as_text=True
    )
    start = page.index('class="error-summary"')
    summary = page[start : page.index("</ul>", start)]
    assert 'href="#name"' in summary and 'href="#photo"' in summary


def test_a_name_ending_in_a_full_stop_gets_no_second_one(app, client, inbox):
    """'Thank you, José Álvarez, Jr.' and 'Acme Co.', not 'Jr..' and 'Co..'."""
    from portal.notifications.delivery import deliver_due
    from tests.conftest import application

    data = application(app, name="José Álvarez, Jr.", business="Álvarez Tiles Co.")
    response = post_form(client, "/apply", data, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "José Álvarez, Jr. Your application" in page and "Jr.." not in page
    with app.app_context():
        deliver_due()
    mails = inbox.to(data["email"])
    assert mails and all("Co.." not in m.text + m.html for m in mails)
    assert any("Álvarez Tiles Co." in m.text for m in mails)


def test_the_site_has_an_icon_where_browsers_look_for_it(client):
    """No 404 for /favicon.ico on every visit, and every page names its icons."""
    with client.get("/favicon.ico") as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/x-icon"
        assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
        assert "max-age=604800" in icon.headers["Cache-Control"]
    page = client.get("/").get_data(as_text=True)
    for link in re.findall(r'<link rel="(?:icon|apple-touch-icon)" href="([^"]+)"', page):
        with client.get(link) as linked:
            assert linked.status_code == 200, link
    assert page.count('rel="icon"') == 2 and 'rel="apple-touch-icon"' in page
