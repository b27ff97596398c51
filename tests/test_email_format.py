"""How every email is put together, as a receiving server and a mail program
read it: standard headers whatever the applicant's name, one Message-ID per
email for every try, one thread per application, marked as automatic."""

from __future__ import annotations

import email
import re
from datetime import timedelta
from email import policy
from email.header import decode_header, make_header

import pytest
from sqlalchemy import select, update

from portal import accounts, operations
from portal.clock import frozen, utcnow
from portal.extensions import db
from portal.models import OutboxEmail, User
from portal.notifications.delivery import build, deliver_due, message_id
from portal.notifications.emails import queue_digests
from portal.workflow import Action, State
from tests.conftest import make_user
from tests.email_samples import HOSTILE, KINDS, ORDINARY, queue_every_kind
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


# Subjects and names that the standard library's folding garbles (a space lost
# or added between encoded words), with what makes a header ambiguous.
AWKWARD = [
    "Revised application: Café Zoë & Søn (Renée Montgomery-Featherstonehaugh, "
    "Founder of the Bakery)",
    "Brûlée brûlée brûlée Renée, crème naïve naïve Renée, Renée, Søn 日本語 😀 Søn (c) "
    "Zoë plain — ok crème — “Bcc: someone@example.com” and a tail that runs on",
    "<d> Montgomery-Featherstonehaugh: naïve <d> Søn Søn brûlée",
    "Montgomery-Featherstonehaugh: Zoë Çafé Çafé Renée, Montgomery-Featherstonehaugh: 😀",
    "Literally =?utf-8?q?not_encoded?= in the text, Çafé",
    "Plain words only, but long enough to need folding across more than one line here",
]


def _unfolded(raw: bytes) -> dict[str, str]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")  # headers are ASCII on the wire
    headers: dict[str, str] = {}
    name = ""
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t"):
            headers[name] += line
        else:
            name, _, value = line.partition(":")
            headers[name] = value.lstrip()
    return headers


def _decoded(value: str) -> str:
    """An unstructured header (Subject) as RFC 2047 has mail programs read it."""
    return str(make_header(decode_header(value)))


_WORD = re.compile(r'\s*(=\?[^?]+\?[qQbB]\?[^?]*\?=|"(?:[^"\\]|\\.)*"|[^\s"]+)')


def _display_name(phrase: str) -> str:
    """A display name as RFC 5322 and 2047 have mail programs read it: words
    joined by one space, except between two encoded words, where the space is
    not part of the name."""
    name, previous_encoded = "", False
    for token in _WORD.findall(phrase):
        encoded = token.startswith("=?")
        if encoded:
            text = _decoded(token)
        elif token.startswith('"'):
            text = re.sub(r"\\(.)", r"\1", token[1:-1])
        else:
            text = token
        name += text if (not name or (encoded and previous_encoded)) else " " + text
        previous_encoded = encoded
    return name


@pytest.mark.parametrize("text", AWKWARD)
def test_subjects_and_names_arrive_exactly_as_written(app, text):
    name = text[:120]
    with app.app_context():
        stored = OutboxEmail(
            id=7,
            kind="received",
            subject=text,
            recipients=[[name, "r@shop.example"], ["Ana, Ö", "ana@shop.example"]],
            to_address="r@shop.example",
            dedup_key="test",
        )
        raw = build(stored, "Hello", "<p>Hello</p>").as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert all(len(line) <= 78 for line in head.split(b"\r\n")), head.decode()
    headers = _unfolded(raw)
    assert _decoded(headers["Subject"]) == text
    first, second = headers["To"].split(">,")
    assert _display_name(first[: first.rindex("<")]) == " ".join(name.split())
    assert first.endswith("<r@shop.example") and second.strip().endswith("<ana@shop.example>")
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert [a.addr_spec for a in parsed["To"].addresses] == ["r@shop.example", "ana@shop.example"]


