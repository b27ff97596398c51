"""The back catalogue: `flask import text` and `flask import wordpress`, as the
editor who runs them once would see the result: in the queue, on the site, in
search, feeds and the sitemap, with the old blog's addresses still answering."""

from __future__ import annotations

import io
import os
import re
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from portal import search
from portal.extensions import db
from portal.models import Event, Interview, OutboxEmail, Submission, User
from tests.conftest import login, stored_names

SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_c48f283345a7efe8.txt"
FIXTURE = Path(__file__).parent / "fixtures" / "old_blog.xml"
TITLE = "What Does Having 8,000 Twitter Followers Do For Your Business?"


def run(app, *args):
    return app.test_cli_runner().invoke(args=["import", *args], catch_exceptions=False)


def counts(app) -> tuple[int, int, int, int]:
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Submission, Interview, Event, OutboxEmail)
        )


def seed_paragraphs() -> list[str]:
    text = SEED.read_text(encoding="utf-8")
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def only_interview(app) -> Interview:
    return db.session.scalars(select(Interview)).one()


def test_the_seed_imports_as_one_draft_with_its_note_and_sixteen_pairs(app, client, editor):
    result = run(app, "text", str(SEED), "--social", "x=@jesper_example")
    assert result.exit_code == 0, result.output
    assert "imported" in result.output and "16 pairs" in result.output
    paragraphs = seed_paragraphs()
    note = re.sub(r"^Interviewer.s Note:\s*", "", paragraphs[1])
    with app.app_context():
        interview = only_interview(app)
        submission = interview.submission
        assert submission.state == "approved"
        assert interview.title == TITLE
        assert note[:60] in interview.intro_html
        assert "Interviewer" not in interview.intro_html
        assert len(interview.items) == 16
        assert interview.items[0].question.endswith("How do you describe your business?")
        assert "What lessons have you learned" in interview.items[-1].question
        # A question that opens with a remark keeps it.
        assert any(i.question.startswith("I should say") for i in interview.items)
        assert submission.name == "Jesper"
        assert submission.business == "JEC International"
        assert submission.socials == {"x": "https://x.com/jesper_example"}
        everything = " ".join(
            [interview.intro_html] + [i.question + i.answer_html for i in interview.items]
        )
        for footer in paragraphs[-3:]:  # the blog's own footer lines
            assert footer[:40] not in everything
        assert "Tweets4SmallBiz" not in everything and "RSS" not in everything
        assert "Follow Jesper" not in everything
        # Nobody is emailed: the person never applied here.
        assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0
        assert interview.published_at is None
    login(client)
    queue = client.get("/editor/?state=approved").get_data(as_text=True)
    assert "Jesper" in queue and "JEC International" in queue
    page = client.get(f"/editor/submissions/{submission.id}").get_data(as_text=True)
    assert "Imported from 000_c48f283345a7efe8.txt" in page
    assert "How do you describe your business?" in page


def test_a_follow_line_without_an_address_is_reported_not_invented(app):
    result = run(app, "text", str(SEED))
    assert result.exit_code == 0, result.output
    assert "“Follow Jesper on Twitter” gives no address" in result.output
    assert "--social x=@handle" in result.output
    with app.app_context():
        assert only_interview(app).submission.socials == {}


def test_importing_the_same_file_twice_changes_nothing(app):
    assert run(app, "text", str(SEED)).exit_code == 0
    before = counts(app)
    again = run(app, "text", str(SEED))
    assert again.exit_code == 0
    assert "already here" in again.output
    assert counts(app) == before


def test_a_dry_run_prints_what_would_be_made_and_writes_nothing(app):
    before = counts(app)
    result = run(app, "text", str(SEED), "--dry-run")
    assert result.exit_code == 0
    assert re.search(rf"^would be imported +{re.escape(TITLE)} · 16 pairs$", result.output, re.M)
    assert "Dry run: nothing was written." in result.output
    assert counts(app) == before


