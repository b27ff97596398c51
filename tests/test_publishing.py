"""Readers' pages: listings, the interview, the feed, the sitemap, caching, and a
fixed number of queries whatever the amount of data."""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from datetime import datetime, timedelta

import feedparser
import pytest
from sqlalchemy import event, select, text

from portal import caching, interviews, operations
from portal.clock import frozen, utcnow
from portal.extensions import db
from portal.models import Interview, SiteState
from portal.sanitize import strip_tags
from portal.workflow import Action, State
from tests.conftest import login
from tests.factories import actor_for, submission_in


def publish_some(app, n: int, tags=("Retail",)) -> list[str]:
    slugs = []
    with app.app_context():
        for i in range(n):

            def draft(interview, i=i):
                interview.tags = interviews.tags_from(list(tags))
                interview.intro_html = f"<p>Intro {i} with <em>style</em>.</p>"

            s = submission_in(State.READY, business=f"Shop {i} <b>&</b>", draft=draft)
            with frozen(utcnow() - timedelta(hours=n - i)):
                operations.perform(s, Action.PUBLISH, actor_for(Action.PUBLISH))
            slugs.append(s.interview.slug)
    return slugs


@contextmanager
def counting(app):
    statements = []
    with app.app_context():
        engine = db.engine

    def count(_conn, _cursor, statement, parameters, *_rest):
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_home_cards_and_the_interview_page(app, client):
    slugs = publish_some(app, 3)
    home = client.get("/").get_data(as_text=True)
    assert home.count('class="card"') == 3
    assert "Shop 2 &lt;b&gt;&amp;&lt;/b&gt;" in home and "Intro 2 with style." in home
    assert "Apply to be featured" in home
    page = client.get(f"/interviews/{slugs[0]}").get_data(as_text=True)
    assert "More interviews like this" in page  # related, by shared tag
    assert f'<link rel="canonical" href="http://portal.test/interviews/{slugs[0]}">' in page
    assert '<meta property="og:title"' in page and 'name="twitter:card"' in page
    data = json.loads(
        re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1)
    )
    assert data["@type"] == "Article" and data["url"].endswith(slugs[0])
    assert "<b>" not in re.search(
        r'<script type="application/ld\+json">(.*?)</script>', page, re.S
    ).group(1)


def test_cards_and_related_interviews_show_only_live_ones_each_with_its_own_tags(app, client):
    """The listings and the interview page load their own columns (not the
    models): each card keeps its own tags in name order and its excerpt (the
    note, else the first answer); related interviews share a tag, are live,
    and never the page itself."""
    slugs = publish_some(app, 3, tags=("Retail", "Bakery"))
    with app.app_context():

        def no_note(interview):
            interview.intro_html = ""
            interview.tags = interviews.tags_from(["Retail"])

        plain = submission_in(State.READY, business="Plain Shop", draft=no_note)
        operations.perform(plain, Action.PUBLISH, actor_for(Action.PUBLISH))
        first_answer = strip_tags(plain.interview.items[0].answer_html)[:60]
        plain_slug = plain.interview.slug
        later = submission_in(State.READY, business="Tomorrow's Shop", draft=no_note)
        later_slug = later.interview.slug
        operations.publish(later, actor_for(Action.PUBLISH), when=utcnow() + timedelta(days=1))
        other = submission_in(State.READY, business="Other Tag Shop")
        other.interview.tags = interviews.tags_from(["Florist"])
        db.session.commit()
        operations.perform(other, Action.PUBLISH, actor_for(Action.PUBLISH))
    home = client.get("/").get_data(as_text=True)
    cards = home.split('<li class="card">')[1:]
    assert len(cards) == 5 and "Tomorrow&#39;s Shop" not in home
    by_business = {re.search(r"Shop \d|Plain Shop|Other Tag Shop", c).group(0): c for c in cards}
    assert re.findall(r'href="/tags/([a-z]+)"', by_business["Shop 1"]) == ["bakery", "retail"]
    assert re.findall(r'href="/tags/([a-z]+)"', by_business["Plain Shop"]) == ["retail"]
    assert re.findall(r'href="/tags/([a-z]+)"', by_business["Other Tag Shop"]) == ["florist"]
    assert first_answer in by_business["Plain Shop"]
    assert "Intro 1 with style." in by_business["Shop 1"]
    page = client.get(f"/interviews/{slugs[0]}").get_data(as_text=True)
    related = page.split('<section class="related">')[1]
    shown = re.findall(r'href="/interviews/([^"]+)"', related)
    assert shown == [plain_slug, slugs[2], slugs[1]]  # newest first, three at most
    assert slugs[0] not in shown and later_slug not in shown
    tag_page = client.get("/tags/bakery").get_data(as_text=True)
    assert tag_page.count('class="card"') == 3 and "Plain Shop" not in tag_page


