"""Full-text search over published interviews, behind one function.

SQLite: an FTS5 table (`interview_search`, rowid = interview id, BM25 ranking).
PostgreSQL: a `tsvector` column on interviews with a GIN index,
`websearch_to_tsquery` and `ts_rank`. Both are kept current by `index()`, called
whenever an interview's text or visibility changes.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from markupsafe import Markup, escape
from sqlalchemy import (
    Float,
    Integer,
    String,
    bindparam,
    column,
    delete,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import contains_eager, undefer

from .extensions import db
from .models import Interview, InterviewItem, SearchWord
from .sanitize import strip_tags

QUERY_MAX = 200
TERMS_MAX = 12
_WORD = re.compile(r"\w+", re.UNICODE)


def is_search_table(name: str | None) -> bool:
    """The FTS5 table and its shadow tables, which the models don't describe."""
    return bool(name) and name.startswith("interview_search")


def document(interview: Interview) -> dict[str, str]:
    submission = interview.submission
    body = " ".join(
        [strip_tags(interview.intro_html)]
        + [f"{i.question} {strip_tags(i.answer_html)}" for i in interview.items]
    )
    return {
        "title": interview.title,
        "name": submission.name,
        "business": submission.business,
        "body": body,
    }


FTS5_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS interview_search USING fts5("
    "title, name, business, body, tokenize = 'porter unicode61 remove_diacritics 2')"
)


def create_structures(connection) -> None:
    """What the models can't describe: the FTS5 table on SQLite; on PostgreSQL,
    search vectors kept in the row (migration 0011)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(FTS5_DDL)
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            "ALTER TABLE interviews ALTER COLUMN search_vector SET STORAGE MAIN"
        )


def drop_structures(connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("DROP TABLE IF EXISTS interview_search")


def index(interview: Interview) -> None:
    """(Re)index one interview in the caller's transaction."""
    doc = document(interview)
    interview.search_text = doc["body"]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            text(
                "UPDATE interviews SET search_vector = "
                "setweight(to_tsvector('english', :title), 'A') || "
                "setweight(to_tsvector('english', :name || ' ' || :business), 'A') || "
                "setweight(to_tsvector('english', :body), 'B') WHERE id = :id"
            ),
            dict(doc, id=interview.id),
        )
        if interview.published_at is not None:
            learn(doc)
        return
    db.session.execute(text("DELETE FROM interview_search WHERE rowid = :id"), {"id": interview.id})
    if interview.published_at is None:
        # A draft, or unpublished: not in the index, where the newest matches
        # are ranked (100 newer drafts using a word would hide every published
        # interview using it). Its publication indexes it.
        return
    db.session.execute(
        text(
            "INSERT INTO interview_search (rowid, title, name, business, body) "
            "VALUES (:id, :title, :name, :business, :body)"
        ),
        dict(doc, id=interview.id),
    )
    learn(doc)


def forget(interview_id: int) -> None:
    """Drop an interview's full-text entry (SQLite's FTS5 table is apart from the row;
    PostgreSQL's vector goes with the row)."""
    if db.engine.dialect.name == "sqlite":
        db.session.execute(
            text("DELETE FROM interview_search WHERE rowid = :id"), {"id": interview_id}
        )


@dataclass
class Hit:
    interview: Interview
    snippet: Markup


def marker(terms: list[str]) -> re.Pattern | None:
    """A pattern for the words any of `terms` starts, longest first; None for no terms."""
    terms = sorted({t.lower() for t in terms if t}, key=len, reverse=True)
    if not terms:
        return None
    return re.compile(r"\b(?:" + "|".join(map(re.escape, terms)) + r")\w*", re.IGNORECASE)


def excerpt(body: str, pattern: re.Pattern | None, length: int = 200) -> Markup:
    """About `length` characters of `body` from just before the first word
    `pattern` finds, with every such word marked. Escaped here; the markup is
    ours alone."""
    first = pattern.search(body) if pattern else None
    start = 0
    if first and first.start() > 60:
        start = body.find(" ", first.start() - 60) + 1
    stop = len(body)
    if stop - start > length:
        stop = body.rfind(" ", start, start + length)
        stop = stop if stop > start else start + length
    window = body[start:stop]
    parts = [Markup("…") if start else Markup("")]
    position = 0
    for found in pattern.finditer(window) if pattern else ():
        parts.append(escape(window[position : found.start()]))
        parts.append(Markup("<mark>%s</mark>") % found.group())
        position = found.end()
    parts.append(escape(window[position:]))
    if stop < len(body):
        parts.append(Markup("…"))
    return Markup("").join(parts)


