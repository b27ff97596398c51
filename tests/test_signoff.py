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


def _version(html: str) -> str:
    import re

    return re.search(r'name="version" value="(\d+)"', html).group(1)


def test_a_published_interview_changes_only_when_the_changes_are_published(
    app, client, editor, inbox
):
    import html

    from portal.notifications.delivery import deliver_due

    with app.app_context():
        s = submission_in(State.PUBLISHED, email="live@shop.example")
        sid, slug = s.id, s.interview.slug
        deliver_due()
    inbox.clear()
    first = item_ids(app, sid)[0]
    login(client)
    reader = app.test_client()
    before = reader.get(f"/interviews/{slug}").get_data(as_text=True)
    warning = client.get(_draft_page(sid)).get_data(as_text=True)
    assert "This interview is live" in warning
    changed = draft_data(app, sid, **{f"a{first}": "We sell ferry tickets now."})
    response = post_form(client, _draft_page(sid), changed, follow_redirects=True)
    assert "Readers still see the live interview" in response.get_data(as_text=True)
    # Readers see no change yet.
    assert reader.get(f"/interviews/{slug}").get_data(as_text=True) == before
    # The editor sees what is waiting, and can open the draft again with it.
    page = html.unescape(client.get(f"/editor/submissions/{sid}").get_data(as_text=True))
    assert "Changes not live yet" in page and "<ins>We sell ferry tickets now.</ins>" in page
    again = client.get(_draft_page(sid)).get_data(as_text=True)
    assert "We sell ferry tickets now." in again
    # Published with a correction note: live, noted on the page, the interviewee told.
    path = f"/editor/submissions/{sid}"
    response = post_form(
        client,
        path,
        {"version": _version(page), "message": "We corrected what the shop sells."},
        action=f"{path}/changes/publish",
    )
    assert response.status_code == 302
    live = html.unescape(reader.get(f"/interviews/{slug}").get_data(as_text=True))
    assert "We sell ferry tickets now." in live
    assert "Corrections" in live and "We corrected what the shop sells." in live
    with app.app_context():
        deliver_due()
        event = db.session.scalars(select(Event).order_by(Event.id.desc())).first()
        assert event.action == "publish_changes" and event.details["edited"]
    [mail] = inbox.to("live@shop.example")
    assert mail.subject.startswith("We updated your interview")
    assert "We corrected what the shop sells." in mail.text and f"/interviews/{slug}" in mail.text
    # The status page it speaks of, linked: where a correction is asked for.
    [status] = [p for p in mail.paths() if p.startswith("/status/")]
    assert "Something to correct" in app.test_client().get(status).get_data(as_text=True)
    # Every saved version is kept and any two compare.
    versions = html.unescape(
        client.get(f"/editor/submissions/{sid}/versions").get_data(as_text=True)
    )
    assert "published as a change" in versions and "We sell ferry tickets now." in versions


def test_discarded_changes_never_reach_readers(app, client, editor):
    with app.app_context():
        s = submission_in(State.PUBLISHED)
        sid, slug = s.id, s.interview.slug
    first = item_ids(app, sid)[0]
    login(client)
    changed = draft_data(app, sid, **{f"a{first}": "<p>A thought better left unsaid.</p>"})
    post_form(client, _draft_page(sid), changed)
    path = f"/editor/submissions/{sid}"
    response = post_form(client, path, {}, action=f"{path}/changes/discard")
    assert response.status_code == 302
    page = client.get(path).get_data(as_text=True)
    assert "Changes not live yet" not in page
    assert "A thought better left unsaid." not in app.test_client().get(
        f"/interviews/{slug}"
    ).get_data(as_text=True)
    assert "left unsaid" not in client.get(_draft_page(sid)).get_data(as_text=True)


def test_two_editors_saving_changes_to_a_live_interview_do_not_overwrite_each_other(
    app, client, editor
):
    import re

    with app.app_context():
        sid = submission_in(State.PUBLISHED).id
    first = item_ids(app, sid)[0]
    login(client)
    other = app.test_client()
    login(other)
    # Both open the draft; the first saves; the second's save is refused, text kept.
    pages = [c.get(_draft_page(sid)).get_data(as_text=True) for c in (client, other)]
    base = re.search(r'name="pending" type="hidden" value="([^"]*)"', pages[1]).group(1)
    post_form(client, _draft_page(sid), draft_data(app, sid, **{f"a{first}": "<p>First.</p>"}))
    mine = draft_data(app, sid, pending=base, **{f"a{first}": "<p>Second editor's words.</p>"})
    response = post_form(other, _draft_page(sid), mine)
    assert response.status_code == 409
    assert "Second editor" in response.get_data(as_text=True)


def test_publishing_refuses_a_text_that_is_not_the_one_signed_off(app, client, editor):
    with app.app_context():
        s = submission_in(State.READY)
        sid = s.id
        # Changed behind the draft editor's back (a script, a console).
        s.interview.items[0].answer_html = "<p>Words nobody signed off.</p>"
        db.session.commit()
    login(client)
    path = f"/editor/submissions/{sid}"
    page = client.get(path).get_data(as_text=True)
    response = post_form(
        client, path, {"version": _version(page)}, action=f"{path}/actions/publish"
    )
    assert response.status_code == 409
    assert "no longer the text the interviewee signed off" in response.get_data(as_text=True)
    # Saving the draft, even unchanged, sends it back for a new proof.
    response = post_form(client, _draft_page(sid), draft_data(app, sid), follow_redirects=True)
    assert "send them a new proof" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Submission, sid).state == State.APPROVED.value


def test_a_proof_changed_after_it_was_sent_cannot_be_signed_off(app, client):
    from portal import operations
    from portal.workflow import Action, WorkflowError
    from tests.factories import actor_for

    with app.app_context():
        s = submission_in(State.AWAITING_SIGNOFF)
        s.interview.title = "Not the title in the proof"
        db.session.commit()
        try:
            operations.perform(s, Action.SIGN_OFF, actor_for(Action.SIGN_OFF))
        except WorkflowError as error:
            assert "changed after this proof was sent" in str(error)
        else:
            raise AssertionError("a changed proof was signed off")
        db.session.rollback()
        assert db.session.get(Submission, s.id).state == State.AWAITING_SIGNOFF.value
