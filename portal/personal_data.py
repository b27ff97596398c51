"""Personal data: what erasing an application removes, and everything held about
an email address for an export. The erasure itself is `operations.erase`."""

from __future__ import annotations

import os
from contextlib import suppress

from sqlalchemy import delete, func, select

from . import photos
from .clock import utcnow
from .extensions import db
from .models import Note, OutboxEmail, StatusToken, Submission
from .workflow import WorkflowError

ERASED = "(erased)"


class CannotErase(WorkflowError):
    pass


def remove_photos(names: list[str]) -> None:
    """Delete the files of erased photos: after the commit, so a rollback keeps them."""
    for name in names:
        path = photos.path_of(name)
        if path:
            with suppress(FileNotFoundError):
                os.remove(path)


def scrub(submission: Submission) -> list[str]:
    """Remove the applicant's personal data and answers from `submission`, in the
    session: the caller (`operations.erase`) records the move and commits, then
    removes the photo files named in the list returned."""
    address = submission.email.lower()
    photo_names = [submission.photo] if submission.photo else []
    if submission.interview is not None:
        if submission.interview.photo:
            photo_names.append(submission.interview.photo)
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
    return photo_names


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
                "id": submission.id,
                "state": submission.state,
                "name": submission.name,
                "email": submission.email,
                "business": submission.business,
                "website": submission.website,
                "location": submission.location,
                "industry": submission.industry,
                "pitch": submission.pitch,
                "social_profiles": submission.socials,
                "photo": submission.photo,
                "created_at": when(submission.created_at),
                "submitted_at": when(submission.submitted_at),
                "revisions": [
                    {
                        "number": r.number,
                        "created_at": when(r.created_at),
                        "answers": [
                            {"question": a.question_text, "answer": a.body} for a in r.answers
                        ],
                    }
                    for r in submission.revisions
                ],
                "events": [
                    {
                        "action": e.action,
                        "from": e.from_state,
                        "to": e.to_state,
                        "message": e.message,
                        "at": when(e.created_at),
                    }
                    for e in submission.events
                ],
                "interview": None
                if submission.interview is None
                else {
                    "title": submission.interview.title,
                    "address": submission.interview.slug,
                    "published_at": when(submission.interview.published_at),
                    "questions_and_answers": [
                        {"question": i.question, "answer_html": i.answer_html}
                        for i in submission.interview.items
                    ],
                },
                "internal_notes": [
                    {"body": n.body, "at": when(n.created_at)}
                    for n in submission.notes
                    if n.kind == "note"
                ],
            }
            for submission in submissions
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
