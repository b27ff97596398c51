"""one application per form, links that expire unused, two-factor sign-in, draft versions

Revision ID: 0013
Revises: 0012

- `submissions.consented_at`: when both consents were ticked (kept with a draft).
- `submissions.form_key`: the form an application came from; a form posted
  twice (a double tap, a retrying proxy) makes one application.
- `status_tokens.last_used_at`: a status link expires after STATUS_LINK_DAYS
  without use, not after it was made (existing links count from when made).
- Two-factor sign-in: each editor's authenticator secret and the last time
  step used, single-use recovery codes, and the admins' "required" switch.
- `interview_versions`: every saved state of a draft; for a published
  interview, the pending changes readers don't see until they are published.
- The outbox: several private links per email; which worker claimed an email;
  `mail_workers`, each worker's heartbeat.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox") as batch:
        # Several links in one email: "status:12 status:15 ...".
        batch.alter_column(
            "private_link", existing_type=sa.String(length=40), type_=sa.String(length=200)
        )
        batch.add_column(sa.Column("claimed_by", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("failing_since", sa.DateTime(), nullable=True))
    op.create_table(
        "mail_workers",
        sa.Column("name", sa.String(length=100), primary_key=True),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("trouble", sa.String(length=300), nullable=False),
    )
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("form_key", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("consented_at", sa.DateTime(), nullable=True))
        batch.create_unique_constraint("uq_submissions_form_key", ["form_key"])
    with op.batch_alter_table("status_tokens") as batch:
        batch.add_column(sa.Column("last_used_at", sa.DateTime(), nullable=True))
    tokens = sa.table(
        "status_tokens",
        sa.column("created_at", sa.DateTime),
        sa.column("last_used_at", sa.DateTime),
    )
    op.execute(tokens.update().values(last_used_at=tokens.c.created_at))
    with op.batch_alter_table("status_tokens") as batch:
        batch.alter_column("last_used_at", existing_type=sa.DateTime(), nullable=False)
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("totp_since", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_recovery_codes_user_id", "recovery_codes", ["user_id"])
    op.create_table(
        "interview_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "interview_id",
            sa.Integer(),
            sa.ForeignKey("interviews.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "author_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('saved', 'pending', 'published', 'discarded')", name="status_valid"
        ),
    )
    op.create_index("ix_interview_versions_interview_id", "interview_versions", ["interview_id"])
    with op.batch_alter_table("site_state") as batch:
        batch.add_column(
            sa.Column(
                "two_factor_required", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade():
    with op.batch_alter_table("site_state") as batch:
        batch.drop_column("two_factor_required")
    op.drop_index("ix_interview_versions_interview_id", table_name="interview_versions")
    op.drop_table("interview_versions")
    op.drop_index("ix_recovery_codes_user_id", table_name="recovery_codes")
    op.drop_table("recovery_codes")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_since")
        batch.drop_column("totp_secret")
    with op.batch_alter_table("status_tokens") as batch:
        batch.drop_column("last_used_at")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_constraint("uq_submissions_form_key", type_="unique")
        batch.drop_column("form_key")
        batch.drop_column("consented_at")
    op.drop_table("mail_workers")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("claimed_by")
        batch.drop_column("failing_since")
        batch.alter_column(
            "private_link", existing_type=sa.String(length=200), type_=sa.String(length=40)
        )
