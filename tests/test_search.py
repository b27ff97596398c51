"""Full-text search: ranked, highlighted, only what is public, and every hostile
query gets a page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal import operations
from portal.clock import utcnow
from portal.extensions import db
from portal.workflow import Action, State
from tests.factories import actor_for, submission_in


def publish(app, business: str, intro: str, when=None) -> str:
    with app.app_context():
        s = submission_in(
            State.READY,
            business=business,
            draft=lambda interview: setattr(interview, "intro_html", f"<p>{intro}</p>"),
        )
        operations.perform(s, Action.PUBLISH, actor_for(Action.PUBLISH), when=when)
        return s.interview.slug


def test_finds_ranks_and_highlights(app, client):
    publish(app, "Lighthouse Pottery", "Glazes inspired by the harbour at dusk.")
    publish(app, "Fig & Fern", "A florist who posts one <em>harbour</em> photo a week.")
    publish(app, "Quiet Books", "A bookshop with no boats in sight.")
    page = client.get("/search?q=harbour").get_data(as_text=True)
    assert "Lighthouse Pottery" in page and "Fig &amp; Fern" in page
    assert "Quiet Books" not in page
    assert "<mark>harbour</mark>" in page
    page = client.get("/search?q=Lighthouse").get_data(as_text=True)
    assert page.index("Lighthouse Pottery") < page.find("Fig &amp; Fern") or "Fig" not in page


def test_only_public_interviews_are_found(app, client):
    publish(app, "Tomorrow Teas", "Smoky lapsang blends.", when=utcnow() + timedelta(days=1))
    with app.app_context():
        s = submission_in(State.APPROVED, business="Draft Diner")
        s.interview.intro_html = "<p>Smoky breakfasts.</p>"
        db.session.commit()
    assert "Tomorrow Teas" not in client.get("/search?q=smoky").get_data(as_text=True)
    assert "Draft Diner" not in client.get("/search?q=smoky").get_data(as_text=True)


@pytest.mark.parametrize(
    "q",
    [
        '"',
        '"unbalanced',
        "AND OR NOT",
        "harbour NEAR(",
        "*",
        "-",
        "()",
        "col:harbour",
        "harbour^2",
        "' OR 1=1 --",
        "<script>alert(1)</script>",
        "\x00",
        "x" * 10_000,
        "é" * 300,
        "NEAR/3 harbour",
        "{title}: harbour",
    ],
)
def test_hostile_queries_get_a_page(app, client, q):
    publish(app, "Lighthouse Pottery", "Glazes inspired by the harbour at dusk.")
    response = client.get("/search", query_string={"q": q})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page


def test_results_are_paginated(app, client):
    for n in range(14):
        publish(app, f"Kiln Studio {n}", "Stoneware mugs and stoneware bowls.")
    first = client.get("/search?q=stoneware").get_data(as_text=True)
    second = client.get("/search?q=stoneware&page=2").get_data(as_text=True)
    assert first.count("<li>\n      <h2>") == 12 and "More results" in first
    assert second.count("<li>\n      <h2>") == 2 and "Previous results" in second


def test_edits_and_unpublishing_update_the_index(app, client):
    slug = publish(app, "Lighthouse Pottery", "Glazes inspired by the harbour at dusk.")
    from portal.models import Interview, Submission

    with app.app_context():
        s = db.session.scalar(db.select(Submission).join(Interview).where(Interview.slug == slug))
        operations.perform(s, Action.UNPUBLISH, actor_for(Action.UNPUBLISH), message="Typo")
    assert "Lighthouse" not in client.get("/search?q=harbour").get_data(as_text=True)


def test_drafts_matching_a_word_never_hide_a_published_interview(app, client):
    """Only published interviews compete for the newest matches the index is
    asked for: 150 newer drafts that use the word (each saved, so indexed, as
    an editor's save does) leave the published one found."""
    from portal import search

    slug = publish(app, "Saffron Supper Club", "Saffron risotto every Friday.")
    with app.app_context():
        for n in range(150):
            draft = submission_in(State.APPROVED, business=f"Draft Kitchen {n}")
            draft.interview.intro_html = "<p>Saffron buns, not yet published.</p>"
            search.index(draft.interview)
            db.session.commit()
    page = client.get("/search?q=saffron").get_data(as_text=True)
    assert f'href="/interviews/{slug}"' in page and "Draft Kitchen" not in page


def _found(client, q: str) -> str:
    return client.get("/search", query_string={"q": q}).get_data(as_text=True)


def test_words_are_found_by_their_stem_on_both_databases(app, client):
    publish(app, "Chirp Bakery", "We tweeted every morning, and our tweets sold the buns.")
    page = _found(client, "tweet")
    assert "Chirp Bakery" in page
    assert "<mark>tweet" in page
    assert "Chirp Bakery" in _found(client, "tweeting")


def test_phrases_exclusions_and_or(app, client):
    publish(app, "Quay Kayaks", "First customers found us on Instagram, never on Facebook.")
    publish(app, "Moor Knits", "Our customers came first from Facebook groups.")
    publish(app, "Loft Lamps", "Lamps for lofts, sold at markets.")
    phrase = _found(client, '"first customers"')
    assert "Quay Kayaks" in phrase and "Moor Knits" not in phrase
    unquoted = _found(client, "first customers")
    assert "Quay Kayaks" in unquoted and "Moor Knits" in unquoted
    excluded = _found(client, "customers -instagram")
    assert "Moor Knits" in excluded and "Quay Kayaks" not in excluded
    excluded_phrase = _found(client, 'customers -"facebook groups"')
    assert "Quay Kayaks" in excluded_phrase and "Moor Knits" not in excluded_phrase
    either = _found(client, "kayaks OR lamps")
    assert "Quay Kayaks" in either and "Loft Lamps" in either and "Moor Knits" not in either
    nothing = _found(client, "-facebook")
    assert "Quay Kayaks" not in nothing and "Loft Lamps" not in nothing


def test_a_misspelt_word_gets_a_did_you_mean_that_finds_something(app, client):
    publish(app, "Lighthouse Pottery", "Glazes inspired by the harbour at dusk.")
    publish(app, "Fig & Fern", "A florist who sells sourdough on Sundays.")
    page = client.get("/search?q=sourdugh").get_data(as_text=True)
    assert 'Did you mean <a href="/search?q=sourdough">sourdough</a>?' in page
    page = client.get("/search?q=harbuor+glazes").get_data(as_text=True)
    assert "Did you mean" in page and "harbour glazes" in page
    assert "Fig &amp; Fern" in client.get("/search?q=sourdough").get_data(as_text=True)


def test_no_suggestion_for_what_nothing_is_near_or_what_only_a_draft_says(app, client):
    publish(app, "Lighthouse Pottery", "Glazes inspired by the harbour at dusk.")
    with app.app_context():
        submission_in(
            State.APPROVED,
            business="Secret Draft",
            draft=lambda interview: setattr(interview, "intro_html", "<p>Marmalade.</p>"),
        )
    assert "Did you mean" not in client.get("/search?q=zzyzx").get_data(as_text=True)
    # The draft's words are not the vocabulary's, nor found by its suggestion.
    assert "Did you mean" not in client.get("/search?q=marmalde").get_data(as_text=True)
    # A word that is there, with one left out that finds nothing: nothing to change.
    page = client.get("/search?q=harbour+-glazes").get_data(as_text=True)
    assert "Did you mean" not in page


def test_a_word_taken_down_with_its_interview_is_not_suggested(app, client):
    slug = publish(app, "Marmalade Works", "Seville oranges, boiled slowly.")
    with app.app_context():
        from portal.models import Interview

        interview = db.session.scalar(db.select(Interview).where(Interview.slug == slug))
        operations.unpublish(interview.submission, actor_for(Action.UNPUBLISH), "Paused.")
        db.session.commit()
    # The vocabulary keeps the word, but the suggestion would find nothing.
    assert "Did you mean" not in client.get("/search?q=marmalde").get_data(as_text=True)


def test_as_the_reader_types_the_last_word_is_the_start_of_a_word(app, client):
    publish(app, "Fig & Fern", "A florist who sells sourdough on Sundays.")
    publish(app, "Lighthouse Pottery", "Glazes inspired by the harbour at dusk.")
    typing = "/search?as_you_type=1&q="
    assert "Fig &amp; Fern" in client.get(typing + "sourd").get_data(as_text=True)
    assert "Fig &amp; Fern" in client.get(typing + "florist+sund").get_data(as_text=True)
    # The same words sent with the button are whole words: nothing is "sourd".
    assert "Fig &amp; Fern" not in client.get("/search?q=sourd").get_data(as_text=True)
    # Not a prefix: two letters, a word followed by a space,
    # a phrase, a word to leave out.
    for q in ("so", "sourd+", '"sourd"', "florist+-sourd"):
        page = client.get(typing + q).get_data(as_text=True)
        assert ("Fig &amp; Fern" in page) == (q == "florist+-sourd"), q
    page = client.get(typing + "glazes+-sourd").get_data(as_text=True)
    assert "Lighthouse Pottery" in page  # what is left out stays a whole word


def test_the_search_page_updates_as_the_reader_types_from_its_own_script(app, client):
    page = client.get("/search").get_data(as_text=True)
    assert 'id="results"' in page and "/static/search.js" in page


def test_did_you_mean_never_brings_out_a_word_only_unpublished_text_uses(app, client):
    publish(app, "Fig & Fern", "A florist who sells sourdough on Sundays.")
    publish(
        app, "Secret Honeymoon Travel", "Trips for newlyweds.", when=utcnow() + timedelta(days=3)
    )  # scheduled: not live yet, though its words are learnt
    page = client.get("/search?q=honeymon+OR+sourdogh").get_data(as_text=True)
    assert "honeymoon" not in page.lower()
    assert "Did you mean" in page and "sourdough" in page  # the public word is offered


def test_erasure_takes_the_persons_own_words_out_of_did_you_mean(app, client):
    with app.app_context():
        from portal.models import SearchWord

        s = submission_in(State.PUBLISHED, name="Zebedee Quartermain", business="Kiln Works")
        operations.unpublish(s, actor_for(Action.UNPUBLISH), "Taken down, as asked.")
        operations.erase(s)
        db.session.commit()
        words = set(db.session.scalars(db.select(SearchWord.word)))
    assert "zebedee" not in words and "quartermain" not in words


def test_results_do_not_come_and_go_with_each_letter_typed(app, client):
    publish(app, "Fernwood Bike Repair", "A two-week waiting list for every bicycle.")
    typing = "/search?as_you_type=1&q="
    for q in ("wai", "wait", "waiti", "waitin", "waiting", "bicy", "bicycl", "bicycle"):
        assert "Fernwood Bike Repair" in client.get(typing + q).get_data(as_text=True), q
