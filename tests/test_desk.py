"""The editors' desk: second opinions, and a queue that finds anything (filters,
the Scheduled tab) at the same cost for ten applications or a thousand."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from portal import operations
from portal.clock import utcnow
from portal.extensions import db
from portal.models import Opinion, Submission, User
from portal.workflow import Action, State
from tests.conftest import login, make_user, post_form
from tests.factories import actor_for, submission_in
from tests.test_loop import deliver, only_email
from tests.test_publishing import counting


def _page(sid: int) -> str:
    return f"/editor/submissions/{sid}"


def test_a_colleague_is_asked_emailed_and_their_recommendation_shows(app, client, inbox, editor):
    make_user(app, email="oli@portal.test", name="Oli Other")
    make_user(app, email="sam@portal.test", name="Sam Second")
    with app.app_context():
        sid = submission_in(State.IN_REVIEW, business="Quayside Kites").id
        oli, sam = (
            db.session.scalar(select(User.id).where(User.email == address))
            for address in ("oli@portal.test", "sam@portal.test")
        )
    login(client)
    page = client.get(_page(sid)).get_data(as_text=True)
    assert "Second opinions" in page and "Oli Other" in page
    response = post_form(
        client,
        _page(sid),
        {"colleagues": [str(oli), str(sam)], "question": "Is a kite shop one for us?"},
        action=f"{_page(sid)}/opinions",
    )
    assert response.status_code == 302
    deliver(app)
    email = only_email(inbox, "oli@portal.test", "asks your opinion: Quayside Kites")
    assert "Is a kite shop one for us?" in email.text
    assert any(path.startswith(_page(sid)) for path in email.paths())
    only_email(inbox, "sam@portal.test", "asks your opinion")
    assert not [m for m in inbox.to("editor@portal.test") if "opinion" in m.subject]

    # Asked again while waiting: not a second email.
    post_form(client, _page(sid), {"colleagues": [str(oli)]}, action=f"{_page(sid)}/opinions")
    deliver(app)
    assert len([m for m in inbox.to("oli@portal.test") if "opinion" in m.subject]) == 1

    colleague = app.test_client()
    login(colleague, email="oli@portal.test")
    queue = colleague.get("/editor/?state=in_review&who=opinion").get_data(as_text=True)
    assert "Quayside Kites" in queue and "your opinion asked" in queue
    with app.app_context():
        opinion_id = db.session.scalar(select(Opinion.id).where(Opinion.editor_id == oli))
    # Nobody else gives Oli's opinion.
    stranger = post_form(
        client,
        _page(sid),
        {f"o{opinion_id}-recommendation": "feature"},
        action=f"{_page(sid)}/opinions/{opinion_id}",
    )
    assert stranger.status_code == 404
    given = post_form(
        colleague,
        _page(sid),
        {
            f"o{opinion_id}-recommendation": "changes",
            f"o{opinion_id}-comment": "Ask for <b>numbers</b> first.",
        },
        action=f"{_page(sid)}/opinions/{opinion_id}",
    )
    assert given.status_code == 302
    deliver(app)
    told = only_email(inbox, "editor@portal.test", "Oli Other: “Needs changes” for Quayside Kites")
    assert "Ask for <b>numbers</b> first." in told.text
    assert "because you are an editor" in told.text and "applied to be featured" not in told.text

    # The deciding editor sees it beside the decision, escaped, and in the queue.
    page = client.get(_page(sid)).get_data(as_text=True)
    section = page[
        page.index('id="opinions"') : page.index("</section>", page.index('id="opinions"'))
    ]
    assert "Needs changes" in section and "Ask for &lt;b&gt;numbers&lt;/b&gt; first." in section
    assert "no answer yet" in section  # Sam's
    assert page.index('id="opinions"') < page.index("/actions/approve")
    queue = client.get("/editor/?state=in_review").get_data(as_text=True)
    assert "Oli Other: Needs changes" in queue and "Sam Second: asked" in queue


def test_the_search_finds_her_from_any_tab_and_says_where_she_is(app, client, editor):
    with app.app_context():
        submission_in(State.PUBLISHED, name="Greta Lindqvist", business="Lindqvist Glass")
    login(client)
    page = client.get("/editor/?state=submitted&q=lindqvist").get_data(as_text=True)
    assert "Lindqvist Glass" in page and "Searching every state" in page
    assert "Published" in page[page.index("Lindqvist Glass") :]


def test_the_queue_filters_by_tag_industry_assignee_and_dates(app, client, editor):
    def tagged(name):
        def draft(interview):
            from portal.interviews import tags_from

            interview.tags = tags_from([name])

        return draft

    with app.app_context():
        old = submission_in(
            State.APPROVED, business="Old Oars", industry="Boats", draft=tagged("Water")
        )
        new = submission_in(
            State.APPROVED, business="New Nets", industry="Fishing", draft=tagged("Sea")
        )
        old.submitted_at = utcnow() - timedelta(days=40)
        erin = db.session.scalar(select(User).where(User.email == "editor@portal.test"))
        operations.assign(old, erin, erin)
        operations.assign(new, None, erin)
        db.session.commit()
        erin_id = erin.id
    login(client)

    def shown(**args):
        query = "&".join(f"{k}={v}" for k, v in args.items())
        text = client.get(f"/editor/?state=approved&{query}").get_data(as_text=True)
        return {b for b in ("Old Oars", "New Nets") if f"<td>{b}" in text}

    assert shown() == {"Old Oars", "New Nets"}
    assert shown(tag="water") == {"Old Oars"}
    assert shown(industry="fishing") == {"New Nets"}
    assert shown(who=str(erin_id)) == {"Old Oars"}
    since = (utcnow() - timedelta(days=7)).date().isoformat()
    assert shown(since=since) == {"New Nets"}
    assert shown(until=since) == {"Old Oars"}
    assert shown(since="not-a-date", who="999999", tag="<script>") == set()  # no 500
    page = client.get("/editor/?state=approved&tag=water").get_data(as_text=True)
    assert "tag=water" in page  # tabs keep the filter


def test_the_scheduled_tab_lists_upcoming_publications_by_date(app, client, editor):
    with app.app_context():
        later = submission_in(State.READY, business="Later Looms")
        sooner = submission_in(State.READY, business="Sooner Soap")
        submission_in(State.PUBLISHED, business="Already Live")
        admin = actor_for(Action.PUBLISH)
        operations.publish(later, admin, when=utcnow() + timedelta(days=9))
        operations.publish(sooner, admin, when=utcnow() + timedelta(days=2))
    login(client)
    page = client.get("/editor/?state=scheduled").get_data(as_text=True)
    assert "Already Live" not in page
    assert page.index("Sooner Soap") < page.index("Later Looms")
    assert re.search(r"Scheduled <span class=\"count\">2</span>", page)
    assert "Goes live" in page


def test_the_queue_costs_the_same_queries_for_ten_or_a_thousand(app, client, editor):
    oli = make_user(app, email="oli@portal.test", name="Oli Other")
    login(client)

    def fill(total):
        with app.app_context():
            have = db.session.scalar(select(db.func.count()).select_from(Submission))
            colleague = db.session.get(User, oli)
            for n in range(have, total):
                submission = Submission(
                    state=State.SUBMITTED.value,
                    name=f"Person {n}",
                    email=f"p{n}@shop.example",
                    business=f"Shop {n}",
                    industry="Retail",
                    submitted_at=utcnow(),
                    assigned_to=colleague if n % 2 else None,
                )
                if n % 3 == 0:
                    submission.opinions.append(Opinion(editor=colleague, question="?"))
                db.session.add(submission)
            db.session.commit()

    def queries(path):
        client.get(path)  # warm: the first request of a process loads more
        with counting(app) as statements:
            assert client.get(path).status_code == 200
        return len(statements)

    pages = [
        "/editor/",
        "/editor/?q=shop",
        "/editor/?state=submitted&industry=retail&since=2000-01-01",
        "/editor/?state=scheduled",
    ]
    fill(10)
    few = [queries(p) for p in pages]
    fill(1000)
    many = [queries(p) for p in pages]
    assert few == many
