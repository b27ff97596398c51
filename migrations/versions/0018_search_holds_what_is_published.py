"""SQLite's search index holds published interviews only

Revision ID: 0018
Revises: 0017

Drafts were indexed as they were saved, and 100 newer drafts using a word
hid every published interview using it (the search ranks the newest 100
matches). The index now holds an interview while it has a publication time;
this takes the drafts out. PostgreSQL's vectors stay in their rows: its
search reads the publication time beside them.

Downgrading leaves the index as it is: the older code finds no draft in it,
which it never showed anyway, and indexes drafts again as they are saved.
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    exists = bind.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'interview_search'"
    ).first()
    if exists:
        op.execute(
            "DELETE FROM interview_search WHERE rowid NOT IN "
            "(SELECT id FROM interviews WHERE published_at IS NOT NULL)"
        )


def downgrade():
    pass
