"""search vectors stored inline on PostgreSQL

Revision ID: 0011
Revises: 0010

A search checks the vectors of the newest interviews one by one; kept in the
row (compressed) instead of in the TOAST table, each check skips a lookup.
Rows written before this migration move the next time they are indexed
(`flask search reindex` moves them all). Nothing to do on SQLite.
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE interviews ALTER COLUMN search_vector SET STORAGE MAIN")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE interviews ALTER COLUMN search_vector SET STORAGE EXTENDED")
