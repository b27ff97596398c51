"""The share image: 1200×630, made at publication, remade only when what it shows
changes, used as og:image and in the "you're live" email."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image

from portal import operations
from portal.extensions import db
from portal.models import Submission
from portal.notifications.delivery import deliver_due
from portal.workflow import Action, State
from tests.conftest import draft_data, login, post_form
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
    assert os.path.exists(os.path.join(app.instance_path, "photos", second))
