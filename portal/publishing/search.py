"""Full-text search over published interviews, behind one function.

SQLite: an FTS5 table (`interview_search`, rowid = interview id, BM25 ranking).
PostgreSQL: a `tsvector` column on interviews with a GIN index,
`websearch_to_tsquery` and `ts_rank`. Both are kept current by `index()`, called
whenever an interview's text or visibility changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup, escape
from sqlalchemy import text
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Interview
from ..sanitize import strip_tags

QUERY_MAX = 200
TERMS_MAX = 12
_WORD = re.compile(r"\w+", re.UNICODE)
START, STOP = "\x02", "\x03"


def is_search_table(name: str | None) -> bool:
    """The FTS5 table and its shadow tables, which the models don't describe."""
    return bool(name) and name.startswith("interview_search")


def document(interview: Interview) -> dict[str, str]:
    s = interview.submission
    body = " ".join(
        [strip_tags(interview.intro_html)]
        + [f"{i.question} {strip_tags(i.answer_html)}" for i in interview.items]
    )
    return {"title": interview.title, "name": s.name, "business": s.business, "body": body}


FTS5_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS interview_search USING fts5("
    "title, name, business, body, tokenize = 'unicode61 remove_diacritics 2')"
)


def create_structures(connection) -> None:
    """What the models can't describe: the FTS5 table on SQLite."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(FTS5_DDL)


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
        return
    db.session.execute(text("DELETE FROM interview_search WHERE rowid = :id"), {"id": interview.id})
    db.session.execute(
        text(
            "INSERT INTO interview_search (rowid, title, name, business, body) "
            "VALUES (:id, :title, :name, :business, :body)"
        ),
        dict(doc, id=interview.id),
    )


@dataclass
class Hit:
    interview: Interview
    snippet: Markup


def _highlight(raw: str) -> Markup:
    safe = str(escape(raw or ""))
    return Markup(safe.replace(START, "<mark>").replace(STOP, "</mark>"))  # noqa: S704


def _fts5_query(q: str) -> str:
    """Plain words, each quoted: no FTS5 syntax from the reader ever reaches SQLite."""
    words = _WORD.findall(q)[:TERMS_MAX]
    return " ".join(f'"{w}"' for w in words)


def search(q: str, page: int, page_size: int, now) -> tuple[list[Hit], bool]:
    """Published interviews matching `q`, best first, with highlighted snippets."""
    q = (q or "")[:QUERY_MAX]
    if db.engine.dialect.name == "postgresql":
        if not _WORD.search(q):
            return [], False
        rows = db.session.execute(
            text(
                "SELECT i.id, ts_headline('english', i.search_text, query, "
                "'StartSel=\x02, StopSel=\x03, MaxWords=30, MinWords=12, MaxFragments=1') "
                "FROM interviews i JOIN submissions s ON s.id = i.submission_id, "
                "websearch_to_tsquery('english', :q) query "
                "WHERE i.search_vector @@ query AND s.state = 'published' "
                "AND i.published_at IS NOT NULL AND i.published_at <= :now "
                "ORDER BY ts_rank(i.search_vector, query) DESC, i.published_at DESC "
                "LIMIT :limit OFFSET :offset"
            ),
            {"q": q, "now": now, "limit": page_size + 1, "offset": (page - 1) * page_size},
        ).all()
    else:
        match = _fts5_query(q)
        if not match:
            return [], False
        rows = db.session.execute(
            text(
                "SELECT f.rowid, snippet(interview_search, 3, :start, :stop, '…', 24) "
                "FROM interview_search f "
                "JOIN interviews i ON i.id = f.rowid "
                "JOIN submissions s ON s.id = i.submission_id "
                "WHERE interview_search MATCH :match AND s.state = 'published' "
                "AND i.published_at IS NOT NULL AND i.published_at <= :now "
                "ORDER BY bm25(interview_search, 10.0, 5.0, 5.0, 1.0), i.published_at DESC "
                "LIMIT :limit OFFSET :offset"
            ),
            {
                "match": match,
                "start": START,
                "stop": STOP,
                "now": now,
                "limit": page_size + 1,
                "offset": (page - 1) * page_size,
            },
        ).all()
    ids = [row[0] for row in rows[:page_size]]
    found = (
        {
            i.id: i
            for i in db.session.scalars(
                db.select(Interview)
                .where(Interview.id.in_(ids))
                .options(joinedload(Interview.submission))
            )
        }
        if ids
        else {}
    )
    hits = [Hit(found[i], _highlight(snippet)) for i, snippet in rows[:page_size] if i in found]
    return hits, len(rows) > page_size
