"""Editors write Markdown: what readers get is the same text, refusals are named,
the preview shows unsaved text, autosave never overwrites a colleague, and any
saved version can be restored."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from portal import interviews, markup
from portal.clock import frozen, utcnow
from portal.extensions import db
from portal.models import Interview, InterviewVersion, Submission
from portal.sanitize import TooLong, clean_html, strip_tags
from portal.workflow import State
from tests.conftest import csrf_token, draft_data, login, make_user, post_form
from tests.factories import submission_in
from tests.test_migrations import _empty_database

# HTML the portal stored before Markdown: the applicants' plain text made HTML,
# imported posts, and editors' own formatting.
STORED = [
    "<p>Pixel &amp; Pine can&#39;t * 5_ _x_ snake_case &lt;b&gt; &#x27;</p>",
    "<p>1986. A year<br>\n# not a heading<br>\n- not a list<br>\n&gt; not a quote</p>",
    '<ul><li>one</li><li><strong>two</strong> three</li></ul><ol start="3"><li>a</li></ol>',
    "<blockquote><p>first</p><p>second <em>said</em></p></blockquote><p>after</p>",
    '<p>See <a href="https://pixel.example/a_b?c=1&amp;d=2" rel="nofollow">our shop</a>, '
    '<a href="https://example.com/x" rel="nofollow">https://example.com/x</a> and '
    'mail <a href="mailto:jo@example.com">jo</a>.</p>',
    "<p>a<strong> spaced </strong>b <em></em> [brackets] `ticks` \\ back</p>",
    "<p>* not a list<br>5 * 3 = 15, 2*3, *stars* and ** alone **</p>",
    "<p>---</p><p>===</p><p>+ plus</p><p>~~~</p><p>2) two</p>",
    "plain words with no paragraph",
]


def _text(html_text: str) -> str:
    return " ".join(strip_tags(html_text).split())


@pytest.mark.parametrize("stored", STORED)
def test_markdown_made_from_stored_html_renders_the_same_words(stored):
    written = markup.from_html(clean_html(stored))
    assert "&amp;" not in written and "&#" not in written  # no entity for an editor
    assert not re.search(r"</?(p|strong|em|a|li|ul|ol|blockquote)\b", written)  # no tag
    assert _text(markup.render(written)) == _text(clean_html(stored))


def test_markdown_keeps_links_lists_and_emphasis_as_markup():
    written = markup.from_html(clean_html(STORED[2] + STORED[4]))
    rendered = markup.render(written)
    for kept in ("<ul>", "<strong>two</strong>", '<ol start="3">', 'href="mailto:jo@example.com"'):
        assert kept in rendered, kept
    assert 'href="https://pixel.example/a_b?c=1&amp;d=2"' in rendered


@pytest.mark.parametrize(
    ("written", "named"),
    [
        ("<h2>x</h2><script>alert(1)</script>", ["A heading (<h2>)", "<script>"]),
        ("# A title", ["A heading (<h1>)"]),
        ("Text\n\n---\n\nmore", ["A horizontal line (<hr>)"]),
        ("![me](https://x.example/me.png)", ["An image (<img>)"]),
        ("`code`", ["Code formatting (<code>)"]),
        ('<a href="https://x.example" onclick="y()">z</a>', ["The onclick attribute of <a>"]),
        ("[home](/about)", ["The link to “/about”"]),
        ("See [our page](javascript:alert(1))", ["The link to “javascript:alert(1)”"]),
        ("[x](vbscript:msgbox) [y](file:///etc/passwd)", ["vbscript:msgbox", "file:///etc/passwd"]),
        ("<!-- note to self -->", ["A comment"]),
    ],
)
def test_what_the_sanitizer_would_remove_is_refused_by_name(written, named):
    with pytest.raises(markup.Refused) as refused:
        markup.render(written)
    for words in named:
        assert words in str(refused.value)


def test_markdown_over_the_cap_is_refused_before_rendering():
    with pytest.raises(TooLong, match="10,000 characters"):
        markup.render("x" * (markup.MARKDOWN_MAX + 1))


def test_0025_writes_markdown_that_reads_as_every_demo_interview_did(app):
    from portal import demo

    with app.app_context():
        _empty_database()
        upgrade()
        demo.seed()
        tricky = db.session.scalars(select(Interview)).first()
        for n, item in enumerate(tricky.items):
            item.answer_html = clean_html(STORED[n % len(STORED)])
        old_content = interviews.snapshot(tricky)  # a version saved before Markdown
        del old_content["intro_md"]
        for item in old_content["items"]:
            del item["answer_md"]
        db.session.add(InterviewVersion(interview_id=tricky.id, content=old_content))
        db.session.commit()
        before = {
            i.id: [i.intro_html] + [item.answer_html for item in i.items]
            for i in db.session.scalars(select(Interview))
        }
        db.session.remove()
        downgrade(revision="0024")
        upgrade()
        found = list(db.session.scalars(select(Interview)))
        assert len(found) == len(before) >= 3
        for interview in found:
            stored = [interview.intro_html] + [item.answer_html for item in interview.items]
            written = [interview.intro_md] + [item.answer_md for item in interview.items]
            assert stored == before[interview.id]  # readers' HTML untouched
            for old, markdown in zip(stored, written, strict=True):
                assert _text(markup.render(markdown)) == _text(old), markdown
                assert "&amp;" not in markdown and "<p>" not in markdown
        (version,) = db.session.scalars(select(InterviewVersion))
        for item in version.content["items"]:
            assert _text(markup.render(item["answer_md"])) == _text(item["answer_html"])
        db.session.remove()


def _hidden(page: str) -> dict[str, str]:
    """The hidden fields of a page's forms (the token, the version, the base)."""
    found = re.findall(r'name="([^"]+)" type="hidden" value="([^"]*)"', page)
    return {name: html.unescape(value) for name, value in found}