def _every_kind(app, inbox, who) -> dict[str, object]:
    """{kind: the email as it arrived} for one email of every kind."""
    with app.app_context():
        assert queue_every_kind(who) == set(KINDS)
        while deliver_due().handled:
            pass
        rows = db.session.execute(select(OutboxEmail.id, OutboxEmail.kind)).all()
        kinds = {message_id(row_id): kind for row_id, kind in rows}
    received = {}
    for message in inbox.messages:
        received.setdefault(kinds[message.message["Message-ID"]], message)
    assert set(received) == set(KINDS)
    return received


@pytest.mark.parametrize("who", [ORDINARY, HOSTILE], ids=["ordinary", "hostile"])
def test_every_kind_parses_cleanly_and_is_marked_automatic(app, inbox, who):
    for kind, received in _every_kind(app, inbox, who).items():
        parsed = _parsed(received)
        assert not parsed.defects, kind
        for header in ("From", "To", "Subject", "Date", "Message-ID"):
            value = parsed[header]
            assert value is not None and not value.defects, (kind, header)
        assert len(parsed["To"].addresses) == 1, kind
        assert parsed["Auto-Submitted"] == "auto-generated"
        assert parsed["Message-ID"].endswith("@portal.test>")
        assert "X-Portal-Email-Id" not in parsed
        assert "Social Owners" not in parsed["Subject"], kind  # the sender says it already
        assert parsed.get_content_type() == "multipart/alternative"


URL = re.compile(r"https?://\S+")


@pytest.mark.parametrize("who", [ORDINARY, HOSTILE], ids=["ordinary", "hostile"])
def test_text_parts_are_wrapped_with_each_address_on_its_own_line(app, inbox, who):
    for kind, received in _every_kind(app, inbox, who).items():
        lines = received.text.replace("\r\n", "\n").split("\n")
        for line in lines:
            if URL.search(line):
                assert URL.fullmatch(line.strip()), (kind, line)
            else:
                assert len(line) <= 72, (kind, line)
        assert "-- " in lines  # the signature marker, which mail programs fold away


@pytest.mark.parametrize("who", [ORDINARY, HOSTILE], ids=["ordinary", "hostile"])
def test_html_parts_lead_with_one_action_and_suit_dark_mode(app, inbox, who):
    for kind, received in _every_kind(app, inbox, who).items():
        html = received.html
        assert '<meta name="color-scheme" content="light dark">' in html, kind
        assert "prefers-color-scheme: dark" in html
        assert "<body>" in html and "<blockquote" not in html  # styles on a wrapper
        preheader = re.search(r'<div style="display: none;[^"]*">(.*?)</div>', html, re.S)
        assert preheader and preheader.group(1).strip(), kind
        if kind in ("digest", "status_link") and "<ul" in html and 'class="button"' not in html:
            continue  # a list of links, one per application
        buttons = re.findall(r'<a class="button" href="([^"]+)"', html)
        assert len(buttons) == 1, kind  # one main action...
        bare = buttons[0].removeprefix("http://")
        assert f"Or open this address: {bare}</p>" in html  # ...its address under it
        assert buttons[0].startswith("http://portal.test/"), kind  # the real link, minted


def test_the_live_email_has_an_image_that_fits_a_phone(app, inbox):
    received = _every_kind(app, inbox, ORDINARY)["publish"]
    html = received.html
    [img] = re.findall(r"<img [^>]+>", html)
    assert "max-width: 600px" in img and "width: 100%" in img and "height: auto" in img
    alt = re.search(r'alt="([^"]+)"', img).group(1)
    # What the card shows: a line of the interview, the name, the business.
    assert alt.startswith("Your share card: “") and ORDINARY["name"] in alt
    assert ORDINARY["business"] in alt
    assert not re.search(r"<a [^>]*>\s*<img", html)  # no link on an image
    assert "Your interview is live" in received.text


