"""Promises to the interviewee: nothing they give is lost (an expired form, a
photo beside another field's error), and what editors ask of them reaches them
beside the answers it concerns."""

from __future__ import annotations

import html
import io

from PIL import Image
from sqlalchemy import select

from portal.extensions import db
from portal.models import StatusToken, Submission
from portal.workflow import State
from tests.conftest import application, login, post_form, question_ids
from tests.factories import submission_in


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _status_link(app, state: State, **fields) -> tuple[int, str]:
    with app.app_context():
        submission = submission_in(state, **fields)
        token = StatusToken.issue(submission)
        db.session.commit()
        return submission.id, f"/status/{token}"


def test_an_expired_continue_form_keeps_everything_typed(app, client):
    _, status = _status_link(app, State.DRAFT)
    client.get(f"{status}/continue")
    data = application(app, pitch="Sea kayaks for the whole family, since 1998.")
    data["csrf_token"] = "expired-or-from-a-lost-session"
    response = client.post(f"{status}/continue", data=data)
    page = _text(response)
    assert response.status_code == 400
    assert "The form expired. Everything you typed is still here" in page
    assert "Sea kayaks for the whole family, since 1998." in page
    # Sent again from the page it got back, it goes through.
    assert post_form(client, f"{status}/continue", data | {"csrf_token": None}).status_code == 302


def test_an_expired_revise_form_keeps_everything_typed(app, client):
    sid, status = _status_link(app, State.CHANGES_REQUESTED)
    client.get(f"{status}/revise")
    data = application(app, pitch="Now with a winter programme of night paddles.")
    data["csrf_token"] = "expired"
    response = client.post(f"{status}/revise", data=data)
    assert response.status_code == 400
    page = _text(response)
    assert "The form expired" in page and "winter programme of night paddles" in page
    with app.app_context():
        assert db.session.get(Submission, sid).state == State.CHANGES_REQUESTED.value


def _photo_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 90)).save(out, "JPEG")
    return out.getvalue()