def _draft(client, sid):
    return client.get(f"/editor/submissions/{sid}/draft").get_data(as_text=True)


def test_saving_unchanged_markdown_keeps_the_stored_html_and_the_sign_off(app, client, editor):
    with app.app_context():
        ready = submission_in(State.READY)
        approved = submission_in(State.APPROVED)
        ready_id, sid = ready.id, approved.id
        approved.interview.items[0].answer_html = "<p>Stored  before   Markdown</p>"
        approved.interview.items[0].answer_md = "Stored before Markdown"
        db.session.commit()
    login(client)
    assert "Saved only when you press Save" in _draft(client, ready_id)
    for each in (ready_id, sid):
        page = f"/editor/submissions/{each}/draft"
        assert post_form(client, page, draft_data(app, each)).status_code == 302
    with app.app_context():
        assert db.session.get(Submission, ready_id).state == State.READY.value
        item = db.session.get(Submission, sid).interview.items[0]
        assert item.answer_html == "<p>Stored  before   Markdown</p>"  # as the proof showed it


def test_the_preview_shows_unsaved_text_and_saves_nothing(app, client, editor):
    with app.app_context():
        s = submission_in(State.APPROVED)
        sid, first, saved = s.id, s.interview.items[0].id, s.interview.items[0].answer_html
    login(client)
    data = draft_data(
        app, sid, title="Not saved title", **{f"a{first}": "Pixel & Pine **can't** wait"}
    )
    data["csrf_token"] = csrf_token(client, f"/editor/submissions/{sid}/draft")
    page = client.post(f"/editor/submissions/{sid}/preview", data=data)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Not saved title" in text and "Pixel &amp; Pine <strong>can't</strong> wait" in text
    assert "how readers will see" in text
    with app.app_context():
        s = db.session.get(Submission, sid)
        assert s.interview.items[0].answer_html == saved and s.interview.title != "Not saved title"
    # Framed beside the editor (this site only), and nowhere else.
    pane = client.post(f"/editor/submissions/{sid}/preview?pane=1", data=data)
    assert "frame-ancestors 'self'" in pane.headers["Content-Security-Policy"]
    assert pane.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    data[f"a{first}"] = "<h2>x</h2>"
    refused = client.post(f"/editor/submissions/{sid}/preview", data=data)
    assert refused.status_code == 422
    assert "A heading (&lt;h2&gt;)" in refused.get_data(as_text=True)


def _autosave(client, sid, data):
    return client.post(f"/editor/submissions/{sid}/draft/autosave", data=data)