def test_tags_read_in_alphabetical_order_whatever_their_case(app, client):
    [slug] = publish_some(app, 1, tags=("Repairs", "apple", "Banana"))
    expected = ["apple", "banana", "repairs"]
    for path in ("/", f"/interviews/{slug}", "/tags/apple"):
        page = client.get(path).get_data(as_text=True)
        shown = re.findall(r'href="/tags/([a-z]+)"', page)
        assert shown[:3] == expected, (path, shown)
    with app.app_context():
        interview = db.session.scalar(select(Interview).where(Interview.slug == slug))
        assert [t.name for t in interview.tags] == ["apple", "Banana", "Repairs"]


def test_a_publication_date_is_the_sites_day_not_utcs(app, client):
    """Published at 23:30 UTC on 1 June, which is 00:30 on 2 June in London
    (the site's zone): readers see 2 June; the machine-readable time stays UTC."""
    with app.app_context():
        s = submission_in(State.READY)
        with frozen(datetime(2027, 6, 1, 23, 30)):
            operations.perform(s, Action.PUBLISH, actor_for(Action.PUBLISH))
        slug = s.interview.slug
    with frozen(datetime(2027, 6, 2, 9, 0)):
        for path in ("/", f"/interviews/{slug}"):
            page = client.get(path).get_data(as_text=True)
            assert '<time datetime="2027-06-01T23:30:00Z">2 June 2027</time>' in page, path


def test_feed_is_valid_atom_with_full_content(app, client):
    publish_some(app, 2)
    response = client.get("/feed.atom")
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.get_data())
    assert not parsed.bozo, parsed.bozo_exception
    assert len(parsed.entries) == 2
    entry = parsed.entries[0]
    assert entry.link.startswith("http://portal.test/interviews/")
    assert "<em>style</em>" in entry.content[0].value
    assert "What does your business do" in entry.content[0].value


def test_a_feed_per_tag_with_entry_ids_that_survive_a_new_address(app, client):
    retail = publish_some(app, 2, tags=("Retail",))
    [bakery] = publish_some(app, 1, tags=("Bakery",))
    tag_page = client.get("/tags/retail").get_data(as_text=True)
    assert '<link rel="alternate" type="application/atom+xml"' in tag_page
    assert 'href="/tags/retail/feed.atom"' in tag_page
    parsed = feedparser.parse(client.get("/tags/retail/feed.atom").get_data())
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.feed.title.endswith(": Retail")
    assert sorted(e.link.rsplit("/", 1)[1] for e in parsed.entries) == sorted(retail)
    assert bakery not in str(parsed.entries)
    assert client.get("/tags/no-such-tag/feed.atom").status_code == 404
    entry = next(e for e in parsed.entries if e.link.endswith(retail[0]))
    assert entry.id.startswith("tag:portal.test,") and ":interview-" in entry.id
    with app.app_context():  # an editor gives it a new address
        moved = db.session.scalar(select(Interview).where(Interview.slug == retail[0]))
        moved.slug = "a-new-address"
        db.session.commit()
    with app.app_context():  # the interview's photo goes into its entry
        db.session.scalar(select(Interview).where(Interview.slug == bakery)).photo = (
            "a" * 32 + ".jpg"
        )
        db.session.commit()
    again = feedparser.parse(client.get("/feed.atom").get_data())  # not read before: not stored
    renamed = next(e for e in again.entries if e.link.endswith("a-new-address"))
    assert renamed.id == entry.id
    pictured = next(e for e in again.entries if e.link.endswith(bakery))
    assert f'src="http://portal.test/photos/{"a" * 32}.jpg"' in pictured.content[0].value


def test_sitemap_and_robots(app, client):
    slugs = publish_some(app, 2)
    sitemap = client.get("/sitemap.xml").get_data(as_text=True)
    for slug in slugs:
        assert f"<loc>http://portal.test/interviews/{slug}</loc>" in sitemap
    assert "<loc>http://portal.test/tags/retail</loc>" in sitemap
    robots = client.get("/robots.txt").get_data(as_text=True)
    assert "Disallow: /editor/" in robots and "Sitemap: http://portal.test/sitemap.xml" in robots


