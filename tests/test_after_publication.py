"""After publication the interviewee can ask for a correction or a takedown."""

from __future__ import annotations

import re

from portal.extensions import db
from portal.models import StatusToken
from portal.notifications.delivery import deliver_due
from portal.workflow import State
from tests.conftest import login, post_form
from tests.factories import submission_in


def test_a_correction_request_lands_in_the_queue_and_can_be_handled(app, client, inbox):
    with app.app_context():
        s = submission_in(State.PUBLISHED, business="Quay Ceramics")
        token = StatusToken.issue(s)
        db.session.commit()
        deliver_due()
        sid = s.id
    inbox.clear()
    path = f"/status/{token}"
    page = client.get(path).get_data(as_text=True)
    assert "Something to correct, or want it taken down?" in page
    data = {"kind": "correction", "message": "Our shop moved to <b>Harbour Road</b>."}
    assert post_form(client, path, data, action=f"{path}/request").status_code == 302
    assert "with the editors" in client.get(path).get_data(as_text=True)
    with app.app_context():
        deliver_due()
    [mail] = inbox.to("editor@factory.example")
    assert "Correction requested: Quay Ceramics" in mail.subject
    assert "Harbour Road" in mail.text
    editors = app.test_client()
    login(editors, email="editor@factory.example", password="factory password")
    queue = editors.get("/editor/").get_data(as_text=True)
    assert "Requests after publication" in queue and "Quay Ceramics" in queue
    page = editors.get(f"/editor/submissions/{sid}").get_data(as_text=True)
    assert "&lt;b&gt;Harbour Road&lt;/b&gt;" in page
    handled = re.search(r'action="(/editor/submissions/\d+/requests/\d+/handled)"', page).group(1)
    assert post_form(editors, f"/editor/submissions/{sid}", {}, action=handled).status_code == 302
    assert "Requests after publication" not in editors.get("/editor/").get_data(as_text=True)
    assert "handled" in client.get(path).get_data(as_text=True)


def test_requests_need_a_message_and_a_published_interview(app, client):
    with app.app_context():
        published = submission_in(State.PUBLISHED)
        waiting = submission_in(State.SUBMITTED)
        t1, t2 = StatusToken.issue(published), StatusToken.issue(waiting)
        db.session.commit()
    path = f"/status/{t1}"
    response = post_form(
        client, path, {"kind": "takedown", "message": ""}, action=f"{path}/request"
    )
    assert response.status_code == 302
    assert "Tell us what you would like." in client.get(path).get_data(as_text=True)
    other = f"/status/{t2}"
    response = post_form(
        client, "/status/resend", {"kind": "takedown", "message": "x"}, action=f"{other}/request"
    )
    assert response.status_code == 409
