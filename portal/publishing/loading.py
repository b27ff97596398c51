"""What readers' pages show, loaded with SQLAlchemy Core into plain objects.

A page that is not in the page cache is rendered on the request that asks for
it, so this is the slow path readers wait on. It loads exactly the columns the
pages show, in a few statements built once (each request only binds its
values), through the session's connection: no ORM identity map, no lazy
loads, no statement built per request. The objects have the attribute names
of the models the same templates are given for a preview or a proof
(`interview.items`, `item.asked.slug`, `submission.who`...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from sqlalchemy import DateTime, Integer, bindparam, exists, func, select, tuple_

from ..clock import utcnow
from ..extensions import db
from ..models import (
    Event,
    Interview,
    InterviewItem,
    InterviewVersion,
    Introduced,
    Question,
    Submission,
    Tag,
    User,
    interview_tags,
)
from ..workflow import State

_interviews = Interview.__table__
_submissions = Submission.__table__
_items = InterviewItem.__table__
_questions = Question.__table__
_tags = Tag.__table__
_versions = InterviewVersion.__table__
_users = User.__table__
_events = Event.__table__

_LIVE = (
    (_submissions.c.state == State.PUBLISHED.value)
    & _interviews.c.published_at.is_not(None)
    & (_interviews.c.published_at <= bindparam("now"))
)
_PUBLIC = _interviews.join(_submissions, _submissions.c.id == _interviews.c.submission_id)
# Tags as a reader reads a list: "apple, Banana, Repairs".
_ALPHABETICAL = (func.lower(_tags.c.name), _tags.c.name, _tags.c.slug)
_NEWEST_FIRST = (_interviews.c.published_at.desc(), _interviews.c.id.desc())


@dataclass(slots=True)
class Person(Introduced):
    """The interviewee, as a byline shows them."""

    name: str
    business: str
    location: str = ""
    industry: str = ""
    website: str = ""
    socials: dict | None = None


@dataclass(slots=True)
class TagLink:
    id: int
    name: str
    slug: str


@dataclass(slots=True)
class Asked:
    """The questionnaire question a pair answers (its page is /questions/<slug>)."""

    slug: str


@dataclass(slots=True)
class Pair:
    id: int
    question: str
    answer_html: str
    asked: Asked | None


@dataclass(slots=True)
class Correction:
    published_at: datetime
    note: str


@dataclass(slots=True)
class Card:
    """An interview in a listing: what its card shows."""

    id: int
    slug: str
    title: str
    photo: str | None
    published_at: datetime
    submission: Person
    # The interviewer's note, else the first answer: the card's excerpt.
    summary_html: str
    tags: list[TagLink] = field(default_factory=list)
    # In the answers to one question: the pair that answers it.
    answer: Pair | None = None


@dataclass(slots=True)
class Page:
    """One published interview, whole."""

    id: int
    slug: str
    title: str
    intro_html: str
    greeting: str
    photo: str | None
    share_image: str | None
    published_at: datetime
    updated_at: datetime
    submission: Person
    items: list[Pair] = field(default_factory=list)
    tags: list[TagLink] = field(default_factory=list)
    # The changes published with a note for readers, oldest first.
    corrections: list[Correction] = field(default_factory=list)
    # Other public interviews sharing a tag with this one, newest first.
    related: list[Card] = field(default_factory=list)
    # Who interviewed them (_approver).
    interviewer: str = ""


@dataclass(slots=True)
class Listing:
    """One page of cards and the cursors of the pages beside it (None: no page)."""

    interviews: list[Card]
    newer: tuple[datetime, int] | None
    older: tuple[datetime, int] | None


_first_answer = (
    select(_items.c.answer_html)
    .where(_items.c.interview_id == _interviews.c.id)
    .order_by(_items.c.position)
    .limit(1)
    .scalar_subquery()
)
_CARD_COLUMNS = (
    _interviews.c.id,
    _interviews.c.slug,
    _interviews.c.title,
    _interviews.c.photo,
    _interviews.c.published_at,
    _submissions.c.name,
    _submissions.c.business,
    _submissions.c.location,
    func.coalesce(func.nullif(_interviews.c.intro_html, ""), _first_answer, ""),
)
_tagged = exists().where(
    interview_tags.c.interview_id == _interviews.c.id,
    interview_tags.c.tag_id.in_(bindparam("tag_ids", expanding=True)),
)


_answers = exists().where(
    _items.c.interview_id == _interviews.c.id, _items.c.question_id == bindparam("question_id")
)


def _answer(column):
    """`column` of the interview's (first) pair answering the question."""
    return (
        select(column)
        .where(
            _items.c.interview_id == _interviews.c.id,
            _items.c.question_id == bindparam("question_id"),
        )
        .order_by(_items.c.position)
        .limit(1)
        .scalar_subquery()
    )


