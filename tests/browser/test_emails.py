"""Every email as a phone shows it: the HTML of each kind, with ordinary and
hostile names, opened in Chromium at 390 px, light and dark.

The emails are the ones the mail worker sent to the suite's SMTP server; their
images are served from the portal's stored photos, as the reader's mail program
would fetch them.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxEmail
from portal.notifications.delivery import deliver_due, message_id
from tests.browser.conftest import PHONE
from tests.conftest import stored, stored_names
from tests.email_samples import HOSTILE, KINDS, ORDINARY, queue_every_kind

pytestmark = pytest.mark.database_independent


def _sent(app, inbox, who) -> tuple[dict[str, str], dict[str, bytes]]:
    """({kind: its HTML part as it arrived}, the stored photos to serve images from)."""
    with app.app_context():
        queue_every_kind(who)
        while deliver_due().handled:
            pass
        rows = db.session.execute(select(OutboxEmail.id, OutboxEmail.kind)).all()
        kinds = {message_id(row_id): kind for row_id, kind in rows}
        folder = {name: stored(app, name) for name in stored_names(app)}
    html = {}
    for message in inbox.messages:
        html.setdefault(kinds[message.message["Message-ID"]], message.html)
    assert set(html) == set(KINDS)
    return html, folder


def _phone(browser, folder: dict[str, bytes], scheme: str):
    page = browser.new_page(viewport=PHONE, color_scheme=scheme)

    def serve_photo(route):
        name = route.request.url.rsplit("/", 1)[1]
        if name in folder:
            route.fulfill(body=folder[name], content_type="image/png")
        else:
            route.fulfill(status=404)

    page.route("http://portal.test/photos/*", serve_photo)
    return page


@pytest.mark.parametrize("who", [ORDINARY, HOSTILE], ids=["ordinary", "hostile"])
def test_every_email_fits_a_phone_in_light_and_dark(app, inbox, browser, who):
    sent, folder = _sent(app, inbox, who)
    for scheme in ("light", "dark"):
        page = _phone(browser, folder, scheme)
        try:
            for kind, html in sent.items():
                page.set_content(html, wait_until="load")
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= PHONE["width"], (kind, scheme, width)
                background = page.evaluate(
                    "getComputedStyle(document.querySelector('.page')).backgroundColor"
                )
                dark = background != "rgb(255, 255, 255)"
                assert dark == (scheme == "dark"), (kind, scheme, background)
                button = page.query_selector("a.button")
                if button is not None:  # the main action: a target a thumb can hit
                    box = button.bounding_box()
                    assert box["height"] >= 44 and box["width"] >= 120, (kind, box)
        finally:
            page.close()


@pytest.mark.real_share_images
def test_the_live_email_shows_its_image_within_the_screen(app, inbox, browser):
    sent, folder = _sent(app, inbox, ORDINARY)
    page = _phone(browser, folder, "light")
    try:
        page.set_content(sent["publish"], wait_until="load")
        image = page.query_selector("img")
        loaded = page.evaluate("img => img.complete && img.naturalWidth", image)
        assert loaded == 1200  # the share card arrived, full size
        box = image.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert box["height"] == pytest.approx(box["width"] * 630 / 1200, abs=2)
    finally:
        page.close()