def test_the_digest_unsubscribes_in_one_click_without_logging_in(app, client, inbox):
    with app.app_context():
        editor = staff()
        editor.notify_new = "digest"
        db.session.commit()
        s = submission_in(State.SUBMITTED)
        queue_digests(s.submitted_at.date())
        db.session.commit()
        while deliver_due().handled:
            pass
        stored = db.session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "digest"))
        stored_text = stored.text_body + stored.html_body
        editor_id, address = editor.id, editor.email
    [digest] = inbox.to(address)
    assert "/editor/account" in digest.paths()  # the setting, linked
    # Written as it is, not encoded or folded: mail programs read it raw (RFC 2369).
    [header] = re.findall(rb"\r\nList-Unsubscribe: (<[^\r\n]+>)\r\n", digest.raw)
    header = header.decode()
    assert digest.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.fullmatch(r"<(http://portal\.test/\S+)>", header).group(1)
    path = link.removeprefix("http://portal.test")
    token = path.rsplit("/", 1)[1]
    assert token not in stored_text  # editors can't read it in the outbox

    page = client.get(path)  # opening the link changes nothing
    assert page.status_code == 200 and "Stop the daily digest" in page.get_data(as_text=True)
    assert client.get(path[:-2] + "xx").status_code == 404  # a forged link does nothing
    # Nor one differing in a base64 character's unused bits (decodes to the same bytes).
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".index(path[-1])
    twin = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last ^ 1]
    assert client.get(path[:-1] + twin).status_code == 404
    # Each digest has a link of its own, which ends after DIGEST_UNSUBSCRIBE_DAYS.
    with app.app_context(), frozen(utcnow() + timedelta(seconds=2)):
        again = accounts.digest_unsubscribe_link(address)
        assert again != link
    days = app.config["DIGEST_UNSUBSCRIBE_DAYS"]
    with frozen(utcnow() + timedelta(days=days + 1)):
        assert client.get(path).status_code == 404
    # What the mail program sends (RFC 8058): a POST, no cookie, no form token.
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "gets no daily digest" in response.get_data(as_text=True)
    still = make_user(app, email="still@portal.test")
    with app.app_context():
        assert db.session.get(User, editor_id).notify_new == "none"
        inbox.clear()
        db.session.get(User, still).notify_new = "digest"  # kept it, for comparison
        db.session.commit()
        with frozen(utcnow() + timedelta(days=2)):
            later = submission_in(State.SUBMITTED)
        assert queue_digests(later.submitted_at.date()) == 1
        db.session.commit()
        while deliver_due().handled:
            pass
    assert len(inbox.to("still@portal.test")) == 1
    assert [m for m in inbox.to(address) if "new application" in m.subject] == []


def test_the_same_email_keeps_its_message_id_across_tries(app, inbox):
    inbox.refuse["busy@shop.example"] = "451 4.3.0 Try again later"
    with app.app_context():
        operations.apply(profile(email="busy@shop.example"), answers())
        deliver_due()
        inbox.refuse.clear()
        db.session.execute(update(OutboxEmail).values(deliver_after=OutboxEmail.created_at))
        db.session.commit()
        deliver_due()
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


def test_the_editors_emails_about_one_application_thread_together(app, inbox):
    """Events and what is not an event (a correction asked after publication, a
    draft reminder) alike."""
    with app.app_context():
        desk = staff().email
        s = submission_in(State.PUBLISHED, email="live@shop.example")
        operations.ask_after_publication(s, "correction", "The shop moved to Quay Street.")
        operations.ask_after_publication(s, "takedown", "Please take it down after all.")
        while deliver_due().handled:
            pass
    about = [m for m in inbox.to(desk) if "requested" in m.subject]
    assert len(about) == 2
    threads = {m.message["References"] for m in about}
    applicant = {m.message["References"] for m in inbox.to("live@shop.example")}
    assert len(threads) == 1 and None not in threads and threads == applicant


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