_ANSWER_COLUMNS = (
    _submissions.c.industry,
    _answer(_items.c.id),
    _answer(_items.c.question),
    _answer(_items.c.answer_html),
)


@cache
def _listing_statement(direction: str, tagged: bool, answering: bool, industry: bool):
    """Cards by keyset: `direction` '' (the newest), 'before' or 'after' a
    (published_at, id); with `tagged`, only interviews with one of the tags;
    with `answering`, only those answering a question, each with its answer;
    with `industry`, only those of an industry."""
    columns = _CARD_COLUMNS + (_ANSWER_COLUMNS if answering else ())
    statement = select(*columns).select_from(_PUBLIC).where(_LIVE)
    if tagged:
        statement = statement.where(_tagged)
    if answering:
        statement = statement.where(_answers)
    if industry:
        statement = statement.where(_submissions.c.industry == bindparam("industry"))
    key = tuple_(_interviews.c.published_at, _interviews.c.id)
    # Typed as the columns are: SQLite keeps times as text, and a time bound
    # as the driver writes it ("2024-06-01 00:00:00") compares wrongly with
    # the stored "2024-06-01 00:00:00.000000".
    position = tuple_(bindparam("at", type_=DateTime), bindparam("id", type_=Integer))
    if direction == "after":
        return (
            statement.where(key > position)
            .order_by(_interviews.c.published_at, _interviews.c.id)
            .limit(bindparam("limit"))
        )
    if direction == "before":
        statement = statement.where(key < position)
    return statement.order_by(*_NEWEST_FIRST).limit(bindparam("limit"))


_card_tags = (
    select(interview_tags.c.interview_id, _tags.c.id, _tags.c.name, _tags.c.slug)
    .join(_tags, _tags.c.id == interview_tags.c.tag_id)
    .where(interview_tags.c.interview_id.in_(bindparam("ids", expanding=True)))
    .order_by(*_ALPHABETICAL)
)


def _execute(statement, **values):
    return db.session.connection().execute(statement, values)


def _cards(rows, execute=_execute, also: Page | None = None) -> list[Card]:
    """Cards of `rows`, with their tags (and `also`'s, in the same statement)."""
    cards = [_card(row) for row in rows]
    tagged: dict[int, Card | Page] = {card.id: card for card in cards}
    if also is not None:
        tagged[also.id] = also
    if tagged:
        for interview_id, *tag in execute(_card_tags, ids=list(tagged)):
            tagged[interview_id].tags.append(TagLink(*tag))
    return cards


def _card(row) -> Card:
    id_, slug, title, photo, published_at, name, business, location, summary, *answer = row
    card = Card(id_, slug, title, photo, published_at, Person(name, business, location), summary)
    if answer:
        card.submission.industry, pair_id, question, answer_html = answer
        card.answer = Pair(pair_id, question, answer_html, None)
    return card


def listing(
    size: int,
    before: tuple[datetime, int] | None = None,
    after: tuple[datetime, int] | None = None,
    tag_id: int | None = None,
    question_id: int | None = None,
    industry: str = "",
) -> Listing:
    """A page of `size` public cards, newest first, by keyset (no COUNT, no
    OFFSET, however deep the page): the newest, or those before or after a
    card's (published_at, id); of a tag, of those answering a question (each
    card with its answer), of an industry."""
    direction = "after" if after else "before" if before else ""
    values = {"now": utcnow(), "limit": size + 1}
    if after or before:
        values["at"], values["id"] = after or before
    if tag_id is not None:
        values["tag_ids"] = [tag_id]
    if question_id is not None:
        values["question_id"] = question_id
    if industry:
        values["industry"] = industry
    statement = _listing_statement(
        direction, tag_id is not None, question_id is not None, bool(industry)
    )
    rows = _execute(statement, **values).all()
    if after:
        page = _cards(rows[:size][::-1])
        newer = _position(page[0]) if len(rows) > size else None
        return Listing(page, newer=newer, older=_position(page[-1]) if page else None)
    page = _cards(rows[:size])
    return Listing(
        page,
        newer=_position(page[0]) if page and before else None,
        older=_position(page[-1]) if len(rows) > size else None,
    )


def _position(card: Card) -> tuple[datetime, int]:
    return card.published_at, card.id


