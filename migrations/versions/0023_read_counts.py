"""Read counts: how many times each interview was read, per day

Revision ID: 0023
Revises: 0022

A new table, empty until readers come.
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "interview_reads",
        sa.Column("interview_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reads", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["interview_id"],
            ["interviews.id"],
            name=op.f("fk_interview_reads_interview_id_interviews"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("interview_id", "day", name=op.f("pk_interview_reads")),
    )


def downgrade():
    op.drop_table("interview_reads")
