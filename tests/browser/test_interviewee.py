"""The promises to an interviewee, walked in Chromium on a phone with an editor at
a desk: nothing they give is lost, what the editors ask reaches them beside their
answers, what they sign off is what goes live, and a live interview changes only
when an editor publishes the change."""

from __future__ import annotations

import time

from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, Portal, act, log_in

APPLICANT = "marisol.vega@example.com"
BUSINESS = "Saltmarsh Candle Works"


def _photo(tmp_path) -> str:
    path = tmp_path / "marisol.jpg"
    Image.new("RGB", (320, 240), (180, 120, 60)).save(path, "JPEG")
    return str(path)


def _reload_until(page, text: str, seconds: float = 5) -> None:
    """Readers see a change within the page cache's check interval (a second)."""
    deadline = time.monotonic() + seconds
    while text not in page.locator("main").inner_text() and time.monotonic() < deadline:
        time.sleep(0.25)
        page.reload()
    expect(page.locator("main")).to_contain_text(text)


def test_promises_to_the_interviewee(portal: Portal, open_page, watch, tmp_path):
    # Apply on a phone with a photo, leaving one answer empty by mistake.
    phone = open_page(PHONE)
    phone.goto(portal.url("/apply"))
    phone.fill("#name", "Marisol Vega")
    phone.fill("#email", APPLICANT)
    phone.fill("#business", BUSINESS)
    answers = phone.locator("textarea[id^=q]").all()
    for n, box in enumerate(answers):
        box.fill(f"We pour soy candles by hand, answer {n + 1}.")
    answers[0].fill("")
    phone.set_input_files("#photo", _photo(tmp_path))
    phone.check("#consent")
    phone.check("#privacy")
    phone.get_by_role("button", name="Send my application").click()
    expect(phone.locator(".error-summary")).to_be_visible()
    # The photo is still there: shown, and sent with the form next time.
    expect(phone.locator(".photo-kept img")).to_be_visible()
    expect(phone.locator(".photo-kept")).to_contain_text("Your photo is kept")
    phone.locator("textarea[id^=q]").first.fill("We pour soy candles by hand, answer 1.")
    phone.get_by_role("button", name="Send my application").click()
    expect(phone.locator(".receipt")).to_be_visible()
    phone.locator(".sent-copy summary").click()
    expect(phone.locator(".sent-copy img")).to_be_visible()

    # The editor asks for changes on two answers.
    desk = open_page(DESKTOP)
    log_in(desk, portal)
    desk.fill("#q", "Saltmarsh")
    desk.locator("form[role=search] button[type=submit]").click()
    desk.get_by_role("link", name="Marisol Vega").click()
    submission_page = desk.url
    act(desk, "start_review")
    form = desk.locator("form[action$='/actions/request_changes']")
    form.locator("textarea[name=message]").fill("Two answers could say a little more.")
    form.locator("summary").click()
    requests = form.locator("textarea[id^=req]")
    questions = [
        form.locator(f"label[for={requests.nth(i).get_attribute('id')}]").inner_text()
        for i in (0, 2)
    ]
    requests.nth(0).fill("How many candles a week?")
    requests.nth(2).fill("Which scent sells best?")
    form.locator("button[type=submit]").click()
    expect(desk.locator("body")).to_contain_text("Changes requested")

    # The email names both questions with the notes; so does the status page.
    asked = portal.mail(APPLICANT, "A few changes to your application")
    for text in (*questions, "How many candles a week?", "Which scent sells best?"):
        assert text in asked.text, text
    phone.goto(portal.link_in(asked, "/status/"))
    expect(phone.locator(".editor-message")).to_contain_text("How many candles a week?")
    expect(phone.locator(".editor-message")).to_contain_text(questions[1])

    # Revising with a form that expired (the session cookie lost) loses nothing.
    phone.get_by_role("link", name="Revise my application").click()
    phone.locator("textarea[id^=q]").first.fill("About four hundred candles a week.")
    phone.context.clear_cookies()
    phone.get_by_role("button", name="Send my revised answers").click()
    expect(phone.locator(".error-summary")).to_contain_text("The form expired")
    expect(phone.locator("textarea[id^=q]").first).to_have_value(
        "About four hundred candles a week."
    )
    phone.get_by_role("button", name="Send my revised answers").click()
    expect(phone.locator(".flash")).to_contain_text("revised answers are with the editors")

    # Approve, proof, sign-off.
    desk.goto(submission_page)
    if desk.locator("form[action$='/actions/start_review']").count():
        act(desk, "start_review")
    act(desk, "approve")
    act(desk, "send_proof", "Here is your proof.")
    proof = portal.mail(APPLICANT, "ready for your sign-off")
    phone.goto(portal.link_in(proof, "/status/"))
    expect(phone.locator(".proof")).to_contain_text("Here is your proof.")
    phone.get_by_role("button", name="Sign it off: publish it as shown").click()
    expect(phone.locator("body")).to_contain_text("Thank you for signing off")

    # An editor changes an answer after the sign-off: a new proof is needed.
    desk.goto(submission_page)
    desk.get_by_role("link", name="Edit the draft").click()
    desk.locator("textarea[id^=a]").first.fill("<p>A sentence they never saw.</p>")
    desk.get_by_role("button", name="Save the draft").click()
    expect(desk.locator(".flash")).to_contain_text("send them a new proof")
    desk.goto(submission_page)
    expect(desk.locator("body")).to_contain_text("Edit after the sign-off")
    expect(desk.locator("form[action$='/actions/publish']")).to_have_count(0)
    act(desk, "send_proof")
    again = portal.mail(APPLICANT, "ready for your sign-off")
    phone.goto(portal.link_in(again, "/status/"))
    phone.get_by_role("button", name="Sign it off: publish it as shown").click()

    # Published; a later edit waits until an editor publishes the change.
    desk.goto(submission_page)
    act(desk, "publish")
    public = desk.get_by_role("link", name="Public page").get_attribute("href")
    reader = open_page(PHONE)
    reader.goto(portal.url(public))
    expect(reader.locator("main")).to_contain_text("A sentence they never saw.")
    desk.get_by_role("link", name="Edit the draft").click()
    desk.locator("textarea[id^=a]").first.fill("<p>Four hundred candles, every week.</p>")
    desk.get_by_role("button", name="Save the draft").click()
    expect(desk.locator(".flash")).to_contain_text("Readers still see the live interview")
    reader.reload()
    expect(reader.locator("main")).not_to_contain_text("Four hundred candles")
    desk.goto(submission_page)
    expect(desk.locator(".pending-changes")).to_contain_text("Changes not live yet")
    desk.fill("#correction-note", "We updated the weekly output.")
    desk.get_by_role("button", name="Publish the changes").click()
    expect(desk.locator(".flash")).to_contain_text("The changes are live")
    _reload_until(reader, "Four hundred candles, every week.")
    expect(reader.locator(".corrections")).to_contain_text("We updated the weekly output.")
    assert (
        "We updated the weekly output." in portal.mail(APPLICANT, "We updated your interview").text
    )
    watch.assert_clean()
