"""Follow-up questions, walked in Chromium: an editor at a desk asks two, one
after the third answer; the applicant answers one and declines the other on a
phone; the answer travels into the revision, the draft, the proof and the
published page, in its place."""

from __future__ import annotations

import os
import re

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, Portal, act, log_in

APPLICANT = "ines.okafor@example.com"
TIED = "You said the market stall came first: how did its regulars find you online?"
DECLINED = "What did the first year earn you, roughly?"
ANSWER = "They scanned a card on the stall & followed us: about forty a month."


def _screenshot(page, name: str) -> None:
    """For the README: `SCREENSHOTS=docs/screenshots .venv/bin/python -m pytest tests/browser/test_follow_up_questions.py` keeps them."""
    folder = os.environ.get("SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, name), full_page=True)


def _apply(phone, portal: Portal, name: str, email: str, business: str) -> None:
    phone.goto(portal.url("/apply"))
    phone.fill("#name", name)
    phone.fill("#email", email)
    phone.fill("#business", business)
    for n, box in enumerate(phone.locator("textarea[id^=q]").all()):
        box.fill(f"We bottle small batches of pepper sauce, answer {n + 1}.")
    phone.fill("#social_instagram", "https://www.instagram.com/okaforsauce")
    phone.check("#consent")
    phone.check("#privacy")
    phone.get_by_role("button", name="Send my application").click()
    expect(phone.locator(".receipt")).to_be_visible()


def test_follow_ups_asked_answered_and_published_in_place(portal: Portal, open_page):
    phone = open_page(PHONE)
    _apply(phone, portal, "Ines Okafor", APPLICANT, "Okafor Hot Sauce")

    # The editor reads the answers and asks two questions, one after the third.
    desk = open_page(DESKTOP)
    log_in(desk, portal)
    desk.fill("#q", "Okafor")
    desk.locator("form[role=search] button[type=submit]").click()
    desk.get_by_role("link", name="Ines Okafor").click()
    submission_page = desk.url
    act(desk, "start_review")
    third = desk.locator("dl.qa dt").nth(2).inner_text()
    form = desk.locator("form[action$='/follow-ups']")
    form.locator("#question1").fill(TIED)
    form.locator("#follows1").select_option(label=third)
    form.locator("#cites1").select_option(label="Instagram")
    form.get_by_text("More questions in this round").click()
    form.locator("#question2").fill(DECLINED)
    form.locator("#follow-ups-message").fill("Two quick questions before we decide.")
    form.get_by_role("button", name=re.compile("Ask Ines Okafor")).click()
    expect(desk.locator(".status-badge")).to_contain_text("Follow-up questions asked")
    expect(desk.locator("#follow-ups")).to_contain_text("waiting")

    # The applicant's email lists both, with the link to answer them.
    mail = portal.mail(APPLICANT, "more questions")
    said = " ".join(mail.text.split())
    assert TIED in said and DECLINED in said and f"after your answer to “{third}”" in said
    phone.goto(portal.link_in(mail, "/status/"))
    expect(phone.locator("h1")).to_contain_text("A few more questions")
    expect(phone.locator(".follow-up").first).to_contain_text("Instagram profile")
    phone.locator(".follow-up").first.locator("summary").click()
    expect(phone.locator(".your-answer .original")).to_contain_text("answer 3.")
    boxes = phone.locator("textarea[id^=answer]")
    boxes.first.fill(ANSWER)
    phone.get_by_role("button", name="Save and finish later").click()
    expect(phone.locator(".flash")).to_contain_text("nothing is sent yet")
    expect(boxes.first).to_have_value(ANSWER)
    _screenshot(phone, "follow-ups-phone.png")
    phone.get_by_role("button", name="Send my answers").click()
    expect(phone.locator(".error-summary")).to_contain_text("rather not say")
    expect(boxes.first).to_have_value(ANSWER)
    phone.locator("input[id^=decline]").nth(1).check()
    phone.get_by_role("button", name="Send my answers").click()
    expect(phone.locator(".flash")).to_contain_text("your answers are with the editors")

    # The editor: told, the answer beside the others and in the diff, marked in the queue.
    told = portal.mail("erin@browser.test", "Follow-ups answered")
    assert "Declined" in told.text
    desk.goto(portal.url("/editor/?state=in_review"))
    expect(desk.locator("table.queue")).to_contain_text("follow-ups answered")
    desk.goto(submission_page)
    answers = desk.locator("section:has(h2:text('Answers')) dl.qa dt")
    expect(answers.nth(3)).to_contain_text(TIED)
    expect(desk.locator("#changes")).to_contain_text(ANSWER)
    expect(desk.locator("#follow-ups")).to_contain_text("Declined: they would rather not say.")
    _screenshot(desk, "follow-ups-editor.png")

    # Approved: the pair stands after the third answer in the draft and the proof.
    act(desk, "approve")
    desk.get_by_role("link", name="Edit the draft").click()
    expect(desk.locator("fieldset.pair").nth(3)).to_contain_text("follow-up")
    expect(desk.locator("fieldset.pair").nth(3).locator("input[id^=q]")).to_have_value(TIED)
    desk.fill("#greeting", "Hello Ines; welcome to the series!")
    desk.get_by_role("button", name="Save the draft").click()
    desk.goto(submission_page)
    act(desk, "send_proof", "Here is your proof.")
    proof = portal.mail(APPLICANT, "ready for your sign-off")
    phone.goto(portal.link_in(proof, "/status/"))
    phone.locator(".proof .whole summary").click()
    expect(phone.locator(".proof .whole")).to_contain_text(TIED)
    expect(phone.locator(".proof .whole")).to_contain_text("Hello Ines")
    phone.get_by_role("button", name="Sign it off: publish it as shown").click()
    expect(phone.locator("body")).to_contain_text("Thank you for signing off")

    desk.goto(submission_page)
    act(desk, "publish")
    public = desk.get_by_role("link", name="Public page").get_attribute("href")
    reader = open_page(PHONE)
    reader.goto(portal.url(public))
    questions = reader.locator("dl.qa dt").all_inner_texts()
    assert questions[0].startswith("Hello Ines; welcome to the series!")
    assert questions[2] == third and questions[3] == TIED
    assert DECLINED not in " ".join(questions)
    expect(reader.locator("dl.qa dd").nth(3)).to_contain_text(ANSWER)
    expect(reader.locator(".follow")).to_contain_text("Follow Ines Okafor on Instagram")


def test_the_queue_from_the_keyboard(portal: Portal, open_page):
    _apply(open_page(PHONE), portal, "Kofi Mensah", "kofi@example.com", "Mensah Kites")
    desk = open_page(DESKTOP)
    log_in(desk, portal)
    expect(desk.locator("#queue-keys")).to_be_visible()  # said only where the keys work
    desk.keyboard.press("/")
    expect(desk.locator("#q")).to_be_focused()
    desk.keyboard.type("Mensah")
    desk.keyboard.press("Enter")
    expect(desk.locator("table.queue")).to_contain_text("Mensah Kites")
    desk.locator("h1").click()  # out of the search box: keys are for the queue again
    desk.keyboard.press("j")
    expect(desk.locator("table.queue tbody tr").first).to_have_class(re.compile("current"))
    expect(desk.get_by_role("link", name="Kofi Mensah")).to_be_focused()
    desk.keyboard.press("o")
    expect(desk.locator("h1")).to_contain_text("Kofi Mensah")
