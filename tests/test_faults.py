"""The portal keeps working when its parts fail: a mail worker that outlives its
database and an SMTP outage, outages that cost no email, a photo store that is
full or read-only."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from portal import operations, photos, readiness
from portal.clock import frozen, utcnow
from portal.extensions import db
from portal.models import Interview, MailWorker, OutboxEmail, Submission
from portal.notifications import delivery
from portal.workflow import Action, State
from tests.conftest import application, free_port, login, post_form
from tests.factories import actor_for, answers, profile, submission_in


def _stop_after(seconds: float) -> threading.Event:
    stopping = threading.Event()
    threading.Timer(seconds, stopping.set).start()
    return stopping


def test_the_worker_outlives_the_database_going_away(app, inbox, monkeypatch):
    with app.app_context():
        operations.apply(profile(email="patient@shop.example"), answers())
    real = delivery.deliver_due
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) <= 3:  # the database restarts under the worker
            raise OperationalError("SELECT 1", {}, ConnectionError("server closed the connection"))
        return real(*args, **kwargs)

    monkeypatch.setattr(delivery, "deliver_due", flaky)
    monkeypatch.setattr(delivery, "MAX_PAUSE_SECONDS", 0.05)
    said = []
    with app.app_context():
        totals = delivery.run_worker(
            "test:mail",
            batch=None,
            interval=0.01,
            stopping=_stop_after(20),
            until_empty=True,
            echo=said.append,
        )
    assert totals.sent == 1 and len(inbox.to("patient@shop.example")) == 1
    # One line about the outage, not one per try; then a line when it is over.
    assert sum("database unavailable" in line for line in said) == 1
    assert "back to normal" in said


def test_an_smtp_outage_longer_than_the_back_off_kills_nothing(app, inbox):
    # Even past its age limit: only the server's refusals can make an email dead.
    app.config["MAIL_EXPIRE_DAYS"] = 1
    mail_state = app.extensions["mail"]
    real_port = mail_state.port
    with app.app_context():
        operations.apply(profile(email="outage@shop.example"), answers())
        email = db.session.scalar(select(OutboxEmail))
        mail_state.port = free_port()  # nothing listens: the server is down
        # Two days of tries, far past the old ladder of eight.
        for hour in range(0, 48, 2):
            with frozen(email.created_at + timedelta(hours=hour, minutes=1)):
                report = delivery.deliver_due()
                assert report.dead == 0
        db.session.refresh(email)
        assert email.status == "failed" and email.attempts == 0
        mail_state.port = real_port
        with frozen(email.deliver_after + timedelta(seconds=1)):
            assert delivery.deliver_due().sent == 1
    assert len(inbox.to("outage@shop.example")) == 1


def test_dead_emails_of_a_period_come_back_at_once(app, client, editor, inbox):
    with app.app_context():
        for n in range(3):
            operations.apply(profile(email=f"dead{n}@shop.example"), answers())
        db.session.execute(OutboxEmail.__table__.update().values(status="dead", last_error="x"))
        db.session.commit()
    login(client)
    page = client.get("/editor/outbox").get_data(as_text=True)
    assert "Send again every dead email" in page
    response = post_form(
        client, "/editor/outbox", {"days": "7"}, action="/editor/outbox/retry-dead"
    )
    assert response.status_code == 302
    with app.app_context():
        assert set(db.session.scalars(select(OutboxEmail.status))) == {"pending"}
        db.session.execute(OutboxEmail.__table__.update().values(status="dead"))
        db.session.commit()
    result = app.test_cli_runner().invoke(
        args=["mail", "retry", "--since", (utcnow() - timedelta(days=1)).strftime("%Y-%m-%d")]
    )
    assert result.exit_code == 0 and "dead emails are due again" in result.output


def test_a_restarted_worker_hands_back_what_it_had_claimed(app, inbox):
    with app.app_context():
        operations.apply(profile(email="stranded@shop.example"), answers())
        db.session.execute(
            OutboxEmail.__table__.update().values(
                status="sending", claimed_by="host:mail", claimed_at=utcnow() - timedelta(seconds=5)
            )
        )
        db.session.commit()
        # The lease (600 s) has not run out: only the restart brings it back.
        delivery.run_worker(
            "host:mail", batch=None, interval=0.01, stopping=_stop_after(20), until_empty=True
        )
        assert db.session.scalar(select(OutboxEmail.status)) == "sent"
        worker = db.session.get(MailWorker, "host:mail")
        assert worker is not None and worker.trouble == ""


def test_the_worker_says_it_is_alive_and_what_it_is_up_against(app, client, editor):
    app.config["MAIL_SERVER"] = "127.0.0.1"
    app.extensions["mail"].port = free_port()
    login(client)
    page = client.get("/editor/outbox").get_data(as_text=True)
    assert "No mail worker has run yet" in page
    with app.app_context():
        operations.apply(profile(email="wait@shop.example"), answers())
        delivery.run_worker("host:mail", batch=None, interval=0.01, stopping=_stop_after(0.5))
    page = client.get("/editor/outbox").get_data(as_text=True)
    assert "The mail worker (last seen just now) is waiting: SMTP server unreachable" in page
    assert "(Europe/London)" in page  # the time it started, as editors read times
    health = client.get("/healthz").json
    assert health["mail"]["worker"] == "host:mail" and "SMTP" in health["mail"]["trouble"]
    with frozen(utcnow() + timedelta(minutes=10)):
        page = client.get("/editor/outbox").get_data(as_text=True)
    assert "The mail worker was last seen 10 minutes ago" in page


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 90, 200)).save(out, "JPEG")
    return out.getvalue()


def _store_full(*_args):
    from sqlalchemy.exc import OperationalError

    raise OperationalError("INSERT INTO stored_files", {}, Exception("database or disk is full"))


def test_a_broken_photo_store_is_a_message_and_loses_nothing(app, client, monkeypatch):
    monkeypatch.setattr(photos, "write_new", _store_full)
    data = application(app, pitch="Ferry-side coffee since 2011.")
    data["photo"] = (io.BytesIO(_jpeg()), "me.jpg")
    response = post_form(client, "/apply", data, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "We could not store your photo just now" in page
    assert "Ferry-side coffee since 2011." in page
    # Sent again without the photo, it goes through.
    assert post_form(client, "/apply", application(app)).status_code == 302


def test_publishing_goes_ahead_when_the_share_image_cannot_be_made(app, monkeypatch):
    with app.app_context():
        s = submission_in(State.READY)
        real = photos.write_new
        monkeypatch.setattr(
            photos, "write_new", lambda *a: (_ for _ in ()).throw(OSError(30, "Read-only"))
        )
        operations.perform(s, Action.PUBLISH, actor_for(Action.PUBLISH))
        assert s.state == State.PUBLISHED.value and s.interview.share_image is None
        # The worker makes it later, once the folder takes files again.
        monkeypatch.setattr(photos, "write_new", real)
        from portal import share_image

        assert share_image.fill_missing() == 1
        assert db.session.scalar(select(Interview.share_image)) is not None
        assert db.session.scalar(select(Submission.state)) == State.PUBLISHED.value


def test_a_failed_save_leaves_no_photo_behind(app, client, monkeypatch):
    """The photo is a row of the save's own transaction: when the save fails
    after the photo was stored, the photo goes with it."""
    from portal.models import StoredFile

    def broken(*_args, **_kwargs):
        raise RuntimeError("the database went away mid-save")

    monkeypatch.setattr(operations, "_write_answers", broken)
    data = application(app)
    data["photo"] = (io.BytesIO(_jpeg()), "me.jpg")
    with pytest.raises(RuntimeError):
        post_form(client, "/apply", data, content_type="multipart/form-data")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 0


def test_a_backup_taken_while_applications_arrive_restores_pages_and_links(app, client, tmp_path):
    from portal.models import StatusToken

    links = []
    for n in range(5):
        response = post_form(client, "/apply", application(app, email=f"kept{n}@shop.example"))
        links.append(response.headers["Location"])
    with app.app_context():
        published = submission_in(State.PUBLISHED)
        slug = published.interview.slug
    # Applications keep arriving while the backup is made.
    arriving = threading.Event()

    def apply_more():
        other = app.test_client()
        n = 0
        while not arriving.is_set():
            post_form(other, "/apply", application(app, email=f"during{n}@shop.example"))
            n += 1

    thread = threading.Thread(target=apply_more)
    thread.start()
    archive = tmp_path / "site.tar.gz"
    try:
        result = app.test_cli_runner().invoke(args=["backup", str(archive)])
    finally:
        arriving.set()
        thread.join()
    assert result.exit_code == 0, result.output
    with app.app_context():
        at_backup = db.session.scalar(select(func.count()).select_from(Submission))
        waiting = db.session.scalar(
            select(func.count()).select_from(OutboxEmail).where(OutboxEmail.status == "pending")
        )
        # Disaster: everything after the backup is lost.
        for token_row in db.session.scalars(select(StatusToken)):
            db.session.delete(token_row)
        db.session.execute(Submission.__table__.delete())
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["restore", str(archive), "--yes"])
    assert result.exit_code == 0, result.output
    assert "held" in result.output
    with app.app_context():
        restored = db.session.scalar(select(func.count()).select_from(Submission))
        held = db.session.scalars(
            select(OutboxEmail.last_error).where(OutboxEmail.status == "dead")
        ).all()
    # A consistent copy: at least what was confirmed before it began, nothing half-made.
    assert 6 <= restored <= at_backup
    assert waiting == 0 or any("Held after restoring a backup" in e for e in held)
    reader = app.test_client()
    for link in links:
        assert "Tidewater Kayaks" in reader.get(link).get_data(as_text=True)
    assert reader.get(f"/interviews/{slug}").status_code == 200


def test_a_waiting_worker_holds_no_lock_that_makes_the_site_wait(app, client):
    """On SQLite a worker's read begins IMMEDIATE: one left open while the
    worker sleeps between passes would stop every form on the site."""
    app.config["SQLITE_BUSY_TIMEOUT_MS"] = 500
    stopping = threading.Event()

    def work():
        with app.app_context():
            delivery.run_worker("host:mail", batch=None, interval=5, stopping=stopping)

    worker = threading.Thread(target=work)
    worker.start()
    try:
        threading.Event().wait(0.5)  # the worker is asleep between passes
        response = post_form(client, "/apply", application(app))
        assert response.status_code == 302
    finally:
        stopping.set()
        worker.join()


def test_redis_going_away_does_not_take_the_site_down(database_url, smtp_server, tmp_path, caplog):
    """Rate limits fall back to counting in each process while their storage is
    away: logging in and applying go on working."""
    from portal import create_app
    from tests.conftest import make_user, reset_schema

    controller, _inbox = smtp_server
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": controller.port,
            "SPAM_MIN_SECONDS": 0,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
            # Nothing listens there: Redis is down.
            "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{free_port()}/0",
        }
    )
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        reset_schema()
    make_user(app)
    client = app.test_client()
    assert post_form(client, "/apply", application(app)).status_code == 302
    login(client)
    assert client.get("/editor/").status_code == 200
    problems = client.get("/readyz").json["problems"]
    assert any(p.startswith("rate limit storage (Redis): not answering") for p in problems)
    with app.app_context():
        db.engine.dispose()


def test_readiness_names_what_is_wrong(app, client, monkeypatch, tmp_path):
    from flask_migrate import upgrade

    # The test schema is made without the migrations: not ready, and says why.
    body = client.get("/readyz")
    assert body.status_code == 503
    assert any("db upgrade" in p for p in body.json["problems"])
    with app.app_context():
        from tests.test_migrations import _empty_database

        _empty_database()
        upgrade()
    app.config["MAIL_SERVER"] = ""  # no mail to send: no worker needed
    assert client.get("/readyz").json == {"status": "ready"}
    # A SQLite database in a folder the service can't write to (its journal
    # could not be made); a database server's disk is its own.
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with monkeypatch.context() as patched:
            patched.setattr(
                readiness, "_database_folder", lambda: "/proc/portal-database-cannot-be-here"
            )
            problems = client.get("/readyz").json["problems"]
        assert any(p.startswith("database folder") for p in problems)
    # A mail worker nobody has seen for a while.
    app.config["MAIL_SERVER"] = "127.0.0.1"
    with app.app_context():
        delivery.beat("host:mail")
    with frozen(utcnow() + timedelta(minutes=20)):
        problems = client.get("/readyz").json["problems"]
    assert any("last seen 20 minutes ago" in p for p in problems)
    # /healthz stays a cheap liveness answer through all of it.
    assert client.get("/healthz").status_code == 200


def test_the_operator_can_send_a_test_email_and_read_the_answer(app, inbox):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["mail", "test", "ops@shop.example"])
    assert result.exit_code == 0, result.output
    assert "The server answered: 250" in result.output
    [received] = inbox.to("ops@shop.example")
    assert received.subject.startswith("Test email from")
    inbox.refuse["nobody@shop.example"] = "550 5.1.1 No such user"
    refused = runner.invoke(args=["mail", "test", "nobody@shop.example"])
    assert refused.exit_code == 1 and "550 5.1.1 No such user" in refused.output
    app.extensions["mail"].port = free_port()  # now the server is down
    result = runner.invoke(args=["mail", "test", "ops@shop.example"])
    assert result.exit_code != 0 and "Not sent: ConnectionRefusedError" in result.output


def test_a_kept_photo_that_cannot_be_stored_is_a_message_and_then_left_out(
    app, client, monkeypatch
):
    data = application(app, business="")
    data["photo"] = (io.BytesIO(_jpeg()), "me.jpg")
    page = post_form(client, "/apply", data, content_type="multipart/form-data")
    kept = page.get_data(as_text=True).split('name="kept_photo" type="hidden" value="', 1)[1]
    kept = kept.split('"', 1)[0]
    monkeypatch.setattr(photos, "write_new", _store_full)
    response = post_form(client, "/apply", dict(application(app), kept_photo=kept))
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "We could not store your photo" in text
    assert 'name="kept_photo" type="hidden" value=""' in text
    # Sent again as it came back, it goes through without the photo.
    assert post_form(client, "/apply", application(app)).status_code == 302


def test_a_stale_pooled_connection_is_noticed_before_a_visitor_gets_a_500(app, client):
    """A database restart leaves the pool's connections dead (on PostgreSQL each
    one is killed here); each is checked before use, so no visitor gets a 500."""
    for _ in range(3):
        client.get("/")
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            db.session.commit()
        else:  # a file has no server to restart: the pool is dropped instead
            db.engine.dispose()
    assert [client.get("/healthz").status_code for _ in range(5)] == [200] * 5
    assert client.get("/").status_code == 200


def test_time_spent_in_an_outage_does_not_count_against_an_email(app, inbox):
    inbox.refuse["grey@shop.example"] = "451 4.7.1 Greylisted"
    with app.app_context():
        operations.apply(profile(email="grey@shop.example"), answers())
        # Held up for four days by an outage, past MAIL_EXPIRE_DAYS (3).
        db.session.execute(
            OutboxEmail.__table__.update().values(created_at=utcnow() - timedelta(days=4))
        )
        db.session.commit()
        delivery.deliver_due()
        email = db.session.scalar(select(OutboxEmail))
        assert email.status == "failed" and email.failing_since is not None


def test_restore_refuses_while_the_site_runs_and_keeps_what_is_still_to_come(app, client, tmp_path):
    with app.app_context():
        s = submission_in(State.READY)
        later = utcnow() + timedelta(hours=2)
        operations.perform(s, Action.PUBLISH, actor_for(Action.PUBLISH), when=later)
        delivery.beat("host:mail")  # a worker is running
    archive = tmp_path / "site.tar.gz"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", str(archive)]).exit_code == 0
    refused = runner.invoke(args=["restore", str(archive), "--yes"])
    assert refused.exit_code != 0 and "stop the web service and the mail workers" in refused.output
    with frozen(utcnow() + timedelta(minutes=10)):
        assert runner.invoke(args=["restore", str(archive), "--yes"]).exit_code == 0
    with app.app_context():
        live = db.session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "publish"))
        assert live.status == "pending"  # its time has not come: it can't have gone out
        held = db.session.scalars(select(OutboxEmail).where(OutboxEmail.status == "dead")).all()
        assert held and all("Held after restoring" in e.last_error for e in held)
        # Sent again from the outbox, a held email never goes before its time.
        live.status = "dead"
        db.session.commit()
        delivery.retry_dead(utcnow() - timedelta(days=1))
        db.session.refresh(live)
        assert live.status == "pending" and live.deliver_after >= later - timedelta(seconds=1)


def test_doctor_names_each_fault_and_passes_a_good_install(app, tmp_path):
    from flask_migrate import upgrade

    runner = app.test_cli_runner()
    # As the tests run it: a schema made without the migrations, development
    # settings, an http PUBLIC_URL.
    result = runner.invoke(args=["doctor"])
    assert result.exit_code == 1
    for expected in ("db upgrade", "PORTAL_ENV: not production", "PUBLIC_URL"):
        assert expected in result.output, expected
    # A good install: migrated, production values, a worker seen, nothing stuck.
    with app.app_context():
        from tests.test_migrations import _empty_database

        _empty_database()
        upgrade()
        delivery.beat("host:mail")
    app.config.update(ENV_NAME="production", PUBLIC_URL="https://interviews.example")
    result = runner.invoke(args=["doctor"])
    assert result.exit_code == 0 and "All is well." in result.output, result.output
    # Dead emails are a line of their own.
    with app.app_context():
        operations.apply(profile(email="x@shop.example"), answers())
        db.session.execute(OutboxEmail.__table__.update().values(status="dead"))
        db.session.commit()
    result = runner.invoke(args=["doctor"])
    assert result.exit_code == 1 and "dead emails" in result.output


def test_a_body_over_the_limit_gets_a_page_that_says_what_to_do(app, client):
    """Past MAX_CONTENT_LENGTH nothing of the form can be read (or kept): the
    page says so, names the photo limit, and sends the applicant back."""
    # The body as a phone sends it: the form with a photo, too large in all.
    body = b"\xff" * (app.config["MAX_CONTENT_LENGTH"] + 1024)
    response = client.post(
        "/apply",
        data=body,
        content_type="multipart/form-data; boundary=----form",
        headers={"Referer": "http://localhost/apply"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "too large to send" in page and "under 5 MB" in page
    assert 'href="http://localhost/apply">Go back to the form</a>' in page


def test_a_kept_photo_the_database_refuses_is_a_message_with_the_form_kept(
    app, client, monkeypatch
):
    from sqlalchemy.exc import OperationalError

    def refused():
        raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    data = application(app, business="", pitch="Kayaks at dawn, kept as typed.")
    data["photo"] = (io.BytesIO(_jpeg()), "me.jpg")
    with app.app_context():
        monkeypatch.setattr(db.session, "commit", refused)
        response = post_form(client, "/apply", data, content_type="multipart/form-data")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "We could not store your photo just now" in text
    assert "Kayaks at dawn, kept as typed." in text


def test_a_backup_from_before_an_upgrade_restores_over_the_upgraded_site(app, client, tmp_path):
    """Rolling back by restoring: the newer schema's tables, with foreign keys to
    the backup's, must not stop the restore; they go, the backup's rows come back."""
    archive = tmp_path / "before.tar.gz"
    with app.app_context():
        kept = submission_in(State.SUBMITTED, business="Before The Upgrade").id
    assert app.test_cli_runner().invoke(args=["backup", str(archive)]).exit_code == 0
    with app.app_context():
        with db.engine.begin() as conn:  # what a newer release's migration would add
            conn.exec_driver_sql(
                "CREATE TABLE newer_things (id INTEGER PRIMARY KEY, submission_id INTEGER "
                "REFERENCES submissions (id) ON DELETE CASCADE)"
            )
            conn.exec_driver_sql(f"INSERT INTO newer_things VALUES (1, {kept})")
        db.session.execute(Submission.__table__.delete().where(Submission.id == kept))
        db.session.commit()
        db.session.remove()
    result = app.test_cli_runner().invoke(args=["restore", str(archive), "--yes"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        from sqlalchemy import inspect

        assert db.session.get(Submission, kept).business == "Before The Upgrade"
        assert "newer_things" not in inspect(db.session.connection()).get_table_names()


def test_a_chore_that_fails_names_itself_and_stops_neither_the_others_nor_the_sending(
    app, inbox, monkeypatch
):
    """A missing table (a migration not run) in one of the worker's chores is
    that chore's failure, said with its error: not "database unavailable"."""
    from portal import newsletter, readership

    def broken(*_args, **_kwargs):
        raise OperationalError("SELECT ...", {}, Exception("no such table: interview_reads"))

    monkeypatch.setattr(readership, "tell_interviewees", broken)
    ran = []
    monkeypatch.setattr(newsletter, "forget_unconfirmed", lambda: ran.append("forget") or 0)
    with app.app_context():
        operations.apply(profile(email="sent@shop.example"), answers())
    said = []
    with app.app_context():
        totals = delivery.run_worker(
            "chores:mail",
            batch=None,
            interval=0.01,
            stopping=_stop_after(20),
            until_empty=True,
            echo=said.append,
        )
    assert totals.sent == 1 and len(inbox.to("sent@shop.example")) == 1
    assert ran == ["forget"]
    assert any(
        line.startswith("the week-after emails failed: OperationalError")
        and "interview_reads" in line
        for line in said
    ), said
    assert not any("database unavailable" in line for line in said)


def test_the_worker_says_an_outage_at_once_however_long_its_chores_take(
    app, client, editor, monkeypatch
):
    """Its first pass also runs the minute's chores: an outage is on the outbox
    page when that pass ends, not after the next one (CI's slower PostgreSQL
    run stopped the worker between the two)."""
    import time

    chores = delivery._each_minute
    monkeypatch.setattr(delivery, "_each_minute", lambda echo: (time.sleep(0.7), chores(echo)))
    app.config["MAIL_SERVER"] = "127.0.0.1"
    app.extensions["mail"].port = free_port()
    with app.app_context():
        operations.apply(profile(email="wait@shop.example"), answers())
        delivery.run_worker("slow:mail", batch=None, interval=0.01, stopping=_stop_after(0.5))
    login(client)
    page = client.get("/editor/outbox").get_data(as_text=True)
    assert "The mail worker (last seen just now) is waiting: SMTP server unreachable" in page