def test_published_at_its_old_date_it_is_on_the_site_in_search_feed_and_sitemap(app, client):
    result = run(
        app, "text", str(SEED), "--publish", "--published-at", "2011-09-01", "--tag", "Twitter"
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        interview = only_interview(app)
        slug = interview.slug
        assert interview.submission.state == "published"
        assert interview.published_at == datetime(2011, 9, 1)
        assert [t.name for t in interview.tags] == ["Twitter"]
    page = client.get(f"/interviews/{slug}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "How do you describe your business?" in html
    assert "Jesper, JEC International" in html
    assert "2011" in html
    assert slug in client.get("/").get_data(as_text=True)
    assert slug in client.get("/search?q=earthquake").get_data(as_text=True)
    assert TITLE.replace(",", "") in client.get("/feed.atom").get_data(as_text=True).replace(
        ",", ""
    )
    sitemap = client.get("/sitemap.xml").get_data(as_text=True)
    parts = re.findall(r"<loc>[^<]*(/sitemap-[^<]+)</loc>", sitemap)
    assert any(slug in client.get(part).get_data(as_text=True) for part in parts) or slug in sitemap
    assert slug in client.get("/tags/twitter").get_data(as_text=True)


def test_publish_without_the_old_date_is_refused(app):
    result = app.test_cli_runner().invoke(args=["import", "text", str(SEED), "--publish"])
    assert result.exit_code != 0
    assert "--published-at" in result.output
    assert counts(app) == (0, 0, 0, 0)


def test_name_and_business_options_win_and_describe_one_file_only(app, tmp_path):
    result = run(app, "text", str(SEED), "--name", "Jesper Example", "--business", "JEC Intl")
    assert result.exit_code == 0
    with app.app_context():
        submission = only_interview(app).submission
        assert (submission.name, submission.business) == ("Jesper Example", "JEC Intl")
    other = tmp_path / "other.txt"
    other.write_text("Another?\n\nYes?\n\nNo.\n", encoding="utf-8")
    refused = app.test_cli_runner().invoke(
        args=["import", "text", str(SEED), str(other), "--name", "Somebody"]
    )
    assert refused.exit_code != 0 and "one at a time" in refused.output


# --- hostile and broken text files ------------------------------------------


def test_a_file_that_is_not_text_stops_the_whole_run_before_anything_is_written(app, tmp_path):
    picture = tmp_path / "photo.txt"
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(out, "PNG")
    picture.write_bytes(out.getvalue())
    result = app.test_cli_runner().invoke(args=["import", "text", str(SEED), str(picture)])
    assert result.exit_code == 1
    assert "photo.txt is not a text file" in result.output
    assert "Nothing was imported." in result.output
    assert counts(app) == (0, 0, 0, 0)


def test_a_text_with_no_question_is_skipped_with_its_reason(app, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("Shopping list\n\nEggs, flour and a lemon.\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import", "text", str(notes)])
    assert result.exit_code == 1
    assert "skipped" in result.output and "no question found" in result.output
    assert counts(app) == (0, 0, 0, 0)


def test_a_text_in_windows_1252_is_read(app, tmp_path):
    old = tmp_path / "old.txt"
    old.write_bytes(
        "Caf\u00e9 talk\n\nHello Zo\u00eb, welcome. What do you sell?\n\nCoffee \u2013 "
        "and cake.\n".encode("cp1252")
    )
    assert run(app, "text", str(old)).exit_code == 0
    with app.app_context():
        interview = only_interview(app)
        assert interview.title == "Caf\u00e9 talk"
        assert interview.submission.name == "Zo\u00eb"
        assert "Coffee \u2013 and cake." in interview.items[0].answer_html


def test_hostile_text_comes_back_escaped(app, client, tmp_path):
    hostile = tmp_path / "hostile.txt"
    hostile.write_text(
        "<script>alert(1)</script> Title\n\nHello Mallory; what is <b>this</b>?\n\n"
        '<img src=x onerror="alert(2)"> an answer\n',
        encoding="utf-8",
    )
    assert (
        run(app, "text", str(hostile), "--publish", "--published-at", "2012-01-01").exit_code == 0
    )
    with app.app_context():
        slug = only_interview(app).slug
    html = client.get(f"/interviews/{slug}").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Title" in html
    assert "&lt;img src=x" in html


# --- WordPress ------------------------------------------------------------------


def _uploads(tmp_path) -> Path:
    folder = tmp_path / "uploads" / "2012" / "03"
    folder.mkdir(parents=True)
    Image.new("RGB", (400, 300), (150, 90, 60)).save(folder / "agnes-at-the-wheel.jpg", "JPEG")
    return tmp_path / "uploads"


def test_the_export_imports_the_categorys_interviews_and_old_addresses_redirect(
    app, client, tmp_path
):
    uploads = _uploads(tmp_path)
    result = run(
        app,
        "wordpress",
        str(FIXTURE),
        "--category",
        "interviews",
        "--uploads",
        str(uploads),
        "--publish",
    )
    assert result.exit_code == 0, result.output
    assert "We are taking a summer break" in result.output  # skipped: not in the category
    assert "not published on the old blog (draft)" in result.output
    with app.app_context():
        interviews = {i.slug: i for i in db.session.scalars(select(Interview))}
        assert set(interviews) == {"kiln-and-kettle-pottery", "locksmith-tweets", "flower-farmer"}
        pottery = interviews["kiln-and-kettle-pottery"]
        assert pottery.title == "Kiln & Kettle: pottery classes sold out from one video"
        assert pottery.published_at == datetime(2012, 3, 13, 9, 30)
        assert [t.name for t in pottery.tags] == ["Crafts", "Facebook"]
        assert pottery.photo is not None
        assert pottery.submission.name == "Agnes"
        assert pottery.submission.business == "Kiln & Kettle Studio"
        assert pottery.submission.socials == {
            "instagram": "https://www.instagram.com/kilnandkettle"
        }
        assert [i.question for i in pottery.items] == [
            "Hi Agnes, thanks for joining us. What does Kiln & Kettle do?",
            "Which network brings you students?",
            "What would you tell someone starting out?",
        ]
        assert "<ul>" in pottery.items[2].answer_html
        assert "Would you like to be featured" not in pottery.items[2].answer_html
        assert "Agnes at the wheel" not in pottery.items[0].answer_html  # the caption
        locksmith = interviews["locksmith-tweets"]
        assert [i.question for i in locksmith.items][0] == "Dev, how did the business begin?"
        assert locksmith.submission.socials == {"x": "https://twitter.com/brightkeylocks"}
        assert locksmith.intro_html.startswith("<p>Dev has kept one van")
        farmer = interviews["flower-farmer"]
        assert [i.question for i in farmer.items] == [
            "How do subscribers find you?",
            "Do you post every day?",
        ]
        assert farmer.items[1].answer_html == "<p>Twice a week, on the days we cut.</p>"
        history = " ".join(e.message for e in pottery.submission.events)
        assert "written by Rhona Keel" in history and "2012-03-13" in history
    moved = client.get("/2012/03/kiln-and-kettle-pottery/")
    assert moved.status_code == 301
    assert moved.headers["Location"].endswith("/interviews/kiln-and-kettle-pottery")
    assert client.get("/2012/05/locksmith-tweets").status_code == 301
    short = client.get("/?p=140")
    assert short.status_code == 301
    assert short.headers["Location"].endswith("/interviews/locksmith-tweets")
    assert client.get("/2012/08/summer-break/").status_code == 404
    page = client.get("/interviews/kiln-and-kettle-pottery").get_data(as_text=True)
    assert "Film your hands" in page and "Keep videos under a minute" in page


def test_an_export_imported_twice_changes_nothing(app, tmp_path):
    args = ("wordpress", str(FIXTURE), "--category", "interviews")
    assert run(app, *args).exit_code == 0
    before = counts(app)
    again = run(app, *args)
    assert again.exit_code == 0
    assert len(re.findall(r"^already here ", again.output, re.M)) == 3
    assert counts(app) == before


def test_drafts_do_not_answer_at_their_old_address_until_published(app, client):
    assert run(app, "wordpress", str(FIXTURE), "--category", "interviews").exit_code == 0
    assert client.get("/2012/03/kiln-and-kettle-pottery/").status_code == 404
    assert client.get("/?p=101").status_code == 200  # the home page, as before
    with app.app_context():
        states = set(db.session.scalars(select(Submission.state)))
    assert states == {"approved"}


def test_without_a_category_a_post_with_no_question_is_skipped(app):
    result = run(app, "wordpress", str(FIXTURE))
    assert result.exit_code == 0, result.output
    assert re.search(r"skipped\s+We are taking a summer break .*no question found", result.output)
    assert "image(s) not brought in: pass --uploads DIR" in result.output


def _export(tmp_path, body: str, name="export.xml") -> Path:
    head = FIXTURE.read_text(encoding="utf-8").split("<item>", 1)[0]
    path = tmp_path / name
    path.write_text(head + body + "\n</channel>\n</rss>\n", encoding="utf-8")
    return path


def _refused(app, path, *extra) -> str:
    result = app.test_cli_runner().invoke(args=["import", "wordpress", str(path), *extra])
    assert result.exit_code == 1, result.output
    assert counts(app) == (0, 0, 0, 0)
    return result.output


def test_an_xml_bomb_is_refused(app, tmp_path):
    bomb = tmp_path / "bomb.xml"
    entities = "".join(
        f'<!ENTITY lol{i} "{"&lol" + str(i - 1) + ";" * 1}' + f"&lol{i - 1};" * 9 + '">'
        for i in range(1, 10)
    )
    bomb.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY lol0 "lol">{entities}]>\n'
        "<rss><channel><item><title>&lol9;</title></item></channel></rss>\n",
        encoding="utf-8",
    )
    assert "refused as unsafe" in _refused(app, bomb)