def test_autosave_saves_keeps_one_version_per_editor_and_never_overwrites_a_colleague(
    app, client, editor
):
    make_user(app, email="other@portal.test", name="Oli Other")
    with app.app_context():
        s = submission_in(State.APPROVED)
        sid, first, original = s.id, s.interview.items[0].id, s.interview.items[0].answer_md
    login(client)
    colleague = app.test_client()
    login(colleague, email="other@portal.test")
    mine = draft_data(app, sid)
    theirs = draft_data(app, sid)
    mine["csrf_token"] = csrf_token(client, f"/editor/submissions/{sid}/draft")
    theirs["csrf_token"] = csrf_token(colleague, f"/editor/submissions/{sid}/draft")

    for n in range(3):  # typing: three autosaves, one version
        mine[f"a{first}"] = f"My answer, take {n}"
        answer = _autosave(client, sid, mine)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        mine["version"] = str(answer.json["version"])
    with app.app_context():
        interview = db.session.get(Submission, sid).interview
        assert interview.items[0].answer_md == "My answer, take 2"
        kept = db.session.scalars(
            select(InterviewVersion).where(InterviewVersion.interview_id == interview.id)
        ).all()
        # The draft as it was made, then one version for the three autosaves.
        assert len(kept) == 2 and kept[0].author is None and kept[1].autosaved
        assert kept[0].content["items"][0]["answer_md"] == original
    # After a pause of more than two minutes, typing again makes a version of its own.
    with frozen(utcnow() + timedelta(minutes=3)):
        mine[f"a{first}"] = "After a pause"
        answer = _autosave(client, sid, mine)
        assert answer.status_code == 200
        mine["version"] = str(answer.json["version"])
    with app.app_context():
        interview = db.session.get(Submission, sid).interview
        assert [v.content["items"][0]["answer_md"] for v in interview.versions] == [
            original,
            "My answer, take 2",
            "After a pause",
        ]

    theirs[f"a{first}"] = "Their answer"
    clash = _autosave(colleague, sid, theirs)
    assert clash.status_code == 409 and "Another editor saved" in clash.json["message"]
    with app.app_context():
        assert db.session.get(Submission, sid).interview.items[0].answer_md == "After a pause"
    # Saving by hand shows the conflict with their text kept, then saving again wins.
    response = post_form(colleague, f"/editor/submissions/{sid}/draft", theirs)
    assert response.status_code == 409
    assert "Their answer" in response.get_data(as_text=True)


def test_autosave_is_off_after_the_sign_off(app, client, editor):
    with app.app_context():
        sid = submission_in(State.READY).id
    login(client)
    data = draft_data(app, sid, title="Typed after the sign-off")
    data["csrf_token"] = csrf_token(client, f"/editor/submissions/{sid}/draft")
    assert _autosave(client, sid, data).status_code == 409
    with app.app_context():
        assert db.session.get(Submission, sid).state == State.READY.value


def test_a_saved_version_can_be_restored(app, client, editor):
    with app.app_context():
        s = submission_in(State.APPROVED)
        sid, first = s.id, s.interview.items[0].id
    login(client)
    page = f"/editor/submissions/{sid}/draft"
    for words in ("The first wording", "The second wording"):
        assert post_form(client, page, draft_data(app, sid, **{f"a{first}": words})).status_code
    with app.app_context():
        kept = db.session.scalars(select(InterviewVersion).order_by(InterviewVersion.id)).all()
        # The draft as it was made comes first: it can be restored as well.
        assert [v.content["items"][0]["answer_md"] for v in kept][1:] == [
            "The first wording",
            "The second wording",
        ]
        vid = kept[1].id
    versions = client.get(f"/editor/submissions/{sid}/versions").get_data(as_text=True)
    assert f"/editor/submissions/{sid}/draft?restore={vid}" in html.unescape(versions)
    restoring = client.get(f"{page}?restore={vid}").get_data(as_text=True)
    assert "Save the draft to restore it" in restoring and "The first wording" in restoring
    response = post_form(
        client, f"{page}?restore={vid}", draft_data(app, sid, **{f"a{first}": "The first wording"})
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Submission, sid).interview.items[0].answer_md == "The first wording"
    assert client.get(f"{page}?restore=999999").status_code == 404


def test_every_link_gets_its_rel_and_only_web_and_mail_links_stay_without_a_bare_address():
    cleaned = clean_html('<p><a href="/about">about</a> and <a href="https://e.example">e</a></p>')
    assert cleaned == (
        '<p>about and <a href="https://e.example" rel="nofollow ugc noopener">e</a></p>'
    )


def test_a_draft_left_open_past_its_token_keeps_what_was_typed(app, client, editor):
    with app.app_context():
        s = submission_in(State.APPROVED)
        sid, first, saved = s.id, s.interview.items[0].id, s.interview.items[0].answer_md
    login(client)
    data = draft_data(app, sid, **{f"a{first}": "Typed over an hour"}, csrf_token="expired")
    page = client.post(f"/editor/submissions/{sid}/draft", data=data)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "The form expired. Everything you typed is still here" in text
    assert "Typed over an hour" in text
    # The autosave is answered with a new token, and saves with it.
    answer = _autosave(client, sid, data)
    assert answer.status_code == 422 and answer.json["csrf_token"]
    with app.app_context():
        assert db.session.get(Submission, sid).interview.items[0].answer_md == saved
    data["csrf_token"] = answer.json["csrf_token"]
    assert _autosave(client, sid, data).status_code == 200
    with app.app_context():
        assert db.session.get(Submission, sid).interview.items[0].answer_md == "Typed over an hour"
    # A stranger's page posting here is refused, and learns nothing it can read.
    stranger = app.test_client()
    assert _autosave(stranger, sid, data).status_code == 302  # to the login page


