"""The archive by question: every published answer to one question of the
questionnaire, side by side, newest first.

A pair gathers under its question through `InterviewItem.question_id` (set when
the draft was made from the applicant's answers), so a re-worded or retired
question keeps its answers under one address, each answer shows the wording
it was asked in, and a pair an editor wrote for one person alone (no question)
never appears here.
"""

from __future__ import annotations

from flask import Response, abort, render_template, request
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..caching import cached
from ..clock import utcnow
from ..extensions import db
from ..models import Interview, InterviewItem, Question, Submission
from ..submissions.forms import INDUSTRIES
from . import bp, loading
from .views import PAGING, _cards, _published

FILTERS = ("industry", "tag")
FEED_SIZE = 20


def _answering(question: Question):
    """Published interviews that answer `question`, newest first (for its feed)."""
    return _published().where(Interview.items.any(InterviewItem.question_id == question.id))


def _public_tag_names() -> list[tuple[str, str]]:
    """(slug, name) of the tags of at least one public interview, by name."""
    return [(tag.slug, tag.name) for tag in loading.live_tags()]


def _chosen_filters(tags: list[tuple[str, str]]) -> dict[str, str]:
    """The filters asked for; 404 for a value no public interview has, so that
    made-up values are no page (and never fill the page cache)."""
    chosen = {name: request.args.get(name, "") for name in FILTERS}
    if chosen["tag"] and chosen["tag"] not in {slug for slug, _name in tags}:
        abort(404)
    industry = chosen["industry"]
    if industry and industry not in INDUSTRIES:
        known = db.session.scalar(
            select(Interview.id)
            .join(Interview.submission)
            .where(Submission.industry == industry, Interview.public_filter(utcnow()))
            .limit(1)
        )
        if known is None:
            abort(404)
    return chosen


def _has_answers(question: Question) -> bool:
    first = _answering(question).with_only_columns(Interview.id).limit(1)
    return db.session.scalar(first) is not None


def _question(slug: str) -> Question:
    found = db.session.scalar(select(Question).where(Question.slug == slug))
    if found is None:
        abort(404)
    return found


def answer_to(interview: Interview, question: Question) -> InterviewItem | None:
    return next((i for i in interview.items if i.question_id == question.id), None)


@bp.route("/questions/")
def questions():
    """The questions with published answers, in the questionnaire's order."""

    def render():
        counted = (
            select(InterviewItem.question_id, func.count())
            .join(Interview, Interview.id == InterviewItem.interview_id)
            .join(Interview.submission)
            .where(InterviewItem.question_id.is_not(None), Interview.public_filter(utcnow()))
            .group_by(InterviewItem.question_id)
        )
        counts = dict(db.session.execute(counted).all())
        asked = db.session.scalars(
            select(Question)
            .where(Question.id.in_(counts))
            # Retired questions after the ones asked today, in their old order.
            .order_by(Question.retired_at.is_not(None), Question.position, Question.id)
        ).all()
        return render_template(
            "publishing/questions.html", questions=[(q, counts[q.id]) for q in asked]
        )

    return cached(render)


@bp.route("/questions/<slug>")
def question(slug: str):
    """Every published answer to one question, newest first, by keyset."""

    def render():
        found = _question(slug)
        tags = _public_tag_names()
        chosen = _chosen_filters(tags)
        tag = loading.tag(chosen["tag"]) if chosen["tag"] else None
        listing = _cards(
            question_id=found.id, industry=chosen["industry"], tag_id=tag.id if tag else None
        )
        if not listing.interviews and not _has_answers(found):
            abort(404)  # no published answer yet: not a page
        return render_template(
            "publishing/question.html",
            question=found,
            listing=listing,
            answers=[(card, card.answer) for card in listing.interviews],
            industries=INDUSTRIES,
            tags=tags,
            chosen=chosen,
            filters={k: v for k, v in chosen.items() if v},
        )

    return cached(render, uses=PAGING + FILTERS)


@bp.route("/questions/<slug>/feed.atom")
def question_feed(slug: str):
    """New answers to one question: an Atom feed."""

    def render():
        found = _question(slug)
        interviews = db.session.scalars(
            _answering(found).options(selectinload(Interview.items)).limit(FEED_SIZE)
        ).all()
        if not interviews:
            abort(404)  # no published answer yet
        updated = max((i.published_at for i in interviews), default=utcnow())
        body = render_template(
            "publishing/question_feed.xml",
            question=found,
            answers=[(i, answer_to(i, found)) for i in interviews],
            updated=updated,
        )
        return Response(body, mimetype="application/atom+xml")

    return cached(render)


def public_question_slugs() -> list[str]:
    """The question pages there are (for the sitemap)."""
    return db.session.scalars(
        select(Question.slug)
        .where(
            select(InterviewItem.id)
            .join(Interview, Interview.id == InterviewItem.interview_id)
            .join(Interview.submission)
            .where(InterviewItem.question_id == Question.id, Interview.public_filter(utcnow()))
            .exists()
        )
        .order_by(Question.position, Question.id)
    ).all()
