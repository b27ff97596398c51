"""default questionnaire

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The questionnaire as it was when this migration was written: frozen here, so a
# later change to portal/questionnaire.py never changes what this migration does.
DEFAULT_QUESTIONS = [
    (
        "What does your business do, and who is it for?",
        "Two or three sentences a stranger would understand.",
        True,
    ),
    (
        "How did it get started?",
        "The moment you decided to do it, and what came right after.",
        True,
    ),
    (
        "What part does social media play in the business today?",
        "Sales, customer service, hiring, staying in touch: whatever is true for you.",
        True,
    ),
    (
        "What changed once you took social media seriously?",
        "Numbers are welcome, stories even more.",
        True,
    ),
    (
        "Which accomplishment are you proudest of?",
        "It doesn't have to be about social media.",
        False,
    ),
    (
        "How did you build your audience?",
        "What you posted, how often, who helped.",
        True,
    ),
    (
        "Who do you follow and connect with, and why?",
        "Peers, customers, suppliers, people from other fields.",
        False,
    ),
    (
        "How do you split your time between platforms?",
        "A rough share of your week per platform is perfect.",
        False,
    ),
    (
        "What worked, and what did not?",
        "One strategy that paid off and one you dropped.",
        True,
    ),
    (
        "What would you do differently if you started again?",
        "",
        False,
    ),
    (
        "What does one platform do for you that no other can?",
        "Name the platform and the thing only it does.",
        False,
    ),
    (
        "What lesson would you pass on to someone starting out?",
        "One piece of advice, in your own words.",
        True,
    ),
]

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
