"""The whole loop through the browser's eyes: apply, review, proof, publish, read,
with every email caught by a real SMTP server and its links followed."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import OutboxEmail, ResendRequest, Submission
from portal.notifications.delivery import deliver_due
from tests.conftest import application, draft_data, item_ids, login, post_form


def deliver(app):
    with app.app_context():
        return deliver_due()


def only_email(inbox, address, subject_part):
    found = [m for m in inbox.to(address) if subject_part in m.subject]
    assert len(found) == 1, [m.subject for m in inbox.to(address)]
    return found[0]


def act(client, submission_id, action, message=""):
    page = f"/editor/submissions/{submission_id}"
    html = client.get(page).get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    return post_form(
        client,
        page,
        {"version": version, "message": message},
        action=f"{page}/actions/{action}",
    )


def applicant_act(client, status_path, action, message="", **extra):
    page = status_path
    if action == "withdraw" or 'name="csrf_token"' not in client.get(page).get_data(as_text=True):
        page = f"{status_path}/withdraw"  # a form of the applicant's, for its tokens
    html = client.get(page).get_data(as_text=True)
    found = re.search(r'name="version" value="(\d+)"', html)
    version = found.group(1) if found else ""
    return post_form(
        client,
        page,
        {"version": version, "message": message, **extra},
        action=f"{status_path}/actions/{action}",
    )


def test_apply_review_proof_publish_read(app, client, inbox, editor):
    rosa = "rosa@tidewater.example"

    # The applicant applies and lands on the receipt with the private link.
    response = post_form(client, "/apply", application(app))
    assert response.status_code == 302
    status_path = response.headers["Location"]
    assert re.fullmatch(r"/status/[A-Za-z0-9_-]{43}", status_path)
    receipt = client.get(status_path).get_data(as_text=True)
    assert "Your application is in" in receipt
    assert "Received, waiting for an editor" in receipt

    # The receipt email arrives with a status link that opens the status page.
    assert deliver(app).sent == 2  # the applicant's receipt and the editor's alert
    mail = only_email(inbox, rosa, "We received your application")
    assert "within 14 days" in mail.text
    assert mail.html and "Tidewater Kayaks" in mail.html
    [link] = mail.paths()
    assert client.get(link).status_code == 200
    alert = only_email(inbox, "editor@portal.test", "New application: Tidewater Kayaks")

    # The editor logs in, finds it in the queue and opens it from the alert.
    editors = app.test_client()
    login(editors)
    queue = editors.get("/editor/").get_data(as_text=True)
    assert "Rosa Marquez" in queue and "Tidewater Kayaks" in queue
    [editor_link] = [p for p in alert.paths() if p.startswith("/editor/submissions/")]
    with app.app_context():
        submission_id = db.session.scalar(select(Submission.id))
    assert editor_link == f"/editor/submissions/{submission_id}"
    page = editors.get(editor_link).get_data(as_text=True)
    assert "Answer " in page and "Start review" in page

    assert act(editors, submission_id, "start_review").status_code == 302
    assert act(editors, submission_id, "approve").status_code == 302
    deliver(app)
    approved = only_email(inbox, rosa, "approved")
    assert client.get(approved.paths()[0]).status_code == 200

    # The editor polishes the draft and sends the proof.
    draft_page = f"/editor/submissions/{submission_id}/draft"
    ids = item_ids(app, submission_id)
    form = draft_data(
        app,
        submission_id,
        title="Paddling into the feed with Tidewater Kayaks",
        slug="tidewater-kayaks",
        intro_md="Rosa runs **kayak** trips.",
        **{f"a{i}": f"<p>Edited answer {i}</p>" for i in ids},
    )
    assert post_form(editors, draft_page, form).status_code == 302
    assert act(editors, submission_id, "send_proof", "Have a look!").status_code == 302
    deliver(app)
    proof = only_email(inbox, rosa, "ready for your sign-off")
    assert "Have a look!" in proof.text

    # The applicant opens the proof from the email and signs it off.
    proof_path = proof.paths()[0]
    proof_page = client.get(proof_path).get_data(as_text=True)
    assert "Paddling into the feed with Tidewater Kayaks" in proof_page
    assert "Edited answer" in proof_page and "Your words" in proof_page
    assert "<ins>" in proof_page and "<del>" in proof_page  # the changes are marked
    assert applicant_act(client, proof_path, "sign_off").status_code == 302
    assert "Signed off" in client.get(proof_path).get_data(as_text=True)
    deliver(app)
    only_email(inbox, "editor@portal.test", "Proof signed off")

    # Not public before it is published.
    assert client.get("/interviews/tidewater-kayaks").status_code == 404

    assert act(editors, submission_id, "publish").status_code == 302
    deliver(app)
    live = only_email(inbox, rosa, "Your interview is live")
    [interview_path] = [p for p in live.paths() if p.startswith("/interviews/")][:1]
    assert interview_path == "/interviews/tidewater-kayaks"
    public = client.get(interview_path).get_data(as_text=True)
    assert "Paddling into the feed with Tidewater Kayaks" in public
    assert "<strong>kayak</strong>" in public
    assert "https://www.instagram.com/tidewaterkayaks" in public
    home = client.get("/").get_data(as_text=True)
    assert "Paddling into the feed with Tidewater Kayaks" in home
    assert "Published" in client.get(proof_path).get_data(as_text=True)

    # Every email was sent exactly once and none is left behind.
    with app.app_context():
        statuses = set(db.session.scalars(select(OutboxEmail.status)))
    assert statuses == {"sent"}


def test_request_changes_and_revise(app, client, inbox, editor):
    response = post_form(client, "/apply", application(app))
    status_path = response.headers["Location"]
    editors = app.test_client()
    login(editors)
    with app.app_context():
        submission_id = db.session.scalar(select(Submission.id))
    act(editors, submission_id, "start_review")
    act(editors, submission_id, "request_changes", "Could you say more about <b>Instagram</b>?")
    deliver(app)
    mail = only_email(inbox, "rosa@tidewater.example", "A few changes")
    assert "Could you say more about <b>Instagram</b>?" in mail.text
    assert "&lt;b&gt;Instagram&lt;/b&gt;" in mail.html
    revise_path = mail.paths()[0] + "/revise"
    page = client.get(revise_path).get_data(as_text=True)
    assert "Could you say more about &lt;b&gt;Instagram&lt;/b&gt;?" in page
    assert "we paddle, we post" in page  # pre-filled with the latest answers

    data = application(app)
    data.pop("consent")
    data.pop("privacy")
    first_q = next(k for k in data if k.startswith("q"))
    data[first_q] = "Now with more Instagram."
    assert post_form(client, revise_path, data).status_code == 302
    assert "Received, waiting for an editor" in client.get(status_path).get_data(as_text=True)
    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        assert len(submission.revisions) == 2
        assert submission.revisions[0].answers[0].body.startswith("Answer")
        assert submission.revisions[1].answers[0].body == "Now with more Instagram."
    deliver(app)
    only_email(inbox, "editor@portal.test", "Revised application")


def test_status_resend_answers_the_same_for_known_and_unknown(app, client, inbox):
    post_form(client, "/apply", application(app))
    deliver(app)
    inbox.clear()
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(OutboxEmail))
    known = post_form(
        client, "/status/resend", {"email": "ROSA@tidewater.example"}, follow_redirects=True
    )
    unknown = post_form(
        client, "/status/resend", {"email": "nobody@nowhere.example"}, follow_redirects=True
    )
    with app.app_context():
        # Both requests did the same work: one row each, no email yet.
        assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == before
        assert db.session.scalar(select(func.count()).select_from(ResendRequest)) == 2
    assert known.status_code == unknown.status_code == 200
    strip = lambda html: re.sub(r'value="[^"]+"', "", html)  # noqa: E731
    assert strip(known.get_data(as_text=True)) == strip(unknown.get_data(as_text=True))
    deliver(app)
    [mail] = inbox.to("rosa@tidewater.example")
    assert client.get(mail.paths()[0]).status_code == 200
    assert inbox.to("nobody@nowhere.example") == []


def test_unknown_token_is_404(client):
    assert client.get("/status/not-a-real-token").status_code == 404
    assert client.get("/status/" + "A" * 43).status_code == 404
    assert client.get("/status/" + "x" * 5000).status_code == 404


def test_withdraw_from_the_status_page(app, client, inbox, editor):
    status_path = post_form(client, "/apply", application(app)).headers["Location"]
    # Without the confirmation step, nothing happens yet: the confirmation page comes.
    response = applicant_act(client, status_path, "withdraw", "Found another slot.")
    assert response.headers["Location"] == f"{status_path}/withdraw"
    confirm = client.get(f"{status_path}/withdraw").get_data(as_text=True)
    assert "This can't be undone" in confirm
    assert "Received, waiting" in client.get(status_path).get_data(as_text=True)
    response = applicant_act(client, status_path, "withdraw", "Found another slot.", confirm="yes")
    assert response.status_code == 200
    assert "Your application is withdrawn" in response.get_data(as_text=True)
    # The links sent so far no longer open it; a fresh one, asked for, does.
    assert client.get(status_path).status_code == 404
    deliver(app)
    mail = only_email(inbox, "editor@portal.test", "withdrawn")
    assert "Found another slot." in mail.text


def test_applicant_cannot_use_editor_actions(app, client):
    status_path = post_form(client, "/apply", application(app)).headers["Location"]
    response = applicant_act(client, status_path, "approve")
    assert response.status_code == 404
    # and the status page's own actions are refused in the wrong state: 409
    response = applicant_act(client, status_path, "sign_off")
    assert response.status_code == 409
    assert "not possible" in response.get_data(as_text=True)


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "mail": {"worker": "never seen"}}
