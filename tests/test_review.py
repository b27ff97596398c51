"""Editors: login, the queue, decisions over HTTP, conflicts, the draft editor."""

from __future__ import annotations

import html
import re

import pytest
from markupsafe import escape
from sqlalchemy import select, update

from portal import operations
from portal.extensions import db
from portal.models import Event, Submission, User
from portal.operations import Actor, Conflict
from portal.workflow import State
from tests.conftest import draft_data, login, make_user, post_form
from tests.factories import submission_in


def version_on(page: str) -> str:
    return re.search(r'name="version" value="(\d+)"', page).group(1)


def test_login_gives_the_same_answer_for_a_wrong_email_and_a_wrong_password(client, editor):
    wrong_password = post_form(
        client, "/editor/login", {"email": "editor@portal.test", "password": "nope nope nope"}
    )
    wrong_email = post_form(
        client, "/editor/login", {"email": "ghost@portal.test", "password": "nope nope nope"}
    )
    assert wrong_password.status_code == wrong_email.status_code == 200
    message = "That email and password don&#39;t match an active editor."
    assert message in wrong_password.get_data(as_text=True)
    assert message in wrong_email.get_data(as_text=True)


def test_editor_pages_need_a_login(client):
    for path in ("/editor/", "/editor/submissions/1", "/editor/outbox"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/editor/login")


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\t/evil.example",
        "////evil.example",
        "https://evil.example",
        "/editor/\r\nSet-Cookie: x=y",
        "/\\evil.example",
    ],
)
def test_next_never_leaves_the_site(client, editor, target):
    response = post_form(
        client,
        "/editor/login",
        {"email": "editor@portal.test", "password": "correct horse battery", "next": target},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/editor/"


def test_next_to_a_page_of_this_site_is_followed(client, editor):
    response = post_form(
        client,
        "/editor/login",
        {
            "email": "editor@portal.test",
            "password": "correct horse battery",
            "next": "/editor/outbox",
        },
    )
    assert response.headers["Location"] == "/editor/outbox"


def test_logout_ends_the_session_even_for_a_copied_cookie(app, client, editor):
    login(client)
    stolen = client.get_cookie("session").value
    post_form(client, "/editor/", {}, action="/editor/logout")
    other = app.test_client()
    other.set_cookie("session", stolen)
    assert other.get("/editor/").status_code == 302


def test_a_deactivated_editor_is_logged_out_and_cannot_log_in(app, client, editor):
    login(client)
    with app.app_context():
        db.session.execute(update(User).values(active=False))
        db.session.commit()
    assert client.get("/editor/").status_code == 302
    response = post_form(
        client,
        "/editor/login",
        {"email": "editor@portal.test", "password": "correct horse battery"},
    )
    assert response.status_code == 200


def test_queue_shows_counts_per_state_and_never_drafts(app, client, editor):
    with app.app_context():
        submission_in(State.SUBMITTED, business="Alpha Fabrics")
        submission_in(State.SUBMITTED, business="Beta Brews")
        submission_in(State.IN_REVIEW, business="Gamma Glass")
        submission_in(State.DRAFT, business="Secret Draft Shop")
    login(client)
    page = client.get("/editor/").get_data(as_text=True)
    assert "Alpha Fabrics" in page and "Beta Brews" in page
    assert "Gamma Glass" not in page
    assert re.search(r"Received, waiting for an editor <span class=\"count\">2</span>", page)
    assert re.search(r"Being reviewed <span class=\"count\">1</span>", page)
    assert "Secret Draft Shop" not in client.get("/editor/?state=draft").get_data(as_text=True)
    assert "Gamma Glass" in client.get("/editor/?state=in_review").get_data(as_text=True)
    with app.app_context():
        draft_id = db.session.scalar(select(Submission.id).where(Submission.state == "draft"))
    assert client.get(f"/editor/submissions/{draft_id}").status_code == 404


def test_an_illegal_action_over_http_is_409_with_a_readable_message(app, client, editor):
    with app.app_context():
        s = submission_in(State.SUBMITTED)
        sid, version = s.id, s.version
    login(client)
    page = f"/editor/submissions/{sid}"
    response = post_form(client, page, {"version": version}, action=f"{page}/actions/publish")
    assert response.status_code == 409
    assert "“Publish” is not possible for “Received, waiting for an editor”." in response.get_data(
        as_text=True
    ).replace("&#8220;", "“")
    response = post_form(client, page, {"version": version}, action=f"{page}/actions/explode")
    assert response.status_code == 409


def test_reject_without_a_message_is_refused(app, client, editor):
    with app.app_context():
        s = submission_in(State.IN_REVIEW)
        sid = s.id
    login(client)
    page = f"/editor/submissions/{sid}"
    version = version_on(client.get(page).get_data(as_text=True))
    response = post_form(
        client, page, {"version": version, "message": "  "}, action=f"{page}/actions/reject"
    )
    assert response.status_code == 409
    assert "needs a message" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Submission, sid).state == "in_review"


