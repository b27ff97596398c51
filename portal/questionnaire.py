"""The default questionnaire, installed once by a migration.

Admins change the questionnaire in the portal afterwards; this list is the
starting point and is not edited once released (a migration depends on it).
"""

from __future__ import annotations

from sqlalchemy import func, select

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


def install_defaults(session, question_model) -> int:
    """Insert the default questions into an empty questionnaire; return how many."""
    if session.scalar(select(func.count()).select_from(question_model)):
        return 0
    for position, (text, help_text, required) in enumerate(DEFAULT_QUESTIONS):
        session.add(
            question_model(position=position, text=text, help_text=help_text, required=required)
        )
    return len(DEFAULT_QUESTIONS)
