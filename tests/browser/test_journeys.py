"""The three journeys, in Chromium: an applicant on a phone, an editor at a desk,
a reader arriving from a link. Mail goes through the real worker to the suite's
SMTP server, and every link the applicant follows comes out of an email."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, EDITOR, PHONE, Portal, act, log_in

APPLICANT = "nadia.okafor@example.com"
BUSINESS = "Tidewater Kayak Hire"


def fill_application(page: Page, answer: str) -> None:
    page.fill("#name", "Nadia Okafor")
    page.fill("#email", APPLICANT)
    page.fill("#business", BUSINESS)
    page.fill("#website", "https://tidewater.test")
    page.fill("#location", "Cork")
    page.select_option("#industry", index=1)
    page.fill("#pitch", "Sunrise paddles on the harbour, booked mostly through Instagram.")
    page.fill("#social_instagram", "@tidewaterkayaks")
    for n, box in enumerate(page.locator("textarea[id^=q]").all()):
        box.fill(f"{answer} (answer {n + 1}). We post a short video every morning.")
    page.check("#consent")
    page.check("#privacy")


def test_applicant_and_editor_journeys(portal: Portal, open_page, watch):
    # The applicant, on a phone, from the home page's call to action.
    phone = open_page(PHONE)
    phone.goto(portal.url("/"))
    phone.get_by_role("link", name="Apply to be featured").first.click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Apply to be featured")
    fill_application(phone, "We hire out sea kayaks")
    phone.get_by_role("button", name="Send my application").click()
    expect(phone.locator(".receipt")).to_be_visible()
    received = portal.mail(APPLICANT, "We received your application")
    status_link = portal.link_in(received, "/status/")
    phone.goto(status_link)
    expect(phone.get_by_role("heading", level=1)).to_have_text(BUSINESS)

    # The editor: log in, find it with the queue's search, start the review and
    # ask for a change to one answer.
    desk = open_page(DESKTOP)
    log_in(desk, portal)
    desk.fill("#q", "Tidewater")
    desk.locator("form[role=search] button[type=submit]").click()
    desk.get_by_role("link", name="Nadia Okafor").click()
    submission_page = desk.url
    act(desk, "start_review")
    form = desk.locator("form[action$='/actions/request_changes']")
    form.locator("textarea[name=message]").fill("Could you say how many kayaks you have?")
    form.locator("summary").click()
    form.locator("textarea[id^=req]").first.fill("Add the size of the fleet here.")
    form.locator("button[type=submit]").click()
    expect(desk.locator("body")).to_contain_text("Changes requested")

    # The applicant revises from the email's link.
    asked = portal.mail(APPLICANT, "A few changes to your application")
    phone.goto(portal.link_in(asked, "/status/"))
    expect(phone.locator("body")).to_contain_text("Changes requested")
    phone.get_by_role("link", name="Revise my application").click()
    expect(phone.locator("body")).to_contain_text("Add the size of the fleet here.")
    first = phone.locator("textarea[id^=q]").first
    first.fill("We hire out twelve sea kayaks from the harbour slipway.")
    phone.get_by_role("button", name="Send my revised answers").click()
    expect(phone.locator(".flash")).to_contain_text("revised answers are with the editors")

    # The editor reads the difference, approves and edits the draft.
    desk.reload()
    changes = desk.locator("#changes")
    expect(changes.locator("ins").first).to_contain_text("twelve")
    if desk.locator("form[action$='/actions/start_review']").count():
        act(desk, "start_review")  # a revision comes back to the queue
    act(desk, "approve")
    desk.get_by_role("link", name="Edit the draft").click()
    desk.fill("#title", "Paddling into the feed with Tidewater")
    desk.fill("#intro_md", "Nadia rents kayaks by the *harbour*.")
    desk.fill("#tags", "Outdoors, Video")
    desk.fill("#pull_quote", "We post a short video every morning.")
    desk.get_by_role("button", name="Save the draft").click()
    expect(desk.locator(".flash")).to_be_visible()
    desk.goto(submission_page + "/preview")
    expect(desk.get_by_role("heading", level=1)).to_have_text(
        "Paddling into the feed with Tidewater"
    )
    desk.goto(submission_page)
    act(desk, "send_proof", "Here is your interview; sign it off when you are happy.")

    # The applicant signs the proof off.
    proof = portal.mail(APPLICANT, "ready for your sign-off")
    phone.goto(portal.link_in(proof, "/status/"))
    phone.locator("form[action$='/actions/sign_off'] button[type=submit]").click()
    expect(phone.locator("body")).to_contain_text("Thank you for signing off")

    # The editor schedules it for tomorrow: not public yet, no "live" email...
    desk.goto(submission_page)
    tomorrow = datetime.now(ZoneInfo("Europe/London")) + timedelta(days=1)
    desk.fill("#publish_at", tomorrow.strftime("%Y-%m-%dT%H:%M"))
    act(desk, "publish")
    # Every screen says it is scheduled, in the site's own time.
    when = tomorrow.strftime("%a %-d %b %Y, %H:%M") + " (Europe/London)"
    expect(desk.locator(".flash")).to_contain_text(f"Scheduled: it goes live {when}")
    expect(desk.locator(".status-badge")).to_have_text(f"Scheduled for {when}")
    expect(desk.get_by_role("link", name="Public page")).to_have_count(0)
    phone.reload()
    expect(phone.locator(".status-badge")).to_have_text(f"Scheduled for {when}")
    assert (
        desk.request.get(portal.url("/interviews/paddling-into-the-feed-with-tidewater")).status
        == 404
    )
    # ...then changes their mind: calls the schedule off and publishes it now.
    act(desk, "cancel_schedule")
    act(desk, "publish")
    expect(desk.get_by_role("link", name="Public page")).to_be_visible()

    # The applicant opens the interview from the "you're live" email.
    live = portal.mail(APPLICANT, "Your interview is live")
    phone.goto(portal.link_in(live, "/interviews/"))
    expect(phone.get_by_role("heading", level=1)).to_have_text(
        "Paddling into the feed with Tidewater"
    )
    expect(phone.locator("main")).to_contain_text("twelve sea kayaks")
    watch.assert_clean()


def test_reader_journey(portal: Portal, open_page, watch):
    """Search, open an interview, follow its tag (the editor journey published one)."""
    page = open_page(PHONE)
    page.goto(portal.url("/"))
    page.get_by_role("link", name="Search").first.click()
    page.fill("input[name=q]", "kayaks harbour")
    page.keyboard.press("Enter")
    expect(page.locator("mark").first).to_be_visible()
    page.get_by_role("link", name="Paddling into the feed with Tidewater").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Paddling into the feed with Tidewater"
    )
    page.locator(".tags a", has_text="Outdoors").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Outdoors")
    expect(page.get_by_role("link", name="Paddling into the feed with Tidewater")).to_be_visible()
    page.goto(portal.url("/feed.atom"))
    watch.assert_clean()


def test_an_editor_filters_the_queue_on_a_phone_too(portal: Portal, open_page, watch):
    page = open_page(PHONE)
    log_in(page, portal, EDITOR)
    page.get_by_role("link", name=re.compile("Published")).first.click()
    expect(page.locator("main")).to_contain_text(BUSINESS)
    watch.assert_clean()