def test_an_admin_only_action_is_refused_to_an_editor(app, client, editor):
    with app.app_context():
        sid = submission_in(State.APPROVED).id
    login(client)
    page = f"/editor/submissions/{sid}"
    assert "Skip the sign-off" not in client.get(page).get_data(as_text=True)
    version = version_on(client.get(page).get_data(as_text=True))
    response = post_form(
        client,
        page,
        {"version": version, "message": "urgent"},
        action=f"{page}/actions/skip_signoff",
    )
    assert response.status_code == 409


def test_two_editors_at_once_the_second_gets_a_conflict_and_keeps_their_text(app, editor):
    make_user(app, email="second@portal.test", name="Sam Second")
    with app.app_context():
        sid = submission_in(State.IN_REVIEW).id
    first, second = app.test_client(), app.test_client()
    login(first)
    login(second, email="second@portal.test")
    page = f"/editor/submissions/{sid}"
    first_version = version_on(first.get(page).get_data(as_text=True))
    second_version = version_on(second.get(page).get_data(as_text=True))

    assert (
        post_form(
            first, page, {"version": first_version}, action=f"{page}/actions/approve"
        ).status_code
        == 302
    )
    response = post_form(
        second,
        page,
        {"version": second_version, "message": "Sorry, not for us this time."},
        action=f"{page}/actions/reject",
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Erin Editor chose “approve”" in text.replace("&#8220;", "“").replace("&#8221;", "”")
    assert "Sorry, not for us this time." in text  # what they typed is kept
    with app.app_context():
        assert db.session.get(Submission, sid).state == "approved"
        assert db.session.scalar(select(Event).order_by(Event.id.desc())).action == "approve"
    # The page offers to apply it again, against the current version.
    assert "Apply it again" in text
    current = re.search(r'name="version" value="(\d+)"', text).group(1)
    assert current != second_version
    retry = post_form(
        second,
        page,
        {"version": current, "message": "Sorry, not for us this time."},
        action=f"{page}/actions/reject",
    )
    assert retry.status_code == 409  # reject is no longer possible once approved
    assert "not possible" in retry.get_data(as_text=True)


def test_a_lost_race_in_the_database_becomes_a_conflict(app):
    """Two transactions read the same version; the later UPDATE matches no row."""
    with app.app_context():
        s = submission_in(State.IN_REVIEW)
        editor = db.session.scalar(select(User))
        assert s.version and editor.name  # loaded now, and kept after the commit
        db.session().expire_on_commit = False
        db.session.commit()  # SQLite: release the write lock for the other writer
        # Another editor's commit, made behind this session's back.
        with db.engine.begin() as other:
            other.execute(
                update(Submission)
                .where(Submission.id == s.id)
                .values(version=Submission.version + 1)
            )
        with pytest.raises(Conflict):
            operations.perform(s, "approve", Actor.of(editor))
        assert db.session.get(Submission, s.id).state == "in_review"


def test_draft_editor_refuses_what_the_sanitizer_would_remove_and_keeps_the_text(
    app, client, editor
):
    with app.app_context():
        s = submission_in(State.APPROVED)
        sid, item_id, before = s.id, s.interview.items[0].id, s.interview.items[0].answer_html
    login(client)
    page = f"/editor/submissions/{sid}/draft"
    intro = (
        'Hi <span onclick="x()">there</span> <script>alert(1)</script> '
        "[bad](javascript:alert(1)) [good](https://good.example) <img src=x onerror=alert(1)>"
    )
    answer = "*Edited*\n\n<iframe src='https://evil.example'></iframe>"
    data = draft_data(app, sid, title="A <b>title</b>", intro_md=intro, **{f"a{item_id}": answer})
    response = post_form(client, page, data)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Interviewer&#39;s note" in text and "Answer 1" in text
    for named in ("&lt;span&gt;", "&lt;script&gt;", "an image (&lt;img&gt;)", "&lt;iframe&gt;"):
        assert named in text, named
    assert "would be removed" in text
    assert str(escape(answer)) in text  # what they typed, still in the field
    with app.app_context():
        assert db.session.get(Submission, sid).interview.items[0].answer_html == before

    written = "I can't say *no* to Pixel & Pine: [our shop](https://good.example)\n\n- one\n- two"
    data = draft_data(app, sid, title="A <b>title</b>", **{f"a{item_id}": written})
    assert post_form(client, page, data).status_code == 302
    with app.app_context():
        interview = db.session.get(Submission, sid).interview
        assert interview.items[0].answer_md == written
        assert interview.items[0].answer_html == (
            "<p>I can't say <em>no</em> to Pixel &amp; Pine: "
            '<a href="https://good.example" rel="nofollow ugc noopener">our shop</a></p>\n'
            "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
        )
        assert interview.title == "A <b>title</b>"  # plain text, escaped when shown
    editing = client.get(page).get_data(as_text=True)
    field = re.search(rf'<textarea[^>]*id="a{item_id}"[^>]*>(.*?)</textarea>', editing, re.S)
    assert html.unescape(field.group(1)).strip() == written  # the field shows what was typed
    preview = client.get(f"/editor/submissions/{sid}/preview").get_data(as_text=True)
    assert "A &lt;b&gt;title&lt;/b&gt;" in preview


def test_draft_slug_must_be_unique_and_well_formed(app, client, editor):
    with app.app_context():
        first = submission_in(State.APPROVED)
        second = submission_in(State.APPROVED)
        taken, sid = first.interview.slug, second.id
    login(client)
    page = f"/editor/submissions/{sid}/draft"
    for slug, message in (
        (taken, "Another interview has this address already."),
        ("Not A Slug!", "Use lower-case letters"),
    ):
        response = post_form(client, page, draft_data(app, sid, slug=slug))
        assert response.status_code == 200
        assert message in response.get_data(as_text=True)


def test_the_draft_is_locked_while_the_proof_is_out(app, client, editor):
    with app.app_context():
        sid = submission_in(State.AWAITING_SIGNOFF).id
    login(client)
    assert client.get(f"/editor/submissions/{sid}/draft").status_code == 409


def test_unknown_submission_is_404(client, editor):
    login(client)
    assert client.get("/editor/submissions/99999").status_code == 404
    assert client.get("/editor/submissions/99999/draft").status_code == 404


def test_draft_refuses_markup_too_big_for_the_sanitizer_with_a_message(app, client, editor):
    with app.app_context():
        sid = submission_in(State.APPROVED).id
    login(client)
    page = f"/editor/submissions/{sid}/draft"
    cases = {
        "<b>" * 20 + "x": "nested more than 8 levels",
        "<b>x</b>" * 1000: "keep the formatting under 400 tags",
        "x" * 10_001: "Keep it under 10,000 characters",
    }
    for written, message in cases.items():
        response = post_form(client, page, draft_data(app, sid, intro_md=written))
        assert response.status_code == 200
        assert message in response.get_data(as_text=True)


def test_a_revised_application_is_marked_revised_in_the_queue(app, client, editor):
    from tests.factories import answers, profile

    with app.app_context():
        asked = submission_in(State.CHANGES_REQUESTED, business="Came Back Cakes")
        operations.revise(asked, profile(business="Came Back Cakes", email=asked.email), answers())
        submission_in(State.SUBMITTED, business="First Time Florist")
        db.session.commit()
    login(client)
    page = client.get("/editor/?state=submitted").get_data(as_text=True)
    row = page[page.index("Came Back Cakes") :][:300]
    assert '<strong class="flag follow-up-flag">revised</strong>' in row
    other = page[page.index("First Time Florist") :][:300]
    assert "revised" not in other
