"""The share image: 1200×630, made at publication, remade only when what it shows
changes, used as og:image and in the "you're live" email."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from portal import operations, photos
from portal.extensions import db
from portal.models import Submission
from portal.notifications.delivery import deliver_due
from portal.workflow import Action, State
from tests.conftest import draft_data, login, post_form, stored
from tests.factories import actor_for, submission_in

pytestmark = pytest.mark.real_share_images


def test_published_interviews_get_a_share_image_used_everywhere(app, client, inbox):
    with app.app_context():
        s = submission_in(State.READY, email="live@shop.example")
        deliver_due()
        inbox.clear()
        operations.perform(s, Action.PUBLISH, actor_for(Action.PUBLISH))
        name, slug = s.interview.share_image, s.interview.slug
        deliver_due()
    assert name and name.endswith(".png")
    response = client.get(f"/photos/{name}")
    with Image.open(io.BytesIO(response.get_data())) as image:
        assert image.size == (1200, 630) and image.format == "PNG"
    response.close()
    page = client.get(f"/interviews/{slug}").get_data(as_text=True)
    assert f'<meta property="og:image" content="http://portal.test/photos/{name}">' in page
    [mail] = inbox.to("live@shop.example")
    assert f"http://portal.test/photos/{name}" in mail.text


def test_the_image_is_remade_only_when_what_it_shows_changes(app, client, editor):
    with app.app_context():
        s = submission_in(State.PUBLISHED)
        sid, first = s.id, s.interview.share_image
    login(client)
    page = f"/editor/submissions/{sid}/draft"

    def publish_changes():
        with app.app_context():
            submission = db.session.get(Submission, sid)
            operations.publish_changes(submission, actor_for(Action.PUBLISH))

    assert post_form(client, page, draft_data(app, sid, title="Only the title")).status_code == 302
    publish_changes()
    with app.app_context():
        assert db.session.get(Submission, sid).interview.share_image == first
    data = draft_data(app, sid, pull_quote="Show the work, not just the result.")
    assert post_form(client, page, data).status_code == 302
    publish_changes()
    with app.app_context():
        second = db.session.get(Submission, sid).interview.share_image
    assert second != first
    assert stored(app, second) is not None
    assert stored(app, first) is None  # the card it replaced is gone


def _drawn(text: str, size: int = 40) -> bytes:
    """How `text` comes out in the card's font: a glyph the font lacks is drawn
    as the same box as an unassigned code point."""
    from portal.share_image import _font

    return bytes(_font(size).getmask(text))


@pytest.mark.parametrize("letter", list("éÅłŁçÇøßñŒőšžăț"))
def test_the_card_draws_accented_letters_not_boxes(app, letter):
    with app.app_context():
        assert _drawn(letter) != _drawn("\uffff"), letter


def test_a_long_name_and_business_stay_on_the_card(app):
    name = "Anne-Marguerite Montgomery-Featherstonehaugh de la Tour-Ångström"
    business = "The Very Long-Named Artisanal Sourdough & Pâtisserie Cooperative of Kirkcudbright"
    with app.app_context():
        s = submission_in(State.READY, name=name, business=business)
        operations.perform(s, Action.PUBLISH, actor_for(Action.PUBLISH))
        with Image.open(io.BytesIO(photos.load(s.interview.share_image).data)) as card:
            card = card.convert("RGB")
    from portal.share_image import BACKGROUND, MARGIN

    width, height = card.size
    # Nothing drawn in the right margin: every line ends inside the card.
    margin = card.crop((width - MARGIN + 8, 0, width, height))
    assert set(margin.get_flattened_data()) == {BACKGROUND}


def test_doctor_says_when_the_cards_have_no_font_with_accents(app, monkeypatch):
    from portal import share_image
    from portal.readiness import checkup

    with app.app_context():
        assert not [x for x in checkup() if x.startswith("share cards")]
        monkeypatch.setattr(share_image, "FONT_FILES", ())
        app.config["SHARE_FONT"] = "/nowhere/font.ttf"
        [line] = [x for x in checkup() if x.startswith("share cards")]
        assert "fonts-dejavu-core" in line
        app.config["SHARE_FONT"] = share_image.__file__  # a file, but no font
        assert share_image.font_file() is None
        assert _drawn("Ana")  # still drawn, in Pillow's own font
