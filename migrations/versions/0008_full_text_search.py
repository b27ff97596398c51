"""full-text search: plain text and tsvector on interviews; FTS5 table on SQLite

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Frozen copy of the search table as this revision made it.
FTS5_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS interview_search USING fts5("
    "title, name, business, body, tokenize = 'unicode61 remove_diacritics 2')"
)


def upgrade():
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column(
                "search_vector", sa.Text().with_variant(TSVECTOR(), "postgresql"), nullable=True
            )
        )
    op.create_index(
        "ix_interviews_search_vector",
        "interviews",
        ["search_vector"],
        unique=False,
        postgresql_using="gin",
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(FTS5_DDL)
    # Existing interviews are indexed by `flask --app wsgi search reindex`.


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS interview_search")
    op.drop_index("ix_interviews_search_vector", table_name="interviews")
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.drop_column("search_vector")
        batch_op.drop_column("search_text")
