"""Personal data: what erasing an application removes, and everything held about
an email address for an export. The erasure itself is `operations.erase`."""

from __future__ import annotations

from markupsafe import escape
from sqlalchemy import delete, func, or_, select

from . import newsletter, photos, search
from .clock import utcnow
from .extensions import db
from .models import (
    AfterRequest,
    Event,
    Mailing,
    Note,
    Opinion,
    OutboxEmail,
    StatusToken,
    Submission,
    Subscriber,
)
from .workflow import WorkflowError

ERASED = "(erased)"


class CannotErase(WorkflowError):
    pass


def is_erased(submission: Submission) -> bool:
    return submission.email == _erased_address(submission)


def _erased_address(submission: Submission) -> str:
    return f"erased-{submission.id}@erased.invalid"


def scrub(submission: Submission) -> None:
    """Remove every copy of the applicant's personal data held for `submission`,
    in the session: the caller (`operations.erase`) records the move and commits.

    Rows: the profile overwritten; answers (to follow-up questions too), the
    interview and its search entry,
    notes, second opinions, requests after publication and status links deleted; event messages
    blanked; the emails about this application deleted (the applicant's and the
    editors' copies) and the person's details struck from the daily digests that
    listed it. Files: the
    photo, the interview's photo and its share card (and any photo of a saved
    draft version), deleted once this commits.
    """
    photos.discard(submission.photo)
    interview = submission.interview
    if interview is not None:
        photos.discard(interview.photo, interview.share_image)
        for version in interview.versions:  # every saved state of the draft, and its photo
            photos.discard(version.content.get("photo"))
        doc = search.document(interview)
        search.forget(interview.id)
        _strike_from_newsletters(submission, interview)
        db.session.delete(interview)
        db.session.flush()
        # "Did you mean" forgets the words only they used (their name, say).
        search.forget_words(doc, utcnow())
    for revision in list(submission.revisions):
        db.session.delete(revision)
    for question in list(submission.follow_ups):  # the editors' questions and their answers
        db.session.delete(question)
    for event in submission.events:
        event.message, event.details = "", {}
    _strike_from_emails(submission)
    db.session.execute(delete(Note).where(Note.submission_id == submission.id))
    db.session.execute(delete(Opinion).where(Opinion.submission_id == submission.id))
    db.session.execute(delete(AfterRequest).where(AfterRequest.submission_id == submission.id))
    db.session.execute(delete(StatusToken).where(StatusToken.submission_id == submission.id))
    submission.name = submission.business = ERASED
    submission.email = _erased_address(submission)
    submission.website = submission.location = submission.industry = submission.pitch = ""
    submission.socials, submission.photo = {}, None
    submission.state_changed_at = utcnow()


def _strike_from_emails(submission: Submission) -> None:
    """Delete the emails about this application; strike it from digests.

    Only this application's: the same person's other applications keep theirs.
    """
    events = select(Event.id).where(Event.submission_id == submission.id)
    requests = [f"after-request:{r.id}:%" for r in submission.after_requests]
    about_it = or_(
        OutboxEmail.submission_id == submission.id,
        OutboxEmail.event_id.in_(events),
        OutboxEmail.private_link == f"status:{submission.id}",
        OutboxEmail.private_link == f"follow-ups:{submission.id}",
        OutboxEmail.dedup_key.like(f"resend:{submission.id}:%"),
        OutboxEmail.dedup_key.like(f"draft-reminder:{submission.id}:%"),
        *(OutboxEmail.dedup_key.like(key) for key in requests),
    )
    db.session.execute(delete(OutboxEmail).where(about_it))
    details = [v for v in (submission.name, submission.business, submission.email) if v]
    if not details:
        return
    listed = or_(*(OutboxEmail.text_body.contains(value) for value in details))
    for digest in db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.kind == "digest", listed)
    ):
        for value in details:
            digest.text_body = digest.text_body.replace(value, ERASED)
            digest.html_body = digest.html_body.replace(str(escape(value)), ERASED)


def _strike_from_newsletters(submission: Submission, interview) -> None:
    """The newsletter issue of this interview goes, with its copies (sent or
    not); a weekly digest that listed it keeps the others, with this one's
    title, name and business struck out."""
    issues = list(
        db.session.scalars(select(Mailing.id).where(Mailing.interview_id == interview.id))
    )
    if issues:
        db.session.execute(delete(OutboxEmail).where(OutboxEmail.mailing_id.in_(issues)))
        db.session.execute(delete(Mailing).where(Mailing.id.in_(issues)))
    details = [v for v in (interview.title, submission.name, submission.business) if v]
    listed = or_(*(Mailing.text_body.contains(value) for value in details))
    for digest in db.session.scalars(select(Mailing).where(Mailing.kind == "weekly", listed)):
        for value in details:
            digest.text_body = digest.text_body.replace(value, ERASED)
            digest.html_body = digest.html_body.replace(str(escape(value)), ERASED)


def export(email: str) -> dict:
    """Everything held about `email`, as plain data for a JSON download."""
    address = email.strip().lower()
    submissions = db.session.scalars(
        select(Submission).where(func.lower(Submission.email) == address).order_by(Submission.id)
    ).all()
    emails = db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.to_address == address).order_by(OutboxEmail.id)
    ).all()
    subscriber = db.session.scalar(select(Subscriber).where(Subscriber.email == address))

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
                # Asked of them alone; an answer saved but not sent is theirs too.
                "follow_up_questions": [
                    {
                        "question": f.question,
                        "answer": f.answer,
                        "declined": f.declined,
                        "asked_at": when(f.asked_event.created_at),
                        "sent_at": when(f.sent_at),
                    }
                    for f in submission.follow_ups
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
                "second_opinions": [
                    {
                        "recommendation": o.verdict,
                        "comment": o.comment,
                        "at": when(o.answered_at),
                    }
                    for o in submission.opinions
                    if o.answered_at is not None
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
                # A newsletter's copy is its issue's text, the same for everyone.
                "text": e.text_body or (newsletter.bodies(e.mailing_id)[0] if e.mailing_id else ""),
            }
            for e in emails
        ],
        "newsletter": None
        if subscriber is None
        else {
            "status": subscriber.status,
            "cadence": subscriber.cadence,
            "asked_at": when(subscriber.asked_at),
            "confirmed_at": when(subscriber.confirmed_at),
            "left_at": when(subscriber.left_at),
            "bounce": subscriber.bounce,
        },
    }


def checkpoint() -> None:
    """On SQLite, copy the write-ahead log into the database file and empty it:
    secure_delete overwrites erased rows in the file, but the log keeps the
    pages as they were until a checkpoint, which a busy site may not reach for
    long. (PostgreSQL's old row versions go at its next vacuum.)"""
    if db.engine.dialect.name != "sqlite":
        return
    raw = db.engine.raw_connection()
    try:
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