def test_an_export_over_the_size_limit_is_refused_with_the_option_to_allow_it(app, tmp_path):
    big = tmp_path / "big.xml"
    with big.open("wb") as handle:
        handle.write(b'<?xml version="1.0"?>\n<rss><channel>')
        handle.truncate(50 * 1024 * 1024)
    output = _refused(app, big)
    assert "50 MB, over the 32 MB limit" in output and "--max-mb 51" in output


def test_an_export_with_no_posts_says_so(app, tmp_path):
    assert "has no posts in it" in _refused(app, _export(tmp_path, ""))


def test_a_broken_export_imports_nothing_half_way(app, tmp_path):
    whole = FIXTURE.read_text(encoding="utf-8")
    cut = tmp_path / "cut.xml"
    cut.write_text(whole[: whole.index("A locksmith")], encoding="utf-8")
    assert "is not well-formed XML (line" in _refused(app, cut)


def test_a_file_that_is_not_an_export_is_refused(app, tmp_path):
    picture = tmp_path / "photo.xml"
    Image.new("RGB", (20, 20), "red").save(picture, "PNG")
    assert "is not a WordPress export (it is not XML)" in _refused(app, picture)
    feed = tmp_path / "feed.xml"
    feed.write_text('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"/>')
    assert "This is not a WordPress export" in _refused(app, feed)


