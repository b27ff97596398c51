"""SQLite's search index stems its words

Revision ID: 0020
Revises: 0019

The FTS5 table is made again with the Porter stemmer in front of its
tokenizer, so "tweet" finds "tweets" and "tweeting" as PostgreSQL's
'english' configuration does; what it held is copied across.
Downgrading makes it again without the stemmer, its content copied back.
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

COLUMNS = "title, name, business, body"
PLAIN = "unicode61 remove_diacritics 2"
STEMMED = "porter unicode61 remove_diacritics 2"


def _remake(tokenizer: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    exists = bind.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'interview_search'"
    ).first()
    if not exists:
        return
    op.execute("ALTER TABLE interview_search RENAME TO interview_search_before")
    op.execute(
        f"CREATE VIRTUAL TABLE interview_search USING fts5({COLUMNS}, tokenize = '{tokenizer}')"
    )
    op.execute(
        f"INSERT INTO interview_search (rowid, {COLUMNS}) "
        f"SELECT rowid, {COLUMNS} FROM interview_search_before"
    )
    op.execute("DROP TABLE interview_search_before")


def upgrade():
    _remake(STEMMED)


def downgrade():
    _remake(PLAIN)
