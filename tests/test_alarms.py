"""Someone is told when it matters: email failing or piling up, or the mail
worker gone, shows on every page of the editors' desk and reaches the admins
once a day; a failed scheduled job reaches the admins too."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select, update

from portal import alarms, operations
from portal.clock import utcnow
from portal.extensions import db
from portal.models import MailWorker, OutboxEmail
from portal.notifications.delivery import beat, deliver_due, run_worker
from tests.conftest import login, make_user
from tests.factories import answers, profile

BANNER = "Email needs attention."


def _team(app):
    make_user(app)  # editor@portal.test
    make_user(app, email="admin@portal.test", name="Ada Admin", role="admin")


def _failing_for(app, minutes: int) -> None:
    """Emails the server has refused (4xx) for `minutes`, the next try due soon."""
    with app.app_context():
        operations.apply(profile(email="late@shop.example"), answers())
        since = utcnow() - timedelta(minutes=minutes)
        db.session.execute(
            update(OutboxEmail).values(
                status="failed",
                attempts=3,
                failing_since=since,
                deliver_after=utcnow() + timedelta(minutes=10),
            )
        )
        beat("host:mail")  # the worker is alive: only the emails are in trouble
        db.session.commit()


def test_the_desk_shows_nothing_while_email_goes_out(app, client):
    _team(app)
    with app.app_context():
        beat("host:mail")
    login(client)
    assert BANNER not in client.get("/editor/").get_data(as_text=True)


def test_failing_email_puts_a_banner_on_every_editors_page(app, client):
    _team(app)
    _failing_for(app, 90)
    login(client)
    for path in ("/editor/", "/editor/dashboard", "/editor/account"):
        page = client.get(path).get_data(as_text=True)
        assert BANNER in page, path
        assert "emails have been failing for over 60 minutes" in page
    client.post("/editor/logout")
    public = app.test_client().get("/").get_data(as_text=True)
    assert BANNER not in public  # readers see nothing of it


def test_a_short_hiccup_raises_nothing(app, client):
    _team(app)
    _failing_for(app, 20)
    with app.app_context():
        assert alarms.mail_trouble() == []
        assert alarms.raise_mail_alarm() is False
    login(client)
    assert BANNER not in client.get("/editor/").get_data(as_text=True)


def test_a_worker_gone_is_noticed_by_the_check_and_the_admins_get_one_email(app, inbox):
    _team(app)
    with app.app_context():
        beat("host:mail")
        db.session.execute(update(MailWorker).values(last_seen=utcnow() - timedelta(minutes=12)))
        db.session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["alarms", "check"])
    assert "last seen 12 minutes ago" in first.output
    assert "The admins are emailed." in first.output
    # Sent at once by the check itself: the worker that would send it is gone.
    [alarm] = inbox.to("admin@portal.test")
    again = runner.invoke(args=["alarms", "check"])
    assert "The admins are emailed." not in again.output  # once a day, not every run
    assert len(inbox.to("admin@portal.test")) == 1
    assert alarm.subject == "Email is not going out"
    assert "last seen 12 minutes ago" in alarm.text
    assert "/editor/outbox" in alarm.paths()
    assert inbox.to("editor@portal.test") == []  # admins only


def test_the_worker_itself_tells_the_admins_when_emails_keep_failing(app, inbox):
    _team(app)
    _failing_for(app, 90)
    with app.app_context():
        stopping = threading.Event()
        run_worker("host:mail", batch=10, interval=0.01, stopping=stopping, until_empty=True)
        subjects = db.session.scalars(
            select(OutboxEmail.subject).where(OutboxEmail.kind == "alarm")
        ).all()
    assert subjects == ["Email is not going out"]  # to the one admin


def test_a_failed_scheduled_job_reaches_the_admins(app, inbox):
    _team(app)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["alarms", "unit-failed", "portal-daily.service"])
    assert result.exit_code == 0, result.output
    runner.invoke(args=["alarms", "unit-failed", "portal-daily.service"])
    with app.app_context():
        deliver_due()
    [alarm] = inbox.to("admin@portal.test")
    assert alarm.subject == "A scheduled job failed: portal-daily.service"
    assert "journalctl -u portal-daily.service --since today" in " ".join(alarm.text.split())


def test_without_an_smtp_server_the_outbox_waiting_is_no_alarm(app, client):
    app.config["MAIL_SERVER"] = ""
    _team(app)
    _failing_for(app, 600)
    with app.app_context():
        assert alarms.mail_trouble() == []
    login(client)
    assert BANNER not in client.get("/editor/").get_data(as_text=True)


def test_doctor_names_email_trouble_the_worker_reports_and_emails_failing(app):
    _team(app)
    with app.app_context():
        beat("host:mail", "SMTP server unreachable since 04:06")
        from portal.readiness import checkup

        assert any("SMTP server unreachable since 04:06" in line for line in checkup())
    _failing_for(app, 120)
    with app.app_context():
        assert any("failing for over 60 minutes" in line for line in checkup())


def test_a_new_kind_of_trouble_the_same_day_is_told_too(app, inbox):
    _team(app)
    _failing_for(app, 90)
    with app.app_context():
        assert alarms.raise_mail_alarm()
        assert not alarms.raise_mail_alarm()  # the same trouble: told already today
        db.session.execute(update(MailWorker).values(last_seen=utcnow() - timedelta(minutes=30)))
        db.session.commit()
        assert alarms.raise_mail_alarm()  # now the worker is gone as well