# Words nearly every interview contains: they narrow nothing, and BM25 would read
# the whole index to weigh each one. PostgreSQL's 'english' configuration drops
# them too. A query of nothing else keeps them.
# fmt: off
STOPWORDS = frozenset([
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "do", "does", "for", "from", "had",
    "has", "have", "i", "in", "is", "it", "its", "me", "my", "of", "on", "or", "our", "so",
    "that", "the", "their", "them", "they", "this", "to", "was", "we", "were", "what", "when",
    "where", "which", "who", "with", "you", "your",
])
# fmt: on


# What a reader may type, as on the web and in PostgreSQL's websearch_to_tsquery:
# "a phrase", -word or -"a phrase" to leave out, OR between two terms.
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')


def _parsed(q: str) -> tuple[list[list[list[str]]], list[list[str]]]:
    """The terms to find (ANDed groups of OR'd alternatives, each a word or a
    phrase as its words) and the terms to leave out."""
    groups: list[list[list[str]]] = []
    leave_out: list[list[str]] = []
    either = False
    count = 0
    for found in _TOKEN.finditer(q):
        minus, phrase, word_minus, word = found.groups()
        if phrase is None and word.upper() == "OR":
            either = bool(groups)
            continue
        words = _WORD.findall(phrase if phrase is not None else word)
        if not words or count >= TERMS_MAX:
            continue
        count += len(words)
        if minus or word_minus:
            leave_out.append(words)
        elif either:
            groups[-1].append(words)
        else:
            groups.append([words])
        either = False
    telling = [
        kept
        for group in groups
        if (kept := [t for t in group if len(t) > 1 or t[0].lower() not in STOPWORDS])
    ]
    return telling or groups, leave_out  # nothing but common words: keep them


# Searching as the reader types: the last word, with no space after it yet,
# is a prefix ("sourd" finds sourdough), three letters or more and not a
# common word; not in quotes, not one to leave out.
PREFIX_MIN = 3


def _typing(q: str) -> tuple[str, str] | None:
    """(the query before its last word, the last word) when the last word is
    still being typed and long enough to be read as a prefix; else None."""
    tokens = list(_TOKEN.finditer(q))
    if not tokens or tokens[-1].end() != len(q):
        return None
    minus, phrase, word_minus, word = tokens[-1].groups()
    if phrase is not None or word_minus or word.upper() == "OR":
        return None
    words = _WORD.findall(word)
    if len(words) != 1 or len(words[0]) < PREFIX_MIN or words[0].lower() in STOPWORDS:
        return None
    return q[: tokens[-1].start()], words[0]


def _starts(word: str) -> list[str]:
    """A word being typed and the same less its last letter or two (three
    letters at least): both databases stem what they are given, and "waiti"
    or "bicy" would not start the stems "wait" and "bicycl" of the words
    they begin, so results would come and go with each letter."""
    return [word[:n] for n in range(len(word), max(PREFIX_MIN, len(word) - 2) - 1, -1)]


def _wanted(q: str) -> list[str]:
    """The words a match may hold, to mark in its excerpt."""
    groups, _ = _parsed(q)
    return [word for group in groups for term in group for word in term]


def _fts5_query(q: str, typing: bool = False) -> str:
    """The reader's query as an FTS5 expression of quoted words and phrases:
    no FTS5 syntax from the reader ever reaches SQLite, only ours. `typing`:
    the last word, if it is being typed, as a prefix ("word"*)."""
    groups, leave_out = _parsed(q)
    if not groups:
        return ""  # only words to leave out: nothing to look for
    last = _typing(q) if typing else None
    prefix = groups[-1][-1] if last and groups[-1][-1] == [last[1]] else None

    def quoted(words: list[str]) -> str:
        if words is prefix:
            return " OR ".join(f'"{start}"*' for start in _starts(words[0]))
        return '"' + " ".join(words) + '"'

    expression = " AND ".join("(" + " OR ".join(quoted(t) for t in group) + ")" for group in groups)
    if leave_out:
        expression += " NOT (" + " OR ".join(quoted(t) for t in leave_out) + ")"
    return expression


# Ranking looks at this many of the newest matching interviews (at most nine
# pages of results): a word that
# appears in most of 100,000 interviews would otherwise be scored 100,000 times.
POOL = 100


