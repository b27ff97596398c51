"""the back catalogue: interviews imported from the old blog

Revision ID: 0016
Revises: 0015

- `imported_posts`: what each imported interview was made from (a text file's
  fingerprint or a WordPress post's guid), so that a second import of the same
  file or export finds it and changes nothing.
- `old_addresses`: the paths an imported interview had on the old blog,
  answered with a 301 to its page here.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "imported_posts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("origin", sa.String(length=500), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column(
            "submission_id",
            sa.Integer(),
            sa.ForeignKey(
                "submissions.id",
                name="fk_imported_posts_submission_id_submissions",
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("key", name="uq_imported_posts_key"),
    )
    op.create_index("ix_imported_posts_submission_id", "imported_posts", ["submission_id"])
    op.create_table(
        "old_addresses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column(
            "interview_id",
            sa.Integer(),
            sa.ForeignKey(
                "interviews.id", name="fk_old_addresses_interview_id_interviews", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.UniqueConstraint("path", name="uq_old_addresses_path"),
    )
    op.create_index("ix_old_addresses_interview_id", "old_addresses", ["interview_id"])


def downgrade():
    op.drop_index("ix_old_addresses_interview_id", table_name="old_addresses")
    op.drop_table("old_addresses")
    op.drop_index("ix_imported_posts_submission_id", table_name="imported_posts")
    op.drop_table("imported_posts")