# A change published with a note for readers: a correction.
_noted = (_versions.c.status == "published") & (_versions.c.note != "")
# Whether the interview has one: only the rare page that has asks for them.
_corrected = exists().where(_versions.c.interview_id == _interviews.c.id, _noted).label("corrected")
# Who interviewed them: the editor who approved the application (it stays
# theirs whoever the application is with later), else the one it is with.
_approver = (
    select(_users.c.name)
    .select_from(_events.join(_users, _users.c.id == _events.c.actor_id))
    .where(_events.c.submission_id == _submissions.c.id, _events.c.action == "approve")
    .order_by(_events.c.id.desc())
    .limit(1)
    .scalar_subquery()
)
_assignee = select(_users.c.name).where(_users.c.id == _submissions.c.assigned_to_id)
_assignee = _assignee.scalar_subquery()
_page = (
    select(
        _interviews.c.id,
        _interviews.c.slug,
        _interviews.c.title,
        _interviews.c.intro_html,
        _interviews.c.greeting,
        _interviews.c.photo,
        _interviews.c.share_image,
        _interviews.c.published_at,
        _interviews.c.updated_at,
        _submissions.c.name,
        _submissions.c.business,
        _submissions.c.location,
        _submissions.c.industry,
        _submissions.c.website,
        _submissions.c.socials,
        _corrected,
        func.coalesce(_approver, _assignee).label("interviewer"),
    )
    .select_from(_PUBLIC)
    .where(_interviews.c.slug == bindparam("slug"), _LIVE)
)
_pairs = (
    select(_items.c.id, _items.c.question, _items.c.answer_html, _questions.c.slug)
    .select_from(_items.outerjoin(_questions, _questions.c.id == _items.c.question_id))
    .where(_items.c.interview_id == bindparam("id"))
    .order_by(_items.c.position)
)
_corrections = (
    select(_versions.c.published_at, _versions.c.note)
    .where(_versions.c.interview_id == bindparam("id"), _noted)
    .order_by(_versions.c.id)
)
_its_tags = interview_tags.alias("its_tags")
_shares_a_tag = exists().where(
    interview_tags.c.interview_id == _interviews.c.id,
    interview_tags.c.tag_id.in_(
        select(_its_tags.c.tag_id).where(_its_tags.c.interview_id == bindparam("id"))
    ),
)
_related = (
    select(*_CARD_COLUMNS)
    .select_from(_PUBLIC)
    .where(_LIVE, _interviews.c.id != bindparam("id"), _shares_a_tag)
    .order_by(*_NEWEST_FIRST)
    .limit(bindparam("limit"))
)


def page(slug: str, related: int = 3) -> Page | None:
    """The public interview at `slug` with its pairs, tags, corrections and
    up to `related` cards of others sharing a tag; None if none is live there."""
    connection = db.session.connection()

    def execute(statement, **values):
        return connection.execute(statement, values)

    now = utcnow()
    row = execute(_page, slug=slug, now=now).first()
    if row is None:
        return None
    (id_, slug, title, intro, greeting, photo, share_image, published, updated, *rest) = row
    *person, corrected, interviewer = rest
    found = Page(
        id_, slug, title, intro, greeting, photo, share_image, published, updated, Person(*person)
    )
    found.interviewer = interviewer or ""
    found.items = [
        Pair(pair_id, question, answer, Asked(asked) if asked else None)
        for pair_id, question, answer, asked in execute(_pairs, id=id_)
    ]
    if corrected:
        found.corrections = [Correction(*row) for row in execute(_corrections, id=id_)]
    rows = execute(_related, id=id_, limit=related, now=now)
    found.related = _cards(rows, execute, also=found)  # its tags with theirs
    return found


_tag = select(_tags.c.id, _tags.c.name, _tags.c.slug).where(_tags.c.slug == bindparam("slug"))
_tag_is_live = select(exists().select_from(_PUBLIC).where(_LIVE, _tagged))


def tag(slug: str) -> TagLink | None:
    row = _execute(_tag, slug=slug).first()
    return TagLink(*row) if row else None


def tag_is_live(tag_id: int) -> bool:
    """Whether a public interview has the tag (a tag only drafts use is no page)."""
    return bool(_execute(_tag_is_live, tag_ids=[tag_id], now=utcnow()).scalar())


_live_tags = (
    select(_tags.c.id, _tags.c.name, _tags.c.slug)
    .where(
        # One EXISTS per tag, each stopping at its first live interview: no
        # DISTINCT over every interview.
        exists()
        .select_from(_PUBLIC)
        .where(
            interview_tags.c.interview_id == _interviews.c.id,
            interview_tags.c.tag_id == _tags.c.id,
            _LIVE,
        )
    )
    .order_by(*_ALPHABETICAL)
)


def live_tags() -> list[TagLink]:
    """The tags of at least one public interview, by name."""
    return [TagLink(*row) for row in _execute(_live_tags, now=utcnow())]
