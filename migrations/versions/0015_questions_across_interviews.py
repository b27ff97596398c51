"""every answer to one question, across the interviews

Revision ID: 0015
Revises: 0014

- `questions.slug`: the question's address under /questions/, made from its
  first wording and kept when it is re-worded or retired.
- `interview_items.question_id`: the questionnaire question a pair answers
  (none for a pair an editor wrote), filled in from the answer it was made
  from; indexed with the interview for the question pages.
"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80].strip("-") or "question"


def upgrade():
    with op.batch_alter_table("questions") as batch:
        batch.add_column(sa.Column("slug", sa.String(length=100), nullable=True))
    conn = op.get_bind()
    taken = set()
    for question_id, text in conn.execute(sa.text("SELECT id, text FROM questions ORDER BY id")):
        base = slug = _slug(text)
        n = 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        conn.execute(
            sa.text("UPDATE questions SET slug = :slug WHERE id = :id"),
            {"slug": slug, "id": question_id},
        )
    with op.batch_alter_table("questions") as batch:
        batch.alter_column("slug", existing_type=sa.String(length=100), nullable=False)
        batch.create_unique_constraint("uq_questions_slug", ["slug"])
    with op.batch_alter_table("interview_items") as batch:
        batch.add_column(sa.Column("question_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_interview_items_question_id_questions",
            "questions",
            ["question_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_interview_items_question", ["question_id", "interview_id"])
    conn.execute(
        sa.text(
            "UPDATE interview_items SET question_id = "
            "(SELECT question_id FROM answers WHERE answers.id = interview_items.source_answer_id) "
            "WHERE source_answer_id IS NOT NULL"
        )
    )


def downgrade():
    with op.batch_alter_table("interview_items") as batch:
        batch.drop_index("ix_interview_items_question")
        batch.drop_constraint("fk_interview_items_question_id_questions", type_="foreignkey")
        batch.drop_column("question_id")
    with op.batch_alter_table("questions") as batch:
        batch.drop_constraint("uq_questions_slug", type_="unique")
        batch.drop_column("slug")
