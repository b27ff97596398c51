"""private links minted when an email is sent

Revision ID: 0012
Revises: 0011

An outbox row no longer holds a working status or set-password link: its body
shows "[private link]" and `private_link` says which link the worker mints
when it sends the email ("status:<submission id>" or "set-password:<user id>").
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("private_link", sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("private_link")
