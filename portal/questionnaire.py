"""The questionnaire: the default questions a new site starts with, and the
admins' changes to it (add, re-word, reorder, retire, restore; never delete).

Migration 0002 installs its own frozen copy of the defaults; the demo uses this one.
"""

from __future__ import annotations

from sqlalchemy import func, select

from .clock import utcnow
from .extensions import db
from .interviews import slugify
from .models import Question

# (wording, help text, required)
DEFAULT_QUESTIONS: list[tuple[str, str, bool]] = [
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


def question_slug(text: str, taken: set[str] | None = None) -> str:
    """An address for a new question, from its wording, used by no other."""
    base = slug = slugify(text)
    taken = taken if taken is not None else set(db.session.scalars(select(Question.slug)))
    n = 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def install_defaults(session, question_model) -> int:
    """Insert the default questions into an empty questionnaire; return how many."""
    if session.scalar(select(func.count()).select_from(question_model)):
        return 0
    taken: set[str] = set()
    for position, (text, help_text, required) in enumerate(DEFAULT_QUESTIONS):
        slug = question_slug(text, taken)
        taken.add(slug)
        session.add(
            question_model(
                position=position, text=text, slug=slug, help_text=help_text, required=required
            )
        )
    return len(DEFAULT_QUESTIONS)


def _active() -> list[Question]:
    return list(db.session.scalars(Question.active_query()))


def _next_position() -> int:
    last = db.session.scalar(select(func.max(Question.position)))
    return (last if last is not None else -1) + 1


def add_question(text: str, help_text: str, required: bool) -> Question:
    """Ask a new question, at the end of the questionnaire."""
    question = Question(
        text=text,
        slug=question_slug(text),
        help_text=help_text or "",
        required=required,
        position=_next_position(),
    )
    db.session.add(question)
    db.session.commit()
    return question


def edit_question(question: Question, text: str, help_text: str, required: bool) -> None:
    """Re-word a question; answers already given keep the wording they were asked under."""
    question.text, question.help_text, question.required = text, help_text or "", required
    db.session.commit()


def move_question(question: Question, direction: str) -> None:
    """Swap an active question with its neighbour above ("up") or below ("down")."""
    order = _active()
    if question not in order:
        return
    i = order.index(question)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(order):
        order[i], order[j] = order[j], order[i]
    for position, q in enumerate(order):
        q.position = position
    db.session.commit()


def retire_question(question: Question) -> None:
    """Stop asking a question; interviews that used it keep it."""
    question.retired_at = utcnow()
    db.session.commit()


def restore_question(question: Question) -> None:
    """Ask a retired question again, at the end."""
    question.retired_at = None
    question.position = _next_position()
    db.session.commit()
