"""Second opinions: an editor asks colleagues; each recommends and comments

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "opinions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("editor_id", sa.Integer(), nullable=False),
        sa.Column("asked_by_id", sa.Integer(), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("recommendation", sa.String(length=12), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "recommendation IN ('feature', 'not_for_us', 'changes')",
            name=op.f("ck_opinions_recommendation_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["asked_by_id"],
            ["users.id"],
            name=op.f("fk_opinions_asked_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["editor_id"],
            ["users.id"],
            name=op.f("fk_opinions_editor_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_opinions_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opinions")),
    )
    op.create_index("ix_opinions_editor_open", "opinions", ["editor_id", "answered_at"])
    op.create_index(op.f("ix_opinions_submission_id"), "opinions", ["submission_id"])


def downgrade():
    op.drop_index(op.f("ix_opinions_submission_id"), table_name="opinions")
    op.drop_index("ix_opinions_editor_open", table_name="opinions")
    op.drop_table("opinions")
