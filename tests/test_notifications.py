"""Email: each event's message and links, and a worker that never loses one,
all against a real SMTP server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections import Counter
from datetime import date, datetime, timedelta
from email.utils import formataddr
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from portal import operations
from portal.clock import frozen, utcnow
from portal.extensions import db
from portal.models import OutboxEmail, Submission, User
from portal.notifications.delivery import deliver_due
from portal.notifications.emails import queue_digests, queue_for_event
from portal.notifications.outbox import queue
from portal.workflow import Action, State, WorkflowError
from tests.conftest import PUBLIC_URL, application, login, post_form
from tests.factories import actor_for, answers, profile, staff, submission_in

ROOT = Path(__file__).resolve().parent.parent


def deliver_all(app):
    with app.app_context():
        while deliver_due().handled:
            pass


# action → (state before, who is told, words the email must hold, where its link leads)
EVENTS = {
    Action.REQUEST_CHANGES: (State.IN_REVIEW, "applicant", "a few changes", "/status/"),
    Action.REJECT: (State.IN_REVIEW, "applicant", "not able to feature", "/status/"),
    Action.APPROVE: (State.IN_REVIEW, "applicant", "is approved", "/status/"),
    Action.SEND_PROOF: (State.APPROVED, "applicant", "ready for you to read", "/status/"),
    Action.UNPUBLISH: (State.PUBLISHED, "applicant", "offline for now", "/status/"),
    Action.SIGN_OFF: (State.AWAITING_SIGNOFF, "editor", "signed off the proof", "/editor/"),
    Action.ASK_FIX: (State.AWAITING_SIGNOFF, "editor", "asked for a fix", "/editor/"),
    Action.WITHDRAW: (State.IN_REVIEW, "editor", "withdrew the application", "/editor/"),
    Action.PUBLISH: (State.READY, "applicant", "Your interview is live", "/interviews/"),
}


@pytest.mark.parametrize("action", list(EVENTS), ids=str)
def test_each_event_mails_the_right_person_with_working_links(app, client, inbox, action):
    source, who, words, link_prefix = EVENTS[action]
    with app.app_context():
        editor = staff()
        submission = submission_in(source, name="Noor Haddad", email="noor@lantern.example")
        submission.assigned_to = editor
        db.session.commit()
        deliver_due()
        inbox.clear()
        message = "Please look at <answer 3> & the title."
        operations.perform(submission, action, actor_for(action), message=message)
        interview_slug = submission.interview.slug if submission.interview else None
    deliver_all(app)
    address = "noor@lantern.example" if who == "applicant" else "editor@factory.example"
    [mail] = inbox.messages
    assert mail.recipients == [address]
    assert words in mail.text and words in mail.html
    expected_name = "Noor Haddad" if who == "applicant" else "Factory editor"
    assert f"Hello {expected_name}," in mail.text
    if action in (Action.REQUEST_CHANGES, Action.REJECT, Action.UNPUBLISH, Action.ASK_FIX):
        assert message in mail.text
        assert "&lt;answer 3&gt; &amp; the title." in mail.html  # escaped in HTML
    assert mail.links() and all(link.startswith(PUBLIC_URL) for link in mail.links())
    paths = [p for p in mail.paths() if p.startswith(link_prefix)]
    assert paths, mail.text
    if link_prefix == "/editor/":
        login(client, email="editor@factory.example", password="factory password")
    if link_prefix == "/interviews/":
        assert paths[0] == f"/interviews/{interview_slug}"
        assert "Instagram:" in mail.text  # the share kit: a line per network
    response = client.get(paths[0])
    assert response.status_code == 200, paths[0]


def test_submit_mails_a_receipt_and_the_editors_who_asked(app, client, inbox):
    with app.app_context():
        for email, choice in (
            ("each@p.example", "each"),
            ("digest@p.example", "digest"),
            ("none@p.example", "none"),
        ):
            user = User(email=email, name=email.split("@")[0], role="editor", notify_new=choice)
            user.set_password("whatever password")
            db.session.add(user)
        db.session.commit()
    post_form(client, "/apply", application(app))
    deliver_all(app)
    [receipt] = inbox.to("rosa@tidewater.example")
    assert "Hello Rosa Marquez," in receipt.text and "within 14 days" in receipt.text
    assert client.get(receipt.paths()[0]).status_code == 200
    assert len(inbox.to("each@p.example")) == 1
    assert inbox.to("digest@p.example") == inbox.to("none@p.example") == []


def test_the_same_event_never_mails_the_same_person_twice(app, inbox):
    with app.app_context():
        submission = submission_in(State.SUBMITTED)
        event = submission.events[-1]
        before = db.session.scalar(select(func.count()).select_from(OutboxEmail))
        queue_for_event(event)  # the transition's mail, queued again (a retry)
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == before
    deliver_all(app)
    assert Counter(m.recipients[0] for m in inbox.messages).most_common(1)[0][1] == 1


def test_a_scheduled_publication_announces_itself_when_it_goes_live(app, inbox):
    later = utcnow() + timedelta(days=2)
    with app.app_context():
        submission = submission_in(State.READY, email="soon@shop.example")
        deliver_due()
        inbox.clear()
        operations.perform(submission, Action.PUBLISH, actor_for(Action.PUBLISH), when=later)
        deliver_due()
        assert inbox.to("soon@shop.example") == []
        with frozen(later + timedelta(minutes=1)):
            deliver_due()
    [mail] = inbox.to("soon@shop.example")
    assert "Your interview is live" in mail.subject


def test_subjects_and_recipients_are_safe_against_header_injection(app, inbox):
    with app.app_context():
        queue(
            "status_link",
            [("Evil <attacker@evil.example>\r\nBcc: spy@evil.example", "victim@shop.example")],
            "Hi\r\nBcc: spy@evil.example",
            key="injection-test",
            submission=submission_in(State.SUBMITTED),
            status_link=f"{PUBLIC_URL}/status/x",
        )
        db.session.commit()
    deliver_all(app)
    delivered = [m for m in inbox.messages if m.recipients == ["victim@shop.example"]]
    assert len(delivered) == 1
    everyone = {r for m in inbox.messages for r in m.recipients}
    assert not {"attacker@evil.example", "spy@evil.example"} & everyone
    assert "Bcc" not in delivered[0].message


def test_a_temporary_refusal_is_retried_with_growing_back_off_then_dead(app, inbox):
    app.config["MAIL_EXPIRE_DAYS"] = 1
    inbox.refuse["busy@shop.example"] = "451 4.3.0 Try again later"
    with app.app_context():
        operations.apply(profile(email="busy@shop.example"), answers())
        email = db.session.scalar(select(OutboxEmail))
        waits = []
        for attempt in (1, 2, 3):
            # The third try comes when the email is older than MAIL_EXPIRE_DAYS.
            late = timedelta(days=1) if attempt == 3 else timedelta(0)
            with frozen(email.deliver_after + timedelta(seconds=1) + late):
                report = deliver_due()
            db.session.refresh(email)
            assert email.attempts == attempt
            assert "451" in email.last_error and "Try again later" in email.last_error
            if attempt < 3:
                assert report.failed == 1 and email.status == "failed"
                waits.append(email.deliver_after - utcnow())
        assert email.status == "dead"
        assert waits[1] > waits[0]  # exponential back-off (jitter is ±20%)


def _tarpit():
    """A TCP server that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted = []

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            accepted.append(conn)

    threading.Thread(target=serve, daemon=True).start()
    return server, accepted