@cache
def _statement(dialect: str, typing: bool = False):
    """The search, built once per database with its values bound at each call:
    `q` (PostgreSQL) or `match` (SQLite), `now`, `limit`, `offset`; on
    PostgreSQL `typing` adds `prefix`, a last word being typed ('word':*)."""
    # Only what readers may see competes for the pool: 100 newer drafts using
    # a word would otherwise hide every published interview that uses it.
    # SQLite's index holds only interviews with a publication time (`index`);
    # PostgreSQL's vectors are in every row, and an interview has a
    # publication time only while it is published (unpublishing clears it),
    # so its pool reads that column beside the vector (a join to the
    # submission's state doubled its p99). The full condition is the outer
    # query's.
    public = Interview.public_filter(bindparam("now"))
    published = Interview.published_at.is_not(None) & (Interview.published_at <= bindparam("now"))
    if dialect == "postgresql":
        english = literal_column("'english'::regconfig")
        query = func.websearch_to_tsquery(english, bindparam("q", type_=String))
        if typing:
            query = query.op("&&")(func.to_tsquery(english, bindparam("prefix", type_=String)))
        # The words are bound where they are used, so the planner sees them and
        # chooses between the GIN index and walking the newest rows.
        pool = (
            select(Interview.id)
            .where(Interview.search_vector.op("@@")(query), published)
            .order_by(Interview.id.desc())
            .limit(POOL)
            .cte("pool")
        )
        best_first = func.ts_rank(Interview.search_vector, query).desc()
        # What the index makes of the words ("subscribers" -> "subscrib"), to mark.
        extra = func.tsvector_to_array(func.to_tsvector(english, bindparam("q", type_=String)))
    else:
        pool = (
            text(
                "SELECT rowid AS id, bm25(interview_search, 10.0, 5.0, 5.0, 1.0) AS score "
                "FROM interview_search WHERE interview_search MATCH :match "
                "ORDER BY rowid DESC LIMIT :pool"
            )
            .bindparams(pool=POOL)
            .columns(column("id", Integer), column("score", Float))
            .cte("pool")
        )
        best_first = pool.c.score  # BM25 is lower for better matches
        extra = literal_column("NULL")
    return (
        select(Interview, extra)
        .join(pool, pool.c.id == Interview.id)
        .join(Interview.submission)
        .where(public)
        .options(contains_eager(Interview.submission), undefer(Interview.search_text))
        .order_by(best_first, Interview.published_at.desc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


def _matching(q: str, values: dict, typing: bool = False) -> tuple[list, list[str]]:
    """The public interviews the index finds for `q` (rows of the interview and
    PostgreSQL's stems), and the words to mark; nothing for a query of no word.
    `typing`: the last word, still being typed, as a prefix."""
    dialect = db.engine.dialect.name
    last = _typing(q) if typing else None
    if dialect == "postgresql":
        if not _parsed(q)[0]:  # no word, or only words to leave out
            return [], []
        if last is not None:
            values = dict(
                values, q=last[0], prefix=" | ".join(f"'{start}':*" for start in _starts(last[1]))
            )
        else:
            values = dict(values, q=q)
        terms = _wanted(q)
    else:
        match = _fts5_query(q, typing)
        if not match:
            return [], []
        values = dict(values, match=match)
        terms = _wanted(q)
    statement = _statement(dialect, last is not None and dialect == "postgresql")
    return db.session.execute(statement, values).all(), terms


def search(q: str, page: int, page_size: int, now, typing: bool = False) -> tuple[list[Hit], bool]:
    """Published interviews matching `q`, best first, with highlighted snippets.

    Both databases find the newest POOL matches through their index, rank those
    and make snippets for the one page shown, so a search costs about the same
    whether a word is rare or in every interview.
    """
    q = (q or "")[:QUERY_MAX]
    offset = (page - 1) * page_size
    if offset >= POOL:
        return [], False
    rows, terms = _matching(q, {"now": now, "limit": page_size + 1, "offset": offset}, typing)
    stems = rows[0][1] if rows else None
    pattern = marker(terms + list(stems or []))
    hits = [
        Hit(interview, excerpt(interview.search_text, pattern)) for interview, _ in rows[:page_size]
    ]
    return hits, len(rows) > page_size and offset + page_size < POOL


def _folded(text: str) -> str:
    """`text` without accents or case: "Café" and "cafe" read alike."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def search_answers(
    q: str, question_id: int, page: int, page_size: int, now
) -> tuple[list[Hit], bool]:
    """Published answers to one question that hold every telling word of `q`
    (in their text, not their markup; accents and case aside), best first, each
    with its interview and a highlighted snippet of the answer.

    The full-text index finds the candidates as the site's search does (the
    newest POOL interviews holding the words anywhere); those whose answer to
    this question holds them all are kept."""
    q = (q or "")[:QUERY_MAX]
    rows, terms = _matching(q, {"now": now, "limit": POOL, "offset": 0})
    if not rows:
        return [], False
    stems = [_folded(s) for s in (rows[0][1] or [])]  # PostgreSQL's: "tweets" -> "tweet"
    answers = dict(
        db.session.execute(
            select(InterviewItem.interview_id, InterviewItem.answer_html).where(
                InterviewItem.interview_id.in_([i.id for i, _ in rows]),
                InterviewItem.question_id == question_id,
            )
        ).all()
    )
    words = [_folded(t) for t in terms if t.lower() not in STOPWORDS] or [_folded(t) for t in terms]

    def holds(html: str) -> bool:
        text = _folded(strip_tags(html))
        return all(
            any(
                re.search(r"\b" + re.escape(form), text)
                for form in [word] + [s for s in stems if word.startswith(s)]
            )
            for word in words
        )

    found = [(i, answers[i.id]) for i, _ in rows if i.id in answers and holds(answers[i.id])]
    offset = (page - 1) * page_size
    pattern = marker(terms + stems)
    hits = [
        Hit(i, excerpt(strip_tags(answer), pattern))
        for i, answer in found[offset : offset + page_size]
    ]
    return hits, len(found) > offset + page_size


# "Did you mean": the vocabulary of published interviews (models.SearchWord).

_VOCABULARY_WORD = re.compile(r"[^\W\d_]{3,40}")


def words_of(doc: dict[str, str]) -> set[str]:
    """The words of an indexed document, as the vocabulary keeps them: letters
    only, three or more, folded (no case, no accents)."""
    return set(_VOCABULARY_WORD.findall(_folded(" ".join(doc.values()))))


def learn(doc: dict[str, str]) -> None:
    """Add a published interview's words to the vocabulary (in the caller's
    transaction). Counts only grow: a suggestion is checked before it is shown."""
    words = sorted(words_of(doc))
    if not words:
        return
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    statement = insert(SearchWord).values([{"word": w, "interviews": 1} for w in words])
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["word"],
            set_={"interviews": SearchWord.interviews + 1},
        )
    )


# How alike a word and its suggestion must be (difflib's ratio).
LIKENESS = 0.75
CANDIDATES_AT_MOST = 20_000


def _nearest(word: str) -> str | None:
    """The vocabulary's word nearest `word`: same first letter, a letter longer
    or shorter at most, alike by LIKENESS or more; the more used of two equally
    alike."""
    n = len(word)
    first = word[0]
    rows = db.session.execute(
        select(SearchWord.word, SearchWord.interviews)
        .where(
            # A range the primary key's index reads (LIKE 'x%' isn't one everywhere).
            SearchWord.word >= first,
            SearchWord.word < chr(ord(first) + 1),
            func.length(SearchWord.word).between(n - 1, n + 1),  # a letter more or less
        )
        .limit(CANDIDATES_AT_MOST)
    ).all()
    used = dict(rows)
    close = difflib.get_close_matches(word, list(used), n=5, cutoff=LIKENESS)
    if not close:
        return None
    best = max(difflib.SequenceMatcher(None, word, c).ratio() for c in close)
    return max(
        (c for c in close if difflib.SequenceMatcher(None, word, c).ratio() == best),
        key=lambda c: used[c],
    )


def _found(word: str, now) -> bool:
    rows, _terms = _matching(f'"{word}"', {"now": now, "limit": 1, "offset": 0})
    return bool(rows)


def forget_words(doc: dict[str, str], now) -> int:
    """On erasure: the words of a person's document (their name, business,
    title, answers) that no published interview uses any more leave the
    vocabulary. How many."""
    gone = [word for word in words_of(doc) if not _found(word, now)]
    if gone:
        db.session.execute(delete(SearchWord).where(SearchWord.word.in_(gone)))
    return len(gone)


def suggestion(q: str, now) -> str | None:
    """A search like `q` with each word the interviews never use replaced by
    the nearest one they do, if that search finds something; else None."""
    q = (q or "")[:QUERY_MAX]
    tokens = list(_TOKEN.finditer(q))
    plain = {}
    for found in tokens:
        minus, phrase, word_minus, word = found.groups()
        if phrase is None and not word_minus and word.upper() != "OR":
            folded = _folded(word)
            if _VOCABULARY_WORD.fullmatch(folded):
                plain[found.start()] = (word, folded)
    if not plain:
        return None
    known = set(
        db.session.scalars(
            select(SearchWord.word).where(SearchWord.word.in_({f for _w, f in plain.values()}))
        )
    )
    changed = False
    out, last = [], 0
    for found in tokens:
        out.append(q[last : found.start()])
        last = found.end()
        typed = plain.get(found.start())
        if typed is not None and typed[1] not in known:
            nearest = _nearest(typed[1])
            # Each word offered is one a published interview uses now: the
            # vocabulary also holds words of what was scheduled, taken down or
            # erased, and an OR must not bring one of them out.
            if nearest is not None and _found(nearest, now):
                out.append(nearest)
                changed = True
                continue
        out.append(found.group(0))
    out.append(q[last:])
    if not changed:
        return None
    suggested = "".join(out)
    rows, _terms = _matching(suggested, {"now": now, "limit": 1, "offset": 0})
    return suggested if rows else None
