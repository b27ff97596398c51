"""Search as you type, in Chromium: the results follow what is typed, the last
word read as the start of a word, with no button pressed; the address keeps
the search, and a misspelt search offers the right word."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Portal
from tests.browser.test_accessibility import seeded  # noqa: F401 (the demo content)

pytestmark = pytest.mark.database_independent


def test_results_follow_the_typing_and_a_typo_gets_a_suggestion(
    seeded: Portal,  # noqa: F811
    open_page,
):
    page = open_page(PHONE)
    page.goto(seeded.url("/search"))
    page.locator("#q").press_sequentially("sourd", delay=60)
    results = page.locator("#results ol.results")
    expect(results).to_contain_text("Harbour Street Bakery")
    expect(page).to_have_url(seeded.url("/search?q=sourd&as_you_type=1"))
    page.reload()  # the address keeps what was found
    expect(page.locator("#results ol.results")).to_contain_text("Harbour Street Bakery")
    page.locator("#q").fill("")
    page.locator("#q").press_sequentially("sourdugh ", delay=30)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="sourdough").click()
    expect(page.locator("ol.results")).to_contain_text("Harbour Street Bakery")