def test_broken_and_hostile_html_in_a_post_is_read_and_cleaned(app, client, tmp_path):
    post = """
    <item><title>Broken markup</title><link>https://oldblog.example/broken/</link>
    <guid>https://oldblog.example/?p=7</guid><wp:post_name>broken</wp:post_name>
    <wp:post_date_gmt>2013-01-02 10:00:00</wp:post_date_gmt><wp:status>publish</wp:status>
    <wp:post_type>post</wp:post_type>
    <content:encoded><![CDATA[<p>We spoke with Ola Broken.</div></span>
<p><b>What do you make?</p>
<p>Tables <i>and <b>chairs</p><script>alert(1)</script>
<p><strong>Any <a href="javascript:alert(2)">links</a>?</strong></p>
<p onclick="alert(3)">Only this one: <a href="https://tables.example/">tables</a>.</p>]]></content:encoded>
    </item>"""
    result = run(app, "wordpress", str(_export(tmp_path, post)), "--publish")
    assert result.exit_code == 0, result.output
    assert "2 pairs" in result.output
    html = client.get("/interviews/broken").get_data(as_text=True)
    assert "Tables" in html and "chairs" in html
    assert "alert(" not in html and "onclick" not in html and "javascript:" not in html
    assert '<a href="https://tables.example/" rel="nofollow ugc noopener">tables</a>' in html


def test_a_failure_half_way_leaves_nothing_behind(app, tmp_path, monkeypatch):
    uploads = _uploads(tmp_path)
    real = search.index
    calls = []

    def index(interview):
        calls.append(interview)
        if len(calls) == 3:
            raise RuntimeError("the disk filled up")
        real(interview)

    monkeypatch.setattr(search, "index", index)
    with pytest.raises(RuntimeError):
        run(app, "wordpress", str(FIXTURE), "--category", "interviews", "--uploads", str(uploads))
    assert counts(app) == (0, 0, 0, 0)
    assert stored_names(app) == set()


def test_later_moves_on_an_imported_interview_email_nobody_at_an_empty_address(app, client):
    from portal import operations
    from portal.workflow import Role

    assert run(app, "text", str(SEED), "--publish", "--published-at", "2011-09-01").exit_code == 0
    with app.app_context():
        submission = only_interview(app).submission
        operations.unpublish(submission, operations.Actor(Role.ADMIN), message="An old one.")
        addresses = list(db.session.scalars(select(OutboxEmail.to_address)))
    assert "" not in addresses


def test_a_long_import_leaves_the_share_cards_past_the_first_to_the_mail_worker(app, monkeypatch):
    from portal import operations, share_image

    monkeypatch.setattr(operations, "SHARE_CARDS_DRAWN", 1)
    result = run(app, "wordpress", str(FIXTURE), "--category", "interviews", "--publish")
    assert result.exit_code == 0, result.output
    assert "the mail worker draws the other 2" in result.output
    with app.app_context():
        cards = list(db.session.scalars(select(Interview.share_image)))
        assert sum(1 for c in cards if c) == 1
        assert share_image.fill_missing(5) == 2
        assert all(db.session.scalars(select(Interview.share_image)))


def test_an_imported_draft_has_no_proof_to_send_and_an_admin_publishes_it(
    app, client, editor, admin
):
    assert run(app, "text", str(SEED)).exit_code == 0
    with app.app_context():
        submission_id = only_interview(app).submission_id
        version = db.session.get(Submission, submission_id).version
    login(client)
    page = client.get(f"/editor/submissions/{submission_id}").get_data(as_text=True)
    assert "nobody here to sign off a proof" in page
    assert "Send the proof" not in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', page
    )
    refused = client.post(
        f"/editor/submissions/{submission_id}/actions/send_proof",
        data={"csrf_token": token.group(1), "version": version},
    )
    assert refused.status_code == 409
    assert "nobody could sign off a proof" in refused.get_data(as_text=True)
    from portal import operations
    from portal.workflow import Action

    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        admin_user = operations.Actor.of(db.session.get(User, admin))
        operations.perform(
            submission, Action.SKIP_SIGNOFF, admin_user, message="Published on the old blog."
        )
        operations.perform(submission, Action.PUBLISH, admin_user)
        slug = submission.interview.slug
        assert (
            db.session.scalar(
                select(func.count()).select_from(OutboxEmail).where(OutboxEmail.to_address == "")
            )
            == 0
        )
    assert client.get(f"/interviews/{slug}").status_code == 200


