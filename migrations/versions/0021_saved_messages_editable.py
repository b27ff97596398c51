"""Saved messages can be edited: who changed them last, and when

Revision ID: 0021
Revises: 0020

Existing saved messages have nobody on record (they were made before this).
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("reply_presets") as batch:
        batch.add_column(sa.Column("changed_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("changed_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.create_foreign_key(
            op.f("fk_reply_presets_changed_by_id_users"),
            "users",
            ["changed_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("reply_presets") as batch:
        batch.drop_constraint(op.f("fk_reply_presets_changed_by_id_users"), type_="foreignkey")
        batch.drop_column("version")
        batch.drop_column("changed_by_id")
        batch.drop_column("changed_at")