def test_a_large_sitemap_becomes_an_index_of_parts(app, client, monkeypatch):
    from portal.publishing import views

    monkeypatch.setattr(views, "SITEMAP_SIZE", 5)
    slugs = publish_some(app, 12)
    index = client.get("/sitemap.xml").get_data(as_text=True)
    assert index.startswith("<?xml") and "<sitemapindex" in index
    parts = re.findall(r"<loc>http://portal.test(/sitemap-[^<]+)</loc>", index)
    assert parts[0] == "/sitemap-pages.xml" and len(parts) == 4  # ids 1-4, 5-9, 10-12
    listed = []
    for part in parts[1:]:
        body = client.get(part).get_data(as_text=True)
        listed += re.findall(r"<loc>http://portal.test/interviews/([^<]+)</loc>", body)
    assert sorted(listed) == sorted(slugs)
    pages = client.get("/sitemap-pages.xml").get_data(as_text=True)
    assert "<loc>http://portal.test/</loc>" in pages and "/tags/retail" in pages
    assert client.get("/sitemap-99.xml").status_code == 404


def test_conditional_get_gets_304_until_something_changes(app, client):
    slugs = publish_some(app, 2)
    for path in ("/", f"/interviews/{slugs[0]}", "/tags/retail", "/feed.atom", "/sitemap.xml"):
        first = client.get(path)
        assert first.status_code == 200
        assert first.headers["ETag"] and first.headers["Last-Modified"]
        assert "public" in first.headers["Cache-Control"]
        again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304, path
        assert again.get_data() == b""
    etag = client.get(f"/interviews/{slugs[0]}").headers["ETag"]
    with app.app_context():
        interview = db.session.scalar(select(Interview).where(Interview.slug == slugs[0]))
        interview.title = "A new title"
        db.session.commit()
    fresh = client.get(f"/interviews/{slugs[0]}", headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and "A new title" in fresh.get_data(as_text=True)


def test_a_scheduled_interview_turns_cached_listings_stale_when_it_goes_live(app, client):
    publish_some(app, 1)
    later = utcnow() + timedelta(days=1)
    with app.app_context():
        s = submission_in(State.READY, business="Tomorrow Teas")
        operations.perform(s, Action.PUBLISH, actor_for(Action.PUBLISH), when=later)
    first = client.get("/")
    assert "Tomorrow Teas" not in first.get_data(as_text=True)
    with frozen(later + timedelta(minutes=1)):
        again = client.get("/", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and "Tomorrow Teas" in again.get_data(as_text=True)


def test_public_pages_run_a_fixed_number_of_queries(app, client):
    slugs = publish_some(app, 3)
    paths = [
        "/",
        f"/interviews/{slugs[0]}",
        "/tags/retail",
        "/feed.atom",
        "/sitemap.xml",
        "/search?q=style",
    ]
    few = {}
    for path in paths:
        with counting(app) as statements:
            assert client.get(path).status_code == 200
        few[path] = len(statements)
    more = publish_some(app, 12)
    for path in paths:
        path_now = path
        with counting(app) as statements:
            assert client.get(path_now).status_code == 200
        assert len(statements) == few[path], (path, few[path], len(statements))
    assert more


def test_not_found_is_the_sites_page_with_somewhere_to_go(app, client):
    slugs = publish_some(app, 2, tags=("Retail", "Bakery"))
    response = client.get("/interviews/nothing-here")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Social Owners" in page and 'class="skip-link"' in page
    assert "We couldn't find that page" in page and 'name="robots" content="noindex"' in page
    assert 'role="search"' in page and 'action="/search"' in page
    latest = page.split('id="latest-interviews"')[1]
    assert re.findall(r'<h3><a href="/interviews/([^"]+)"', latest) == slugs[::-1]
    assert 'href="/tags/bakery"' in page and 'href="/tags/retail"' in page
    with app.app_context():
        assert client.get("/tags/no-such-tag").status_code == 404
        gone = db.session.scalar(select(Interview).where(Interview.slug == slugs[0]))
        operations.perform(
            gone.submission, Action.UNPUBLISH, actor_for(Action.UNPUBLISH), message="Taken down."
        )
    latest = client.get("/nowhere").get_data(as_text=True).split('id="latest-interviews"')[1]
    assert slugs[0] not in latest and slugs[1] in latest


def test_an_empty_search_offers_the_latest_interviews_and_the_tags(app, client):
    slugs = publish_some(app, 2, tags=("Retail",))
    page = client.get("/search?q=").get_data(as_text=True)
    assert all(f'href="/interviews/{slug}"' in page for slug in slugs)
    assert 'href="/tags/retail"' in page
    nothing = client.get("/search?q=zzzyzzx").get_data(as_text=True)
    assert "No interview matches" in nothing and 'href="/tags/retail"' in nothing
    assert slugs[0] not in nothing  # no latest interviews under a search that found none


def titles(page: str) -> list[str]:
    return re.findall(r'<h2><a href="/interviews/[^"]+">([^<]+)</a></h2>', page)


def test_a_stored_page_costs_no_query_then_one_and_turns_stale_with_any_change(
    app, client, monkeypatch
):
    slugs = publish_some(app, 3)
    clock = [1000.0]
    monkeypatch.setattr(caching, "monotonic", lambda: clock[0])
    for path in ("/", f"/interviews/{slugs[0]}", "/tags/retail", "/feed.atom"):
        first = client.get(path).get_data(as_text=True)
        with counting(app) as statements:
            second = client.get(path).get_data(as_text=True)
        assert second == first and not statements, (path, statements)  # from memory
        clock[0] += 1.5  # past PAGE_CACHE_CHECK_SECONDS: look at the public state
        with counting(app) as statements:
            assert client.get(path).get_data(as_text=True) == first
        queries = [q for q, _ in statements if not q.startswith("BEGIN")]
        assert len(queries) == 1, (path, queries)  # the public state, nothing else
    with app.app_context():
        interview = db.session.scalar(select(Interview).where(Interview.slug == slugs[0]))
        interview.items[0].answer_html = "<p>Rewritten answer about ferries.</p>"
        db.session.commit()
    assert "Rewritten answer about ferries." in client.get(f"/interviews/{slugs[0]}").get_data(
        as_text=True
    )
    with app.app_context():
        s = db.session.scalar(select(Interview).where(Interview.slug == slugs[2])).submission
        operations.perform(s, Action.UNPUBLISH, actor_for(Action.UNPUBLISH), message="Paused")
    home = client.get("/").get_data(as_text=True)
    assert home.count('class="card"') == 2 and "Shop 2 " not in home
    assert client.get(f"/interviews/{slugs[2]}").status_code == 404


def test_an_editors_page_is_never_stored_nor_given_to_readers(app, client, editor):
    publish_some(app, 1)
    reader = app.test_client()
    assert "Log out" not in reader.get("/").get_data(as_text=True)
    login(client)
    mine = client.get("/")
    assert "Log out" in mine.get_data(as_text=True)
    assert "private" in mine.headers["Cache-Control"] and "Cookie" in mine.headers["Vary"]
    assert "Log out" not in reader.get("/").get_data(as_text=True)
    # The reader's ETag does not match the editor's page either.
    assert (
        client.get("/", headers={"If-None-Match": reader.get("/").headers["ETag"]}).status_code
        == 200
    )


def test_listings_page_by_keyset_without_count_or_offset(app, client):
    publish_some(app, 30)
    seen, path, pages = [], "/", 0
    while path:
        with counting(app) as statements:
            page = client.get(path).get_data(as_text=True)
        for sql, parameters in statements:
            assert "count(" not in sql.lower(), sql
            # SQLite's dialect writes "LIMIT ? OFFSET ?" for every limit: the
            # offset (the last parameter) must then be 0; others write none.
            assert "OFFSET" not in sql or list(parameters)[-1] == 0, (sql, parameters)
        seen += titles(page)
        pages += 1
        older = re.search(r'href="([^"]+)" rel="next"', page)
        path = older.group(1).replace("&amp;", "&") if older else None
    assert pages == 3 and len(seen) == 30 and len(set(seen)) == 30
    back = client.get(
        re.search(r'href="([^"]+)" rel="prev"', page).group(1).replace("&amp;", "&")
    ).get_data(as_text=True)
    assert titles(back) == seen[12:24]
    first = re.search(r'href="([^"]+)" rel="prev"', back).group(1).replace("&amp;", "&")
    assert titles(client.get(first).get_data(as_text=True)) == seen[:12]
    assert 'rel="prev"' not in client.get(first).get_data(as_text=True)  # newest page again
    tag_page = client.get("/tags/retail").get_data(as_text=True)
    assert titles(tag_page) == seen[:12] and 'rel="next"' in tag_page


def _walk(client, path: str, rel: str) -> tuple[list[str], str]:
    """Every title from `path` on, following the `rel` links; and the last page."""
    seen = []
    while path:
        page = client.get(path).get_data(as_text=True)
        seen += titles(page)
        found = re.search(rf'href="([^"]+)" rel="{rel}"', page)
        path = found.group(1).replace("&amp;", "&") if found else None
    return seen, page


def test_keyset_pages_keep_every_interview_published_on_a_whole_second(app, client):
    """Times with no fraction of a second (every imported interview's, and
    fourteen of them the same second) page like any other: each interview once,
    in order, both ways."""
    with app.app_context():
        for i in range(30):
            when = datetime(2024, 6, 1) if i < 14 else datetime(2024, 6, 1) + timedelta(days=i)

            def draft(interview, i=i):
                interview.title = f"Whole second {i:02d}"
                interview.tags = interviews.tags_from(["Paging"])

            s = submission_in(State.READY, draft=draft)
            with frozen(when):
                operations.perform(s, Action.PUBLISH, actor_for(Action.PUBLISH))
    for start in ("/", "/tags/paging"):
        older, last = _walk(client, start, "next")
        assert len(older) == 30 and len(set(older)) == 30, (start, older)
        assert older[:16] == [f"Whole second {i:02d}" for i in range(29, 13, -1)]
        first_back = re.search(r'href="([^"]+)" rel="prev"', last).group(1).replace("&amp;", "&")
        newer, _ = _walk(client, first_back, "prev")
        assert len(newer) == 24 and set(newer) <= set(older)
        assert titles(client.get(start).get_data(as_text=True)) == older[:12]


@pytest.mark.parametrize(
    "query",
    [
        "before=yesterday",
        "after=20261301T000000.000000-1",
        "before=",
        "after=1-1",
        "before=20261126T000000.000000-99999999999999999999",
        "before=%00",
    ],
)
def test_a_broken_page_address_gets_a_clear_message(app, client, query):
    publish_some(app, 1)
    response = client.get(f"/?{query}")
    assert response.status_code == 400
    assert "not one we made" in response.get_data(as_text=True)


def test_a_change_made_by_another_process_shows_within_the_check_interval(app, client, monkeypatch):
    publish_some(app, 1)
    clock = [1000.0]
    monkeypatch.setattr(caching, "monotonic", lambda: clock[0])
    assert "Shop 0 " in client.get("/").get_data(as_text=True)
    # Another worker's commit: no session event reaches this one.
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("UPDATE submissions SET business = 'Renamed Rope Co'"))
        conn.execute(
            SiteState.__table__.update().values(public_generation=SiteState.public_generation + 1)
        )
    assert "Renamed Rope Co" not in client.get("/").get_data(as_text=True)
    clock[0] += 1.01
    assert "Renamed Rope Co" in client.get("/").get_data(as_text=True)


def test_the_page_cache_forgets_the_page_used_longest_ago():
    pages = caching.PageCache(2)
    first, second, third = (caching.Page(body, "text/html") for body in (b"1", b"2", b"3"))
    pages.put(("/a",), first)
    pages.put(("/b",), second)
    assert pages.get(("/a",)) is first  # /a is now the more recently used
    pages.put(("/c",), third)
    assert (pages.get(("/a",)), pages.get(("/b",)), pages.get(("/c",))) == (first, None, third)
    assert len(pages) == 2
    off = caching.PageCache(0)
    off.put(("/a",), first)
    assert (off.get(("/a",)), len(off)) == (None, 0)


def test_applications_notes_resends_and_drafts_leave_stored_pages_in_place(
    app, client, monkeypatch
):
    """The cache empties only when readers could see a change."""
    from portal.interviews import ItemEdit
    from portal.models import Submission, User
    from portal.notifications.emails import answer_resend_requests
    from tests.factories import answers, profile, staff

    slugs = publish_some(app, 2)
    clock = [1000.0]
    monkeypatch.setattr(caching, "monotonic", lambda: clock[0])
    paths = ("/", f"/interviews/{slugs[0]}", "/tags/retail", "/feed.atom", "/sitemap.xml")
    before = {p: client.get(p).headers["ETag"] for p in paths}
    with app.app_context():
        editor = db.session.get(User, staff().id)
        drafting = submission_in(State.APPROVED)  # an interview being written
        generation = caching.read_public_state().generation
        for n in range(50):
            submission, _token = operations.apply(profile(email=f"new{n}@shop.example"), answers())
            operations.add_note(submission, editor, f"Called them back, round {n}.")
            operations.request_status_links(f"new{n}@shop.example")
        operations.perform(submission, Action.START_REVIEW, actor_for(Action.START_REVIEW))
        draft = drafting.interview
        operations.save_draft(
            drafting,
            actor_for(Action.APPROVE),
            expected_version=None,
            title="A working title",
            slug=draft.slug,
            intro_md="Not live yet.",
            tag_names=["Retail"],
            items=[
                ItemEdit(i.id, i.question, "A rewritten answer.", n)
                for n, i in enumerate(draft.items)
            ],
        )
        answer_resend_requests()  # the mail worker's job
        assert caching.read_public_state().generation == generation
        drafting_id = drafting.id
    clock[0] += 5  # well past PAGE_CACHE_CHECK_SECONDS
    after = {p: client.get(p).headers["ETag"] for p in paths}
    assert after == before
    # Any query string a page does not read is the same page.
    assert client.get("/?utm_source=x&page=9").headers["ETag"] == before["/"]
    assert client.get(f"/interviews/{slugs[0]}?ref=feed").headers["ETag"] == before[paths[1]]
    # A publication refreshes the listings within PAGE_CACHE_CHECK_SECONDS.
    with app.app_context():
        drafting = db.session.get(Submission, drafting_id)
        for action in (Action.SEND_PROOF, Action.SKIP_SIGNOFF, Action.PUBLISH):
            operations.perform(drafting, action, actor_for(action), message="By phone")
    clock[0] += 1.01
    assert "A working title" in client.get("/").get_data(as_text=True)


def test_every_public_page_describes_itself_once_for_search_and_sharing(app, client):
    slugs = publish_some(app, 1, tags=("Retail",))
    pages = {
        "/": "Business owners tell us",
        "/tags/retail": "tagged “Retail”",
        "/apply": "Run a small business",
        f"/interviews/{slugs[0]}": "Intro 0 with style.",
        "/nowhere": "Business owners tell us",
    }
    for path, said in pages.items():
        page = client.get(path).get_data(as_text=True)
        for tag in ('name="description"', 'property="og:title"', 'property="og:image"'):
            assert page.count(tag) == 1, (path, tag)
        description = re.search(r'<meta name="description" content="([^"]*)"', page).group(1)
        assert said in description, (path, description)
    home = client.get("/").get_data(as_text=True)
    image = re.search(r'<meta property="og:image" content="http://portal.test([^"]+)"', home)
    with client.get(image.group(1)) as shared:
        assert shared.status_code == 200 and shared.mimetype == "image/png"
    assert 'content="Interviews tagged “Retail”"' in client.get("/tags/retail").get_data(
        as_text=True
    )


def test_an_interview_with_no_name_business_or_place_shows_no_empty_byline(app, client):
    with app.app_context():
        s = submission_in(State.READY, name="", business="", location="", industry="")
        operations.perform(s, Action.PUBLISH, actor_for(Action.PUBLISH))
        slug = s.interview.slug
    for path in ("/", f"/interviews/{slug}"):
        page = client.get(path).get_data(as_text=True)
        assert '<p class="byline"></p>' not in page and 'class="byline">\n' not in page, path
    page = client.get(f"/interviews/{slug}").get_data(as_text=True)
    data = json.loads(
        re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1)
    )
    assert "about" not in data and None not in data.values() and "" not in data.values()
    past = client.get("/?before=20000101T000000.000000-1").get_data(as_text=True)
    assert "No more interviews this way" in past and 'href="/">Back to the newest' in past


def test_the_byline_names_the_interviewer(app, client):
    with app.app_context():
        slug = submission_in(State.PUBLISHED).interview.slug
    page = client.get(f"/interviews/{slug}").get_data(as_text=True)
    assert "Interview by Factory editor" in page  # the editor who took up the application
    assert "min read" in page


def test_the_interviewer_stays_theirs_when_the_application_changes_hands(app, client):
    from portal.models import User

    with app.app_context():
        s = submission_in(State.PUBLISHED)
        other = User(email="lee@portal.test", name="Lee Other", role="editor")
        other.set_password("another password")
        db.session.add(other)
        db.session.commit()
        operations.assign(s, other, actor_for(Action.PUBLISH).user)
        db.session.commit()
        slug = s.interview.slug
    page = client.get(f"/interviews/{slug}").get_data(as_text=True)
    assert "Interview by Factory editor" in page and "Lee Other" not in page
