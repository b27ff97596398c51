"""Follow-up questions: an editor asks an applicant something of their own, the
applicant answers (or declines) from the emailed link, and the answers travel
into the revision, the draft, the proof and the published page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import operations
from portal.clock import utcnow
from portal.extensions import db
from portal.models import Event, FollowUp, OutboxEmail, Submission
from portal.notifications.delivery import deliver_due
from portal.workflow import Action, State
from tests.conftest import login, post_form
from tests.factories import actor_for, submission_in

TIED = "You wrote about your weekly kiln videos: how did the first hundred viewers find them?"
LOOSE = "What would you tell someone opening a shop online this year?"


def _deliver(app):
    with app.app_context():
        while deliver_due().handled:
            pass


def _flat(text: str) -> str:
    """An email's text with its lines joined (it is wrapped at 78 columns)."""
    return " ".join(text.split())


def _page(sid: int) -> str:
    return f"/editor/submissions/{sid}"


def _ask(client, sid: int, *questions: tuple[str, str, str], message: str = ""):
    data = {"message": message}
    for n, (question, follows, cites) in enumerate(questions, start=1):
        data |= {f"question{n}": question, f"follows{n}": follows, f"cites{n}": cites}
    return post_form(client, _page(sid), data, action=f"{_page(sid)}/follow-ups")


def _in_review(app, **profile):
    with app.app_context():
        submission = submission_in(State.IN_REVIEW, name="Maya Lindqvist", **profile)
        third = submission.latest_revision.answers[2]
        return submission.id, third.key, third.question_text, submission.email


def _link(inbox, address: str, subject_words: str) -> str:
    [mail] = [m for m in inbox.to(address) if subject_words in m.message["Subject"]]
    [path] = [p for p in mail.paths() if "/follow-ups" in p]
    return path


def _one_question_asked(app, client) -> tuple[int, int, str]:
    """An application asked one question by a logged-in editor: its id, the
    question's, and the applicant's page to answer it."""
    sid, _, _, _ = _in_review(app)
    login(client)
    _ask(client, sid, (LOOSE, "", ""))
    with app.app_context():
        submission = db.session.get(Submission, sid)
        [question_id] = [f.id for f in submission.follow_ups]
        token = operations.new_status_link(submission)
    return sid, question_id, f"/status/{token}/follow-ups"


def _hidden(page: str) -> tuple[str, str]:
    """The answer page's CSRF token and round, as a browser would send them."""
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return csrf, re.search(r'name="round" type="hidden" value="(\d+)"', page).group(1)


def _state(app, sid: int) -> str:
    with app.app_context():
        return db.session.get(Submission, sid).state