def test_a_silent_smtp_server_neither_slows_a_request_nor_hangs_the_worker(app, client):
    server, accepted = _tarpit()
    try:
        mail_state = app.extensions["mail"]
        mail_state.port = server.getsockname()[1]
        app.config["MAIL_TIMEOUT"] = 1
        # The request only writes to the outbox: it never talks to SMTP.
        response = post_form(client, "/apply", application(app))
        assert response.status_code == 302
        assert accepted == []
        with app.app_context():
            report = deliver_due()
            assert report.failed == 1
            errors = set(db.session.scalars(select(OutboxEmail.last_error)))
            assert any("timed out" in e for e in errors), errors
        assert len(accepted) == 1
    finally:
        server.close()


def test_digest_lists_the_day_and_runs_once_per_day(app, inbox):
    day = date(2026, 11, 20)
    with app.app_context():
        reader = User(
            email="digest@p.example", name="Dee Digest", role="editor", notify_new="digest"
        )
        reader.set_password("whatever password")
        db.session.add(reader)
        db.session.commit()
        with frozen(datetime(2026, 11, 20, 9, 30)):
            operations.apply(profile(business="Morning Pottery"), answers())
        with frozen(datetime(2026, 11, 20, 17, 0)):
            operations.apply(profile(business="Evening Pickles"), answers())
        with frozen(datetime(2026, 11, 21, 8, 0)):
            operations.apply(profile(business="Next Day Knits"), answers())
    runner = app.test_cli_runner()
    assert "1 digest" in runner.invoke(args=["mail", "digest", "--day", "2026-11-20"]).output
    assert "0 digest" in runner.invoke(args=["mail", "digest", "--day", "2026-11-20"]).output
    with app.app_context():
        assert queue_digests(day) == 0
    deliver_all(app)
    [digest] = inbox.to("digest@p.example")
    assert "Morning Pottery" in digest.text and "Evening Pickles" in digest.text
    assert "Next Day Knits" not in digest.text
    opened = [p for p in digest.paths() if p.startswith("/editor/submissions/")]
    assert len(opened) == 2  # each application links to its page
    assert "/editor/account" in digest.paths()  # and the digest to its setting