def test_a_footer_like_line_inside_the_interview_is_kept_and_reported(app, tmp_path):
    text = tmp_path / "middle.txt"
    text.write_text(
        "Title\n\nHello Ola; what do you do?\n\nI sell maps. Follow us on Mastodon, "
        "I tell customers.\n\nWhat next?\n\nMore maps.\n\nFollow us on Twitter.\n",
        encoding="utf-8",
    )
    result = run(app, "text", str(text))
    assert result.exit_code == 0, result.output
    assert result.output.count("an answer that looks like a footer") == 1
    with app.app_context():
        items = only_interview(app).items
        assert "Follow us on Mastodon" in items[0].answer_html
        assert "Twitter" not in items[1].answer_html  # the real footer, at the end


# --- what a tester's run of real-world shapes found ------------------------------


def _text(tmp_path, body: str, name="post.txt") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def _pairs(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(i.question, i.answer_html) for i in only_interview(app).items]


def test_posts_whose_long_addresses_share_a_beginning_are_all_imported(app, tmp_path):
    base = "https://oldblog.example/2012/03/an-interview-with-a-business-owner-from-the-north-"
    posts = "".join(
        f"""<item><title>Interview {n}</title><link>{base}{n}/</link>
        <guid isPermaLink="true">{base}{n}/</guid><wp:post_name>north-{n}</wp:post_name>
        <wp:post_date_gmt>2012-03-0{n} 10:00:00</wp:post_date_gmt><wp:status>publish</wp:status>
        <wp:post_type>post</wp:post_type>
        <content:encoded><![CDATA[<p><strong>What do you make, {n}?</strong></p><p>Soap.</p>]]></content:encoded></item>"""
        for n in (1, 2, 3)
    )
    result = run(app, "wordpress", str(_export(tmp_path, posts)))
    assert result.exit_code == 0, result.output
    assert "In all: 3 imported." in result.output
    assert counts(app)[1] == 3


def test_an_imported_draft_is_published_at_its_date_on_the_old_blog(app):
    from portal import operations
    from portal.workflow import Action, Role

    assert run(app, "wordpress", str(FIXTURE), "--category", "interviews").exit_code == 0
    admin = operations.Actor(Role.ADMIN)
    with app.app_context():
        interview = db.session.scalars(
            select(Interview).where(Interview.slug == "kiln-and-kettle-pottery")
        ).one()
        submission = interview.submission
        operations.perform(submission, Action.SKIP_SIGNOFF, admin, message="Old blog.")
        operations.perform(submission, Action.PUBLISH, admin)
        assert interview.published_at == datetime(2012, 3, 13, 9, 30)
        operations.perform(submission, Action.UNPUBLISH, admin, message="A fix.")
        operations.perform(submission, Action.PUBLISH, admin)
        assert interview.published_at == datetime(2012, 3, 13, 9, 30)


def test_answer_text_that_looks_like_a_footer_is_never_dropped(app, tmp_path):
    path = _text(
        tmp_path,
        "Footers\n\nHi Cy; what is your tip?\n\nPost every day.\n\nAnd always ask people "
        "to follow us on Facebook, it doubled our sales.\n\nWhat else do you do?\n\n"
        "We tell them to follow us on Instagram.\n\nFollow Cy on Twitter: @cy_example\n\n"
        "Become a follower of us on Twitter.\n",
    )
    result = run(app, "text", str(path))
    assert result.exit_code == 0, result.output
    pairs = _pairs(app)
    assert len(pairs) == 2
    assert "it doubled our sales" in pairs[0][1]
    assert "follow us on Instagram" in pairs[1][1]
    assert "Become a follower" not in " ".join(a for _q, a in pairs)
    assert result.output.count("looks like a footer") == 2


def test_an_answer_that_ends_with_a_question_mark_stays_an_answer(app, tmp_path):
    path = _text(
        tmp_path,
        "Rhetorical\n\nHello Mia; welcome. How did you start?\n\nI founded Bloom Box in 2011. "
        "My mum asked me one thing: why not sell online?\n\nSo I did, and guess what I learned?\n\n"
        "It worked.\n\nWhat is next?\n\nMore flowers.\n",
    )
    assert run(app, "text", str(path)).exit_code == 0
    pairs = _pairs(app)
    assert [q for q, _a in pairs] == ["Hello Mia; welcome. How did you start?", "What is next?"]
    assert "why not sell online?" in pairs[0][1] and "It worked." in pairs[0][1]


