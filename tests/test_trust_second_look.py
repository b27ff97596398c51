"""What an outsider's second look at the trust promises found, each pinned."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from sqlalchemy import func, select

from portal import accounts, operations
from portal.clock import frozen, utcnow
from portal.extensions import db
from portal.models import AfterRequest, OutboxEmail, StatusToken, Submission, User
from portal.notifications.delivery import deliver_due
from portal.notifications.emails import answer_resend_requests
from portal.security import RedactTokens, redact
from portal.workflow import Action, State
from tests.conftest import application, hidden_value, login, post_form
from tests.factories import actor_for, submission_in
from tests.test_two_factor import _turn_on


def test_turning_two_factor_on_ends_sessions_opened_with_the_password_alone(app, client, editor):
    stolen = app.test_client()
    login(stolen)  # someone who knows the password, before the editor turns it on
    login(client)
    _turn_on(client)
    assert stolen.get("/editor/").status_code == 302
    assert client.get("/editor/").status_code == 200  # the editor's own session stays


def test_one_resend_is_one_email_however_many_applications(app, client, inbox):
    with app.app_context():
        for _ in range(8):
            operations.apply(
                operations.Profile(name="Amy", email="amp@victim.example", business="B"),
                {},
                submit=False,
            )
        db.session.query(OutboxEmail).delete()
        db.session.commit()
    post_form(client, "/status/resend", {"email": "amp@victim.example"})
    with app.app_context():
        answer_resend_requests()
        deliver_due()
    [mail] = inbox.to("amp@victim.example")
    links = [p for p in mail.paths() if p.startswith("/status/")]
    assert len(links) == 5 and "3 older applications" in mail.text
    assert all(client.get(link).status_code == 200 for link in links)


def test_odd_digits_and_broken_addresses_get_an_answer_not_a_500(app, client, editor):
    for value in ("http://[", "https://[::1", "http://a]b.com"):
        response = post_form(client, "/apply", application(app, website=value))
        assert response.status_code == 200, value
        assert "Enter a web address" in response.get_data(as_text=True)
    response = post_form(client, "/apply", application(app, social_instagram="http://["))
    assert response.status_code == 200
    with app.app_context():
        s = submission_in(State.SUBMITTED)
        token = StatusToken.issue(s)
        db.session.commit()
        sid = s.id
    for path in (f"/status/{token}/actions/withdraw", f"/status/{token}/erase"):
        form_page = f"/status/{token}/withdraw"
        response = post_form(client, form_page, {"version": "²", "confirm": "yes"}, path)
        assert response.status_code < 500, path
    login(client)
    page = f"/editor/submissions/{sid}"
    for action in ("actions/start_review", "assign"):
        response = post_form(client, page, {"version": "²", "assignee": "²"}, f"{page}/{action}")
        assert response.status_code < 500, action
    response = post_form(client, "/editor/", {"ids": "²", "action": "assign"}, "/editor/bulk")
    assert response.status_code < 500


def test_odd_digits_in_a_sign_in_code_are_a_wrong_code(app, client, editor):
    login(client)
    _turn_on(client)
    post_form(client, "/editor/", {}, action="/editor/logout")
    post_form(
        client,
        "/editor/login",
        {"email": "editor@portal.test", "password": "correct horse battery"},
    )
    for code in ("¹²³⁴⁵⁶", "１２３４５６", "é" * 8):
        response = post_form(client, "/editor/login/code", {"code": code})
        assert response.status_code == 200 and "didn&#39;t work" in response.get_data(as_text=True)


def _same_form(client, app, **overrides):
    page = client.get("/apply").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return dict(application(app, **overrides), csrf_token=token, shown=hidden_value(page, "shown"))


def test_a_replayed_form_does_not_reopen_a_withdrawn_or_erased_application(app, client):
    data = _same_form(client, app)
    status = client.post("/apply", data=data).headers["Location"]
    post_form(client, f"{status}/withdraw", {"confirm": "yes"}, action=f"{status}/actions/withdraw")
    again = client.post("/apply", data=data)
    assert again.status_code == 409
    assert "withdrawn or erased" in again.get_data(as_text=True)
    assert client.get(status).status_code == 404
    # After erasing, the same form brings nothing back either.
    data = _same_form(client, app, email="second@tidewater.example")
    status = client.post("/apply", data=data).headers["Location"]
    post_form(client, f"{status}/erase", {"confirm": "yes"})
    assert client.post("/apply", data=data).status_code == 409
    with app.app_context():
        found = (
            select(func.count())
            .select_from(Submission)
            .where(Submission.email == "second@tidewater.example")
        )
        assert db.session.scalar(found) == 0


def test_saved_then_sent_from_the_same_page_is_sent(app, client):
    data = _same_form(client, app)
    client.post("/apply", data=dict(data, save="1"))
    response = client.post("/apply", data=data)
    assert response.status_code == 302
    with app.app_context():
        [state] = db.session.scalars(select(Submission.state)).all()
    assert state == State.SUBMITTED.value


def test_erasing_removes_requests_made_after_publication(app):
    with app.app_context():
        s = submission_in(State.PUBLISHED)
        operations.ask_after_publication(s, "correction", "My home address is 4 Quay Lane.")
        operations.perform(s, Action.UNPUBLISH, actor_for(Action.UNPUBLISH), message="Asked")
        operations.erase(s)
        assert db.session.scalar(select(func.count()).select_from(AfterRequest)) == 0


def test_an_old_link_stays_ended_after_the_interview_is_taken_down(app, client):
    days = app.config["STATUS_LINK_DAYS_AFTER_PUBLICATION"]
    with app.app_context():
        s = submission_in(State.PUBLISHED)
        token = StatusToken.issue(s)
        db.session.commit()
        sid = s.id
    with frozen(utcnow() + timedelta(days=days + 1)):
        assert client.get(f"/status/{token}").status_code == 404
        with app.app_context():
            s = db.session.get(Submission, sid)
            operations.perform(s, Action.UNPUBLISH, actor_for(Action.UNPUBLISH), message="Down")
        assert client.get(f"/status/{token}").status_code == 404


def test_an_invited_editor_without_a_password_takes_a_hash_as_long(app, monkeypatch):
    checked = []
    real = accounts.check_password_hash
    monkeypatch.setattr(accounts, "check_password_hash", lambda *a: checked.append(a) or real(*a))
    with app.app_context():
        accounts.invite("new@portal.test", "New Editor", "editor")
        assert db.session.scalar(select(User.password_hash).where(User.email == "new@portal.test"))
        assert accounts.authenticate("new@portal.test", "anything") is None
    assert len(checked) == 1


def test_encoded_token_paths_are_redacted_too(caplog):
    for path in (
        "/%73tatus/s3cr3t",
        "/status%2Fs3cr3t",
        "/editor/login?next=%2Fstatus%2Fs3cr3t",
        "/editor%2Fset-password%2Fs3cr3t",
    ):
        assert "s3cr3t" not in redact(path), path
    record = logging.LogRecord(
        "werkzeug", logging.INFO, "", 0, '"%s" %s', ("GET /status/s3cr3t HTTP/1.1", 200), None
    )
    RedactTokens().filter(record)
    assert "s3cr3t" not in record.getMessage()


def test_photos_are_not_cached_for_a_year(app, client):
    import io

    from tests.test_promises import _photo_bytes

    data = application(app)
    data["photo"] = (io.BytesIO(_photo_bytes()), "me.jpg")
    post_form(client, "/apply", data, content_type="multipart/form-data")
    with app.app_context():
        name = db.session.scalar(select(Submission.photo))
    response = client.get(f"/photos/{name}")
    cache = response.headers["Cache-Control"]
    response.close()
    assert "max-age=86400" in cache and "31536000" not in cache
