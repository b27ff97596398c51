"""each email knows the application it is about

Revision ID: 0014
Revises: 0013

- `outbox.submission_id`: the application an email is about (an event's, or
  one that is not an event: a correction asked after publication, a draft
  reminder, a status link sent again, an erasure notice). Emails about one
  application thread together by it, and erasing the application finds them.
  Filled in for the emails already in the outbox.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# Causes that are not events, by their deduplication key: "<prefix>:<id>:...".
_BY_SUBMISSION = ("resend", "draft-reminder", "erased")


def upgrade():
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("submission_id", sa.Integer(), nullable=True))
        batch.create_index("ix_outbox_submission_id", ["submission_id"])
        batch.create_foreign_key(
            "fk_outbox_submission_id_submissions",
            "submissions",
            ["submission_id"],
            ["id"],
            ondelete="SET NULL",
        )
    conn = op.get_bind()
    conn.execute(
        sa.text(
            "UPDATE outbox SET submission_id = "
            "(SELECT submission_id FROM events WHERE events.id = outbox.event_id) "
            "WHERE event_id IS NOT NULL"
        )
    )
    requests = dict(conn.execute(sa.text("SELECT id, submission_id FROM after_requests")).all())
    submissions = {row[0] for row in conn.execute(sa.text("SELECT id FROM submissions"))}
    rows = conn.execute(
        sa.text("SELECT id, dedup_key FROM outbox WHERE submission_id IS NULL")
    ).all()
    for email_id, key in rows:
        prefix, _, rest = key.partition(":")
        number = rest.partition(":")[0]
        if not number.isdigit():
            continue
        if prefix in _BY_SUBMISSION:
            about = int(number)
        elif prefix == "after-request":
            about = requests.get(int(number))
        else:
            continue
        if about in submissions:
            conn.execute(
                sa.text("UPDATE outbox SET submission_id = :about WHERE id = :id"),
                {"about": about, "id": email_id},
            )


def downgrade():
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("fk_outbox_submission_id_submissions", type_="foreignkey")
        batch.drop_index("ix_outbox_submission_id")
        batch.drop_column("submission_id")