def test_asked_answered_declined_and_published_in_place(app, client, editor, inbox):
    sid, third, third_question, address = _in_review(app)
    login(client)
    response = _ask(
        client,
        sid,
        (TIED, third, "instagram"),
        (LOOSE, "", ""),
        message="Two questions before we decide.",
    )
    assert response.status_code == 302
    assert _state(app, sid) == State.FOLLOW_UPS_ASKED.value
    _deliver(app)
    [mail] = [m for m in inbox.to(address) if "more questions" in m.message["Subject"]]
    said = _flat(mail.text)
    assert TIED in said and LOOSE in said
    assert f"after your answer to “{third_question}”" in said
    assert "Instagram profile" in said and "Two questions before we decide." in said
    [path] = [p for p in mail.paths() if "/follow-ups" in p]
    assert "[private link]" not in mail.text

    # On a phone, later: one answer typed and saved, nothing sent.
    applicant = app.test_client()
    page = applicant.get(path).get_data(as_text=True)
    assert TIED in page and LOOSE in page and "I&#39;d rather not say" in page
    assert f"It follows your answer to “{third_question}”" in page
    with app.app_context():
        tied, loose = (f.id for f in db.session.get(Submission, sid).follow_ups)
    answer = "Through a video each Friday & a hashtag <b>#kilnday</b>."
    saved = post_form(applicant, path, {f"answer{tied}": answer, "save": "1"})
    assert saved.status_code == 302
    assert _state(app, sid) == State.FOLLOW_UPS_ASKED.value
    page = applicant.get(path).get_data(as_text=True)
    assert "&lt;b&gt;#kilnday&lt;/b&gt;" in page  # kept, escaped

    # Sent with the second one neither answered nor declined: said, nothing lost.
    refused = post_form(applicant, path, {f"answer{tied}": answer, "send": "1"})
    assert refused.status_code == 200
    text = refused.get_data(as_text=True)
    assert "or tick “I&#39;d rather not say”" in text and "&lt;b&gt;#kilnday&lt;/b&gt;" in text
    assert _state(app, sid) == State.FOLLOW_UPS_ASKED.value

    sent = post_form(
        applicant, path, {f"answer{tied}": answer, f"decline{loose}": "y", "send": "1"}
    )
    assert sent.status_code == 302
    assert _state(app, sid) == State.IN_REVIEW.value
    with app.app_context():
        submission = db.session.get(Submission, sid)
        latest = submission.latest_revision
        assert latest.number == 2
        texts = [a.question_text for a in latest.answers]
        assert texts[3] == TIED and LOOSE not in texts  # right after the third answer
        assert latest.answers[3].body == answer
    _deliver(app)
    [told] = [m for m in inbox.to("editor@portal.test") if "Follow-ups answered" in m.subject]
    assert answer in _flat(told.text) and "Declined" in told.text

    # The editor: beside the answers, in the diff, marked in the queue.
    page = client.get(_page(sid)).get_data(as_text=True)
    assert "Declined: they would rather not say." in page
    assert "follow-up</span>" in page and "&lt;b&gt;#kilnday&lt;/b&gt;" in page
    assert '<strong class="flag">new: a follow-up</strong>' in page  # revision 1 and 2
    queue = client.get("/editor/?state=in_review").get_data(as_text=True)
    assert "follow-ups answered" in queue

    # Into the draft after the third answer, the proof, the sign-off and the page.
    with app.app_context():
        submission = db.session.get(Submission, sid)
        operations.approve(submission, actor_for(Action.APPROVE))
        questions = [item.question for item in submission.interview.items]
        assert questions[3] == TIED
        operations.send_proof(submission, actor_for(Action.SEND_PROOF))
    status = re.search(r'href="(/status/[^"/]+)"', applicant.get(path).get_data(as_text=True))
    proof = applicant.get(status.group(1)).get_data(as_text=True)
    assert TIED in proof
    with app.app_context():
        submission = db.session.get(Submission, sid)
        operations.sign_off(submission)
        operations.publish(submission, actor_for(Action.PUBLISH))
        slug = submission.interview.slug
    public = client.get(f"/interviews/{slug}").get_data(as_text=True)
    order = [public.index(q) for q in (third_question, TIED)]
    assert order == sorted(order) and LOOSE not in public
    assert "#kilnday" in public and "<b>#kilnday</b>" not in public


def test_a_second_round_follows_the_first_answers_and_the_history_shows_both(app, client, editor):
    sid, third, _, _ = _in_review(app)
    login(client)
    _ask(client, sid, (TIED, third, ""))
    with app.app_context():
        submission = db.session.get(Submission, sid)
        [first] = submission.follow_ups
        operations.answer_follow_ups(submission, {first.id: operations.Reply("Friday videos.")})
        first_key = f"f{first.id}"
    again = "And which of those videos sold the most?"
    assert _ask(client, sid, (again, first_key, "")).status_code == 302
    with app.app_context():
        submission = db.session.get(Submission, sid)
        second = submission.follow_ups[-1]
        operations.answer_follow_ups(submission, {second.id: operations.Reply("The blue bowls.")})
        texts = [a.question_text for a in submission.latest_revision.answers]
        assert texts[3:5] == [TIED, again]
        assert submission.latest_revision.number == 3
    page = client.get(_page(sid)).get_data(as_text=True)
    assert (
        'Round 1 <span class="muted">asked' in page and 'Round 2 <span class="muted">asked' in page
    )


def test_a_revision_after_follow_ups_keeps_their_answers(app, editor):
    from tests.factories import answers, profile

    sid, third, _, email = _in_review(app)
    with app.app_context():
        submission = db.session.get(Submission, sid)
        asker = actor_for(Action.ASK_FOLLOW_UPS)
        operations.ask_follow_ups(submission, asker, [operations.Ask(TIED, third)])
        [question] = submission.follow_ups
        operations.answer_follow_ups(submission, {question.id: operations.Reply("Videos.")})
        operations.request_changes(submission, asker, "A longer first answer, please.")
        operations.revise(submission, profile(email=email, name=submission.name), answers())
        latest = submission.latest_revision
        assert [a.question_text for a in latest.answers][3] == TIED
        assert latest.answers[3].body == "Videos."


def test_nobody_else_can_ask_or_answer(app, client, editor):
    sid, third, _, _ = _in_review(app)
    stranger = app.test_client()
    response = stranger.post(f"{_page(sid)}/follow-ups", data={"question1": "Hi?"})
    assert response.status_code in (302, 400, 403)
    assert _state(app, sid) == State.IN_REVIEW.value
    assert stranger.get("/status/not-a-real-token/follow-ups").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 0


