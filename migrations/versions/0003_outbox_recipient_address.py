"""outbox recipient address

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

outbox = sa.table(
    "outbox",
    sa.column("id", sa.Integer),
    sa.column("recipients", sa.JSON),
    sa.column("to_address", sa.String),
)


def upgrade():
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("to_address", sa.String(length=254), nullable=False, server_default="")
        )
        batch_op.create_index(batch_op.f("ix_outbox_to_address"), ["to_address"], unique=False)
    bind = op.get_bind()
    for row in bind.execute(sa.select(outbox.c.id, outbox.c.recipients)).all():
        recipients = row.recipients
        if isinstance(recipients, str):
            recipients = json.loads(recipients)
        address = recipients[0][1].lower() if recipients else ""
        bind.execute(outbox.update().where(outbox.c.id == row.id).values(to_address=address))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("to_address", server_default=None)


def downgrade():
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_to_address"))
        batch_op.drop_column("to_address")
