"""The editors' workspace: queue tools, the submission page, drafts, scheduling,
the team, the dashboard and login limits."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from portal import operations
from portal.clock import frozen, utcnow
from portal.extensions import db
from portal.models import OutboxEmail, PasswordToken, ReplyPreset, StatusToken, Submission, User
from portal.notifications.delivery import deliver_due
from portal.workflow import Action, State
from tests.conftest import draft_data, item_ids, login, make_user, post_form
from tests.factories import actor_for, answers, profile, submission_in


def page_text(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def version_on(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def act(client, sid: int, action: str, **data):
    page = f"/editor/submissions/{sid}"
    data.setdefault("version", version_on(page_text(client, page)))
    return post_form(client, page, data, action=f"{page}/actions/{action}")


# The queue


def test_queue_search_filters_sorts_and_flags(app, client, editor):
    with app.app_context():
        me = db.session.get(User, editor)
        with frozen(utcnow() - timedelta(days=10)):
            old = submission_in(
                State.SUBMITTED, business="Old Oak Joinery", email="oak@wood.example"
            )
        fresh = submission_in(State.SUBMITTED, business="Fresh Fig Deli")
        fresh.assigned_to = me
        db.session.commit()
        old_id = old.id
    login(client)
    html = page_text(client, "/editor/")
    assert html.index("Old Oak Joinery") < html.index("Fresh Fig Deli")  # oldest first
    assert "over 7 days" in html  # the old one is flagged
    html = page_text(client, "/editor/?sort=newest")
    assert html.index("Fresh Fig Deli") < html.index("Old Oak Joinery")
    html = page_text(client, "/editor/?who=mine")
    assert "Fresh Fig Deli" in html and "Old Oak Joinery" not in html
    html = page_text(client, "/editor/?who=unassigned")
    assert "Old Oak Joinery" in html and "Fresh Fig Deli" not in html
    for q in ("oak@wood", "OLD OAK", "joinery"):
        html = page_text(client, f"/editor/?q={q}")
        assert "Old Oak Joinery" in html and "Fresh Fig Deli" not in html
    for hostile in ("%", "_", "\\", "' OR 1=1 --", "x" * 5000):
        assert client.get("/editor/", query_string={"q": hostile}).status_code == 200
    assert f"/editor/submissions/{old_id}" in page_text(client, "/editor/?q=oak")


def test_a_queue_search_looks_in_every_state_and_says_each_ones(app, client, editor):
    with app.app_context():
        published = submission_in(State.PUBLISHED, name="Wren Alderney", business="Alder Wool")
        submission_in(State.SUBMITTED, name="Wren Baxter", business="Baxter Bikes")
        submission_in(State.DRAFT, name="Wren Draft", business="Unsent Shop")
        published_id = published.id
    login(client)
    html = page_text(client, "/editor/?state=submitted&q=wren")  # from the "waiting" tab
    assert f"/editor/submissions/{published_id}" in html
    assert "Alder Wool" in html and "Baxter Bikes" in html and "Unsent Shop" not in html
    assert "Searching every state" in html
    assert '<span class="status-badge state-published">Published</span>' in html
    assert '<span class="status-badge state-submitted">' in html


def test_bulk_actions_ask_for_confirmation_first(app, client, editor):
    with app.app_context():
        ids = [submission_in(State.SUBMITTED).id for _ in range(3)]
    login(client)
    data = {"action": "mark_spam", "assignee": "", "ids": [str(i) for i in ids[:2]]}
    response = post_form(client, "/editor/", data, action="/editor/bulk")
    assert response.status_code == 200
    assert "Please confirm" in response.get_data(as_text=True)
    with app.app_context():
        assert {db.session.get(Submission, i).state for i in ids} == {"submitted"}
    response = post_form(client, "/editor/", dict(data, confirm="yes"), action="/editor/bulk")
    assert response.status_code == 302
    with app.app_context():
        states = [db.session.get(Submission, i).state for i in ids]
    assert states == ["spam", "spam", "submitted"]
    release = {"action": "release", "assignee": "", "ids": [str(ids[0])], "confirm": "yes"}
    post_form(client, "/editor/", release, action="/editor/bulk")
    assign = {
        "action": "assign",
        "assignee": str(editor),
        "ids": [str(ids[0]), str(ids[2])],
        "confirm": "yes",
    }
    post_form(client, "/editor/", assign, action="/editor/bulk")
    with app.app_context():
        first, third = db.session.get(Submission, ids[0]), db.session.get(Submission, ids[2])
        assert first.state == "submitted"
        assert first.assigned_to_id == third.assigned_to_id == editor


def test_bulk_back_link_cannot_point_off_site(app, client, editor):
    with app.app_context():
        sid = submission_in(State.SUBMITTED).id
    login(client)
    data = {"action": "mark_spam", "assignee": "", "ids": [str(sid)], "back": "javascript:alert(1)"}
    html = post_form(client, "/editor/", data, action="/editor/bulk").get_data(as_text=True)
    assert "javascript:" not in html


# The submission page


def test_diff_between_revisions_highlights_the_changed_answer(app, client, editor):
    with app.app_context():
        s = submission_in(State.CHANGES_REQUESTED)
        first = {a.question_id: a.body for a in s.latest_revision.answers}
        changed_qid = next(iter(first))
        new = {**first, changed_qid: "We now post <b>twice</b> a day on Instagram."}
        operations.revise(s, profile(), new)
        sid = s.id
    login(client)
    html = page_text(client, f"/editor/submissions/{sid}")
    assert "What changed" in html
    assert html.count(">changed</strong>") == 1
    assert "<ins>" in html and "<del>" in html
    assert "&lt;b&gt;twice&lt;/b&gt;" in html and "<b>twice</b>" not in html
    assert client.get(f"/editor/submissions/{sid}?from=1&to=9").status_code == 404


def test_notes_are_for_editors_only(app, client, editor, inbox):
    with app.app_context():
        s = submission_in(State.IN_REVIEW, email="private@shop.example")
        sid = s.id
        deliver_due()
        token = operations.StatusToken.issue(s)
        db.session.commit()
    inbox.clear()
    login(client)
    note = "Secret: <script>alert('x')</script> ask about pricing"
    response = post_form(
        client,
        f"/editor/submissions/{sid}",
        {"body": note},
        action=f"/editor/submissions/{sid}/notes",
    )
    assert response.status_code == 302
    html = page_text(client, f"/editor/submissions/{sid}")
    assert "Secret: &lt;script&gt;" in html
    applicant = client.application.test_client()
    status = page_text(applicant, f"/status/{token}")
    assert "Secret" not in status and "pricing" not in status
    with app.app_context():
        deliver_due()
        assert not any(
            "pricing" in body for body in db.session.scalars(select(OutboxEmail.text_body))
        )
    assert inbox.messages == []


def test_assign_to_me_and_to_another(app, client, editor):
    other = make_user(app, email="other@portal.test", name="Olu Other")
    with app.app_context():
        sid = submission_in(State.SUBMITTED).id
    login(client)
    page = f"/editor/submissions/{sid}"
    version = version_on(page_text(client, page))
    post_form(
        client, page, {"me": "1", "version": version, "assignee": "0"}, action=f"{page}/assign"
    )
    with app.app_context():
        assert db.session.get(Submission, sid).assigned_to_id == editor
    version = version_on(page_text(client, page))
    post_form(client, page, {"assignee": str(other), "version": version}, action=f"{page}/assign")
    with app.app_context():
        s = db.session.get(Submission, sid)
        assert s.assigned_to_id == other
        assert [n.body for n in s.notes if n.kind == "assign"] == [
            "Assigned to Erin Editor",
            "Assigned to Olu Other",
        ]


def test_a_preset_makes_a_kind_rejection_two_clicks(app, client, admin, inbox):
    login(client, email="admin@portal.test")
    data = {
        "action": "reject",
        "title": "Not this season",
        "body": "Thank you so much for applying. We are full this season.",
    }
    assert post_form(client, "/editor/presets", data).status_code == 302
    with app.app_context():
        sid = submission_in(State.IN_REVIEW, email="kind@shop.example").id
        preset_id = db.session.scalar(select(ReplyPreset.id))
        deliver_due()
    inbox.clear()
    assert "Not this season" in page_text(client, f"/editor/submissions/{sid}")
    response = act(client, sid, "reject", preset=str(preset_id), message="")
    assert response.status_code == 302
    with app.app_context():
        deliver_due()
    [mail] = inbox.to("kind@shop.example")
    assert "We are full this season." in mail.text


def test_a_saved_message_is_edited_with_who_changed_it_and_never_overwritten(app, client, admin):
    login(client, email="admin@portal.test")
    data = {"action": "reject", "title": "Not this season", "body": "We are full."}
    post_form(client, "/editor/presets", data)
    with app.app_context():
        preset_id = db.session.scalar(select(ReplyPreset.id))
    edit = f"/editor/presets/{preset_id}/edit"
    page = page_text(client, edit)
    assert "We are full." in page and 'name="version" value="1"' in page
    changed = dict(data, title="Not this year", body="We are full until spring.", version="1")
    assert post_form(client, edit, changed).status_code == 302
    listing = page_text(client, "/editor/presets")
    assert "Not this year" in listing and "We are full until spring." in listing
    assert "Last changed by Ada Admin" in listing
    # A second admin's form, made from the first version, is refused with its text kept.
    late = dict(data, title="Closed", body="A text typed meanwhile.", version="1")
    response = post_form(client, edit, late)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "changed this saved message while you were editing it" in page
    assert "A text typed meanwhile." in page
    with app.app_context():
        assert db.session.get(ReplyPreset, preset_id).body == "We are full until spring."


def test_an_editor_cannot_edit_saved_messages(app, client, admin, editor):
    with app.app_context():
        from portal import accounts

        preset_id = accounts.save_preset("reject", "Full", "We are full.").id
    login(client)
    edit = f"/editor/presets/{preset_id}/edit"
    assert client.get(edit).status_code == 403
    data = {"action": "reject", "title": "Hijacked", "body": "x", "version": "1"}
    assert post_form(client, "/editor/", data, action=edit).status_code == 403
    with app.app_context():
        assert db.session.get(ReplyPreset, preset_id).title == "Full"


def test_per_answer_requests_reach_the_applicant_beside_those_answers(app, client, editor):
    with app.app_context():
        s = submission_in(State.IN_REVIEW)
        sid = s.id
        qid = s.latest_revision.answers[2].question_id
        token = operations.StatusToken.issue(s)
        db.session.commit()
    login(client)
    response = act(
        client,
        sid,
        "request_changes",
        message="A few small things.",
        **{f"req{qid}": "Name the platform, please."},
    )
    assert response.status_code == 302
    applicant = client.application.test_client()
    html = page_text(applicant, f"/status/{token}/revise")
    assert f'id="request-{qid}"' in html and "Name the platform, please." in html
    assert "A few small things." in html
    assert "Name the platform, please." in page_text(client, f"/editor/submissions/{sid}")


def test_a_refused_request_for_changes_says_where_and_keeps_the_text(app, client, editor):
    with app.app_context():
        s = submission_in(State.IN_REVIEW)
        sid = s.id
        answer = s.latest_revision.answers[1]
        qid, question = answer.question_id, answer.question_text
    login(client)
    response = act(
        client,
        sid,
        "request_changes",
        message="Three things, <b>kindly</b>.",
        **{f"req{qid}": "x" * 1200},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    escaped = question.replace("'", "&#39;")
    assert f"{escaped}: keep it under 1,000 characters (this one has 1200)." in html
    assert "Three things, &lt;b&gt;kindly&lt;/b&gt;.</textarea>" in html  # kept, escaped
    assert "x" * 1200 + "</textarea>" in html and "<details open>" in html
    with app.app_context():
        assert db.session.get(Submission, sid).state == State.IN_REVIEW.value


# The draft


def test_draft_pairs_can_be_reordered_removed_and_tagged(app, client, editor):
    with app.app_context():
        sid = submission_in(State.APPROVED).id
    ids = item_ids(app, sid)
    login(client)
    data = draft_data(
        app,
        sid,
        tags="Retail, instagram , Retail, Small Shops",
        **{f"pos{ids[0]}": "99", f"remove{ids[1]}": "y", f"q{ids[2]}": "Edited question?"},
    )
    assert post_form(client, f"/editor/submissions/{sid}/draft", data).status_code == 302
    with app.app_context():
        interview = db.session.get(Submission, sid).interview
        order = [i.id for i in interview.items]
        assert ids[1] not in order
        assert order[-1] == ids[0] and order[0] == ids[2]
        assert interview.items[0].question == "Edited question?"
        assert [i.position for i in interview.items] == list(range(len(order)))
        assert sorted(t.slug for t in interview.tags) == ["instagram", "retail", "small-shops"]
        assert (
            db.session.get(Submission, sid).latest_revision.answers[1].body
        )  # the original is kept


def test_a_refused_answer_is_named_by_its_number_and_kept(app, client, editor):
    with app.app_context():
        sid = submission_in(State.APPROVED).id
    ids = item_ids(app, sid)
    login(client)
    nested = "<blockquote>" * 12 + "deep" + "</blockquote>" * 12
    data = draft_data(app, sid, **{f"a{ids[1]}": nested})
    response = post_form(client, f"/editor/submissions/{sid}/draft", data)
    assert response.status_code == 200  # the form again, not saved
    html = response.get_data(as_text=True)
    assert "Answer 2: The formatting is nested more than 8 levels deep" in html
    assert "&lt;blockquote&gt;" * 12 + "deep" in html  # what was typed, kept


def test_two_editors_saving_one_draft_the_second_keeps_their_text(app, editor):
    make_user(app, email="second@portal.test", name="Sam Second")
    with app.app_context():
        sid = submission_in(State.APPROVED).id
    first, second = app.test_client(), app.test_client()
    login(first)
    login(second, email="second@portal.test")
    stale = draft_data(app, sid)
    page = f"/editor/submissions/{sid}/draft"
    assert post_form(first, page, dict(stale, title="First editor's title")).status_code == 302
    response = post_form(second, page, dict(stale, title="Second editor's title"))
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Another editor saved this draft" in html
    assert "Second editor&#39;s title" in html  # nothing typed is lost
    # Saving again from that page (which now carries the new version) wins.
    version = re.search(r'name="version" type="hidden" value="(\d+)"', html).group(1)
    again = post_form(second, page, dict(stale, title="Second editor's title", version=version))
    assert again.status_code == 302
    with app.app_context():
        assert db.session.get(Submission, sid).interview.title == "Second editor's title"


def test_a_published_interview_keeps_its_old_address_with_a_301(app, client, editor):
    with app.app_context():
        s = submission_in(State.PUBLISHED)
        sid, old = s.id, s.interview.slug
    login(client)
    data = draft_data(app, sid, slug="a-better-address")
    assert post_form(client, f"/editor/submissions/{sid}/draft", data).status_code == 302
    reader = app.test_client()
    # Saved, not published: readers still find it where it was.
    assert reader.get(f"/interviews/{old}").status_code == 200
    assert reader.get("/interviews/a-better-address").status_code == 404
    page = f"/editor/submissions/{sid}"
    version = version_on(page_text(client, page))
    response = post_form(client, page, {"version": version}, action=f"{page}/changes/publish")
    assert response.status_code == 302
    response = reader.get(f"/interviews/{old}")
    assert response.status_code == 301
    assert response.headers["Location"] == "/interviews/a-better-address"
    assert reader.get("/interviews/a-better-address").status_code == 200
    # The old address is taken: another draft can't claim it.
    with app.app_context():
        other = submission_in(State.APPROVED).id
    response = post_form(
        client, f"/editor/submissions/{other}/draft", draft_data(app, other, slug=old)
    )
    assert "Another interview has this address already." in response.get_data(as_text=True)


def test_scheduled_publication_appears_at_its_time_not_before(app, client, editor, inbox):
    app.config["SITE_TIMEZONE"] = "Europe/Paris"
    with app.app_context():
        s = submission_in(State.READY, email="sched@shop.example")
        sid, slug = s.id, s.interview.slug
        deliver_due()
    inbox.clear()
    login(client)
    # 10:00 in Paris on 1 July is 08:00 UTC (summer time).
    response = act(client, sid, "publish", publish_at="2031-07-01T10:00")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Submission, sid).interview.published_at == datetime(2031, 7, 1, 8, 0)
    reader = app.test_client()
    with frozen(datetime(2031, 7, 1, 7, 59)):
        assert reader.get(f"/interviews/{slug}").status_code == 404
        assert slug not in reader.get("/").get_data(as_text=True)
        with app.app_context():
            deliver_due()
        assert inbox.to("sched@shop.example") == []
    with frozen(datetime(2031, 7, 1, 8, 1)):
        assert reader.get(f"/interviews/{slug}").status_code == 200
        assert slug in reader.get("/").get_data(as_text=True)
        with app.app_context():
            deliver_due()
    [live] = inbox.to("sched@shop.example")
    assert f"/interviews/{slug}" in live.text


def test_scheduled_is_its_own_state_on_every_screen_in_local_time(app, client, editor):
    app.config["SITE_TIMEZONE"] = "Europe/Paris"
    with app.app_context():
        s = submission_in(State.READY)
        sid, slug = s.id, s.interview.slug
    login(client)
    with frozen(datetime(2031, 6, 30, 12, 0)):
        with app.app_context():
            token = StatusToken.issue(db.session.get(Submission, sid))
            db.session.commit()
        response = act(client, sid, "publish", publish_at="2031-07-01T10:00")
        said = html.unescape(page_text(client, response.headers["Location"]))
        assert "Scheduled: it goes live Tue 1 Jul 2031, 10:00 (Europe/Paris)." in said
        assert "Done: published" not in said
        assert "Scheduled for Tue 1 Jul 2031, 10:00 (Europe/Paris)" in said
        assert "Not live yet" in said and f'href="/interviews/{slug}"' not in said
        queue = html.unescape(page_text(client, "/editor/?state=published"))
        assert "scheduled for Tue 1 Jul 2031, 10:00 (Europe/Paris)" in queue
        status = html.unescape(app.test_client().get(f"/status/{token}").get_data(as_text=True))
        assert "Scheduled for Tue 1 Jul 2031, 10:00 (Europe/Paris)" in status
        assert (
            "goes live Tue 1 Jul 2031, 10:00" in status and "Your interview is live" not in status
        )
    with frozen(datetime(2031, 7, 1, 8, 1)):
        page = html.unescape(page_text(client, f"/editor/submissions/{sid}"))
        assert "Live since Tue 1 Jul 2031, 10:00 (Europe/Paris)" in page
        assert f'href="/interviews/{slug}"' in page


def test_a_publication_time_already_past_publishes_nothing(app, client, editor):
    with app.app_context():
        sid = submission_in(State.READY).id
    login(client)
    response = act(client, sid, "publish", publish_at="2020-01-01T10:00")
    assert response.status_code == 400
    assert "that time has passed" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Submission, sid).state == State.READY.value


# The team


def test_invite_set_password_once_and_log_in(app, client, admin, inbox):
    login(client, email="admin@portal.test")
    data = {"name": "Nell New", "email": "nell@team.example", "role": "editor"}
    assert post_form(client, "/editor/team", data).status_code == 302
    with app.app_context():
        deliver_due()
    [mail] = inbox.to("nell@team.example")
    link = next(p for p in mail.paths() if p.startswith("/editor/set-password/"))
    newcomer = app.test_client()
    page = page_text(newcomer, link)
    assert "Nell New" in page
    response = post_form(
        newcomer, link, {"password": "nell's new password", "confirm": "nell's new password"}
    )
    assert response.status_code == 302
    assert newcomer.get(link).status_code == 404  # valid once
    login(newcomer, email="nell@team.example", password="nell's new password")
    assert newcomer.get("/editor/").status_code == 200
    assert newcomer.get("/editor/team").status_code == 403  # an editor, not an admin


def test_an_expired_set_password_link_is_refused(app, admin, inbox):
    with app.app_context():
        from portal import accounts as team

        user = team.invite("late@team.example", "Lee Late", "editor")
        assert user.id
        deliver_due()
        db.session.execute(update(PasswordToken).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    [mail] = inbox.to("late@team.example")
    link = next(p for p in mail.paths() if p.startswith("/editor/set-password/"))
    response = app.test_client().get(link)
    assert response.status_code == 404
    assert "expired" in response.get_data(as_text=True)


def test_set_password_links_use_the_public_url_not_the_host_header(app, client, admin, inbox):
    evil = {"Host": "evil.example"}
    page = client.get("/editor/login", headers=evil).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    login_data = {
        "email": "admin@portal.test",
        "password": "correct horse battery",
        "csrf_token": token,
    }
    assert client.post("/editor/login", data=login_data, headers=evil).status_code == 302
    page = client.get("/editor/team", headers=evil).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(
        "/editor/team",
        data={"name": "Hal", "email": "hal@team.example", "role": "editor", "csrf_token": token},
        headers={"Host": "evil.example"},
    )
    with app.app_context():
        deliver_due()
    [mail] = inbox.to("hal@team.example")
    assert "http://portal.test/editor/set-password/" in mail.text
    assert "evil.example" not in mail.text


def test_roles_and_deactivation(app, client, admin, editor):
    login(client, email="admin@portal.test")
    editor_session = app.test_client()
    login(editor_session)
    post_form(client, "/editor/team", {"role": "admin"}, action=f"/editor/team/{editor}/role")
    with app.app_context():
        assert db.session.get(User, editor).role == "admin"
    post_form(client, "/editor/team", {}, action=f"/editor/team/{editor}/deactivate")
    with app.app_context():
        user = db.session.get(User, editor)
        assert not user.active and user.email == "editor@portal.test"  # history kept
    assert editor_session.get("/editor/").status_code == 302  # their session ended
    # The last admin can't be demoted or deactivated, nor can anyone deactivate themselves.
    with app.app_context():
        admin_id = db.session.scalar(select(User.id).where(User.email == "admin@portal.test"))
    response = post_form(client, "/editor/team", {}, action=f"/editor/team/{admin_id}/deactivate")
    assert response.status_code == 409
    response = post_form(
        client, "/editor/team", {"role": "editor"}, action=f"/editor/team/{admin_id}/role"
    )
    assert response.status_code == 409


def test_change_own_password_and_email_choices(app, client, editor):
    login(client)
    other_device = app.test_client()
    login(other_device)
    data = {
        "pw-current": "correct horse battery",
        "pw-new": "a brand new password",
        "pw-confirm": "a brand new password",
        "pw-submit": "1",
    }
    assert post_form(client, "/editor/account", data).status_code == 302
    assert client.get("/editor/").status_code == 200  # this device stays in
    assert other_device.get("/editor/").status_code == 302  # the others log in again
    wrong = dict(data, **{"pw-current": "not my password"})
    assert "not right" in post_form(client, "/editor/account", wrong).get_data(as_text=True)
    post_form(client, "/editor/account", {"notify-notify_new": "digest", "notify-save": "1"})
    with app.app_context():
        assert db.session.get(User, editor).notify_new == "digest"


# Login limits


def test_login_is_rate_limited_per_account(app, client, editor):
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "3 per 10 minutes"
    bad = {"email": "editor@portal.test", "password": "wrong password!"}
    for _ in range(3):
        assert post_form(client, "/editor/login", bad).status_code == 200
    response = post_form(client, "/editor/login", bad)
    assert response.status_code == 429
    assert "Social Owners" in response.get_data(as_text=True)  # the site's page, not a bare error
    # Another account from the same address is not locked out by this one.
    assert (
        post_form(client, "/editor/login", dict(bad, email="someone@portal.test")).status_code
        == 200
    )


def test_login_is_rate_limited_per_address(app, client, editor):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "4 per 10 minutes"
    for n in range(4):
        post_form(client, "/editor/login", {"email": f"user{n}@portal.test", "password": "x" * 12})
    response = post_form(
        client, "/editor/login", {"email": "fresh@portal.test", "password": "x" * 12}
    )
    assert response.status_code == 429


def test_login_limits_can_live_in_redis(tmp_path, database_url, smtp_server):
    """Two app processes sharing Redis share the counters (CI runs Redis on 6379)."""
    from portal import create_app
    from tests.conftest import reset_schema

    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15",
        "LOGIN_LIMIT_PER_ACCOUNT": "2 per 10 minutes",
        "MAIL_SERVER": "",
    }
    one = create_app(config)
    with one.app_context():
        reset_schema()
    email = f"redis-{utcnow().timestamp()}@portal.test"
    bad = {"email": email, "password": "wrong password!"}
    assert post_form(one.test_client(), "/editor/login", bad).status_code == 200
    assert post_form(one.test_client(), "/editor/login", bad).status_code == 200
    # A second app starts with empty counters of its own: only Redis remembers.
    two = create_app(config)
    assert post_form(two.test_client(), "/editor/login", bad).status_code == 429
    memory = create_app(dict(config, RATELIMIT_STORAGE_URI="memory://"))
    assert post_form(memory.test_client(), "/editor/login", bad).status_code == 200
    for made in (one, two, memory):
        with made.app_context():
            db.session.remove()
            db.engine.dispose()


# Dashboard


def test_dashboard_counts_weeks_medians_and_the_oldest(app, client, editor):
    now = utcnow()
    with app.app_context():
        for days_ago in (1, 2, 9, 30):
            with frozen(now - timedelta(days=days_ago)):
                operations.apply(profile(), answers())
        with frozen(now - timedelta(days=20)):
            s = submission_in(State.IN_REVIEW, business="Decided Bakery")
        with frozen(now - timedelta(days=16)):
            operations.perform(s, Action.APPROVE, actor_for(Action.APPROVE))
    login(client)
    html = page_text(client, "/editor/dashboard")
    assert "<svg" in html and "Applications per week" in html
    assert "5 applications in the last 12 weeks" in html
    assert re.search(r"Last 30 days</dt><dd>4.0</dd>", html)
    assert "<script" not in html
    assert html.count("<rect") == 12


def test_a_conflict_can_be_applied_again_and_then_works(app, editor):
    sam = make_user(app, email="second@portal.test", name="Sam Second")
    with app.app_context():
        sid = submission_in(State.IN_REVIEW).id  # assigned to Erin when her review started
    first, second = app.test_client(), app.test_client()
    login(first)
    login(second, email="second@portal.test")
    page = f"/editor/submissions/{sid}"
    stale = version_on(page_text(second, page))
    # The first editor hands it to Sam: the submission moved on under Sam's open page.
    post_form(first, page, {"version": stale, "assignee": str(sam)}, action=f"{page}/assign")
    response = post_form(
        second, page, {"version": stale, "message": "Lovely."}, action=f"{page}/actions/approve"
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    current = re.search(r'name="version" value="(\d+)"', html).group(1)
    again = post_form(
        second, page, {"version": current, "message": "Lovely."}, action=f"{page}/actions/approve"
    )
    assert again.status_code == 302
    with app.app_context():
        assert db.session.get(Submission, sid).state == "approved"


def test_session_cookie_flags(app, client, editor):
    response = post_form(
        client,
        "/editor/login",
        {"email": "editor@portal.test", "password": "correct horse battery"},
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP in development


def test_session_cookie_is_secure_in_production(monkeypatch, tmp_path):
    from portal import create_app

    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PUBLIC_URL", "https://interviews.example.org")
    monkeypatch.setenv("SECRET_KEY", "Zq7r-K2vX9pLmA4tWc8yBn0eHs5dFgJ1uRo6iVk3")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite3'}"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


@pytest.mark.parametrize("typed", ["2026-02-30T10:00", "tomorrow 9am"])
def test_a_publication_time_we_cannot_read_publishes_nothing(app, client, editor, typed):
    with app.app_context():
        sid = submission_in(State.READY).id
    login(client)
    response = act(client, sid, "publish", publish_at=typed)
    assert response.status_code == 400
    assert "Publish at" in response.get_data(as_text=True)
    with app.app_context():
        submission = db.session.get(Submission, sid)
        assert submission.state == State.READY.value
        assert submission.interview.published_at is None


def test_a_version_that_is_not_one_is_a_conflict(app, client, editor):
    with app.app_context():
        sid = submission_in(State.PUBLISHED).id
    login(client)
    response = act(client, sid, "unpublish", message="Paused", version="abc")
    assert response.status_code == 409
    with app.app_context():
        assert db.session.get(Submission, sid).state == State.PUBLISHED.value
