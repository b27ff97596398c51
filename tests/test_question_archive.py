"""The archive by question: every published answer to one question, side by
side; each answer's place in its interview; search, feed and sitemap."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import feedparser
from sqlalchemy import update

from portal import operations, questionnaire
from portal.clock import frozen, utcnow
from portal.extensions import db
from portal.models import InterviewItem, Question, Submission
from portal.workflow import Action, State
from tests.factories import actor_for, submission_in
from tests.test_publishing import counting


def _publish(app, n: int, **profile) -> list[tuple[str, int]]:
    """n interviews, oldest first: (slug, submission id)."""
    made = []
    with app.app_context():
        for i in range(n):
            s = submission_in(State.READY, business=f"Harbour Shop {i}", **profile)
            with frozen(utcnow() - timedelta(hours=n - i)):
                operations.perform(s, Action.PUBLISH, actor_for(Action.PUBLISH))
            made.append((s.interview.slug, s.id))
    return made


def _first_question(app) -> Question:
    with app.app_context():
        return db.session.scalars(Question.active_query()).first()


def _names(page: str) -> list[str]:
    return re.findall(r'<a href="/interviews/[^"#]+"><strong>([^<]+)</strong></a>', page)


def test_every_answer_to_a_question_newest_first_with_its_place(app, client):
    made = _publish(app, 3)
    first = _first_question(app)
    index = client.get("/questions/").get_data(as_text=True)
    assert f'href="/questions/{first.slug}"' in index and "3 answers" in index
    page = client.get(f"/questions/{first.slug}").get_data(as_text=True)
    assert f"<h1>{html.escape(first.text)}</h1>" in page
    with app.app_context():
        names = [db.session.get(Submission, sid).name for _slug, sid in made]
    assert _names(page) == names[::-1]  # newest first
    assert "Harbour Shop 2" in page and "Retail" in page
    newest = made[-1][0]
    assert f'href="/interviews/{newest}#q-{first.slug}"' in page
    # The interview page: the answer's anchor, and the way back to the others.
    interview = client.get(f"/interviews/{newest}").get_data(as_text=True)
    assert f'<dt id="q-{first.slug}">' in interview
    assert (
        f'href="/questions/{first.slug}" aria-describedby="q-{first.slug}">How others' in interview
    )
    assert f'href="#q-{first.slug}" aria-describedby="q-{first.slug}">Link to this' in interview
    assert client.get("/questions/no-such-question").status_code == 404


def test_filters_and_pages_of_a_question(app, client):
    made = _publish(app, 14)
    first = _first_question(app)
    with app.app_context():
        db.session.execute(
            update(Submission).where(Submission.id == made[5][1]).values(industry="Food & drink")
        )
        db.session.commit()
        food = db.session.get(Submission, made[5][1]).name
    only = client.get(f"/questions/{first.slug}?industry=Food+%26+drink").get_data(as_text=True)
    assert _names(only) == [food]
    none = client.get(f"/questions/{first.slug}?industry=Education")  # none of them
    assert none.status_code == 200 and "No published answers with these filters" in html.unescape(
        none.get_data(as_text=True)
    )
    page_one = client.get(f"/questions/{first.slug}").get_data(as_text=True)
    assert len(_names(page_one)) == 12
    older = html.unescape(re.search(r'href="([^"]+)" rel="next"', page_one).group(1))
    page_two = client.get(older).get_data(as_text=True)
    assert len(_names(page_two)) == 2 and not set(_names(page_two)) & set(_names(page_one))


def test_a_question_page_costs_the_same_queries_whatever_the_archive(app, client):
    first = _first_question(app)

    def cost() -> int:
        with app.app_context():
            db.session.execute(update(Question).values(text=Question.text))  # fresh generation
            db.session.commit()
        with counting(app) as statements:
            assert client.get(f"/questions/{first.slug}").status_code == 200
        return len([s for s, _ in statements if not s.startswith(("BEGIN", "COMMIT"))])

    _publish(app, 2)
    few = cost()
    _publish(app, 12)
    assert cost() == few


def test_reworded_and_retired_questions_keep_their_answers_and_address(app, client):
    _publish(app, 2)
    first = _first_question(app)
    with app.app_context():
        question = db.session.get(Question, first.id)
        questionnaire.edit_question(
            question, "How would you put your business in one line?", "", True
        )
        questionnaire.retire_question(question)
        assert question.slug == first.slug
    page = html.unescape(client.get(f"/questions/{first.slug}").get_data(as_text=True))
    assert "<h1>How would you put your business in one line?</h1>" in page
    assert f"Asked as: “{first.text}”" in page and "We no longer ask this question." in page
    assert len(_names(page)) == 2


def test_a_pair_of_no_questionnaire_question_never_gathers(app, client):
    made = _publish(app, 2)
    first = _first_question(app)
    with app.app_context():
        interview_id = db.session.get(Submission, made[0][1]).interview.id
        db.session.execute(
            update(InterviewItem)
            .where(InterviewItem.interview_id == interview_id)
            .values(question_id=None)  # pairs written for this person alone
        )
        db.session.commit()
        kept = db.session.get(Submission, made[1][1]).name
    page = client.get(f"/questions/{first.slug}").get_data(as_text=True)
    assert _names(page) == [kept]
    interview = client.get(f"/interviews/{made[0][0]}").get_data(as_text=True)
    assert "How others answered this" not in interview and 'id="pair-' in interview


def test_search_within_one_questions_answers(app, client):
    made = _publish(app, 2)
    first, second = None, None
    with app.app_context():
        first, second = db.session.scalars(Question.active_query()).all()[:2]
        items = db.session.get(Submission, made[0][1]).interview.items
        for item in items:
            if item.question_id == first.id:
                item.answer_html = "<p>We sell kayaks by the harbour.</p>"
            if item.question_id == second.id:
                item.answer_html = "<p>Our lanterns glow at night.</p>"
        from portal import search

        search.index(db.session.get(Submission, made[0][1]).interview)  # as a saved edit does
        db.session.commit()
        first_slug, second_slug = first.slug, second.slug
    found = client.get(f"/search?q=kayaks&question={first_slug}").get_data(as_text=True)
    assert f'#q-{first_slug}">' in found and "<mark>kayaks</mark>" in found
    missed = client.get(f"/search?q=lanterns&question={first_slug}").get_data(as_text=True)
    assert "No answer matches" in missed
    assert "<mark>lanterns</mark>" in client.get(
        f"/search?q=lanterns&question={second_slug}"
    ).get_data(as_text=True)
    assert client.get("/search?q=x&question=nope").status_code == 404


def test_a_feed_of_new_answers_and_the_sitemap(app, client):
    made = _publish(app, 2)
    first = _first_question(app)
    feed = feedparser.parse(client.get(f"/questions/{first.slug}/feed.atom").get_data())
    assert len(feed.entries) == 2
    assert feed.entries[0].link == f"http://portal.test/interviews/{made[-1][0]}#q-{first.slug}"
    sitemap = client.get("/sitemap.xml").get_data(as_text=True)
    assert f"<loc>http://portal.test/questions/{first.slug}</loc>" in sitemap
    page = client.get(f"/questions/{first.slug}").get_data(as_text=True)
    assert '<meta property="og:title"' in page and '<meta name="description"' in page


def test_the_feed_reads_no_filter_and_a_filtered_request_changes_nothing(app, client):
    _publish(app, 3)
    first = _first_question(app)
    client.get(f"/questions/{first.slug}/feed.atom?industry=Education")
    feed = feedparser.parse(client.get(f"/questions/{first.slug}/feed.atom").get_data())
    assert len(feed.entries) == 3


def test_a_reworded_or_retired_question_shows_at_once(app, client):
    _publish(app, 1)
    first = _first_question(app)
    assert html.escape(first.text) in client.get("/questions/").get_data(as_text=True)
    with app.app_context():
        question = db.session.get(Question, first.id)
        questionnaire.edit_question(question, "What is your business, in one line?", "", True)
    index = html.unescape(client.get("/questions/").get_data(as_text=True))
    assert "What is your business, in one line?" in index and first.text not in index


def test_a_pair_the_editor_made_a_question_of_their_own_leaves_the_archive(app, client):
    from portal.interviews import ItemEdit

    with app.app_context():
        s = submission_in(State.APPROVED)
        interview = s.interview
        first, second = interview.items[0], interview.items[1]
        edits = [ItemEdit(i.id, i.question, i.answer_md, n) for n, i in enumerate(interview.items)]
        edits[0] = ItemEdit(first.id, "What is your cat called, Zoë?", first.answer_md, 0)
        edits[1] = ItemEdit(second.id, second.question.rstrip("?") + " today?", second.answer_md, 1)
        operations.save_draft(
            s,
            actor_for(Action.APPROVE),
            expected_version=None,
            title=interview.title,
            slug=interview.slug,
            intro_md=interview.intro_md,
            tag_names=[],
            items=edits,
        )
        for action in (Action.SEND_PROOF, Action.SKIP_SIGNOFF, Action.PUBLISH):
            operations.perform(s, action, actor_for(action), message="By phone")
        questions = db.session.scalars(Question.active_query()).all()
        own_slug, kept_slug = questions[0].slug, questions[1].slug
        slug = s.interview.slug
    assert client.get(f"/questions/{own_slug}").status_code == 404  # its only answer left
    kept = html.unescape(client.get(f"/questions/{kept_slug}").get_data(as_text=True))
    assert "today?”" in kept  # a light re-wording keeps its place
    page = client.get(f"/interviews/{slug}").get_data(as_text=True)
    assert page.count("How others answered this") == len(edits) - 1


def test_searching_a_questions_answers_reads_text_not_markup_and_not_accents(app, client):
    made = _publish(app, 1)
    first = _first_question(app)
    with app.app_context():
        interview = db.session.get(Submission, made[0][1]).interview
        for item in interview.items:
            if item.question_id == first.id:
                item.answer_html = '<p>Our <a href="https://x.example" rel="nofollow">café</a></p>'
        from portal import search

        search.index(interview)
        db.session.commit()
    for words in ("p", "nofollow", "href"):
        page = client.get(f"/search?q={words}&question={first.slug}").get_data(as_text=True)
        assert "No answer matches" in page, words
    found = client.get(f"/search?q=CAFÉ&question={first.slug}").get_data(as_text=True)
    assert f'#q-{first.slug}"' in found
    with app.app_context():
        dialect = db.engine.dialect.name
    if dialect == "sqlite":  # FTS5 folds accents; PostgreSQL's 'english' keeps them
        found = client.get(f"/search?q=cafe&question={first.slug}").get_data(as_text=True)
        assert f'#q-{first.slug}"' in found


def test_made_up_filters_and_questions_without_answers_are_no_pages(app, client):
    _publish(app, 1)
    first = _first_question(app)
    assert client.get(f"/questions/{first.slug}?tag=no-such-tag").status_code == 404
    assert client.get(f"/questions/{first.slug}?industry=Made+up").status_code == 404
    with app.app_context():
        fresh = questionnaire.add_question("Do you sell on TikTok Shop?", "", False)
        slug = fresh.slug
    assert client.get(f"/questions/{slug}?utm_source=x").status_code == 404
    assert client.get(f"/questions/{slug}").status_code == 404
    assert client.get(f"/questions/{slug}/feed.atom").status_code == 404
