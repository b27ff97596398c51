"""Spam defences that lose nothing: what they catch is kept in the spam state."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.clock import frozen, utcnow
from portal.extensions import db
from portal.models import Event, Submission
from portal.notifications.delivery import deliver_due
from portal.spam import form_stamp
from tests.conftest import application, login, post_form


def only_submission(app) -> Submission:
    with app.app_context():
        submission = db.session.scalar(select(Submission))
        spam_event = db.session.scalar(select(Event).where(Event.action == "mark_spam"))
        return submission.state, spam_event.message if spam_event else None


def old_stamp(app, seconds: int) -> str:
    with app.test_request_context(), frozen(utcnow() - timedelta(seconds=seconds)):
        return form_stamp()


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"fax": "+44 123"}, "hidden from people"),
        ({"shown": "forged"}, "time stamp was missing or altered"),
        ({"pitch": " ".join(f"https://shop{i}.example" for i in range(12))}, "12 links"),
        (
            {"pitch": "Great CASINO bonuses and Buy Followers today"},
            "blocked words: buy followers, casino",
        ),
    ],
)
def test_the_rules_send_an_application_to_spam_and_keep_it(
    app, client, inbox, editor, overrides, reason
):
    response = post_form(client, "/apply", application(app, **overrides))
    assert response.status_code == 302  # the applicant gets their receipt as usual
    state, message = only_submission(app)
    assert state == "spam"
    assert reason in message
    with app.app_context():
        deliver_due()
    assert inbox.to("editor@portal.test") == []  # no alert for spam
    assert len(inbox.to("rosa@tidewater.example")) == 1


def test_filled_faster_than_a_person_could_is_spam(app, client):
    app.config["SPAM_MIN_SECONDS"] = 5
    post_form(client, "/apply", application(app))  # posted at once
    state, message = only_submission(app)
    assert state == "spam" and re.search(r"filled in [0-4] s, faster than a person", message)


def test_a_person_who_took_their_time_is_not_spam(app, client):
    app.config["SPAM_MIN_SECONDS"] = 5
    post_form(client, "/apply", application(app, shown=old_stamp(app, 600)))
    assert only_submission(app) == ("submitted", None)


def test_a_burst_from_one_address_goes_to_spam(app, client):
    app.config["APPLY_LIMIT_PER_ADDRESS"] = "2 per hour"
    for n in range(3):
        post_form(client, "/apply", application(app, email=f"burst{n}@shop.example"))
    with app.app_context():
        states = list(db.session.scalars(select(Submission.state).order_by(Submission.id)))
    assert states == ["submitted", "submitted", "spam"]


def test_an_editor_releases_spam_into_the_queue(app, client, editor):
    post_form(client, "/apply", application(app, fax="bot"))
    editors = app.test_client()
    login(editors)
    assert "Rosa Marquez" in editors.get("/editor/?state=spam").get_data(as_text=True)
    with app.app_context():
        submission = db.session.scalar(select(Submission))
        page = f"/editor/submissions/{submission.id}"
    html = editors.get(page).get_data(as_text=True)
    assert "Release from spam" in html and "hidden from people" in html
    version = str(submission.version)
    response = post_form(editors, page, {"version": version}, action=f"{page}/actions/release")
    assert response.status_code == 302
    assert only_submission(app)[0] == "submitted"


def test_the_honeypot_is_out_of_sight(client):
    page = client.get("/apply").get_data(as_text=True)
    assert '<div class="hp" aria-hidden="true">' in page
    assert 'tabindex="-1"' in page


SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def _seed_answers() -> list[str]:
    """The answers of the interview in ../shared/seeds, as the old blog printed them:
    a question line ends with "?", the paragraphs after it are its answer."""
    [path] = sorted(SEED.glob("*.txt"))
    answers, current = [], []
    for paragraph in path.read_text().split("\n\n")[2:]:
        paragraph = paragraph.strip()
        if paragraph.endswith("?"):
            if current:
                answers.append("\n\n".join(current))
            current = []
        elif paragraph:
            current.append(paragraph)
    if current:
        answers.append("\n\n".join(current))
    return answers


def test_the_seed_interviewee_applying_with_his_own_answers_is_not_held(app, client):
    answers = _seed_answers()
    assert any("pornographic" in a for a in answers)  # the sentence that used to trip it
    form = application(app, name="Jesper Example", business="JEC International")
    for key, answer in zip((k for k in form if k.startswith("q")), answers, strict=False):
        form[key] = answer[:5000]
    form["pitch"] = "Specialists in multimedia; socialising our work helps us commercialise it."
    post_form(client, "/apply", form)
    assert only_submission(app) == ("submitted", None)


def test_cheap_casino_bonus_is_held_and_the_editor_sees_it_marked(app, client, editor):
    form = application(app)
    form[next(k for k in form if k.startswith("q"))] = "Get a cheap casino bonus today."
    post_form(client, "/apply", form)
    state, message = only_submission(app)
    assert state == "spam" and "blocked words: casino" in message
    login(client)
    with app.app_context():
        sid = db.session.scalar(select(Submission.id))
    page = client.get(f"/editor/submissions/{sid}").get_data(as_text=True)
    assert "Why it was held" in page and "cheap <mark>casino</mark> bonus" in page
