"""What the interviewee signs off is what goes live: a change to the draft
after the sign-off sends the interview back for a new proof, on the record."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import Event, Submission
from portal.workflow import State
from tests.conftest import draft_data, item_ids, login, post_form
from tests.factories import submission_in


def _draft_page(sid: int) -> str:
    return f"/editor/submissions/{sid}/draft"


def test_editing_an_answer_after_the_sign_off_needs_a_new_proof(app, client, editor):
    with app.app_context():
        sid = submission_in(State.READY).id
    first = item_ids(app, sid)[0]
    login(client)
    warning = client.get(_draft_page(sid)).get_data(as_text=True)
    assert "The interviewee signed this off" in warning
    changed = draft_data(app, sid, **{f"a{first}": "<p>An answer they never saw.</p>"})
    response = post_form(client, _draft_page(sid), changed, follow_redirects=True)
    assert "send them a new proof" in response.get_data(as_text=True)
    with app.app_context():
        submission = db.session.get(Submission, sid)
        assert submission.state == State.APPROVED.value
        event = db.session.scalars(select(Event).order_by(Event.id.desc())).first()
        assert event.action == "edit_after_signoff" and event.details["edited"]
    page = client.get(f"/editor/submissions/{sid}").get_data(as_text=True)
    assert "Edit after the sign-off" in page and "Changed:" in page
    assert "actions/publish" not in page  # no publishing what was not signed off


def test_saving_a_signed_off_draft_unchanged_keeps_it_ready(app, client, editor):
    with app.app_context():
        sid = submission_in(State.READY).id
    login(client)
    response = post_form(client, _draft_page(sid), draft_data(app, sid))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Submission, sid).state == State.READY.value


def test_editing_before_the_proof_changes_no_state(app, client, editor):
    with app.app_context():
        sid = submission_in(State.APPROVED).id
    first = item_ids(app, sid)[0]
    login(client)
    changed = draft_data(app, sid, **{f"a{first}": "<p>Tidied up.</p>"})
    assert post_form(client, _draft_page(sid), changed).status_code == 302
    with app.app_context():
        assert db.session.get(Submission, sid).state == State.APPROVED.value
