"""The back catalogue: interviews a publication already has, read from its old
blog (a plain-text copy, or a WordPress export) into what the portal stores.

Reading touches no database and no view. `reading` turns a post's paragraphs
into a title, the interviewer's note and question-and-answer pairs; `text` and
`wordpress` read their formats into paragraphs; `operations.import_interviews`
writes what was read, all or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


class ImportRefused(ValueError):
    """The input can't be imported at all (not text, not an export, unsafe, too
    large); the message says why, and nothing was written."""


@dataclass
class Pair:
    question: str
    answer_text: str
    answer_html: str


@dataclass
class Found:
    """One interview read from the old blog, ready to write (or to report)."""

    source: str  # "text" or "wordpress"
    origin: str  # the file, or the old post's address
    key: str  # the same input gives the same key: a second import finds it
    title: str
    intro_html: str = ""
    pairs: list[Pair] = field(default_factory=list)
    name: str = ""
    business: str = ""
    socials: dict[str, str] = field(default_factory=dict)
    published_at: datetime | None = None
    tags: list[str] = field(default_factory=list)
    slug: str = ""
    old_paths: list[str] = field(default_factory=list)
    author: str = ""
    photo_paths: list[str] = field(default_factory=list)  # under --uploads, best first
    doubts: list[str] = field(default_factory=list)
    # Why it is not imported at all (no question found, not a post of the
    # category...); None for one that is.
    skipped: str | None = None
