"""The app as a whole: settings, SQLite tuning, the command line, mail delivery."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal import config as settings
from portal import create_app, operations
from portal.config import ConfigError
from portal.extensions import db
from portal.models import Interview, OutboxEmail, Submission, User
from portal.notifications.delivery import deliver_due
from portal.workflow import State
from tests.conftest import application, free_port, post_form
from tests.factories import answers, profile, staff, submission_in

ROOT = Path(__file__).resolve().parent.parent


def test_production_refuses_the_development_secret_key(monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PUBLIC_URL", "https://interviews.example.org")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    monkeypatch.setenv("SECRET_KEY", "Zq7r-K2vX9pLmA4tWc8yBn0eHs5dFgJ1uRo6iVk3")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_production_refuses_to_make_a_database_of_its_own(tmp_path):
    """A shell that didn't load the settings must not build an empty SQLite file
    and report the migrations done."""
    env = dict(
        os.environ,
        PORTAL_ENV="production",
        PUBLIC_URL="https://interviews.example.org",
        SECRET_KEY="Zq7r-K2vX9pLmA4tWc8yBn0eHs5dFgJ1uRo6iVk3",
    )
    env.pop("DATABASE_URL", None)
    default = ROOT / "instance" / "portal.sqlite3"  # where development keeps its database
    before = default.stat().st_mtime_ns if default.exists() else None
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=tmp_path,
        env=dict(env, PYTHONPATH=str(ROOT), FLASK_APP=str(ROOT / "wsgi.py")),
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "DATABASE_URL is not set" in done.stderr
    after = default.stat().st_mtime_ns if default.exists() else None
    assert after == before and list(tmp_path.rglob("*.sqlite3")) == []


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("MAIL_PORT", "58x", "a whole number between 1 and 65535"),
        ("MAIL_PORT", "70000", "a whole number between 1 and 65535"),
        ("PAGE_CACHE_CHECK_SECONDS", "soon", "a number of seconds"),
        ("MAIL_USE_TLS", "maybe", "true/false"),
        ("MAIL_BATCH_SIZE", "0", "1 or more"),
        ("SITE_TIMEZONE", "Mars/Olympus", "a time zone name"),
        ("PUBLIC_URL", "interviews.example.com", "an address like https://"),
        ("LOGIN_LIMIT_PER_ADDRESS", "lots", "a rate like"),
        ("RATELIMIT_STORAGE_URI", "localhost:6379", "redis://"),
        ("DATABASE_URL", "not a url", "a database URL"),
        ("PORTAL_ENV", "prod", "development or production"),
    ],
)
def test_a_bad_setting_names_the_variable_the_value_and_what_is_expected(name, value, expected):
    with pytest.raises(ConfigError) as raised:
        settings.from_environment({name: value})
    message = str(raised.value)
    assert message.startswith(f"Configuration error: {name}={value!r} is not valid")
    assert expected in message and "\n" not in message


def test_a_bad_setting_stops_start_up_with_one_line_and_no_traceback(tmp_path):
    env = dict(os.environ, MAIL_PORT="58x", DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "routes"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "Configuration error: MAIL_PORT='58x' is not valid: "
        "expected a whole number between 1 and 65535."
    ]


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path):
    # Always on SQLite, whatever database the rest of this run uses.
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'tuned.sqlite3'}"})
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000


def test_concurrent_writers_wait_instead_of_failing(app):
    """Eight threads read, then write, at once: all of them get through."""
    with app.app_context():
        ids = [submission_in(State.SUBMITTED).id for _ in range(8)]
        editor_id = staff().id
    errors: list[BaseException] = []
    start = threading.Barrier(len(ids))

    def review(submission_id: int) -> None:
        try:
            with app.app_context():
                start.wait()
                submission = db.session.get(Submission, submission_id)  # read ...
                actor = operations.Actor.of(db.session.get(User, editor_id))
                operations.perform(submission, "start_review", actor)  # ... then write
                db.session.remove()
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=review, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with app.app_context():
        states = db.session.scalars(select(Submission.state).where(Submission.id.in_(ids)))
        assert set(states) == {"in_review"}


def test_email_links_come_from_public_url_not_the_host_header(app, client, inbox):
    evil = {"Host": "evil.example"}
    page = client.get("/apply", headers=evil).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/apply", data=dict(application(app), csrf_token=token), headers=evil)
    assert response.status_code == 302
    with app.app_context():
        deliver_due()
    bodies = [message.text for message in inbox.messages]
    assert bodies and all("evil.example" not in body for body in bodies)
    assert any("http://portal.test/status/" in body for body in bodies)


def test_the_status_token_is_stored_only_as_a_hash(app, client):
    status_path = post_form(client, "/apply", application(app)).headers["Location"]
    token = status_path.rsplit("/", 1)[1]
    with app.app_context(), db.engine.connect() as conn:
        for table in ("submissions", "status_tokens", "events", "outbox"):
            dump = str(conn.exec_driver_sql(f"SELECT * FROM {table}").all())  # noqa: S608
            assert token not in dump


def test_users_create_reads_the_password_from_stdin(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "New@Portal.example",
            "--name",
            "Nia New",
            "--role",
            "admin",
            "--password-stdin",
        ],
        input="a very good password\n",
    )
    assert result.exit_code == 0, result.output
    assert "a very good password" not in result.output
    with app.app_context():
        user = db.session.scalar(select(User))
        assert (user.email, user.role) == ("New@portal.example", "admin")
        assert user.check_password("a very good password")
    again = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "new@portal.example",
            "--name",
            "Twin",
            "--password-stdin",
        ],
        input="another good password\n",
    )
    assert again.exit_code != 0 and "already" in again.output
    short = runner.invoke(
        args=["users", "create", "--email", "x@portal.example", "--name", "X", "--password-stdin"],
        input="short\n",
    )
    assert short.exit_code != 0 and "at least 10" in short.output


def test_users_create_prompts_for_the_password_twice(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--email", "p@portal.example", "--name", "Pat"],
        input="prompted password\nprompted password\n",
    )
    assert result.exit_code == 0, result.output
    assert "prompted password" not in result.output


def test_demo_seed_fills_every_stage_once(app, client):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    assert "editor@example.com" in first.output
    assert "already" in runner.invoke(args=["demo", "seed"]).output
    with app.app_context():
        states = set(db.session.scalars(select(Submission.state)))
        assert {
            "published",
            "awaiting_signoff",
            "submitted",
            "in_review",
            "follow_ups_asked",
        } <= states
        published = db.session.scalars(
            select(Interview.slug).where(Interview.published_at.is_not(None))
        ).all()
    home = client.get("/").get_data(as_text=True)
    assert "Harbour Street Bakery" in home
    for slug in published:
        assert client.get(f"/interviews/{slug}").status_code == 200


def test_mail_deliver_command_sends_pending_mail(app, inbox):
    with app.app_context():
        operations.apply(profile(email="cli@shop.example"), answers())
    result = app.test_cli_runner().invoke(args=["mail", "deliver"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    assert len(inbox.to("cli@shop.example")) == 1


def test_smtp_down_keeps_the_email_and_delivers_it_later(app, inbox):
    mail_state = app.extensions["mail"]
    real_port = mail_state.port
    with app.app_context():
        operations.apply(profile(email="later@shop.example"), answers())
        mail_state.port = free_port()  # nothing listens here
        report = deliver_due()
        assert (report.sent, report.failed) == (0, 1) and report.outage
        email = db.session.scalar(select(OutboxEmail))
        assert email.status == "failed" and email.last_error
        assert email.attempts == 0  # an outage is not the email's fault: no try counted
        # Back-off: not retried at once; due again after the wait.
        assert deliver_due().handled == 0
        email.deliver_after = email.created_at
        db.session.commit()
        mail_state.port = real_port
        assert deliver_due().sent == 1
    assert len(inbox.to("later@shop.example")) == 1


def test_a_refused_recipient_is_dead_with_the_reply_and_the_rest_are_sent(app, inbox):
    inbox.refuse["bounce@shop.example"] = "550 5.1.1 No such user here"
    with app.app_context():
        operations.apply(profile(email="bounce@shop.example"), answers())
        operations.apply(profile(email="fine@shop.example"), answers())
        report = deliver_due()
        assert (report.sent, report.dead) == (1, 1)
        dead = db.session.scalar(select(OutboxEmail).where(OutboxEmail.status == "dead"))
        assert "550" in dead.last_error and "No such user here" in dead.last_error
    assert len(inbox.to("fine@shop.example")) == 1


def test_a_name_cannot_smuggle_in_another_recipient(app, inbox):
    with app.app_context():
        operations.apply(
            profile(name="Evil <attacker@evil.example>", email="victim@shop.example"), answers()
        )
        deliver_due()
    assert inbox.to("attacker@evil.example") == []
    [mail] = inbox.to("victim@shop.example")
    assert mail.recipients == ["victim@shop.example"]


def test_without_mail_server_emails_stay_in_the_outbox(app, inbox, caplog):
    app.config["MAIL_SERVER"] = ""
    with app.app_context():
        caplog.set_level("INFO")
        operations.apply(profile(email="kept@shop.example"), answers())
        assert deliver_due().handled == 0
        assert db.session.scalar(select(func.count()).where(OutboxEmail.status == "pending")) == 1
    assert "stays in the outbox" in caplog.text
    assert inbox.messages == []


def test_passwords_are_hashed_with_scrypt_outside_the_test_suite(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'hash.sqlite3'}"})
    with app.app_context():
        user = User(email="a@portal.test", name="A", role="editor")
        user.set_password("correct horse battery")
        assert user.password_hash.startswith("scrypt:")
        assert user.check_password("correct horse battery")
        assert not user.check_password("correct horse battery!")
