"""Hostile input to the applicant's side: a clear answer every time, never a 500,
a duplicate or a lost application."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Submission
from tests.conftest import application, post_form


def count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Submission))


def test_header_injection_in_name_and_email_is_refused(app, client):
    for field, value in (
        ("name", "Rosa\r\nBcc: all@victims.example"),
        ("email", "rosa@tidewater.example\r\nBcc: all@victims.example"),
        ("business", "Kayaks\nSubject: free money"),
    ):
        response = post_form(client, "/apply", application(app, **{field: value}))
        assert response.status_code == 200, field
        page = response.get_data(as_text=True)
        assert "Please keep this on one line." in page or "look like an email" in page
    assert count(app) == 0


def test_direction_overrides_are_refused_and_homoglyphs_kept_escaped(app, client):
    response = post_form(client, "/apply", application(app, name="Rosa \u202egnp.exe"))
    assert "change the text&#39;s direction" in response.get_data(as_text=True)
    response = post_form(
        client, "/apply", application(app, name="Rоsa Маrquez")
    )  # Cyrillic о, М, а
    assert response.status_code == 302
    assert "Rоsa Маrquez" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_invalid_utf8_gets_a_page_not_a_500(app, client):
    page = client.get("/apply").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    body = b"csrf_token=" + token.encode() + b"&name=Ros\xff\xfea&email=rosa%40tidewater.example"
    response = client.post("/apply", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (200, 400)
    assert count(app) == 0


def test_a_one_megabyte_field_gets_a_clear_answer(app, client):
    response = post_form(client, "/apply", application(app, pitch="x" * 1_000_000))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Field cannot be longer than 600 characters." in page
    assert "Tidewater Kayaks" in page
    assert count(app) == 0


def test_a_replayed_sign_off_is_a_conflict_not_a_second_event(app, client):
    from portal.models import Event, StatusToken
    from portal.workflow import State
    from tests.factories import submission_in

    with app.app_context():
        s = submission_in(State.AWAITING_SIGNOFF)
        token = StatusToken.issue(s)
        db.session.commit()
    path = f"/status/{token}"
    html = client.get(path).get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    data = {"version": version}
    assert post_form(client, path, data, action=f"{path}/actions/sign_off").status_code == 302
    # The same form again (a double click, or the back button): the status page
    # has no sign-off form any more, so take the CSRF token from another of theirs.
    replay = post_form(client, f"{path}/withdraw", data, action=f"{path}/actions/sign_off")
    assert replay.status_code == 409
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(Event).where(Event.action == "sign_off")
            )
            == 1
        )


def test_another_applicants_token_opens_only_their_own_page(app, client):
    first = post_form(client, "/apply", application(app)).headers["Location"]
    second = post_form(
        client, "/apply", application(app, email="other@shop.example", business="Other Shop")
    ).headers["Location"]
    assert "Tidewater Kayaks" in client.get(first).get_data(as_text=True)
    assert "Tidewater Kayaks" not in client.get(second).get_data(as_text=True)
    assert client.get(first[:-1] + ("A" if first[-1] != "A" else "B")).status_code == 404


def test_the_longest_name_and_business_still_make_a_draft(app):
    """Found in the browser on PostgreSQL: a 120-character name and a 160-character
    business made a 284-character draft title, and approving it was a 500."""
    from portal import operations
    from portal.models import TITLE_MAX
    from portal.workflow import Action, State
    from tests.factories import actor_for, submission_in

    with app.app_context():
        s = submission_in(State.IN_REVIEW, name="N" * 60 + " " + "a" * 59, business="B " * 80)
        operations.perform(s, Action.APPROVE, actor_for(Action.APPROVE))
        title = db.session.get(Submission, s.id).interview.title
    assert len(title) <= TITLE_MAX and title.endswith("…") and title.startswith("N" * 60)


def _bleach_reading(html: str) -> str:
    """The text of an HTML fragment as an HTML parser reads it (the way
    strip_tags read it before it stopped parsing)."""
    import bleach
    from markupsafe import Markup

    from portal.sanitize import _BLOCK_EDGE

    text = bleach.clean(_BLOCK_EDGE.sub("\n\n", html), tags=set(), strip=True)
    return re.sub(r"\n{3,}", "\n\n", Markup(text).unescape()).strip()  # noqa: S704


HOSTILE_FORMATTING = [
    '<a href="https://x.example/?a=1&b=2" title="say &quot;hi&quot; > now">link</a> after',
    "<a href='https://x.example/' title='it\"s > 3'>quoted</a> & <b>bold</b>",
    '<a title="<b>not a tag</b>" href="https://x.example/">t</a>',
    "1 < 2 and 3 > 2, a&amp;b, &lt;script&gt;alert(1)&lt;/script&gt;",
    "<p>one</p><p>two<br>three</p><ul><li>a</li><li>b</li></ul><blockquote>q</blockquote>",
    "<!-- a comment --><script>alert(1)</script><style>p{}</style>text",
    "<h2>Heading</h2><div onclick=x>div</div><img src=x onerror=alert(1)>",
    "Pi<em>x</em>el &amp; Pine: can&#39;t, won&rsquo;t, caf&eacute;",
    "<p>unclosed <strong>bold <em>both</p> after",
    '<a href="javascript:alert(1)">no link</a> www.example.com and https://e.example/a?b>c',
    "<<a>>b<</a>",
    "<p title=\"a'b\" class='c\"d'>mixed</p>",
    "",
]


def test_excerpts_read_stored_formatting_as_an_html_parser_does():
    """strip_tags reads what the sanitizer wrote without parsing it; for every
    hostile piece of formatting an editor or applicant could send, it must give
    the text bleach's parser gives."""
    from portal.sanitize import clean_html, plain_to_html, strip_tags

    for raw in HOSTILE_FORMATTING:
        for stored in (clean_html(raw), str(plain_to_html(raw))):
            assert strip_tags(stored) == _bleach_reading(stored), (raw, stored)


def test_a_heading_the_sanitizer_dropped_stays_apart_from_the_next_paragraph(app, client):
    """ "<h3>" is not formatting editors may use: its text is kept, and the card's
    excerpt reads it as words of its own, not glued to the paragraph after."""
    from portal.sanitize import clean_html, strip_tags

    assert strip_tags(clean_html("<h3>Who they are</h3><p>Mo runs a shop.</p>")) == (
        "Who they are\n\nMo runs a shop."
    )
    assert strip_tags("<ul><li>one</li><li>two</li></ul><p>three</p>").split() == [
        "one",
        "two",
        "three",
    ]


def test_formatting_around_no_words_is_saved_as_nothing():
    from portal.sanitize import clean_html

    for blank in ("<p> </p>", "<p><br></p>\n", "<p>&nbsp;</p>", "<strong> </strong>", "  "):
        assert clean_html(blank) == "", blank
    assert clean_html("<p>x</p>") == "<p>x</p>"


def test_saving_formatting_again_never_changes_its_words():
    """An applicant who typed "&amp;" or "&lt;b&gt;" keeps those characters
    through every save of the draft (bleach's clean with its linkify filter in
    one pass decoded one level of entities on each)."""
    from portal.sanitize import clean_html, plain_to_html, strip_tags

    typed = "Fish &amp; chips, &lt;b&gt;bold&lt;/b&gt;, &copy; and www.example.com"
    stored = str(plain_to_html(typed))
    once = clean_html(stored)
    assert clean_html(once) == once
    assert strip_tags(once) == typed
    assert 'href="http://www.example.com"' in once