def test_a_photo_survives_another_fields_error(app, client):
    data = application(app, business="")
    data["photo"] = (io.BytesIO(_photo_bytes()), "me.jpg")
    response = post_form(client, "/apply", data, content_type="multipart/form-data")
    page = _text(response)
    assert response.status_code == 200 and "Business" in page
    assert "Your photo" in page and 'name="kept_photo"' in page
    # Fixing the field sends the kept photo with the application; nothing re-attached.
    kept = page.split('name="kept_photo" type="hidden" value="', 1)[1].split('"', 1)[0]
    fixed = application(app)
    fixed["kept_photo"] = kept
    response = post_form(client, "/apply", fixed, content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        submission = db.session.scalar(select(Submission))
        assert submission.photo
    # A kept photo's reference is signed: a made-up one attaches nothing.
    forged = application(app, email="someone@else.example")
    forged["kept_photo"] = "0123abcd.jpg"
    response = post_form(client, "/apply", forged, content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        other = db.session.scalar(
            select(Submission).where(Submission.email == "someone@else.example")
        )
        assert other.photo is None


def test_requests_on_answers_reach_the_applicant_in_the_email_and_on_the_status_page(
    app, client, editor, inbox
):
    from portal.notifications.delivery import deliver_due

    sid, status = _status_link(app, State.IN_REVIEW, email="rosa@tidewater.example")
    ids = question_ids(app)
    login(client)
    page = f"/editor/submissions/{sid}"
    data = {
        "message": "Lovely start; two answers need a little more.",
        f"req{ids[0]}": "Which platform came first, and why?",
        f"req{ids[2]}": "A number would help here: how many bookings?",
    }
    response = post_form(client, page, data, action=f"{page}/actions/request_changes")
    assert response.status_code == 302, _text(response)
    with app.app_context():
        answers = db.session.get(Submission, sid).latest_revision.answers
        wording = {a.question_id: a.question_text for a in answers}
        questions = [wording[ids[0]], "", wording[ids[2]]]
        deliver_due()
    [mail] = [m for m in inbox.to("rosa@tidewater.example") if "A few changes" in m.subject]
    for text in (questions[0], "Which platform came first", questions[2], "how many bookings"):
        assert text in mail.text, text
        assert html.escape(text) in mail.html or text in html.unescape(mail.html), text
    shown = _text(app.test_client().get(status))
    assert "Which platform came first, and why?" in shown and questions[0] in shown
    assert "how many bookings" in shown and questions[2] in shown


def test_a_kept_photo_never_sent_is_swept_after_a_day_and_a_used_one_stays(app, client):
    from portal import photos
    from tests.conftest import stored_names

    data = application(app, business="")
    data["photo"] = (io.BytesIO(_photo_bytes()), "me.jpg")
    post_form(client, "/apply", data, content_type="multipart/form-data")
    data = application(app, email="second@shop.example")
    data["photo"] = (io.BytesIO(_photo_bytes()), "me.jpg")
    assert post_form(client, "/apply", data, content_type="multipart/form-data").status_code == 302
    with app.app_context():
        assert len(stored_names(app)) == 2  # the kept one and the sent one
        assert photos.sweep() == 0  # not a day old yet
        assert photos.sweep(older_than=-1) == 1
        [left] = stored_names(app)
        assert left == db.session.scalar(select(Submission.photo))


def test_the_proof_leads_with_what_changed_and_folds_the_rest(app, client):
    from portal import operations
    from portal.workflow import Action
    from tests.factories import actor_for

    with app.app_context():
        s = submission_in(State.APPROVED)
        s.interview.items[1].answer_html = "<p>Our edited wording of the second answer.</p>"
        db.session.commit()
        operations.perform(
            s, Action.SEND_PROOF, actor_for(Action.SEND_PROOF), message="Only one small cut."
        )
        token = StatusToken.issue(s)
        db.session.commit()
        total = len(s.interview.items)
    page = _text(client.get(f"/status/{token}"))
    proof = page[page.index("Your proof") :]
    assert proof.index("Only one small cut.") < proof.index("We edited 1 of your")
    assert f"We edited 1 of your {total} answers" in proof
    assert f"{total - 1} answers we left as you wrote them</summary>" in proof
    assert "<summary>The whole interview, as readers will see it</summary>" in proof
    assert "Sign it off: publish it as shown" in page
    response = post_form(
        client,
        f"/status/{token}",
        {"message": "Please keep my last sentence."},
        action=f"/status/{token}/actions/ask_fix",
    )
    assert "the editors have your request" in _text(client.get(response.headers["Location"]))


def test_small_things_on_the_status_page(app, client):
    _, draft = _status_link(app, State.DRAFT)
    page = _text(client.get(draft))
    assert "Withdraw my application" not in page and "Erase this application" in page
    _, sent = _status_link(app, State.SUBMITTED)
    page = _text(client.get(sent))
    assert page.count("within 14 days") == 1
    # What they sent, read-only.
    assert "What you sent</h2></summary>" in page


# What a second look, as an applicant on a phone and an editor, found.


def _act(client, sid: int, action: str, **data):
    from tests.test_workspace import act

    return act(client, sid, action, **data)


def test_a_scheduled_interview_is_called_off_not_unpublished_and_not_edited(
    app, client, editor, inbox
):
    from datetime import timedelta

    from portal.clock import utcnow
    from portal.notifications.delivery import deliver_due

    with app.app_context():
        s = submission_in(State.READY)
        sid = s.id
        deliver_due()
    inbox.clear()
    login(client)
    later = (utcnow() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    assert _act(client, sid, "publish", publish_at=later).status_code == 302
    page = _text(client.get(f"/editor/submissions/{sid}"))
    assert "Cancel the schedule" in page and "actions/unpublish" not in page
    assert "Edit the draft" not in page
    refused = client.get(f"/editor/submissions/{sid}/draft")
    assert refused.status_code == 409 and "cancel the schedule first" in _text(refused)
    response = _act(client, sid, "cancel_schedule")
    assert response.status_code == 302
    with app.app_context():
        s = db.session.get(Submission, sid)
        assert s.state == State.READY.value and s.interview.published_at is None
        deliver_due()
    assert not [m for m in inbox.messages if "offline" in (m.subject or "")]
    history = _text(client.get(f"/editor/submissions/{sid}"))
    assert "Publish</strong>, to go live" in history and "Cancel the schedule" in history


def test_notes_on_answers_are_message_enough(app, client, editor):
    ids = question_ids(app)
    sid, status = _status_link(app, State.IN_REVIEW)
    login(client)
    response = _act(client, sid, "request_changes", message="", **{f"req{ids[1]}": "More here?"})
    assert response.status_code == 302
    with app.app_context():
        s = submission_in(State.AWAITING_SIGNOFF)
        item = s.interview.items[0].id
        token = StatusToken.issue(s)
        db.session.commit()
    response = post_form(
        app.test_client(),
        f"/status/{token}",
        {"message": "", f"fix{item}": "Please spell it Saint Ives."},
        action=f"/status/{token}/actions/ask_fix",
    )
    assert response.status_code == 302
    # The applicant sees what they asked, as theirs.
    page = _text(app.test_client().get(f"/status/{token}"))
    assert "You asked us to fix the proof" in page and "Please spell it Saint Ives." in page


def test_a_refused_action_on_a_status_page_goes_back_to_it(app, client):
    with app.app_context():
        s = submission_in(State.AWAITING_SIGNOFF)
        token = StatusToken.issue(s)
        db.session.commit()
    response = post_form(
        client, f"/status/{token}", {"message": ""}, action=f"/status/{token}/actions/ask_fix"
    )
    assert response.status_code == 409
    assert f'href="/status/{token}">Go back' in response.get_data(as_text=True)


def test_a_refused_publication_time_stays_in_the_box(app, client, editor):
    with app.app_context():
        sid = submission_in(State.READY).id
    login(client)
    response = _act(client, sid, "publish", publish_at="2020-11-01T09:00")
    assert response.status_code == 400
    assert 'value="2020-11-01T09:00"' in response.get_data(as_text=True)
    # A time the clocks skip is refused too, not moved an hour on.
    app.config["SITE_TIMEZONE"] = "Europe/London"
    response = _act(client, sid, "publish", publish_at="2031-03-30T01:30")
    assert response.status_code == 400 and "does not exist" in _text(response)


def test_a_stale_publish_click_says_what_is_true_now(app, client, editor):
    with app.app_context():
        sid = submission_in(State.APPROVED).id
    login(client)
    response = _act(client, sid, "publish")
    assert response.status_code == 409
    assert "signed off" not in _text(response) and "not possible" in _text(response)


def test_saved_then_sent_after_the_back_button_is_the_same_draft_and_not_spam(app, client):
    app.config["SPAM_MIN_SECONDS"] = 5
    from datetime import timedelta

    from portal.clock import frozen, utcnow

    post_form(client, "/apply", application(app, save="1"))
    with frozen(utcnow() + timedelta(minutes=10)):
        # The back button brings a fresh copy of the form, filled in by the browser.
        response = post_form(client, "/apply", application(app))
    assert response.status_code == 302
    with app.app_context():
        [state] = db.session.scalars(select(Submission.state)).all()
    assert state == State.SUBMITTED.value


def test_a_saved_draft_keeps_the_consents_ticked(app, client):
    import re

    response = post_form(client, "/apply", application(app, save="1"))
    page = client.get(response.headers["Location"] + "/continue").get_data(as_text=True)
    for name in ("consent", "privacy"):
        box = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
        assert "checked" in box, box
    # A draft saved without them keeps them unticked.
    other = app.test_client()
    response = post_form(
        other, "/apply", application(app, save="1", email="b@x.example", consent="", privacy="")
    )
    page = other.get(response.headers["Location"] + "/continue").get_data(as_text=True)
    assert "checked" not in re.search(r'<input[^>]*name="consent"[^>]*>', page).group(0)


def test_a_link_that_ended_says_how_to_get_a_fresh_one(client):
    response = client.get("/status/this-link-has-ended")
    assert response.status_code == 404
    page = _text(response)
    assert "This link doesn't open anything now" in page and 'href="/status/resend"' in page


def test_a_rewritten_answer_is_shown_whole_not_word_by_word():
    from portal.diffs import word_diff

    edited = str(word_diff("We sell kayaks by the hour.", "We sell kayaks by the day."))
    assert edited == "We sell kayaks by the <del>hour.</del><ins>day.</ins>"
    rewritten = str(word_diff("I fix bicycles for commuters.", "An edited answer, waiting."))
    assert (
        rewritten
        == "<del>I fix bicycles for commuters.</del> <ins>An edited answer, waiting.</ins>"
    )
