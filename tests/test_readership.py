"""Read counts: no cookie, no address, no database write per read; bots left
out; the dashboard's most read; the interviewee's email a week after."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from portal import readership
from portal.clock import frozen, utcnow
from portal.extensions import db
from portal.models import InterviewReads, OutboxEmail
from portal.notifications.delivery import deliver_due
from portal.workflow import State
from tests.conftest import login
from tests.factories import submission_in

BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1"


@pytest.fixture(autouse=True)
def nothing_held():
    """Counts live in the process: each test starts with none."""
    readership._pending.clear()
    readership._seen.clear()
    yield
    readership._pending.clear()
    readership._seen.clear()


def published(app, **profile) -> tuple[int, str]:
    with app.app_context():
        interview = submission_in(State.PUBLISHED, **profile).interview
        return interview.id, interview.slug


def read(client, slug: str, agent: str = BROWSER, reader: int = 1):
    """One reader's read: `reader` tells readers apart by their address."""
    return client.post(
        f"/interviews/{slug}/read",
        data={"read": "1"},
        headers={"User-Agent": agent},
        environ_base={"REMOTE_ADDR": f"10.0.{reader // 250}.{reader % 250 + 1}"},
    )


def stored(app) -> dict[int, int]:
    with app.app_context():
        rows = db.session.execute(
            select(InterviewReads.interview_id, func.sum(InterviewReads.reads)).group_by(
                InterviewReads.interview_id
            )
        )
        return {interview_id: int(n) for interview_id, n in rows}


def test_the_page_asks_to_be_counted_and_a_read_costs_no_write(app, client):
    app.config["READ_FLUSH_SECONDS"] = 3600
    interview_id, slug = published(app)
    page = client.get(f"/interviews/{slug}").get_data(as_text=True)
    assert f'data-read="/interviews/{slug}/read"' in page
    writes = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a: writes.append(a[2]))
    for n in range(25):
        response = read(client, slug, reader=n)
        assert response.status_code == 204 and "Set-Cookie" not in response.headers
        assert response.headers["Cache-Control"] == "no-store"
    assert writes == [] and stored(app) == {}
    with app.app_context():
        assert readership.flush() == 25
    assert writes  # the listener hears the database: the write came with the flush
    assert stored(app) == {interview_id: 25}


def test_counts_are_written_after_the_response_once_they_are_due(app, client):
    app.config["READ_FLUSH_SECONDS"] = 0
    interview_id, slug = published(app)
    read(client, slug, reader=1).close()
    read(client, slug, reader=2).close()
    assert stored(app) == {interview_id: 2}  # one upsert adds to the day's row


def test_one_reader_reading_again_within_half_an_hour_is_one_read(app, client):
    app.config["READ_FLUSH_SECONDS"] = 3600
    interview_id, slug = published(app)
    for _ in range(5):
        read(client, slug, reader=1)  # reloads, or a script replaying it
    read(client, slug, reader=2)
    read(client, slug, reader=1, agent=BROWSER.replace("iPhone", "iPad"))  # another device
    with app.app_context():
        assert readership.flush() == 3
    assert all(isinstance(key, bytes) for key in readership._seen)  # no address kept


def test_counts_reach_the_database_on_a_quiet_site_too(app, client):
    import time

    app.config["READ_FLUSH_SECONDS"] = 0.5
    interview_id, slug = published(app)
    with app.app_context():
        readership.flush()  # just written: the next read is not due
    read(client, slug)
    assert stored(app) == {}
    deadline = time.monotonic() + 5
    while stored(app) != {interview_id: 1}:  # no other read comes: the process's thread writes
        assert time.monotonic() < deadline, "the count was never written"
        time.sleep(0.1)


@pytest.mark.parametrize(
    "agent",
    [
        "",
        "Googlebot/2.1 (+http://www.google.com/bot.html)",
        "facebookexternalhit/1.1",
        "curl/8.5.0",
        "python-requests/2.32",
        "Mozilla/5.0 (compatible; bingbot/2.0)",
        "Mozilla/5.0 HeadlessChrome/131.0",
    ],
)
def test_crawlers_and_scripts_are_not_readers(app, client, agent):
    _id, slug = published(app)
    assert read(client, slug, agent).status_code == 204
    with app.app_context():
        assert readership.flush() == 0


def test_nothing_is_counted_when_counting_is_off_or_for_what_is_not_published(app, client):
    _id, slug = published(app)
    app.config["READ_COUNTING"] = False
    read(client, slug)
    app.config["READ_COUNTING"] = True
    read(client, "no-such-interview")
    read(client, "x" * 500)
    with app.app_context():
        draft = submission_in(State.APPROVED).interview.slug
    read(client, draft)
    with app.app_context():
        assert readership.flush() == 0
    assert client.get(f"/interviews/{slug}/read").status_code == 404  # only a POST counts


def test_the_dashboard_shows_the_most_read(app, client, editor):
    first, first_slug = published(app, business="Often Read Bakery")
    _second, second_slug = published(app, business="Seldom Read Shop")
    for n in range(3):
        read(client, first_slug, reader=n)
    read(client, second_slug)
    with app.app_context():
        readership.flush()
    login(client)
    page = client.get("/editor/dashboard").get_data(as_text=True)
    section = page[page.index("Most read") :]
    assert section.index("Often Read Bakery") < section.index("Seldom Read Shop")
    assert stored(app)[first] == 3


def test_a_week_after_publication_the_interviewee_hears_how_often_it_was_read(app, inbox):
    with app.app_context():
        with frozen(utcnow() - timedelta(days=8)):
            old = submission_in(State.PUBLISHED, email="read@shop.example", business="Read Shop")
        submission_in(State.PUBLISHED, email="new@shop.example")
        db.session.add(
            InterviewReads(interview_id=old.interview.id, day=utcnow().date(), reads=1234)
        )
        db.session.commit()
        assert readership.tell_interviewees() == 1
        assert readership.tell_interviewees() == 0  # once
        while deliver_due().handled:
            pass
    [mail] = [m for m in inbox.to("read@shop.example") if "first week" in m.subject]
    text = " ".join(mail.text.split())
    assert "for 8 days" in text and "read 1,234 times on the site since it went live" in text
    assert "/interviews/" in text and "Read Shop" in text  # the link and a text to share
    assert not [m for m in inbox.to("new@shop.example") if "first week" in m.subject]
    with app.app_context():
        kinds = db.session.scalars(select(OutboxEmail.kind).where(OutboxEmail.kind == "week_after"))
        assert list(kinds) == ["week_after"]
