"""The newsletter: subscribers, their requests, mailings, and outbox rows that point at them

Revision ID: 0022
Revises: 0021

Nothing to carry over: both tables start empty. Rolling back drops them and
every newsletter email still in the outbox.
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("cadence", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("left_at", sa.DateTime(), nullable=True),
        sa.Column("bounce", sa.String(length=300), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'confirmed', 'unsubscribed', 'bounced')",
            name=op.f("ck_subscribers_status_valid"),
        ),
        sa.CheckConstraint(
            "cadence IN ('each', 'weekly')", name=op.f("ck_subscribers_cadence_valid")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscribers")),
        sa.UniqueConstraint("email", name=op.f("uq_subscribers_email")),
    )
    op.create_index("ix_subscribers_sending", "subscribers", ["status", "cadence", "id"])
    op.create_table(
        "subscribe_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("cadence", sa.String(length=10), nullable=False),
        sa.Column("may_email", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscribe_requests")),
    )
    op.create_table(
        "mailings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("interview_id", sa.Integer(), nullable=True),
        sa.Column("period_start", sa.DateTime(), nullable=True),
        sa.Column("period_end", sa.DateTime(), nullable=True),
        sa.Column("send_after", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("kind IN ('interview', 'weekly')", name=op.f("ck_mailings_kind_valid")),
        sa.CheckConstraint(
            "status IN ('waiting', 'sending', 'done', 'cancelled', 'empty')",
            name=op.f("ck_mailings_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["interview_id"],
            ["interviews.id"],
            name=op.f("fk_mailings_interview_id_interviews"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailings")),
        sa.UniqueConstraint("key", name=op.f("uq_mailings_key")),
    )
    op.create_index("ix_mailings_due", "mailings", ["status", "send_after"])
    op.create_index(op.f("ix_mailings_interview_id"), "mailings", ["interview_id"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("mailing_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("subscriber_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_outbox_mailing_id_mailings"),
            "mailings",
            ["mailing_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_foreign_key(
            op.f("fk_outbox_subscriber_id_subscribers"),
            "subscribers",
            ["subscriber_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index(op.f("ix_outbox_mailing_id"), ["mailing_id"])
        batch.create_index(op.f("ix_outbox_subscriber_id"), ["subscriber_id"])
        batch.create_index("ix_outbox_claim", ["status", "mailing_id", "deliver_after"])


def downgrade():
    op.execute("DELETE FROM outbox WHERE mailing_id IS NOT NULL OR subscriber_id IS NOT NULL")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_claim")
        batch.drop_index(op.f("ix_outbox_subscriber_id"))
        batch.drop_index(op.f("ix_outbox_mailing_id"))
        batch.drop_constraint(op.f("fk_outbox_subscriber_id_subscribers"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_outbox_mailing_id_mailings"), type_="foreignkey")
        batch.drop_column("subscriber_id")
        batch.drop_column("mailing_id")
    op.drop_index(op.f("ix_mailings_interview_id"), table_name="mailings")
    op.drop_index("ix_mailings_due", table_name="mailings")
    op.drop_table("mailings")
    op.drop_table("subscribe_requests")
    op.drop_index("ix_subscribers_sending", table_name="subscribers")
    op.drop_table("subscribers")