def test_questions_and_answers_marked_q_and_a_in_one_paragraph(app, tmp_path):
    path = _text(
        tmp_path,
        "Q and A\n\nQ: How did you start?\nA: I started Crumb & Co in 2010.\n\n"
        "Q: What works?\nA: Instagram.\n",
    )
    result = run(app, "text", str(path))
    assert result.exit_code == 0, result.output
    assert _pairs(app) == [
        ("How did you start?", "<p>I started Crumb &amp; Co in 2010.</p>"),
        ("What works?", "<p>Instagram.</p>"),
    ]


def test_a_question_that_starts_with_follow_up_is_a_question(app, tmp_path):
    path = _text(
        tmp_path,
        "Follow-ups\n\nHi Di; what do you sell?\n\nI run Di Designs, selling prints.\n\n"
        "Follow up on that: how much do you sell on Instagram?\n\nAbout half of it.\n\n"
        "What next?\n\nA shop.\n",
    )
    assert run(app, "text", str(path)).exit_code == 0
    assert [q for q, _a in _pairs(app)][1:] == [
        "Follow up on that: how much do you sell on Instagram?",
        "What next?",
    ]


def test_wordpress_shapes_nested_lists_entities_q_and_a_and_headings(app, tmp_path):
    post = """
    <item><title><![CDATA[Fay&#8217;s Flowers &amp; Friends]]></title>
    <link>https://oldblog.example/fays-flowers/</link><guid>https://oldblog.example/?p=9</guid>
    <wp:post_name>fays-flowers</wp:post_name><wp:post_date_gmt>2013-04-05 10:00:00</wp:post_date_gmt>
    <wp:status>publish</wp:status><wp:post_type>post</wp:post_type>
    <category domain="post_tag" nicename="diy"><![CDATA[Tools &amp; Tips]]></category>
    <content:encoded><![CDATA[<h2>About Fay</h2>
Fay sells flowers from a cart. [tweet text="Flowers!"]

<strong>Q: What do you post?</strong>
A: Photos of the cart, most days:
<ul>
<li>The first bunch
<ul><li>with the date</li><li>and a price</li></ul>
</li>
<li>Stories at lunch</li>
</ul>
It works.

<figure><img src="/wp-content/uploads/x.jpg"><figcaption>The cart in May</figcaption></figure>

<strong>Q: Why a cart?</strong>
A: Rent.]]></content:encoded></item>"""
    result = run(app, "wordpress", str(_export(tmp_path, post)))
    assert result.exit_code == 0, result.output
    with app.app_context():
        interview = only_interview(app)
        assert interview.title == "Fay’s Flowers & Friends"
        assert [t.name for t in interview.tags] == ["Tools & Tips"]
        assert "Fay sells flowers from a cart." in interview.intro_html
        assert "[tweet" not in interview.intro_html
        questions = [i.question for i in interview.items]
        assert questions == ["What do you post?", "Why a cart?"]
        first = interview.items[0].answer_html
        assert first.startswith("<p>Photos of the cart")
        assert "<ul><li>with the date</li><li>and a price</li></ul>" in first
        assert "<p></p>" not in first and "</li><br>" not in first
        assert "It works." in first
        assert "The cart in May" not in first


