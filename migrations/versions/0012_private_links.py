"""private links minted when an email is sent

Revision ID: 0012
Revises: 0011

An outbox row no longer holds a working status or set-password link: its body
shows "[private link]" and `private_link` says which link the worker mints
when it sends the email ("status:<submission id>" or "set-password:<user id>").
Rows already written are redacted the same way, and set-password links not
yet used are revoked (any editor could have read them): admins send new ones.
"""

import re

import sqlalchemy as sa
from alembic import op

# Frozen here: the links these rows were written with.
_LINK = re.compile(r"https?://[^\s\"'<>]*/(?:status|editor/set-password)/[A-Za-z0-9_-]+")
PRIVATE_LINK = "[private link]"
STATUS_KINDS = {
    "saved",
    "received",
    "request_changes",
    "reject",
    "unpublish",
    "approve",
    "send_proof",
}

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("private_link", sa.String(length=40), nullable=True))
    _redact_stored_links()


def _redact_stored_links():
    """Rows written before this revision held working links in clear: replace
    them with PRIVATE_LINK, name the link for rows still to be sent, and revoke
    the set-password links that any editor could have read (send new ones)."""
    bind = op.get_bind()
    outbox = sa.table(
        "outbox",
        sa.column("id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("dedup_key", sa.String),
        sa.column("event_id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("text_body", sa.Text),
        sa.column("html_body", sa.Text),
        sa.column("private_link", sa.String),
    )
    events = sa.table("events", sa.column("id", sa.Integer), sa.column("submission_id", sa.Integer))
    submission_of = dict(bind.execute(sa.select(events.c.id, events.c.submission_id)).all())
    rows = bind.execute(
        sa.select(
            outbox.c.id,
            outbox.c.kind,
            outbox.c.dedup_key,
            outbox.c.event_id,
            outbox.c.status,
            outbox.c.text_body,
            outbox.c.html_body,
        )
    ).all()
    for row in rows:
        if not (_LINK.search(row.text_body) or _LINK.search(row.html_body)):
            continue
        key_id = row.dedup_key.split(":")[1] if row.dedup_key.count(":") >= 2 else ""
        link = None
        if row.kind in STATUS_KINDS and row.event_id in submission_of:
            link = f"status:{submission_of[row.event_id]}"
        elif row.kind in ("status_link", "draft_reminder") and key_id.isdigit():
            link = f"status:{key_id}"
        elif row.kind == "set_password" and key_id.isdigit():
            link = f"set-password:{key_id}"
        bind.execute(
            outbox.update()
            .where(outbox.c.id == row.id)
            .values(
                text_body=_LINK.sub(PRIVATE_LINK, row.text_body),
                html_body=_LINK.sub(PRIVATE_LINK, row.html_body),
                private_link=link if row.status in ("pending", "failed", "sending") else None,
            )
        )
    tokens = sa.table("password_tokens", sa.column("used_at", sa.DateTime))
    bind.execute(
        tokens.update()
        .where(tokens.c.used_at.is_(None))
        .values(used_at=sa.func.current_timestamp())
    )


def downgrade():
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("private_link")
