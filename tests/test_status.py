"""The applicant's status page: where things stand, by when, and what happened."""

from __future__ import annotations

import re
from datetime import timedelta

from portal import operations
from portal.clock import frozen, utcnow
from portal.extensions import db
from portal.models import StatusToken
from portal.notifications.delivery import deliver_due
from portal.workflow import Action, State
from tests.conftest import login, post_form
from tests.factories import actor_for, answers, profile, staff, submission_in


def status_page(app, submission_id: int) -> str:
    with app.app_context():
        from portal.models import Submission

        token = StatusToken.issue(db.session.get(Submission, submission_id))
        db.session.commit()
    return f"/status/{token}"


def test_day_count_against_the_promised_time(app, client):
    now = utcnow()
    with app.app_context(), frozen(now - timedelta(days=8)):
        submission, token = operations.apply(profile(), answers())
    html = client.get(f"/status/{token}").get_data(as_text=True)
    assert "We answer within 14 days; today is day 9." in html
    with frozen(now + timedelta(days=10)):
        html = client.get(f"/status/{token}").get_data(as_text=True)
    assert "this is day 19: sorry for the wait" in html


def test_timeline_shows_our_emails_but_never_internal_notes_or_spam_reasons(app, client, editor):
    with app.app_context():
        submission, token = operations.apply(
            profile(email="t@shop.example"), answers(), spam_reasons=["blocked words: casino"]
        )
        deliver_due()
        operations.perform(submission, Action.RELEASE, actor_for(Action.RELEASE))
        operations.add_note(submission, staff(), "Internal: check their pricing")
    html = client.get(f"/status/{token}").get_data(as_text=True)
    assert "We emailed you: “We received your application”" in html
    assert "Held for a check" in html
    assert "casino" not in html and "Internal" not in html and "pricing" not in html


def test_proof_shows_each_answer_beside_the_original_and_takes_fixes_per_answer(app, client, inbox):
    with app.app_context():
        submission = submission_in(State.APPROVED)
        item = submission.interview.items[0]
        item.answer_html = "<p>Our edited <strong>wording</strong> of the answer.</p>"
        item_id, question = item.id, item.question
        db.session.commit()
        operations.perform(submission, Action.SEND_PROOF, actor_for(Action.SEND_PROOF))
        sid = submission.id
        deliver_due()
    inbox.clear()
    path = status_page(app, sid)
    html = client.get(path).get_data(as_text=True)
    assert "Your words" in html and "What readers will see" in html
    assert "<strong>wording</strong>" in html
    assert re.search(r"<del>[^<]*</del>", html) and "<ins>" in html
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    response = post_form(
        client,
        path,
        {
            "version": version,
            "message": "Two small things.",
            f"fix{item_id}": "We are in Truro, not Penzance.",
        },
        action=f"{path}/actions/ask_fix",
    )
    assert response.status_code == 302
    with app.app_context():
        deliver_due()
    [mail] = inbox.to("editor@factory.example")
    assert "Two small things." in mail.text
    # The per-answer request reaches the editor with its question, in the email ...
    assert question in mail.text and "We are in Truro, not Penzance." in mail.text
    editors = app.test_client()
    login(editors, email="editor@factory.example", password="factory password")
    page = editors.get(f"/editor/submissions/{sid}").get_data(as_text=True)
    assert f"On “{question}”: We are in Truro, not Penzance." in page.replace("&#34;", '"')
    # ... and beside that answer in the draft editor.
    draft = editors.get(f"/editor/submissions/{sid}/draft").get_data(as_text=True)
    beside = draft[draft.index(f'name="q{item_id}"') :][:3000]
    assert "asks:</strong> We are in Truro, not Penzance." in beside
