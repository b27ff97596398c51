"""Follow-up questions, and a greeting before an interview's first question

Revision ID: 0019
Revises: 0018

An editor may ask an applicant questions of their own ("follow_ups"), in a
new state, "follow_ups_asked"; the answers go into the next revision
(answers.follow_up_id) and from there into the draft. An interview may
open with the editor's greeting (interviews.greeting).

Downgrading drops the follow-ups and the greetings; an application waiting
for answers goes back to "in review" (the older code has no such state),
and answers to follow-ups stay in their revisions as plain answers.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

OLD_STATES = (
    "draft",
    "submitted",
    "spam",
    "in_review",
    "changes_requested",
    "rejected",
    "approved",
    "awaiting_signoff",
    "ready",
    "published",
    "withdrawn",
)
NEW_STATES = (*OLD_STATES[:4], "follow_ups_asked", *OLD_STATES[4:])


def _states(states) -> str:
    return "state IN (" + ", ".join(f"'{s}'" for s in states) + ")"


def upgrade():
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("asked_event_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=500), nullable=False),
        sa.Column("follows", sa.String(length=20), nullable=False),
        sa.Column("cites", sa.String(length=20), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("declined", sa.Boolean(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_follow_ups_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["asked_event_id"],
            ["events.id"],
            name=op.f("fk_follow_ups_asked_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_ups")),
    )
    op.create_index(op.f("ix_follow_ups_submission_id"), "follow_ups", ["submission_id"])
    with op.batch_alter_table("answers") as batch:
        batch.add_column(sa.Column("follow_up_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_answers_follow_up_id_follow_ups"),
            "follow_ups",
            ["follow_up_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("interviews") as batch:
        batch.add_column(
            sa.Column("greeting", sa.String(length=300), nullable=False, server_default="")
        )
    with op.batch_alter_table("submissions") as batch:
        batch.drop_constraint(op.f("ck_submissions_state_valid"), type_="check")
        batch.create_check_constraint(op.f("ck_submissions_state_valid"), _states(NEW_STATES))


def downgrade():
    op.execute("UPDATE submissions SET state = 'in_review' WHERE state = 'follow_ups_asked'")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_constraint(op.f("ck_submissions_state_valid"), type_="check")
        batch.create_check_constraint(op.f("ck_submissions_state_valid"), _states(OLD_STATES))
    with op.batch_alter_table("interviews") as batch:
        batch.drop_column("greeting")
    with op.batch_alter_table("answers") as batch:
        batch.drop_constraint(op.f("fk_answers_follow_up_id_follow_ups"), type_="foreignkey")
        batch.drop_column("follow_up_id")
    op.drop_index(op.f("ix_follow_ups_submission_id"), table_name="follow_ups")
    op.drop_table("follow_ups")
