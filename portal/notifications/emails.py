"""What each event mails to whom: one small function per event of DESIGN.md."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import delete, select

from ..extensions import db
from ..models import Event, OutboxEmail, StatusToken, Submission, User
from ..workflow import Action, State
from .outbox import public_url, queue

Handler = Callable[[Event], None]
_HANDLERS: dict[Action, Handler] = {}


def on(*actions: Action):
    def register(handler: Handler) -> Handler:
        for action in actions:
            _HANDLERS[action] = handler
        return handler

    return register


def queue_for_event(event: Event) -> None:
    """Queue every email `event` causes, in the current transaction."""
    handler = _HANDLERS.get(Action(event.action))
    if handler is not None:
        handler(event)


def _applicant(submission: Submission) -> list[tuple[str, str]]:
    return [(submission.name, submission.email)]


def _editors_for(submission: Submission) -> list[tuple[str, str]]:
    """The assigned editor, or every active editor when nobody is assigned."""
    if submission.assigned_to is not None and submission.assigned_to.active:
        return [(submission.assigned_to.name, submission.assigned_to.email)]
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.id))
    return [(u.name, u.email) for u in users]


def _status_link(submission: Submission) -> str:
    # Only hashes are stored, so each email carries a token of its own.
    return public_url("submissions.status", token=StatusToken.issue(submission))


def _editor_link(submission: Submission) -> str:
    return public_url("review.submission", submission_id=submission.id)


def _key(event: Event) -> str:
    return f"event:{event.id}"


@on(Action.SAVE)
def saved(event: Event) -> None:
    s = event.submission
    queue(
        "saved",
        _applicant(s),
        "Your application is saved",
        event=event,
        key=_key(event),
        submission=s,
        status_link=_status_link(s),
    )


@on(Action.SUBMIT)
def submitted(event: Event) -> None:
    s = event.submission
    queue(
        "received",
        _applicant(s),
        "We received your application",
        event=event,
        key=_key(event),
        submission=s,
        status_link=_status_link(s),
        response_days=current_app.config["RESPONSE_DAYS"],
    )
    if s.state == State.SPAM.value:
        return  # caught by the spam rules: no alert; it waits in the Spam tab
    editors = db.session.scalars(
        select(User).where(User.active.is_(True), User.notify_new == "each").order_by(User.id)
    )
    queue(
        "new_application",
        [(u.name, u.email) for u in editors],
        f"New application: {s.business}",
        event=event,
        key=_key(event),
        submission=s,
        editor_link=_editor_link(s),
    )


@on(Action.REVISE, Action.SIGN_OFF, Action.ASK_FIX, Action.WITHDRAW)
def applicant_acted(event: Event) -> None:
    s = event.submission
    subjects = {
        Action.REVISE: f"Revised application: {s.business}",
        Action.SIGN_OFF: f"Proof signed off: {s.business}",
        Action.ASK_FIX: f"Fix requested on the proof: {s.business}",
        Action.WITHDRAW: f"Application withdrawn: {s.business}",
    }
    queue(
        "applicant_update",
        _editors_for(s),
        subjects[Action(event.action)],
        event=event,
        key=_key(event),
        submission=s,
        action=event.action,
        message=event.message,
        editor_link=_editor_link(s),
    )


@on(Action.REQUEST_CHANGES, Action.REJECT, Action.UNPUBLISH, Action.APPROVE)
def decided(event: Event) -> None:
    s = event.submission
    subjects = {
        Action.REQUEST_CHANGES: "A few changes to your application",
        Action.REJECT: "About your application",
        Action.UNPUBLISH: "Your interview is offline for now",
        Action.APPROVE: "Your application is approved",
    }
    queue(
        event.action,
        _applicant(s),
        subjects[Action(event.action)],
        event=event,
        key=_key(event),
        submission=s,
        message=event.message,
        status_link=_status_link(s),
    )


@on(Action.SEND_PROOF)
def proof_sent(event: Event) -> None:
    s = event.submission
    queue(
        "send_proof",
        _applicant(s),
        "Your interview is ready for your sign-off",
        event=event,
        key=_key(event),
        submission=s,
        message=event.message,
        status_link=_status_link(s),
    )


@on(Action.PUBLISH)
def published(event: Event) -> None:
    s = event.submission
    interview = s.interview
    link = public_url("publishing.interview", slug=interview.slug)
    # Announced when it goes live, not before: a scheduled interview waits.
    queue(
        "publish",
        _applicant(s),
        "Your interview is live",
        event=event,
        key=_key(event),
        deliver_after=interview.published_at,
        submission=s,
        interview=interview,
        link=link,
        share_lines=share_lines(s, interview, link),
        share_image=public_url("publishing.photo", name=interview.share_image)
        if interview.share_image
        else None,
    )


def withdraw_announcement(submission: Submission) -> int:
    """Drop the "you're live" email of `submission` that is still waiting for its
    publication time: the interview was taken back before it went live."""
    events = select(Event.id).where(Event.submission_id == submission.id)
    return db.session.execute(
        delete(OutboxEmail).where(
            OutboxEmail.kind == "publish",
            OutboxEmail.status == "pending",
            OutboxEmail.event_id.in_(events),
        )
    ).rowcount


def share_lines(submission: Submission, interview, link: str) -> list[tuple[str, str]]:
    """A ready-to-post line for each network the interviewee is on."""
    line = f"I talked to {{site}} about how {submission.business} uses social media: {link}"
    text = line.format(site=current_app.config["SITE_NAME"])
    networks = [label for label, _url in submission.social_links] or ["Any network"]
    return [(label, text) for label in networks]


def status_link_again(submission: Submission, cause: str) -> None:
    """The status link, sent again on request (not caused by a transition)."""
    queue(
        "status_link",
        _applicant(submission),
        "Your status link",
        key=cause,
        submission=submission,
        status_link=_status_link(submission),
    )


def queue_digests(day: date) -> int:
    """Queue, for each editor who chose a daily digest, the applications of `day`.

    Keyed by user and day, so running it twice on one day sends once.
    """
    start = datetime.combine(day, time.min)
    submissions = db.session.scalars(
        select(Submission)
        .where(
            Submission.submitted_at >= start, Submission.submitted_at < start + timedelta(days=1)
        )
        .order_by(Submission.submitted_at)
    ).all()
    if not submissions:
        return 0
    items = [(s, _editor_link(s)) for s in submissions]
    readers = db.session.scalars(
        select(User).where(User.active.is_(True), User.notify_new == "digest").order_by(User.id)
    )
    queued = 0
    for user in readers:
        row = queue(
            "digest",
            [(user.name, user.email)],
            f"{len(items)} new application{'s' if len(items) != 1 else ''} on {day:%-d %B}",
            key=f"digest:{user.id}:{day.isoformat()}",
            day=day,
            items=items,
        )
        queued += row is not None
    return queued


def draft_reminder(submission: Submission, deletes_on) -> int:
    """Remind an applicant of a draft about to be deleted (once per untouched spell)."""
    row = queue(
        "draft_reminder",
        _applicant(submission),
        "Your saved application will be deleted soon",
        key=f"draft-reminder:{submission.id}:{submission.state_changed_at.isoformat()}",
        submission=submission,
        status_link=_status_link(submission),
        deletes_on=deletes_on,
    )
    return 1 if row is not None else 0


def after_request_received(request) -> None:
    """A correction or takedown request: to the assigned editor (all if none)."""
    s = request.submission
    queue(
        "after_request",
        _editors_for(s),
        f"{request.kind.title()} requested: {s.business}",
        key=f"after-request:{request.id}",
        submission=s,
        request=request,
        editor_link=_editor_link(s),
    )