def test_asking_needs_a_question_and_keeps_what_was_typed(app, client, editor):
    sid, _, _, _ = _in_review(app)
    login(client)
    response = _ask(client, sid, ("", "", ""), message="A note that must not be lost.")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Write at least one question to ask." in page
    assert "A note that must not be lost." in page
    hostile = '<script>alert("x")</script> Why <b>pottery</b>?'
    response = _ask(client, sid, (hostile, "q999999", ""))
    assert response.status_code == 400  # an answer it does not have: not a choice
    assert _state(app, sid) == State.IN_REVIEW.value


def test_hostile_questions_come_back_escaped(app, client, editor, inbox):
    sid, _, _, address = _in_review(app)
    login(client)
    hostile = '<script>alert("x")</script> Why <b>pottery</b>?'
    assert _ask(client, sid, (hostile, "", "")).status_code == 302
    _deliver(app)
    path = _link(inbox, address, "One more question")
    [mail] = [m for m in inbox.to(address) if "One more question" in m.message["Subject"]]
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
    page = app.test_client().get(path).get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page


def test_sending_twice_records_one_answer_and_says_where_it_is(app, client, editor):
    sid, question_id, path = _one_question_asked(app, client)
    applicant = app.test_client()
    csrf, round_id = _hidden(applicant.get(path).get_data(as_text=True))
    data = {
        "csrf_token": csrf,
        "round": round_id,
        f"answer{question_id}": "Start small.",
        "send": "1",
    }
    assert applicant.post(path, data=data).status_code == 302
    again = applicant.post(path, data=data)
    assert again.status_code == 409
    page = again.get_data(as_text=True)
    assert "no longer waiting for answers" in page and "Start small." in page
    assert "Send my answers" not in page
    with app.app_context():
        answered = db.session.scalar(
            select(func.count()).where(Event.action == Action.ANSWER_FOLLOW_UPS.value)
        )
        assert answered == 1


