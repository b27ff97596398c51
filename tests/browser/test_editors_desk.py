"""The editors' desk in Chromium: an answer written in Markdown reads right in
the preview, on the public page and in the feed; what the sanitizer would drop
is refused by name; two editors on one draft never overwrite each other; the
search finds a published applicant from the waiting tab; a colleague asked
for a second opinion gets the email and their recommendation shows."""

from __future__ import annotations

import os
import urllib.request

import pytest
from defusedxml import ElementTree
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN, DESKTOP, PHONE, Portal, act, log_in
from tests.browser.test_accessibility import seeded  # noqa: F401 (the demo content)

pytestmark = pytest.mark.database_independent


def _screenshot(page, name: str, full_page: bool = True) -> None:
    """For the README: `SCREENSHOTS=docs/screenshots .venv/bin/python -m pytest tests/browser/test_editors_desk.py` keeps them."""
    folder = os.environ.get("SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, name), full_page=full_page)


WRITTEN = (
    "We can't keep up, and Pixel & Pine helps: see [our shop](https://pixel.example/shop).\n"
    "\n"
    "- mornings: *videos*\n"
    "- evenings: **answers**"
)


def test_an_editor_writes_previews_asks_a_colleague_and_publishes(
    seeded: Portal,  # noqa: F811
    open_page,
):
    desk = open_page(DESKTOP)
    log_in(desk, seeded)

    # The search, from the waiting tab, finds a published applicant and says so.
    desk.goto(seeded.url("/editor/?state=submitted"))
    desk.fill("#q", "Maya")
    desk.get_by_role("button", name="Apply").click()
    row = desk.locator("table.queue tbody tr", has_text="Harbour Street Bakery")
    expect(row).to_contain_text("Published")

    # A second opinion: the colleague's email, their recommendation on the page.
    desk.goto(seeded.url("/editor/?state=submitted"))
    desk.get_by_role("link", name="Sam Reyes").click()
    submission_page = desk.url
    opinions = desk.locator("#opinions")
    opinions.get_by_text("Ask more colleagues").click()  # the demo asked one already
    opinions.get_by_label("Ada Admin").check()
    opinions.locator("#opinion-question").fill("A coffee cart: one for us?")
    opinions.get_by_role("button", name="Ask for their opinion").click()
    expect(desk.locator(".flash")).to_contain_text("Asked Ada Admin")
    asked = seeded.mail(ADMIN, "asks your opinion: Copper Kettle Coffee Cart")
    assert "A coffee cart: one for us?" in asked.text
    colleague = open_page(PHONE)
    log_in(colleague, seeded, ADMIN)
    colleague.goto(seeded.link_in(asked, "/editor/submissions/"))
    mine = colleague.locator("#opinions form.opinion-form")
    mine.get_by_label("Feature them").check()
    mine.locator("textarea").fill("Yes: the queue at the cart is the story.")
    mine.get_by_role("button", name="Give my opinion").click()
    desk.reload()
    expect(desk.locator("#opinions")).to_contain_text("Feature them")
    expect(desk.locator("#opinions")).to_contain_text("the queue at the cart is the story")
    desk.goto(seeded.url("/editor/?state=submitted"))
    expect(desk.locator("table.queue")).to_contain_text("Ada Admin: Feature them")
    _screenshot(desk, "review-queue.png")
    desk.goto(submission_page)

    # The draft, in Markdown: shown as typed, previewed beside the form.
    act(desk, "start_review")
    act(desk, "approve")
    desk.get_by_role("link", name="Edit the draft").click()
    draft_page = desk.url
    first = desk.locator("textarea[id^=a]").first
    steps = desk.evaluate("history.length")
    first.fill(WRITTEN)
    expect(first).to_have_value(WRITTEN)
    pane = desk.frame_locator("iframe[name=draft-preview]")
    answer = pane.locator("dl.qa dd").first
    expect(answer).to_contain_text("We can't keep up, and Pixel & Pine helps")
    expect(answer.locator("a[href='https://pixel.example/shop']")).to_have_text("our shop")
    expect(answer.locator("li")).to_have_count(2)
    expect(pane.locator("header.site-header")).to_have_count(0)  # the page, not the site
    assert desk.evaluate("history.length") == steps  # Back still leaves the editor
    expect(desk.locator("#autosave-status")).to_contain_text("Saved at", timeout=10_000)
    first.scroll_into_view_if_needed()
    _screenshot(desk, "review-draft.png", full_page=False)

    # A colleague on the same draft: their autosave meets the conflict, text kept.
    other = open_page(DESKTOP)
    log_in(other, seeded, ADMIN)
    other.goto(draft_page)
    desk.locator("#title").fill("Coffee by the castle with Copper Kettle")
    desk.get_by_role("button", name="Save the draft").click()
    expect(desk.locator(".flash")).to_contain_text("Draft saved")
    theirs = other.locator("textarea[id^=a]").nth(1)
    theirs.fill("Ada's rewording of the second answer.")
    expect(other.locator("#autosave-status")).to_contain_text(
        "Another editor saved this draft meanwhile", timeout=10_000
    )
    expect(theirs).to_have_value("Ada's rewording of the second answer.")
    other.get_by_role("button", name="Save the draft").click()
    expect(other.locator(".error-summary")).to_contain_text("Not saved yet")
    expect(other.locator(".error-summary")).to_contain_text("Their changes to what you had not")
    expect(other.locator("#title")).to_have_value("Coffee by the castle with Copper Kettle")
    expect(other.locator("textarea[id^=a]").nth(1)).to_have_value(
        "Ada's rewording of the second answer."
    )

    # What the sanitizer would remove is refused, by name; nothing typed is lost.
    desk.reload()
    pasted = "<h2>x</h2><script>alert(1)</script>"
    desk.locator("textarea[id^=a]").nth(2).fill(pasted)
    desk.get_by_role("button", name="Save the draft").click()
    summary = desk.locator(".error-summary")
    expect(summary).to_contain_text("Answer 3")
    expect(summary).to_contain_text("A heading (<h2>) and <script> would be removed")
    expect(desk.locator("textarea[id^=a]").nth(2)).to_have_value(pasted)
    desk.locator("textarea[id^=a]").nth(2).fill("Just words now.")
    desk.get_by_role("button", name="Save the draft").click()
    expect(desk.locator(".flash")).to_contain_text("Draft saved")
    expect(desk.locator("textarea[id^=a]").first).to_have_value(WRITTEN)

    # Published: the reader's page and the feed show it as written.
    colleague.goto(submission_page)
    act(colleague, "skip_signoff", "Signed off by phone.")
    act(colleague, "publish")
    reader = open_page(PHONE)
    reader.goto(seeded.url("/"))
    reader.get_by_role("link", name="Coffee by the castle with Copper Kettle").first.click()
    shown = reader.locator("dl.qa dd").first
    expect(shown).to_contain_text("We can't keep up, and Pixel & Pine helps")
    expect(shown.locator("a[href='https://pixel.example/shop']")).to_have_text("our shop")
    expect(shown.locator("li em")).to_have_text("videos")
    with urllib.request.urlopen(seeded.url("/feed.atom")) as response:  # noqa: S310 (localhost)
        feed = ElementTree.fromstring(response.read())
    atom = "{http://www.w3.org/2005/Atom}"
    entry = next(
        e for e in feed.iter(f"{atom}entry") if "Copper Kettle" in e.findtext(f"{atom}title")
    )
    content = entry.findtext(f"{atom}content")
    assert "We can't keep up, and Pixel &amp; Pine helps" in content
    assert (
        '<a href="https://pixel.example/shop" rel="nofollow ugc noopener">our shop</a>' in content
    )
    assert "<li>mornings: <em>videos</em></li>" in content