# The worker as a separate process, as it runs in production.


def _worker_env(app, **extra) -> dict:
    return dict(
        os.environ,
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(app.extensions["mail"].port),
        # The same key and sender as this app: the Message-IDs match.
        SECRET_KEY=str(app.config["SECRET_KEY"]),
        MAIL_DEFAULT_SENDER=formataddr(app.config["MAIL_DEFAULT_SENDER"]),
        MAIL_TIMEOUT="5",
        **{k: str(v) for k, v in extra.items()},
    )


def spawn_worker(app, *args, **env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "deliver", *args],
        cwd=ROOT,
        env=_worker_env(app, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _message_ids(app, ids: list[int]) -> list[str]:
    from portal.notifications.delivery import message_id

    with app.app_context():
        return [message_id(i) for i in ids]


def _queue_many(app, n: int) -> list[str]:
    with app.app_context():
        submission = submission_in(State.SUBMITTED)
        while deliver_due().handled:  # the factory's own emails, out of the way
            pass
        for i in range(n):
            queue(
                "status_link",
                [(f"Reader {i}", f"reader{i}@bulk.example")],
                "Your status link",
                key=f"bulk:{i}",
                submission=submission,
                status_link=f"{PUBLIC_URL}/status/bulk{i}",
            )
        db.session.commit()
        ids = list(
            db.session.scalars(select(OutboxEmail.id).where(OutboxEmail.kind == "status_link"))
        )
    return _message_ids(app, ids)


def test_two_workers_deliver_500_emails_each_exactly_once(app, inbox):
    ids = _queue_many(app, 500)
    inbox.clear()
    workers = [spawn_worker(app, "--until-empty", "--batch", "10") for _ in range(2)]
    for worker in workers:
        out, err = worker.communicate(timeout=240)
        assert worker.returncode == 0, err
    assert Counter(inbox.message_ids()) == Counter(ids)  # every one, none twice
    with app.app_context():
        assert set(db.session.scalars(select(OutboxEmail.status))) == {"sent"}


def _wait_for(predicate, timeout=60.0):
    deadline = utcnow() + timedelta(seconds=timeout)
    while not predicate():
        assert utcnow() < deadline, "timed out waiting"
        threading.Event().wait(0.02)


def test_a_killed_worker_loses_nothing_and_a_restarted_one_finishes(app, inbox):
    ids = _queue_many(app, 60)
    inbox.clear()
    inbox.delay = 0.05
    worker = spawn_worker(app, "--loop", "--batch", "20")
    _wait_for(lambda: len(inbox.messages) >= 10)
    worker.send_signal(signal.SIGKILL)
    worker.communicate(timeout=30)
    with app.app_context():
        stranded = db.session.scalar(select(func.count()).where(OutboxEmail.status == "sending"))
    assert stranded > 0  # claimed and never finished: the lease brings them back
    inbox.delay = 0.0
    restarted = spawn_worker(app, "--until-empty", MAIL_LEASE_SECONDS=0)
    _out, err = restarted.communicate(timeout=120)
    assert restarted.returncode == 0, err
    delivered = Counter(inbox.message_ids())
    assert set(delivered) == set(ids)
    # At most the one in the SMTP server's hands when the worker died comes twice.
    assert sum(n - 1 for n in delivered.values()) <= 1


def test_sigterm_stops_after_the_email_in_hand_and_hands_back_the_rest(app, inbox):
    ids = _queue_many(app, 40)
    inbox.clear()
    inbox.delay = 0.05
    worker = spawn_worker(app, "--loop", "--batch", "40")
    _wait_for(lambda: len(inbox.messages) >= 5)
    worker.send_signal(signal.SIGTERM)
    _out, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    with app.app_context():
        statuses = Counter(db.session.scalars(select(OutboxEmail.status)))
    assert statuses["sending"] == 0  # nothing stranded: the rest went back to pending
    assert statuses["pending"] > 0
    inbox.delay = 0.0
    finisher = spawn_worker(app, "--until-empty")
    finisher.communicate(timeout=120)
    assert Counter(inbox.message_ids()) == Counter(ids)


def test_outbox_page_filters_reads_and_retries(app, client, inbox, editor):
    inbox.refuse["gone@shop.example"] = "550 5.1.1 Mailbox gone"
    with app.app_context():
        operations.apply(profile(email="gone@shop.example"), answers())
        operations.apply(profile(email="fine@shop.example"), answers())
        deliver_due()
        dead_id = db.session.scalar(select(OutboxEmail.id).where(OutboxEmail.status == "dead"))
    login(client)
    page = client.get("/editor/outbox?status=dead").get_data(as_text=True)
    assert "gone@shop.example" in page and "fine@shop.example" not in page
    assert "550 5.1.1 Mailbox gone" in page
    page = client.get("/editor/outbox?recipient=FINE@shop.example").get_data(as_text=True)
    assert "fine@shop.example" in page and "gone@shop.example" not in page
    detail = client.get(f"/editor/outbox/{dead_id}").get_data(as_text=True)
    assert "Send it again now" in detail and "We received your application" in detail
    html = client.get(f"/editor/outbox/{dead_id}/html")
    assert html.headers["Content-Security-Policy"].startswith("sandbox")
    inbox.refuse.clear()
    response = post_form(
        client, f"/editor/outbox/{dead_id}", {}, action=f"/editor/outbox/{dead_id}/retry"
    )
    assert response.status_code == 302
    deliver_all(app)
    assert len(inbox.to("gone@shop.example")) == 1
    # A sent email can't be "retried" into a duplicate.
    again = post_form(
        client, f"/editor/outbox/{dead_id}", {}, action=f"/editor/outbox/{dead_id}/retry"
    )
    assert again.status_code == 409
    assert client.get("/editor/outbox/99999").status_code == 404


def test_a_crashed_worker_row_is_taken_back_only_after_the_lease(app, inbox):
    with app.app_context():
        operations.apply(profile(email="lease@shop.example"), answers())
        db.session.execute(update(OutboxEmail).values(status="sending", claimed_at=utcnow()))
        db.session.commit()
        assert deliver_due().handled == 0  # someone holds it
        with frozen(utcnow() + timedelta(seconds=app.config["MAIL_LEASE_SECONDS"] + 1)):
            assert deliver_due().sent >= 1
    assert len(inbox.to("lease@shop.example")) == 1


def test_submission_links_are_never_built_from_the_request(app):
    with app.app_context():
        submission_in(State.SUBMITTED)
        assert all(
            "localhost" not in body for body in db.session.scalars(select(OutboxEmail.text_body))
        )
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 1


def test_a_very_long_line_is_wrapped_so_the_server_accepts_it(app, inbox):
    """SMTP refuses lines over 998 characters; one long paragraph must still go."""
    long_line = "word " * 1500  # 7,500 characters with no line break
    with app.app_context():
        submission = submission_in(State.IN_REVIEW, email="long@shop.example")
        deliver_due()
        inbox.clear()
        operations.perform(
            submission, Action.REQUEST_CHANGES, actor_for(Action.REQUEST_CHANGES), message=long_line
        )
        assert deliver_due().sent == 1
    [mail] = inbox.to("long@shop.example")
    assert long_line.strip() in " ".join(mail.text.split())  # all of it, in lines of 72
    assert long_line.strip() in mail.html


def test_a_malformed_address_is_dead_at_once_with_the_reply(app, inbox):
    with app.app_context():
        queue(
            "status_link",
            [("Broken", "not an address@@bad..example")],
            "Your status link",
            key="malformed-address",
            submission=submission_in(State.SUBMITTED),
            status_link=f"{PUBLIC_URL}/status/x",
        )
        db.session.commit()
        while deliver_due().handled:
            pass
        email = db.session.scalar(
            select(OutboxEmail).where(OutboxEmail.dedup_key.like("malformed-address:%"))
        )
        assert email.status == "dead"
        assert email.attempts == 1
        assert email.last_error  # the server's reply (or the parser's), kept


def test_a_scheduled_interview_taken_back_never_announces_itself(app, inbox):
    tomorrow = utcnow() + timedelta(days=1)
    with app.app_context():
        s = submission_in(State.READY)
        operations.perform(s, Action.PUBLISH, actor_for(Action.PUBLISH), when=tomorrow)
        # Not live yet: it is not "unpublished" (with an email saying it went
        # offline), its schedule is called off.
        with pytest.raises(WorkflowError):
            operations.perform(s, Action.UNPUBLISH, actor_for(Action.UNPUBLISH), message="No")
        db.session.rollback()
        operations.perform(s, Action.CANCEL_SCHEDULE, actor_for(Action.CANCEL_SCHEDULE))
        assert s.state == State.READY.value
        email = s.email
    with frozen(tomorrow + timedelta(hours=1)):
        deliver_all(app)
    assert [m.subject for m in inbox.to(email) if "is live" in m.subject] == []
    assert [m.subject for m in inbox.to(email) if "offline" in m.subject] == []
    with app.app_context():
        s = db.session.get(Submission, s.id)
        operations.perform(s, Action.PUBLISH, actor_for(Action.PUBLISH))
    deliver_all(app)
    assert len([m for m in inbox.to(email) if "is live" in m.subject]) == 1


def test_the_live_email_gives_each_network_its_own_text(app, inbox):
    with app.app_context():
        submission = submission_in(
            State.READY,
            socials={
                "x": "https://x.com/shop",
                "linkedin": "https://www.linkedin.com/in/shop",
                "instagram": "https://www.instagram.com/shop",
            },
        )
        operations.publish(submission, actor_for(Action.PUBLISH))
        address, slug = submission.email, submission.interview.slug
        deliver_due()
    [live] = [m for m in inbox.to(address) if "live" in m.subject]
    text = live.text.replace("\r\n", "\n")
    link = f"{PUBLIC_URL}/interviews/{slug}"

    def post(network):  # the text to post, as one line again (the email wraps it)
        return " ".join(text.split(f"{network}:\n", 1)[1].split("\n\n", 1)[0].split())

    x_line, linkedin_line, instagram_line = post("X / Twitter"), post("LinkedIn"), post("Instagram")
    assert link in x_line and len(x_line) <= 280
    assert link in linkedin_line and len(linkedin_line) > len(x_line)
    assert "link in bio" in instagram_line and link not in instagram_line
    assert len({x_line, linkedin_line, instagram_line}) == 3


def test_a_worker_process_outlives_its_database_connections_dying(app, inbox):
    """On PostgreSQL every connection of the worker is killed mid-run, as a
    database restart does; on SQLite (no server to lose) the run is the same
    without that step. Either way: nothing lost, nothing twice, the worker alive."""
    ids = _queue_many(app, 40)
    inbox.clear()
    inbox.delay = 0.05
    worker = spawn_worker(app, "--loop", "--batch", "5", "--interval", "0.1")
    try:
        _wait_for(lambda: len(inbox.messages) >= 8)
        with app.app_context():
            if db.engine.dialect.name == "postgresql":
                killed = db.session.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).scalar()
                db.session.commit()
                assert killed >= 1
        inbox.delay = 0.0
        _wait_for(lambda: len(inbox.messages) >= len(ids), timeout=120)
        assert worker.poll() is None  # still running
    finally:
        worker.send_signal(signal.SIGTERM)
        _out, err = worker.communicate(timeout=60)
    delivered = Counter(inbox.message_ids())
    assert set(delivered) == set(ids) and max(delivered.values()) == 1, err
