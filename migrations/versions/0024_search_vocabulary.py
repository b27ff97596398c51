"""The search's vocabulary, for "did you mean": the words published interviews use

Revision ID: 0024
Revises: 0023

Filled here from the interviews published now (their title, the person's name
and business, and the indexed text); publishing adds to it from then on.
"""

import re
import unicodedata
from collections import Counter

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

# As portal/search.py reads words (a migration imports nothing of the package).
_WORD = re.compile(r"[^\W\d_]{3,40}")


def _words(text: str) -> set[str]:
    decomposed = unicodedata.normalize("NFKD", text or "")
    folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return set(_WORD.findall(folded))


def upgrade():
    words = op.create_table(
        "search_words",
        sa.Column("word", sa.String(length=40), nullable=False),
        sa.Column("interviews", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("word", name=op.f("pk_search_words")),
    )
    rows = op.get_bind().execute(
        sa.text(
            "SELECT i.title, s.name, s.business, i.search_text FROM interviews i "
            "JOIN submissions s ON s.id = i.submission_id "
            "WHERE s.state = 'published' AND i.published_at IS NOT NULL"
        )
    )
    counts = Counter()
    for row in rows:
        counts.update(_words(" ".join(part or "" for part in row)))
    found = [{"word": word, "interviews": n} for word, n in counts.items()]
    for start in range(0, len(found), 1000):
        op.bulk_insert(words, found[start : start + 1000])


def downgrade():
    op.drop_table("search_words")
