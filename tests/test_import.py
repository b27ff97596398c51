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
from tests.conftest import login

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
    photos = Path(app.instance_path) / "photos"
    assert not photos.exists() or os.listdir(photos) == []


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
