"""axe-core on every page type, as a reader, an applicant and an admin see them,
on a phone and at a desk: no serious or critical violation anywhere. The pages
run with their real Content-Security-Policy, which must hold on each of them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import (
    ADMIN,
    DESKTOP,
    PHONE,
    ROOT,
    Portal,
    axe_violations,
    describe,
    log_in,
)

# Accessibility is the markup's: the database makes no difference,
# so CI runs this module once, on SQLite (see .ci/run).
pytestmark = pytest.mark.database_independent


@pytest.fixture(scope="module")
def seeded(portal: Portal) -> Portal:
    """The demo content: published interviews, a queue in every state."""
    for command in (["demo", "seed"], ["search", "reindex"]):
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *command],
            cwd=ROOT,
            env=dict(os.environ, DATABASE_URL=portal.database_url, SECRET_KEY="seed"),
            check=True,
            capture_output=True,
        )
    return portal


def first_href(page: Page, selector: str) -> str:
    href = page.locator(selector).first.get_attribute("href")
    assert href, selector
    return href


def check(page: Page, url: str, found: dict[str, list]) -> None:
    page.goto(url)
    violations = axe_violations(page)
    if violations:
        found[url] = violations


@pytest.mark.parametrize(
    ("viewport", "scheme"),
    [(PHONE, "light"), (DESKTOP, "light"), (PHONE, "dark")],
    ids=["phone", "desktop", "phone-dark"],
)
def test_no_serious_accessibility_violation_on_any_page(
    seeded: Portal, open_page, watch, viewport, scheme
):
    """Every page, in the light theme and (contrast above all) the dark one."""
    portal = seeded
    found: dict[str, list] = {}
    page = open_page(viewport, color_scheme=scheme)
    # Readers.
    page.goto(portal.url("/"))
    interview = portal.url(first_href(page, ".card h2 a"))
    page.goto(interview)
    tag = portal.url(first_href(page, ".tags a"))
    question = portal.url(first_href(page, ".answer-links a[href^='/questions/']"))
    for url in (
        "/",
        interview,
        tag,
        "/questions/",
        question,
        question + "?industry=Food+and+drink",
        "/search?q=instagram",
        "/search?q=nothing-matches-this",
        "/interviews/no-such-interview",
        "/privacy",
        "/status/resend",
    ):
        check(page, url if url.startswith("http") else portal.url(url), found)
    # An applicant: the form, the form with its errors, the status page.
    check(page, portal.url("/apply"), found)
    page.get_by_role("button", name="Send my application").click()
    page.wait_for_load_state()
    violations = axe_violations(page)
    if violations:
        found["/apply (with errors)"] = violations
    page.fill("#name", "Ines Duarte")
    page.fill("#email", f"ines.{viewport['width']}@example.com")
    page.fill("#business", "Duarte Ceramics")
    page.select_option("#industry", index=1)
    for box in page.locator("textarea[id^=q]").all():
        box.fill("We make tableware and sell it at markets and on Instagram.")
    page.check("#consent")
    page.check("#privacy")
    page.get_by_role("button", name="Send my application").click()
    page.wait_for_load_state()
    status = portal.link_in(
        portal.mail(f"ines.{viewport['width']}@example.com", "We received"), "/status/"
    )
    check(page, status, found)
    check(page, status + "/withdraw", found)
    check(page, status + "/erase", found)
    # An admin: every page of the workspace.
    desk = open_page(viewport)
    check(desk, portal.url("/editor/login"), found)
    log_in(desk, portal, ADMIN)
    desk.goto(portal.url("/editor/?state=published"))
    submission = portal.url(first_href(desk, "main table a[href*='/editor/submissions/']"))
    for url in (
        "/editor/",
        "/editor/?state=submitted",
        submission,
        submission + "/draft",
        submission + "/preview",
        "/editor/dashboard",
        "/editor/team",
        "/editor/presets",
        "/editor/questions",
        "/editor/account",
        "/editor/privacy",
        "/editor/outbox",
    ):
        check(desk, url if url.startswith("http") else portal.url(url), found)
    desk.goto(portal.url("/editor/questions"))
    check(desk, portal.url(first_href(desk, "main a[href*='/editor/questions/']")), found)
    desk.goto(portal.url("/editor/outbox"))
    check(desk, portal.url(first_href(desk, "main a[href*='/editor/outbox/']")), found)
    assert not found, describe([{"page": url, "violations": v} for url, v in found.items()])
    watch.assert_clean()
