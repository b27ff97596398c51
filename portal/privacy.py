"""Privacy: an applicant erases an unpublished application; an admin exports
everything held about an email address."""

from __future__ import annotations

import os

from sqlalchemy import delete, func, select

from . import photos
from .clock import utcnow
from .extensions import db
from .models import Note, OutboxEmail, StatusToken, Submission
from .workflow import Action, Role, State, WorkflowError, allowed_actions

ERASED = "(erased)"


class CannotErase(WorkflowError):
    pass


def _remove_photo(name: str | None) -> None:
    path = photos.path_of(name) if name else None
    if path:
        os.remove(path)


def erase(submission: Submission) -> None:
    """Erase the applicant's personal data and answers; keep the events without them.

    A published interview is not erased this way: the applicant asks for a
    takedown first. The application is withdrawn if it was still open.
    """
    if submission.state == State.PUBLISHED.value:
        raise CannotErase(
            "A published interview can't be erased from here: ask us to take it down first."
        )
    from .operations import APPLICANT, _move  # the state move, without emails

    if Action.WITHDRAW in allowed_actions(submission.state, Role.APPLICANT):
        _move(submission, Action.WITHDRAW, APPLICANT, message="Erased at the applicant's request.")
    address = submission.email.lower()
    _remove_photo(submission.photo)
    if submission.interview is not None:
        _remove_photo(submission.interview.photo)
        db.session.delete(submission.interview)
    for revision in list(submission.revisions):
        db.session.delete(revision)
    for event in submission.events:
        event.message, event.details = "", {}
    db.session.execute(delete(Note).where(Note.submission_id == submission.id))
    db.session.execute(delete(StatusToken).where(StatusToken.submission_id == submission.id))
    db.session.execute(delete(OutboxEmail).where(OutboxEmail.to_address == address))
    submission.name = submission.business = ERASED
    submission.email = f"erased-{submission.id}@erased.invalid"
    submission.website = submission.location = submission.industry = submission.pitch = ""
    submission.socials, submission.photo = {}, None
    submission.state_changed_at = utcnow()
    db.session.commit()


def export(email: str) -> dict:
    """Everything held about `email`, as plain data for a JSON download."""
    address = email.strip().lower()
    submissions = db.session.scalars(
        select(Submission).where(func.lower(Submission.email) == address).order_by(Submission.id)
    ).all()
    emails = db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.to_address == address).order_by(OutboxEmail.id)
    ).all()

    def when(value):
        return value.isoformat() + "Z" if value else None

    return {
        "email": address,
        "exported_at": when(utcnow()),
        "applications": [
            {
                "id": s.id,
                "state": s.state,
                "name": s.name,
                "email": s.email,
                "business": s.business,
                "website": s.website,
                "location": s.location,
                "industry": s.industry,
                "pitch": s.pitch,
                "social_profiles": s.socials,
                "photo": s.photo,
                "created_at": when(s.created_at),
                "submitted_at": when(s.submitted_at),
                "revisions": [
                    {
                        "number": r.number,
                        "created_at": when(r.created_at),
                        "answers": [
                            {"question": a.question_text, "answer": a.body} for a in r.answers
                        ],
                    }
                    for r in s.revisions
                ],
                "events": [
                    {
                        "action": e.action,
                        "from": e.from_state,
                        "to": e.to_state,
                        "message": e.message,
                        "at": when(e.created_at),
                    }
                    for e in s.events
                ],
                "interview": None
                if s.interview is None
                else {
                    "title": s.interview.title,
                    "address": s.interview.slug,
                    "published_at": when(s.interview.published_at),
                    "questions_and_answers": [
                        {"question": i.question, "answer_html": i.answer_html}
                        for i in s.interview.items
                    ],
                },
                "internal_notes": [
                    {"body": n.body, "at": when(n.created_at)} for n in s.notes if n.kind == "note"
                ],
            }
            for s in submissions
        ],
        "emails": [
            {
                "subject": e.subject,
                "status": e.status,
                "queued_at": when(e.created_at),
                "sent_at": when(e.sent_at),
                "text": e.text_body,
            }
            for e in emails
        ],
    }