def test_an_expired_form_gives_the_answers_back(app, client, editor):
    sid, question_id, path = _one_question_asked(app, client)
    typed = "Three paragraphs typed on a train."
    response = app.test_client().post(
        path,
        data={"csrf_token": "expired", f"answer{question_id}": typed, "send": "1"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert typed in page and "The form expired" in page
    assert _state(app, sid) == State.FOLLOW_UPS_ASKED.value


def test_a_reminder_after_three_days_once_a_round(app, inbox):
    sid, _, _, address = _in_review(app)
    with app.app_context():
        submission = db.session.get(Submission, sid)
        operations.ask_follow_ups(
            submission, actor_for(Action.ASK_FOLLOW_UPS), [operations.Ask(LOOSE)]
        )
        assert operations.remind_follow_ups() == 0  # not yet
        later = utcnow() + timedelta(days=operations.FOLLOW_UP_REMINDER_DAYS, hours=1)
        assert operations.remind_follow_ups(later) == 1
        assert operations.remind_follow_ups(later + timedelta(days=2)) == 0
    _deliver(app)
    [reminder] = [m for m in inbox.to(address) if "still waiting" in m.message["Subject"]]
    assert LOOSE in _flat(reminder.text)
    [path] = [p for p in reminder.paths() if "/follow-ups" in p]
    assert app.test_client().get(path).status_code == 200


def test_the_editors_may_stop_waiting(app, client, editor, inbox):
    sid, _, _, address = _in_review(app)
    login(client)
    _ask(client, sid, (LOOSE, "", ""))
    _deliver(app)
    path = _link(inbox, address, "One more question")
    response = post_form(
        client,
        _page(sid),
        {"message": "We have what we need."},
        action=f"{_page(sid)}/actions/stop_follow_ups",
    )
    assert response.status_code == 302
    assert _state(app, sid) == State.IN_REVIEW.value
    _deliver(app)
    [told] = [m for m in inbox.to(address) if "follow-up questions" in m.message["Subject"]]
    said = _flat(told.text)
    assert "no longer need answers" in said and "We have what we need." in said
    followed = app.test_client().get(path)
    assert followed.status_code == 302 and "/follow-ups" not in followed.headers["Location"]
    page = client.get(_page(sid)).get_data(as_text=True)
    assert "the editors went on without it" in page


def test_the_queue_tab_and_the_dashboard(app, client, editor):
    sid, _, _, _ = _in_review(app)
    with app.app_context():
        submission = db.session.get(Submission, sid)
        operations.ask_follow_ups(
            submission, actor_for(Action.ASK_FOLLOW_UPS), [operations.Ask(LOOSE)]
        )
        asked = submission.events[-1]
        asked.created_at = utcnow() - timedelta(days=2)
        db.session.commit()
    login(client)
    tab = client.get("/editor/?state=follow_ups_asked").get_data(as_text=True)
    assert "Follow-up questions asked" in tab and "Maya Lindqvist" in tab
    with app.app_context():
        submission = db.session.get(Submission, sid)
        [question] = submission.follow_ups
        operations.answer_follow_ups(submission, {question.id: operations.Reply("Start small.")})
    dashboard = client.get("/editor/dashboard").get_data(as_text=True)
    assert re.search(r"Last 90 days</dt><dd>2\.0</dd>\s*<dt>Waiting now", dashboard), dashboard


def test_the_privacy_export_holds_the_follow_ups_and_unsent_answers(app):
    from portal import personal_data

    sid, _, _, email = _in_review(app)
    with app.app_context():
        submission = db.session.get(Submission, sid)
        operations.ask_follow_ups(
            submission, actor_for(Action.ASK_FOLLOW_UPS), [operations.Ask(LOOSE)]
        )
        [question] = submission.follow_ups
        operations.save_follow_up_answers(submission, {question.id: operations.Reply("A draft.")})
        [held] = personal_data.export(email)["applications"]
    [asked] = held["follow_up_questions"]
    assert (asked["question"], asked["answer"], asked["sent_at"]) == (LOOSE, "A draft.", None)


def test_erasure_takes_the_follow_ups_with_it(app, client):
    sid, _, _, _ = _in_review(app)
    with app.app_context():
        submission = db.session.get(Submission, sid)
        operations.ask_follow_ups(
            submission, actor_for(Action.ASK_FOLLOW_UPS), [operations.Ask(LOOSE)]
        )
        [question] = submission.follow_ups
        operations.save_follow_up_answers(
            submission, {question.id: operations.Reply("My secret plan.")}
        )
        operations.erase(submission)
        assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 0
        bodies = db.session.scalars(select(OutboxEmail.text_body)).all()
        assert not any(LOOSE in body for body in bodies)


def test_the_greeting_and_the_follow_line_on_the_page(app, client):
    with app.app_context():
        submission = submission_in(
            State.READY,
            name="Maya Lindqvist",
            socials={"x": "https://x.com/maya", "instagram": "https://instagram.com/maya"},
        )
        operations.publish(submission, actor_for(Action.PUBLISH))
        interview = submission.interview
        interview.greeting = "Hello Maya; welcome to the series!"
        db.session.commit()
        slug, first = interview.slug, interview.items[0].question
    page = client.get(f"/interviews/{slug}").get_data(as_text=True)
    assert f'<span class="greeting">Hello Maya; welcome to the series!</span> {first}' in page
    assert re.search(r"Follow Maya Lindqvist on <a [^>]*>X / Twitter</a> and <a", page)
    assert re.search(r"</time> · Interview by Factory editor · 1 min read</p>", page)


@pytest.mark.parametrize("state", [s for s in State if s is not State.IN_REVIEW])
def test_follow_ups_are_asked_only_in_review(app, state):
    with app.app_context():
        submission = submission_in(state)
        with pytest.raises(Exception, match="not possible|needs"):
            operations.ask_follow_ups(
                submission, actor_for(Action.APPROVE), [operations.Ask(LOOSE)]
            )


def test_an_editors_unrelated_change_meanwhile_does_not_stop_the_answers(app, client, editor):
    sid, question_id, path = _one_question_asked(app, client)
    applicant = app.test_client()
    csrf, round_id = _hidden(applicant.get(path).get_data(as_text=True))
    # While the page is open, an editor assigns the application (its version moves on).
    post_form(client, _page(sid), {"assignee": "0"}, action=f"{_page(sid)}/assign")
    sent = applicant.post(
        path,
        data={"csrf_token": csrf, "round": round_id, f"answer{question_id}": "Sent.", "send": "1"},
    )
    assert sent.status_code == 302
    assert _state(app, sid) == State.IN_REVIEW.value


def test_what_was_declined_or_never_sent_is_not_kept(app, client, editor):
    sid, _, _, _ = _in_review(app)
    with app.app_context():
        submission = db.session.get(Submission, sid)
        asker = actor_for(Action.ASK_FOLLOW_UPS)
        operations.ask_follow_ups(submission, asker, [operations.Ask(LOOSE), operations.Ask(TIED)])
        first, second = (f.id for f in submission.follow_ups)
        operations.answer_follow_ups(
            submission,
            {
                first: operations.Reply("Typed, then thought better of it.", declined=True),
                second: operations.Reply("Kept."),
            },
        )
        assert [f.answer for f in submission.follow_ups] == ["", "Kept."]
        operations.ask_follow_ups(submission, asker, [operations.Ask("One more?")])
        third = submission.follow_ups[-1].id
        operations.save_follow_up_answers(submission, {third: operations.Reply("A half answer.")})
        operations.stop_follow_ups(submission, asker)
        assert db.session.get(FollowUp, third).answer == ""