def test_two_imports_at_once_the_loser_is_told_plainly(app, tmp_path, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    from portal import operations

    def clash(*_args, **_kwargs):
        raise IntegrityError("INSERT", {}, Exception("duplicate key uq_imported_posts_key"))

    monkeypatch.setattr(operations, "_import_one", clash)
    result = app.test_cli_runner().invoke(args=["import", "text", str(SEED)])
    assert result.exit_code == 1
    assert "Another import wrote some of these at the same time" in result.output
    assert "Traceback" not in result.output


def test_a_broken_profile_address_is_not_a_profile(app, tmp_path):
    path = _text(
        tmp_path,
        "Eve\n\nHi Eve; what do you do?\n\nI run Eve Ltd.\n\nFollow Eve on Twitter: "
        'https://twitter.com/eve"><script>alert(1)</script>\n',
    )
    assert run(app, "text", str(path)).exit_code == 0
    with app.app_context():
        assert only_interview(app).submission.socials == {"x": "https://twitter.com/eve"}


def test_index_php_short_links_redirect_too(app, client):
    assert (
        run(app, "wordpress", str(FIXTURE), "--category", "interviews", "--publish").exit_code == 0
    )
    moved = client.get("/index.php?p=140")
    assert moved.status_code == 301
    assert moved.headers["Location"].endswith("/interviews/locksmith-tweets")


def test_an_import_stopped_by_sigterm_leaves_no_rows_and_no_files(app, tmp_path):
    """What systemd or a `kill` does to a long import: all of it rolled back,
    the photos and share cards it had written with it."""
    import signal
    import subprocess
    import sys
    import threading
    import time

    uploads = _uploads(tmp_path)
    posts = "".join(
        f"""<item><title>Shop {n}</title><link>https://oldblog.example/shop-{n}/</link>
        <guid>https://oldblog.example/?p={n}</guid><wp:post_name>shop-{n}</wp:post_name>
        <wp:post_date_gmt>2012-03-01 10:00:00</wp:post_date_gmt><wp:status>publish</wp:status>
        <wp:post_type>post</wp:post_type><content:encoded><![CDATA[
        <img src="https://oldblog.example/wp-content/uploads/2012/03/agnes-at-the-wheel.jpg">
        <p><strong>What do you sell, {n}?</strong></p><p>Soap and candles.</p>]]>
        </content:encoded></item>"""
        for n in range(1, 400)
    )
    export = _export(tmp_path, posts)
    env = dict(
        os.environ,
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        PYTHONPATH=str(Path(__file__).resolve().parents[1]),
    )
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "import", "wordpress"]
    process = subprocess.Popen(
        [*command, str(export), "--uploads", str(uploads), "--publish"],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    said: list[bytes] = []
    reader = threading.Thread(target=lambda: said.extend(process.stderr), daemon=True)
    reader.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(b"Writing" in line for line in said):
        time.sleep(0.05)  # the progress bar has begun: photos and rows are being written
    time.sleep(0.5)
    assert process.poll() is None, process.communicate()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    reader.join(timeout=10)
    process.stderr.close()
    err = b"".join(said)
    assert process.returncode != 0
    assert b"Traceback" not in err
    assert b"Stopped: nothing of this run was written." in err
    assert counts(app) == (0, 0, 0, 0)
    assert stored_names(app) == set()


def test_the_same_file_twice_in_one_run_is_imported_once(app, tmp_path):
    copy = tmp_path / "copy.txt"
    copy.write_bytes(SEED.read_bytes())
    result = run(app, "text", str(SEED), str(copy))
    assert result.exit_code == 0
    assert "(the same as one above: left out)" in result.output
    assert counts(app)[1] == 1


# --- a second tester's shapes ------------------------------------------------------


def test_a_classic_post_with_single_line_breaks_keeps_every_pair_and_profile(app, tmp_path):
    post = """
    <item><title>One break only</title><link>https://oldblog.example/one-break/</link>
    <guid>https://oldblog.example/?p=31</guid><wp:post_name>one-break</wp:post_name>
    <wp:post_date_gmt>2014-02-03 10:00:00</wp:post_date_gmt><wp:status>publish</wp:status>
    <wp:post_type>post</wp:post_type><content:encoded><![CDATA[<em>We met Lotte over tea.</em>
<strong>Lotte, what do you roast?</strong>
Coffee for three cafés.
<strong>How did Instagram help?</strong>
It found us the third café.
<strong>What is next?</strong>
A second roaster.
Follow Lotte on Instagram: @lotte_roasts
Follow Lotte on LinkedIn <a href="https://www.linkedin.com/in/lotte-roasts">here</a>]]>
    </content:encoded></item>"""
    result = run(app, "wordpress", str(_export(tmp_path, post)))
    assert result.exit_code == 0, result.output
    with app.app_context():
        interview = only_interview(app)
        assert [i.question for i in interview.items] == [
            "Lotte, what do you roast?",
            "How did Instagram help?",
            "What is next?",
        ]
        assert interview.items[1].answer_html == "<p>It found us the third café.</p>"
        assert interview.intro_html == "<p><em>We met Lotte over tea.</em></p>"
        assert interview.submission.socials == {
            "instagram": "https://www.instagram.com/lotte_roasts",
            "linkedin": "https://www.linkedin.com/in/lotte-roasts",
        }


def test_q_and_a_lines_an_answer_ending_in_a_question_stays_an_answer(app, tmp_path):
    path = _text(
        tmp_path,
        "Bees\n\nEditor's note: Ana keeps bees.\n\nQ: Ana, how did you start?\n"
        "A: My grandfather kept bees.\n\nQ: Was selling online planned?\n"
        'A: No. A customer asked "can you post it?" and I said why not?\n\n'
        "Q: What would you change?\nA: Start the newsletter sooner.\n\n"
        "Follow Ana on Instagram at https://instagram.com/ana_bees\n"
        "Follow Ana on LinkedIn: linkedin.com/in/ana-bees\n",
    )
    assert run(app, "text", str(path)).exit_code == 0
    pairs = _pairs(app)
    assert [q for q, _a in pairs] == [
        "Ana, how did you start?",
        "Was selling online planned?",
        "What would you change?",
    ]
    assert "I said why not?" in pairs[1][1]
    with app.app_context():
        assert set(only_interview(app).submission.socials) == {"instagram", "linkedin"}


def test_a_question_opening_with_the_interviewers_own_remark_is_a_question(app, tmp_path):
    path = _text(
        tmp_path,
        "Candles\n\nHi Jo. Let me start with the obvious one: what does Wick Studio do?"
        "\n\nWe pour candles.\n\nI love the name. Where does it come from?\n\n"
        "A pun on my surname.\n",
    )
    result = run(app, "text", str(path))
    assert result.exit_code == 0, result.output
    assert [q for q, _a in _pairs(app)] == [
        "Hi Jo. Let me start with the obvious one: what does Wick Studio do?",
        "I love the name. Where does it come from?",
    ]
    assert "read as a question" in result.output


@pytest.mark.parametrize(
    ("sentence", "business"),
    [
        ("I own Wick &amp; Wax. It smells nice.", "Wick & Wax"),
        ("I run Chéz Renée. It started small.", "Chéz Renée"),
        ("I founded Café Šimić in 2010.", "Café Šimić"),
    ],
)
def test_the_business_is_the_name_the_text_gives_and_no_more(app, tmp_path, sentence, business):
    post = f"""
    <item><title>Business</title><link>https://oldblog.example/b/</link>
    <guid>https://oldblog.example/?p=41</guid><wp:post_name>b</wp:post_name>
    <wp:post_date_gmt>2014-02-03 10:00:00</wp:post_date_gmt><wp:status>publish</wp:status>
    <wp:post_type>post</wp:post_type><content:encoded><![CDATA[
    <p><strong>Q: What do you do?</strong> {sentence}</p>]]></content:encoded></item>"""
    assert run(app, "wordpress", str(_export(tmp_path, post))).exit_code == 0
    with app.app_context():
        interview = only_interview(app)
        assert interview.submission.business == business
        assert "&amp;" not in interview.submission.latest_revision.answers[0].body


def test_what_the_import_doubted_is_noted_on_the_submission(app, client, editor):
    assert run(app, "text", str(SEED)).exit_code == 0
    with app.app_context():
        submission_id = only_interview(app).submission_id
    login(client)
    page = client.get(f"/editor/submissions/{submission_id}").get_data(as_text=True)
    assert "What the import was unsure of" in page
    assert "gives no address" in page
    assert "no date" in page


def test_a_table_keeps_its_cells_apart(app, tmp_path):
    post = """
    <item><title>Prices</title><link>https://oldblog.example/p/</link>
    <guid>https://oldblog.example/?p=51</guid><wp:post_name>p</wp:post_name>
    <wp:post_date_gmt>2014-02-03 10:00:00</wp:post_date_gmt><wp:status>publish</wp:status>
    <wp:post_type>post</wp:post_type><content:encoded><![CDATA[
    <p><strong>What do you charge?</strong></p>
    <table><tr><th>Year</th><th>Sales</th></tr><tr><td>2014</td><td>1,200</td></tr></table>]]>
    </content:encoded></item>"""
    assert run(app, "wordpress", str(_export(tmp_path, post))).exit_code == 0
    answer = _pairs(app)[0][1]
    assert "YearSales" not in answer and "20141,200" not in answer
    assert "2014" in answer and "1,200" in answer


def test_smaller_shapes_slugs_numbering_and_feed_addresses(app, client, tmp_path):
    post = """
    <item><title>Café</title><link>https://oldblog.example/2014/02/caf%c3%a9-d%c3%a9j%c3%a0-vu/</link>
    <guid>https://oldblog.example/?p=61</guid><wp:post_name>caf%c3%a9-d%c3%a9j%c3%a0-vu</wp:post_name>
    <wp:post_date_gmt>2014-02-03 10:00:00</wp:post_date_gmt><wp:status>publish</wp:status>
    <wp:post_type>post</wp:post_type><content:encoded><![CDATA[
    <p><strong>1. What do you serve?</strong></p><p>Coffee.</p>]]></content:encoded></item>"""
    assert run(app, "wordpress", str(_export(tmp_path, post)), "--publish").exit_code == 0
    with app.app_context():
        interview = only_interview(app)
        assert interview.slug == "cafe-deja-vu"
        assert interview.items[0].question == "What do you serve?"
    for old in ("/2014/02/café-déjà-vu/feed/", "/2014/02/caf%C3%A9-d%C3%A9j%C3%A0-vu/amp/"):
        moved = client.get(old)
        assert moved.status_code == 301, old
        assert moved.headers["Location"].endswith("/interviews/cafe-deja-vu")


def test_a_transcript_with_speakers_in_capitals(app, tmp_path):
    path = _text(
        tmp_path,
        "Barbers\n\nINTERVIEWER: Joe, how did the shop start?\n\nJOE: I bought the chairs at "
        "an auction. Why wouldn't I?\n\nINTERVIEWER: Do you use social media?\n\nJOE: Facebook.\n",
    )
    assert run(app, "text", str(path)).exit_code == 0
    assert _pairs(app) == [
        (
            "Joe, how did the shop start?",
            "<p>I bought the chairs at an auction. Why wouldn&#39;t I?</p>",
        ),
        ("Do you use social media?", "<p>Facebook.</p>"),
    ]
