"""default questionnaire

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from portal.questionnaire import DEFAULT_QUESTIONS

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

questions = sa.table(
    "questions",
    sa.column("id", sa.Integer),
    sa.column("position", sa.Integer),
    sa.column("text", sa.String),
    sa.column("help_text", sa.Text),
    sa.column("required", sa.Boolean),
    sa.column("created_at", sa.DateTime),
)


def upgrade():
    bind = op.get_bind()
    if bind.execute(sa.select(sa.func.count()).select_from(questions)).scalar():
        return
    now = datetime.now(UTC).replace(tzinfo=None)
    op.bulk_insert(
        questions,
        [
            {
                "position": position,
                "text": text,
                "help_text": help_text,
                "required": required,
                "created_at": now,
            }
            for position, (text, help_text, required) in enumerate(DEFAULT_QUESTIONS)
        ],
    )


def downgrade():
    op.execute(questions.delete())
