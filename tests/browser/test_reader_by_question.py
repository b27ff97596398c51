"""A reader goes from one interview to every answer to one of its questions,
narrows them to an industry, and lands on another person's answer."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, Portal
from tests.browser.test_accessibility import seeded  # noqa: F401 (the demo content)

pytestmark = pytest.mark.database_independent


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_from_an_answer_to_everyone_elses_and_back_into_an_interview(
    seeded: Portal,  # noqa: F811
    open_page,
    viewport,
):
    page = open_page(viewport)
    page.goto(seeded.url("/"))
    page.locator(".card", has_text="Maya Okafor").locator("h2 a").click()
    third = page.locator("dl.qa dt").nth(2)
    question = third.inner_text()
    page.locator("dl.qa dd").nth(2).get_by_role("link", name="How others answered this").click()
    expect(page.locator("h1")).to_have_text(question)
    expect(page.locator("li.answer")).to_have_count(2)
    page.get_by_text("Narrow these answers").click()
    page.select_option("#filter-industry", "Repairs and maintenance")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("li.answer")).to_have_count(1)
    expect(page.locator("li.answer")).to_contain_text("Tomasz Nowak")
    page.get_by_role("link", name="Read this answer in Tomasz Nowak’s interview").click()
    assert "#q-" in page.url and "/interviews/" in page.url
    target = page.locator("dt:target")
    expect(target).to_have_text(question)
    expect(target).to_be_in_viewport()
