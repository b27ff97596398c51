"""Erasure by the applicant, export by an admin."""

from __future__ import annotations

import io
import json
from pathlib import Path

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Answer, Event, OutboxEmail, StatusToken, Submission
from portal.notifications.delivery import deliver_due
from portal.workflow import State
from tests.conftest import application, login, post_form, stored
from tests.test_photos import jpeg_with_gps


def test_an_applicant_erases_an_unpublished_application(app, client, editor):
    form = application(app)
    form["photo"] = (io.BytesIO(jpeg_with_gps((300, 300))), "me.jpg")
    status = post_form(client, "/apply", form, content_type="multipart/form-data").headers[
        "Location"
    ]
    with app.app_context():
        deliver_due()
        photo = db.session.scalar(select(Submission.photo))
    assert stored(app, photo) is not None
    page = client.get(f"{status}/erase").get_data(as_text=True)
    assert "Erase your application?" in page
    response = post_form(client, f"{status}/erase", {"confirm": "yes"})
    assert "Your application is erased" in response.get_data(as_text=True)
    with app.app_context():
        s = db.session.scalar(select(Submission))
        assert (s.name, s.business, s.state) == ("(erased)", "(erased)", "withdrawn")
        assert "rosa" not in s.email.lower()
        assert db.session.scalar(select(func.count()).select_from(Answer)) == 0
        assert db.session.scalar(select(func.count()).select_from(StatusToken)) == 0
        assert not db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.to_address == "rosa@tidewater.example")
        ).all()
        events = db.session.scalars(select(Event)).all()
        assert [e.action for e in events] == ["submit", "withdraw"]  # kept, without the data
        assert all(e.message == "" for e in events)
    assert stored(app, photo) is None
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):  # nor in the write-ahead log, while the site runs on
        log = Path(url.removeprefix("sqlite:///") + "-wal")
        assert not log.exists() or b"rosa@tidewater.example" not in log.read_bytes()
    assert client.get(status).status_code == 404


def test_erasing_goes_through_the_workflow_and_tells_the_editors_without_the_data(
    app, client, editor
):
    from tests.factories import submission_in

    with app.app_context():
        s = submission_in(State.IN_REVIEW)
        business, version = s.business, s.version
        token = StatusToken.issue(s)
        db.session.commit()
    # A page opened before the last change: the erasure is refused, nothing is lost.
    stale = post_form(client, f"/status/{token}/erase", {"confirm": "yes", "version": "0"})
    assert stale.status_code == 409
    with app.app_context():
        assert db.session.scalar(select(Submission.business)) == business
    response = post_form(
        client, f"/status/{token}/erase", {"confirm": "yes", "version": str(version)}
    )
    assert "Your application is erased" in response.get_data(as_text=True)
    with app.app_context():
        withdrawal = db.session.scalars(select(Event).order_by(Event.id.desc())).first()
        assert (withdrawal.action, withdrawal.from_state) == ("withdraw", "in_review")
        alerts = db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.event_id == withdrawal.id)
        ).all()
        assert [a.to_address for a in alerts] == ["editor@portal.test"]
        assert alerts[0].subject.startswith("An application was erased")
        assert business not in alerts[0].text_body + alerts[0].html_body


def test_a_published_interview_cannot_be_erased_from_the_status_page(app, client):
    from portal.models import StatusToken as Token
    from tests.factories import submission_in

    with app.app_context():
        s = submission_in(State.PUBLISHED)
        token = Token.issue(s)
        db.session.commit()
    response = client.get(f"/status/{token}/erase")
    assert response.status_code == 409
    assert "take it down first" in response.get_data(as_text=True)


def test_an_admin_exports_everything_about_an_address(app, client, admin):
    post_form(client, "/apply", application(app))
    login(client, email="admin@portal.test")
    page = client.get("/editor/privacy?email=ROSA@tidewater.example").get_data(as_text=True)
    assert "1 application and 1 email for ROSA@tidewater.example" in page
    response = client.get("/editor/privacy?email=rosa@tidewater.example&download=1")
    assert response.headers["Content-Type"] == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    [application_data] = data["applications"]
    assert application_data["name"] == "Rosa Marquez"
    assert application_data["revisions"][0]["answers"][0]["answer"].startswith("Answer")
    assert data["emails"][0]["subject"].startswith("We received your application")


def test_erasing_an_application_already_withdrawn_still_tells_the_editors(app, client, editor):
    from tests.factories import submission_in

    with app.app_context():
        s = submission_in(State.WITHDRAWN)
        business = s.business
        token = StatusToken.issue(s)
        db.session.commit()
    response = post_form(client, f"/status/{token}/erase", {"confirm": "yes"})
    assert "Your application is erased" in response.get_data(as_text=True)
    with app.app_context():
        notices = db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.subject.startswith("An application was erased"))
        ).all()
        assert [n.to_address for n in notices] == ["editor@portal.test"]
        assert business not in notices[0].text_body