def test_after_a_colleagues_save_what_you_left_alone_takes_theirs_and_both_changes_show(
    app, client, editor
):
    make_user(app, email="other@portal.test", name="Oli Other")
    with app.app_context():
        s = submission_in(State.APPROVED)
        sid = s.id
        seventh, eighth = (item.id for item in s.interview.items[:2])
    login(client)
    colleague = app.test_client()
    login(colleague, email="other@portal.test")
    page = f"/editor/submissions/{sid}/draft"
    mine, theirs = (
        {**draft_data(app, sid), **_hidden(who.get(page).get_data(as_text=True))}
        for who in (client, colleague)
    )
    theirs[f"a{eighth}"] = "Oli's eighth answer"
    theirs[f"a{seventh}"] = "Oli's seventh answer"
    theirs["title"] = "Oli's title"
    assert colleague.post(page, data=theirs).status_code == 302

    mine[f"a{seventh}"] = "My seventh answer"
    response = client.post(page, data=mine)
    assert response.status_code == 409
    text = html.unescape(response.get_data(as_text=True))
    assert "Their changes to what you had not touched are now in the form" in text
    assert "You both changed Answer 1" in text and "Saved meanwhile by another editor" in text
    fields = dict(re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>\s*(.*?)</textarea>', text, re.S))
    assert fields[f"a{seventh}"] == "My seventh answer"  # mine, theirs shown under it
    assert fields[f"a{eighth}"] == "Oli's eighth answer"  # untouched by me: theirs
    assert 'value="Oli&#39;s title"' in response.get_data(as_text=True)

    # Saving again keeps both editors' work.
    again = {**mine, **{f"a{eighth}": "Oli's eighth answer", "title": "Oli's title"}}
    again.update(_hidden(response.get_data(as_text=True)))
    assert client.post(page, data=again).status_code == 302
    with app.app_context():
        interview = db.session.get(Submission, sid).interview
        answers = {item.id: item.answer_md for item in interview.items}
        assert answers[seventh] == "My seventh answer"
        assert answers[eighth] == "Oli's eighth answer" and interview.title == "Oli's title"


def test_a_colleagues_reorder_and_removal_are_kept_and_an_answer_to_a_removed_pair_shown(
    app, client, editor
):
    make_user(app, email="other@portal.test", name="Oli Other")
    with app.app_context():
        s = submission_in(State.APPROVED)
        sid = s.id
        gone, second, moved = (item.id for item in s.interview.items[:3])
        gone_question = s.interview.items[0].question
    login(client)
    colleague = app.test_client()
    login(colleague, email="other@portal.test")
    page = f"/editor/submissions/{sid}/draft"
    mine, theirs = (
        {**draft_data(app, sid), **_hidden(who.get(page).get_data(as_text=True))}
        for who in (client, colleague)
    )
    theirs.update({f"remove{gone}": "y", f"pos{moved}": "1", f"pos{second}": "3"})
    assert colleague.post(page, data=theirs).status_code == 302
    with app.app_context():
        order = [i.id for i in db.session.get(Submission, sid).interview.items]
    assert order[:2] == [moved, second] and gone not in order

    mine.update({f"a{gone}": "My answer to the removed pair", f"a{moved}": "My moved answer"})
    response = client.post(page, data=mine)
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "They removed a pair you had changed" in html.unescape(text)
    assert html.escape(gone_question, quote=False) in text
    assert "My answer to the removed pair" in text
    assert re.search(rf'id="pos{moved}"[^>]*value="1"', text)  # their order, in the form
    assert "the position of pair" in text

    merged = {**mine, **_hidden(text)}
    merged.update({f"pos{i}": v for i, v in re.findall(r'id="pos(\d+)"[^>]*value="(\d+)"', text)})
    for field in ("q", "a", "pos", "remove"):  # the page has no such pair now
        merged.pop(f"{field}{gone}", None)
    assert client.post(page, data=merged).status_code == 302
    with app.app_context():
        interview = db.session.get(Submission, sid).interview
        assert [i.id for i in interview.items][:2] == [moved, second]  # the reorder stands
        assert interview.items[0].answer_md == "My moved answer"
