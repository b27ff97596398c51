"""The newsletter, walked in Chromium: a reader subscribes on a phone from the
home page, confirms from the email, gets the next interview as it goes live
with working one-click unsubscribe headers, unsubscribes the way a mail
program does, and gets nothing from the publication after that."""

from __future__ import annotations

import os
import re
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from portal import create_app
from portal.extensions import db
from portal.workflow import State
from tests.browser.conftest import ADMIN, DESKTOP, PHONE, Portal, act, log_in
from tests.browser.test_accessibility import seeded  # noqa: F401 (the demo content)
from tests.factories import submission_in

pytestmark = pytest.mark.database_independent

READER = "reader.of.interviews@example.net"
DEMO_READER = "reader2@example.com"  # a demo subscriber who gets every interview


def _screenshot(page, name: str) -> None:
    """For the README: `SCREENSHOTS=docs/screenshots .venv/bin/python -m pytest tests/browser/test_subscribing.py` keeps them."""
    folder = os.environ.get("SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, name), full_page=True)


def _one_click(link: str) -> int:
    """What a mail program does with List-Unsubscribe-Post (RFC 8058): a POST of
    "List-Unsubscribe=One-Click" to the address, with no cookie and no token."""
    request = urllib.request.Request(
        link,
        data=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (our portal)
        return response.status


def test_subscribe_confirm_receive_and_unsubscribe_in_one_click(
    seeded: Portal,  # noqa: F811
    open_page,
):
    portal = seeded
    phone = open_page(PHONE)
    phone.goto(portal.url("/"))
    box = phone.locator("section.subscribe")
    box.get_by_label("Your email address").fill(READER)
    box.get_by_label("Every new interview").check()
    _screenshot(phone, "newsletter-phone.png")
    box.get_by_role("button", name="Subscribe").click()
    expect(phone.locator("h1")).to_have_text("Check your inbox")

    confirmation = portal.mail(READER, "Confirm your subscription")
    phone.goto(portal.link_in(confirmation, "/subscribe/confirm/"))
    phone.get_by_role("button", name="Yes, subscribe me").click()
    expect(phone.get_by_role("status")).to_contain_text("You're subscribed")

    # An admin publishes the proof that waits for its sign-off.
    desk = open_page(DESKTOP)
    log_in(desk, portal, ADMIN)
    desk.fill("#q", "Priya Raman")
    desk.locator("form[role=search] button[type=submit]").click()
    desk.get_by_role("link", name="Priya Raman").first.click()
    act(desk, "skip_signoff", "She said yes on the phone.")
    act(desk, "publish")
    expect(desk.locator(".flash, [role=status]").first).to_be_visible()

    issue = portal.mail(READER, "New interview:")
    assert "Priya Raman" in issue.text
    header = issue.message["List-Unsubscribe"]
    assert issue.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.fullmatch(r"<(.+)>", header).group(1)
    assert link.startswith(portal.url("/unsubscribe/")) and link in issue.text
    assert _one_click(link) == 200
    phone.goto(link)
    expect(phone.locator("main")).to_contain_text("gets nothing from us")

    # The next publication reaches the other subscribers, not this one.
    app = create_app({"SQLALCHEMY_DATABASE_URI": portal.database_url, "SECRET_KEY": "x" * 40})
    with app.app_context():
        submission_in(State.PUBLISHED, name="Next Interviewee", business="Afterwards Ltd")
        db.session.commit()
        db.engine.dispose()
    deadline = time.monotonic() + 30
    while not any("Afterwards Ltd" in m.text for m in portal.inbox.to(DEMO_READER)):
        assert time.monotonic() < deadline, "the next issue did not reach the other subscribers"
        time.sleep(0.2)
    time.sleep(1)  # the worker sends the rest of the batch
    assert [m.subject for m in portal.inbox.to(READER)] == [
        confirmation.subject,
        issue.subject,
    ]

    # The admins' page: the counts and the latest issues.
    desk.goto(portal.url("/editor/newsletter"))
    expect(desk.locator("h1")).to_have_text("Newsletter")
    expect(desk.locator(".counts")).to_contain_text("unsubscribed")
    expect(desk.locator("table tbody tr").first).to_contain_text("written")
    _screenshot(desk, "newsletter-admin.png")
