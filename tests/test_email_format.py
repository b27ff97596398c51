"""How every email is put together, as a receiving server and a mail program
read it: standard headers whatever the applicant's name, one Message-ID per
email for every try, one thread per application, marked as automatic."""

from __future__ import annotations

import email
from email import policy

import pytest
from sqlalchemy import select, update

from portal import accounts, operations
from portal.extensions import db
from portal.models import OutboxEmail
from portal.notifications.delivery import deliver_due
from portal.notifications.emails import queue_digests
from portal.workflow import Action, State
from tests.factories import actor_for, answers, profile, staff, submission_in

HOSTILE_NAMES = [
    "Renée Montgomery-Featherstonehaugh, Founder of the Bakery",
    "Rosa: CEO @ Tidewater",
    "Bcc: someone@example.com",
    'Mallory "the boss" <mallory@evil.example>',
    "Zoë; Ana, and Ö",
]


def _parsed(message) -> email.message.EmailMessage:
    return email.message_from_bytes(message.message.as_bytes(), policy=policy.default)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_any_name_makes_one_well_formed_recipient(app, inbox, name):
    with app.app_context():
        operations.apply(profile(name=name, email="one@shop.example"), answers())
        deliver_due()
    [received] = inbox.to("one@shop.example")
    assert received.recipients == ["one@shop.example"]  # the envelope
    parsed = _parsed(received)
    to = parsed["To"]
    assert not to.defects
    [mailbox] = to.addresses
    assert mailbox.addr_spec == "one@shop.example"
    assert mailbox.display_name == " ".join(name.split())
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]


def test_every_kind_parses_cleanly_and_is_marked_automatic(app, inbox):
    with app.app_context():
        for state in State:
            if state is not State.DRAFT:
                submission_in(state, name=HOSTILE_NAMES[0])
        s = submission_in(State.SUBMITTED)
        staff().notify_new = "digest"
        queue_digests(s.submitted_at.date())
        accounts.invite("new@portal.test", "Nia New, Editor", "editor")
        operations.apply(profile(name=HOSTILE_NAMES[2]), answers(), submit=False)
        operations.request_status_links(s.email)
        db.session.commit()
        while deliver_due().handled:
            pass
        kinds = set(db.session.scalars(select(OutboxEmail.kind)))
    assert {"saved", "status_link", "set_password", "request_changes", "digest"} <= kinds
    assert len(kinds) >= 12, kinds
    for received in inbox.messages:
        parsed = _parsed(received)
        for header in ("From", "To", "Subject", "Date", "Message-ID"):
            value = parsed[header]
            assert value is not None and not value.defects, (header, received.subject)
        assert len(parsed["To"].addresses) == 1
        assert parsed["Auto-Submitted"] == "auto-generated"
        assert parsed["Message-ID"].endswith("@portal.test>")
        assert "X-Portal-Email-Id" not in parsed


def test_the_same_email_keeps_its_message_id_across_tries(app, inbox):
    inbox.refuse["busy@shop.example"] = "451 4.3.0 Try again later"
    with app.app_context():
        operations.apply(profile(email="busy@shop.example"), answers())
        deliver_due()
        inbox.refuse.clear()
        db.session.execute(update(OutboxEmail).values(deliver_after=OutboxEmail.created_at))
        db.session.commit()
        deliver_due()
        from portal.notifications.delivery import message_id

        expected = message_id(db.session.scalar(select(OutboxEmail.id)))
    [received] = inbox.to("busy@shop.example")
    assert received.message["Message-ID"] == expected


def test_emails_about_one_application_thread_together(app, inbox):
    with app.app_context():
        s = submission_in(State.IN_REVIEW, email="thread@shop.example")
        operations.perform(s, Action.APPROVE, actor_for(Action.APPROVE))
        other = submission_in(State.SUBMITTED, email="other@shop.example")
        assert other.id != s.id
        while deliver_due().handled:
            pass
    mine = {m.message["References"] for m in inbox.to("thread@shop.example")}
    theirs = {m.message["References"] for m in inbox.to("other@shop.example")}
    assert len(mine) == 1 and None not in mine and mine != theirs


def test_reply_to_when_set(app, inbox):
    app.config["MAIL_REPLY_TO"] = "Editors <editors@publication.example>"
    with app.app_context():
        operations.apply(profile(email="reply@shop.example"), answers())
        deliver_due()
    [received] = inbox.to("reply@shop.example")
    assert received.message["Reply-To"] == "Editors <editors@publication.example>"


def test_an_invited_editor_gets_no_applicant_details_before_setting_a_password(app, inbox):
    with app.app_context():
        accounts.invite("invited@portal.test", "Ivy Invited", "editor")
        db.session.commit()
        operations.apply(profile(email="apply@shop.example"), answers())
        deliver_due()
    subjects = [m.subject for m in inbox.to("invited@portal.test")]
    assert len(subjects) == 1 and subjects[0].startswith("You're invited")


def test_the_digest_leaves_out_what_is_held_as_spam(app, inbox):
    with app.app_context():
        editor = staff()
        editor.notify_new = "digest"
        db.session.commit()
        held = submission_in(State.SPAM, business="Cheap Followers Ltd")
        kept = submission_in(State.SUBMITTED, business="Quiet Books")
        while deliver_due().handled:
            pass
        inbox.clear()
        queue_digests(kept.submitted_at.date())
        db.session.commit()
        deliver_due()
        assert held.state == State.SPAM.value
    [digest] = inbox.messages
    assert "Quiet Books" in digest.text and "Cheap Followers" not in digest.text
