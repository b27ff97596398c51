"""The readers' newsletter: double opt-in, an email per publication or a weekly
digest, one-click unsubscribe (RFC 8058), bounces, erasure, the admins' page."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import event, func, select

from portal import newsletter, operations
from portal.clock import utcnow
from portal.extensions import db
from portal.models import Mailing, OutboxEmail, Submission, Subscriber, SubscribeRequest
from portal.notifications.delivery import deliver_due
from portal.workflow import Action, State
from tests.conftest import PUBLIC_URL, login, make_user
from tests.factories import actor_for, submission_in

OURS = {"Sec-Fetch-Site": "same-origin"}


def subscribe(client, address: str, cadence: str = "each", **headers):
    return client.post(
        "/subscribe", data={"email": address, "cadence": cadence}, headers=headers or OURS
    )


def send_everything(app) -> None:
    """What the mail worker does: write the issues' copies, then send."""
    with app.app_context():
        newsletter.fan_out()
        while deliver_due().handled:
            pass


def confirmed(app, client, inbox, address: str, cadence: str = "each") -> None:
    assert subscribe(client, address, cadence).status_code == 303
    send_everything(app)
    [mail] = inbox.to(address)
    [path] = [p for p in mail.paths() if p.startswith("/subscribe/confirm/")]
    assert "Yes, subscribe me" in client.get(path).get_data(as_text=True)
    assert "You're subscribed" in client.post(path, data={"action": "confirm"}).get_data(
        as_text=True
    )
    inbox.clear()


def publish(app, **profile) -> int:
    with app.app_context():
        return submission_in(State.PUBLISHED, **profile).interview.id


