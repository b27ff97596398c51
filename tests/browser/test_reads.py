"""A reader's visit is counted: the interview's page, in view for a few
seconds, says "read" once, with no cookie, and the count reaches the database."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tests.browser.conftest import PHONE, Portal
from tests.browser.test_accessibility import seeded  # noqa: F401 (the demo content)

pytestmark = pytest.mark.database_independent


def _reads(portal: Portal) -> int:
    engine = create_engine(portal.database_url)
    with engine.connect() as conn:
        total = conn.execute(text("SELECT COALESCE(SUM(reads), 0) FROM interview_reads")).scalar()
    engine.dispose()
    return int(total)


IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)


def test_a_page_in_view_is_counted_once_without_a_cookie(seeded: Portal, open_page):  # noqa: F811
    before = _reads(seeded)
    page = open_page(PHONE, user_agent=IPHONE)
    page.goto(seeded.url("/"))
    link = page.locator(".card h2 a").first
    with page.expect_request(lambda r: r.url.endswith("/read") and r.method == "POST") as sent:
        link.click()
    assert sent.value.post_data == "read=1"
    page.wait_for_timeout(5000)  # still in view: no second read
    assert page.context.cookies() == []
    assert _reads(seeded) == before + 1


def test_a_headless_browser_is_not_a_reader(seeded: Portal, open_page):  # noqa: F811
    before = _reads(seeded)
    page = open_page(PHONE)  # Playwright's own user agent says "HeadlessChrome"
    page.goto(seeded.url("/"))
    with page.expect_request(lambda r: r.url.endswith("/read")):
        page.locator(".card h2 a").first.click()
    page.wait_for_timeout(500)
    assert _reads(seeded) == before
