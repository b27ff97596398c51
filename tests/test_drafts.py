"""Save and finish later: a draft, a link to continue, a reminder, then the purge."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from portal.clock import frozen, utcnow
from portal.extensions import db
from portal.models import Submission
from portal.notifications.delivery import deliver_due
from tests.conftest import application, login, post_form


def test_save_then_continue_then_submit(app, client, inbox, editor):
    data = {"name": "Dev Draft", "email": "dev@draft.example", "business": "", "save": "1"}
    response = post_form(client, "/apply", data)
    assert response.status_code == 302
    status_path = response.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(Submission.state)) == "draft"
        deliver_due()
    [mail] = inbox.to("dev@draft.example")
    assert "saved" in mail.subject.lower()
    link = mail.paths()[0]
    assert client.get(link).status_code == 200
    # Never visible to editors.
    editors = app.test_client()
    login(editors)
    assert "Dev Draft" not in editors.get("/editor/?state=submitted").get_data(as_text=True)
    with app.app_context():
        sid = db.session.scalar(select(Submission.id))
    assert editors.get(f"/editor/submissions/{sid}").status_code == 404

    page = client.get(f"{link}/continue").get_data(as_text=True)
    assert 'value="Dev Draft"' in page and "Finish your application" in page
    full = application(app, name="Dev Draft", email="dev@draft.example", business="Draft Candles")
    response = post_form(client, f"{link}/continue", full)
    assert response.status_code == 302
    with app.app_context():
        submission = db.session.get(Submission, sid)
        assert submission.state == "submitted"
        assert submission.business == "Draft Candles"
        assert len(submission.revisions) == 1  # the draft became revision 1
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 1
    assert "Draft Candles" in editors.get("/editor/").get_data(as_text=True)
    assert status_path.startswith("/status/")


def test_saving_needs_a_name_and_a_working_email_only(app, client):
    response = post_form(client, "/apply", {"name": "", "email": "nope", "save": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Tell us your name." in page and "look like an email address" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 0


def test_saving_still_refuses_hostile_text(app, client):
    data = {"name": "Dev", "email": "dev@draft.example", "pitch": "bad\x00byte", "save": "1"}
    response = post_form(client, "/apply", data)
    assert "invisible control character" in response.get_data(as_text=True)


def test_reminder_then_purge(app, inbox):
    now = utcnow()
    with app.app_context():
        from portal import operations
        from tests.factories import answers, profile

        with frozen(now - timedelta(days=26)):
            old, _ = operations.apply(profile(email="old@draft.example"), answers(), submit=False)
        with frozen(now - timedelta(days=31)):
            older, _ = operations.apply(
                profile(email="older@draft.example"), answers(), submit=False
            )
        with frozen(now - timedelta(days=2)):
            operations.apply(profile(email="new@draft.example"), answers(), submit=False)
        deliver_due()
    inbox.clear()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["drafts", "purge"])
    assert "1 reminders queued, 1 drafts deleted, 0 stray photos deleted." in result.output
    again = runner.invoke(args=["drafts", "purge"]).output
    assert "0 reminders queued, 0 drafts deleted" in again
    with app.app_context():
        emails = set(db.session.scalars(select(Submission.email)))
        assert emails == {"old@draft.example", "new@draft.example"}
        deliver_due()
    [reminder] = inbox.to("old@draft.example")
    assert re.search(r"will be deleted\s+on\s+\d+\s+\w+\s+\d{4}", reminder.text)
    assert inbox.to("new@draft.example") == []


def test_a_draft_taken_up_again_and_sent_at_once_is_not_spam(app, client):
    from datetime import timedelta

    from portal.clock import utcnow

    app.config["SPAM_MIN_SECONDS"] = 5
    data = {"name": "Quick Return", "email": "quick@draft.example", "save": "1"}
    status_path = post_form(client, "/apply", data).headers["Location"]
    with app.app_context():
        # The draft was started ten minutes ago; the applicant comes back now.
        submission = db.session.scalar(select(Submission))
        submission.created_at = utcnow() - timedelta(minutes=10)
        db.session.commit()
    full = application(app, name="Quick Return", email="quick@draft.example")
    response = post_form(client, f"{status_path}/continue", full)  # sent at once
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Submission.state)) == "submitted"