def test_subscribe_confirm_receive_and_unsubscribe_in_one_click(app, client, inbox):
    response = subscribe(client, "Reader@Example.org")
    assert response.status_code == 303
    assert "Check your inbox" in client.get(response.headers["Location"]).get_data(as_text=True)
    publish(app, name="Before Confirming")
    send_everything(app)
    [mail] = inbox.to("reader@example.org")  # the confirmation only: not yet a subscriber
    assert "Confirm your subscription" in mail.subject
    [path] = [p for p in mail.paths() if p.startswith("/subscribe/confirm/")]
    with app.app_context():  # the stored email holds no working link
        stored = db.session.scalar(
            select(OutboxEmail).where(OutboxEmail.kind == "newsletter_confirm")
        )
        assert path.rsplit("/", 1)[1] not in stored.text_body + stored.html_body
    client.post(path, data={"action": "confirm"})
    inbox.clear()

    publish(app, name="Ada Quill", business="Quill Stationery")
    with app.app_context():  # the request that published wrote one issue, not the copies
        assert db.session.scalar(select(func.count()).select_from(Mailing)) == 2
        assert not db.session.scalar(select(OutboxEmail.id).where(OutboxEmail.kind == "newsletter"))
    send_everything(app)
    [issue] = inbox.to("reader@example.org")
    assert "Quill Stationery" in issue.text and issue.subject.startswith("New interview:")
    header = issue.message["List-Unsubscribe"]
    assert issue.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.fullmatch(r"<(.+)>", header).group(1)
    assert link.startswith(PUBLIC_URL + "/unsubscribe/") and link in issue.text
    assert issue.message["List-Id"]

    # The mail program's one-click POST: no form, no token, no cookie.
    fresh = app.test_client()
    response = fresh.post(urlsplit(link).path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and "unsubscribed" in response.get_data(as_text=True)
    inbox.clear()
    publish(app, name="Next One")
    send_everything(app)
    assert inbox.to("reader@example.org") == []


def test_the_answer_is_the_same_for_every_address_and_a_subscriber_is_not_asked_twice(
    app, client, inbox
):
    confirmed(app, client, inbox, "known@example.org")
    again = subscribe(client, "known@example.org", "weekly")
    new = subscribe(client, "new@example.org")
    assert again.status_code == new.status_code == 303
    assert again.headers["Location"] == new.headers["Location"]
    send_everything(app)
    assert inbox.to("known@example.org") == []  # nothing to confirm
    assert len(inbox.to("new@example.org")) == 1
    with app.app_context():
        known = db.session.scalar(select(Subscriber).where(Subscriber.email == "known@example.org"))
        # A stranger typing a subscriber's address changes nothing of theirs.
        assert known.status == "confirmed" and known.cadence == "each"


def test_a_form_sent_from_another_site_comes_back_filled_in_and_subscribes_nobody(app, client):
    response = subscribe(client, "victim@example.org", **{"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Another site sent this form" in page and 'value="victim@example.org"' in page
    response = subscribe(client, "victim@example.org", Origin="https://evil.example")
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_bad_addresses_get_a_message_and_keep_what_was_typed(app, client):
    response = subscribe(client, "<script>alert(1)</script>")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "look like an email address" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert subscribe(client, "").status_code == 400
    assert subscribe(client, "a" * 300 + "@example.org").status_code == 400


def test_a_bot_filling_the_hidden_field_gets_the_same_answer_and_nothing_kept(app, client):
    response = client.post(
        "/subscribe", data={"email": "bot@example.org", "fax": "x"}, headers=OURS
    )
    assert response.status_code == 303
    send_everything(app)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0
        assert db.session.scalar(select(func.count()).select_from(SubscribeRequest)) == 0


def test_unconfirmed_addresses_are_forgotten_after_seven_days(app, client, inbox):
    subscribe(client, "late@example.org")
    send_everything(app)
    [mail] = inbox.to("late@example.org")
    [path] = [p for p in mail.paths() if p.startswith("/subscribe/confirm/")]
    with app.app_context():
        assert newsletter.forget_unconfirmed(utcnow() + timedelta(days=6)) == 0
        assert newsletter.forget_unconfirmed(utcnow() + timedelta(days=8)) == 1
        assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0
        assert not db.session.scalar(
            select(OutboxEmail.id).where(OutboxEmail.to_address == "late@example.org")
        )
    response = client.get(path)
    assert response.status_code == 404 and "doesn't work any more" in response.get_data(
        as_text=True
    )


def test_asking_again_sends_another_link_and_each_link_does_what_it_asked(app, client, inbox):
    subscribe(client, "twice@example.org", "each")
    send_everything(app)
    [first] = [p for p in inbox.to("twice@example.org")[0].paths() if "/confirm/" in p]
    inbox.clear()
    subscribe(client, "twice@example.org", "weekly")
    send_everything(app)
    [second] = [p for p in inbox.to("twice@example.org")[0].paths() if "/confirm/" in p]
    assert "once a week" in client.get(second).get_data(as_text=True)
    assert "each one as it goes live" in client.get(first).get_data(as_text=True)
    client.post(second, data={"action": "confirm"})
    with app.app_context():
        me = db.session.scalar(select(Subscriber).where(Subscriber.email == "twice@example.org"))
        assert (me.status, me.cadence) == ("confirmed", "weekly")
    assert client.get("/subscribe/confirm/made-up").status_code == 404
    assert client.get("/unsubscribe/made-up").status_code == 404


def test_a_stranger_typing_an_address_changes_nothing_of_its_owner(app, client, inbox):
    with app.app_context():
        for address, status in (
            ("pending@example.org", "pending"),
            ("left@example.org", "unsubscribed"),
            ("bounced@example.org", "bounced"),
        ):
            db.session.add(
                Subscriber(email=address, status=status, cadence="each", bounce="550 gone")
            )
        db.session.commit()
    subscribe(client, "pending@example.org", "each")
    send_everything(app)
    [owners] = [p for p in inbox.to("pending@example.org")[0].paths() if "/confirm/" in p]
    for address in ("pending@example.org", "left@example.org", "bounced@example.org"):
        for _ in range(3):
            subscribe(client, address, "weekly")
    send_everything(app)
    with app.app_context():
        rows = db.session.execute(select(Subscriber.email, Subscriber.status, Subscriber.cadence))
        assert sorted(rows) == [
            ("bounced@example.org", "bounced", "each"),
            ("left@example.org", "unsubscribed", "each"),
            ("pending@example.org", "pending", "each"),
        ]
        bounced = db.session.scalar(
            select(Subscriber).where(Subscriber.email == "bounced@example.org")
        )
        assert bounced.bounce == "550 gone"  # kept until its owner confirms
    response = client.post(owners, data={"action": "confirm"})  # the owner's link still works
    assert "You're subscribed" in response.get_data(as_text=True)
    with app.app_context():
        me = db.session.scalar(select(Subscriber).where(Subscriber.email == "pending@example.org"))
        assert (me.status, me.cadence) == ("confirmed", "each")


def test_the_form_does_the_same_work_for_any_address(app, client, inbox):
    """Its timing can't tell who subscribes: the same statements whether the
    address is new, pending or confirmed (the worker does the rest)."""
    confirmed(app, client, inbox, "known@example.org")
    subscribe(client, "pending@example.org")
    send_everything(app)
    statements = {}
    for address in ("known@example.org", "pending@example.org", "new@example.org"):
        seen = []
        with app.app_context():
            listener = lambda *a, seen=seen: seen.append(a[2].split()[0])  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
        assert subscribe(client, address).status_code == 303
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", listener)
        statements[address] = seen
    assert statements["known@example.org"] == statements["new@example.org"]
    assert statements["pending@example.org"] == statements["new@example.org"]


def test_an_address_that_could_not_be_sent_to_is_refused_with_a_reason(app, client):
    response = subscribe(client, "josé@bücher.example")
    assert response.status_code == 400
    assert "plain letters" in response.get_data(as_text=True)
    assert subscribe(client, "jose@bücher.example").status_code == 303
    send_everything(app)
    with app.app_context():
        assert db.session.scalar(select(Subscriber.email)) == "jose@xn--bcher-kva.example"


def test_weekly_subscribers_get_one_digest_and_each_one_gets_every_interview(app, client, inbox):
    confirmed(app, client, inbox, "weekly@example.org", "weekly")
    confirmed(app, client, inbox, "each@example.org", "each")
    publish(app, name="First Person", business="First Shop")
    publish(app, name="Second Person", business="Second Shop")
    send_everything(app)
    assert len(inbox.to("each@example.org")) == 2
    assert inbox.to("weekly@example.org") == []
    inbox.clear()
    with app.app_context():
        _key, due = newsletter.weekly_due(utcnow() + timedelta(days=7))
        mailing = newsletter.plan_weekly(due + timedelta(minutes=1))
        assert mailing is not None and mailing.status == "waiting"
        assert newsletter.plan_weekly(due + timedelta(minutes=2)) is None  # once a week
        mailing.send_after = utcnow()  # its time has come
        db.session.commit()
    send_everything(app)
    [digest] = inbox.to("weekly@example.org")
    assert digest.subject == "This week: 2 new interviews"
    assert "First Shop" in digest.text and "Second Shop" in digest.text
    assert digest.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert inbox.to("each@example.org") == []


def test_a_week_with_nothing_published_mails_nobody(app, client, inbox):
    confirmed(app, client, inbox, "weekly@example.org", "weekly")
    with app.app_context():
        _key, due = newsletter.weekly_due(utcnow() + timedelta(days=30))
        mailing = newsletter.plan_weekly(due + timedelta(minutes=1))
        assert mailing.status == "empty"
    send_everything(app)
    assert inbox.to("weekly@example.org") == []


def test_a_refusal_for_good_marks_the_address_bounced_and_stops_mail_to_it(app, client, inbox):
    confirmed(app, client, inbox, "gone@example.org")
    inbox.refuse["gone@example.org"] = "550 5.1.1 No such mailbox"
    publish(app)
    send_everything(app)
    with app.app_context():
        gone = db.session.scalar(select(Subscriber).where(Subscriber.email == "gone@example.org"))
        assert gone.status == "bounced" and "550" in gone.bounce
    inbox.refuse.clear()
    publish(app)
    send_everything(app)
    assert inbox.to("gone@example.org") == []


def test_an_interview_taken_back_before_it_goes_live_is_not_sent(app, client, inbox):
    confirmed(app, client, inbox, "reader@example.org")
    with app.app_context():
        s = submission_in(State.READY)
        operations.publish(s, actor_for(Action.PUBLISH), when=utcnow() + timedelta(hours=2))
        operations.cancel_schedule(s, actor_for(Action.PUBLISH))
        db.session.commit()
        sid = s.id
        mailing = db.session.scalar(select(Mailing))
        mailing.send_after = utcnow()  # as if its old time had come
        db.session.commit()
    send_everything(app)
    assert inbox.to("reader@example.org") == []
    with app.app_context():
        assert db.session.scalar(select(Mailing.status)) == "cancelled"
        operations.publish(db.session.get(Submission, sid), actor_for(Action.PUBLISH))
        db.session.commit()
    send_everything(app)
    assert len(inbox.to("reader@example.org")) == 1  # published for real: sent once


def test_copies_are_written_in_batches_once_each(app):
    with app.app_context():
        for n in range(5):
            db.session.add(
                Subscriber(email=f"s{n}@example.org", status="confirmed", confirmed_at=utcnow())
            )
        db.session.commit()
        interview_id = submission_in(State.PUBLISHED).interview.id
        assert newsletter.fan_out(batch=2) == 5
        assert newsletter.fan_out(batch=2) == 0
        rows = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "newsletter"))
        assert sorted(r.to_address for r in rows) == [f"s{n}@example.org" for n in range(5)]
        mailing = db.session.scalar(select(Mailing).where(Mailing.interview_id == interview_id))
        assert mailing.status == "done" and mailing.recipients == 5


def test_emails_people_wait_for_go_before_a_newsletter(app, client, inbox):
    with app.app_context():
        submission_in(State.PUBLISHED)
        while deliver_due().handled:  # the interviewee's emails; the issue waits
            pass
        for n in range(30):
            db.session.add(
                Subscriber(email=f"s{n}@example.org", status="confirmed", confirmed_at=utcnow())
            )
        db.session.commit()
        assert newsletter.fan_out() == 30
    inbox.clear()
    subscribe(client, "impatient@example.org")
    with app.app_context():
        deliver_due(limit=1)
    assert [m.recipients for m in inbox.messages] == [["impatient@example.org"]]


def test_the_subscriber_can_change_how_often_and_forget_the_address(app, client, inbox):
    confirmed(app, client, inbox, "mine@example.org")
    publish(app)
    send_everything(app)
    [issue] = inbox.to("mine@example.org")
    [path] = [p for p in issue.paths() if p.startswith("/unsubscribe/")]
    page = client.get(path).get_data(as_text=True)
    assert "mine@example.org" in page and "Forget my address" in page
    page = client.post(path, data={"action": "cadence", "cadence": "weekly"}).get_data(as_text=True)
    assert "a digest of the week" in page
    page = client.post(path, data={"action": "erase"}).get_data(as_text=True)
    assert "Yes, forget my address" in page  # one slip forgets nothing
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 1
    page = client.post(path, data={"action": "erase-now"}).get_data(as_text=True)
    assert "we have forgotten the address" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0
        assert not db.session.scalar(
            select(OutboxEmail.id).where(OutboxEmail.to_address == "mine@example.org")
        )
    assert client.get(path).status_code == 404


def test_the_admins_see_counts_growth_and_the_addresses_as_csv(app, client, inbox):
    confirmed(app, client, inbox, "=cmd@example.org")
    subscribe(client, "pending@example.org")
    send_everything(app)
    make_user(app, "admin@portal.test", role="admin")
    login(client, "admin@portal.test")
    page = client.get("/editor/newsletter").get_data(as_text=True)
    assert "1</strong> subscribed" in page and "1</strong> waiting to confirm" in page
    assert "Subscribers, week by week" in page
    response = client.get("/editor/newsletter/subscribers.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == ["email", "status", "cadence"]
    assert rows[1][:3] == ["'=cmd@example.org", "confirmed", "each"]  # no formula
    assert rows[2][:2] == ["pending@example.org", "pending"]


def test_private_pages_are_not_kept_and_their_tokens_not_logged(app, client):
    from portal.security import redact

    assert redact("/unsubscribe/eyJhI.x-Y") == "/unsubscribe/[token]"
    assert redact("/subscribe/confirm/eyJhI.x-Y") == "/subscribe/confirm/[token]"
    response = client.get("/unsubscribe/anything")
    assert "no-store" in response.headers["Cache-Control"]


def test_the_form_is_on_the_home_page_and_under_each_interview(app, client):
    with app.app_context():
        slug = submission_in(State.PUBLISHED).interview.slug
    for path in ("/", f"/interviews/{slug}"):
        page = client.get(path).get_data(as_text=True)
        assert 'action="/subscribe"' in page and "New interviews by email" in page
        assert "csrf_token" not in page  # a shared page holds nobody's token


def test_erasing_an_interview_takes_its_issue_and_strikes_it_from_weekly_digests(
    app, client, inbox
):
    confirmed(app, client, inbox, "each@example.org")
    confirmed(app, client, inbox, "weekly@example.org", "weekly")
    with app.app_context():
        gone = submission_in(State.PUBLISHED, name="Erin Erasable", business="Erasable Bakery")
        submission_in(State.PUBLISHED, name="Kept Person", business="Kept Shop")
        _key, due = newsletter.weekly_due(utcnow() + timedelta(days=7))
        newsletter.plan_weekly(due + timedelta(minutes=1)).send_after = utcnow()
        db.session.commit()
        sid = gone.id
    send_everything(app)
    with app.app_context():
        gone = db.session.get(Submission, sid)
        operations.unpublish(gone, actor_for(Action.UNPUBLISH), "Taken down, as asked.")
        operations.erase(gone)
        db.session.commit()
        texts = " ".join(t or "" for t in db.session.scalars(select(Mailing.text_body))) + " ".join(
            db.session.scalars(select(Mailing.html_body))
        )
        assert "Erasable" not in texts and "Erin" not in texts
        assert "Kept Shop" in texts  # the other interview's issue and its place in the digest
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(OutboxEmail)
                .where(OutboxEmail.kind == "newsletter")
            )
            == 1
        )
