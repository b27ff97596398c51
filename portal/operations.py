"""The only code that changes a submission's state.

Each call checks the move against `workflow`, records the event, queues the
emails in the outbox and commits, all in one transaction. Views, the CLI and
tests all come through here.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from . import interviews, share_image, workflow
from .clock import utcnow
from .extensions import db
from .models import (
    AfterRequest,
    Answer,
    Event,
    Note,
    Question,
    ResendRequest,
    Revision,
    StatusToken,
    Submission,
    User,
)
from .notifications.emails import queue_for_event, status_link_again, withdraw_announcement
from .publishing import search
from .workflow import Action, Role, State, WorkflowError


@dataclass(frozen=True)
class Actor:
    """Who is acting: a role, and the user when it is an editor or admin."""

    role: Role
    user: User | None = None

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(Role(user.role), user)


APPLICANT = Actor(Role.APPLICANT)
SYSTEM = Actor(Role.SYSTEM)


class Conflict(WorkflowError):
    """Someone else changed the submission first; nothing of ours was saved."""

    def __init__(self, submission_id: int, last_event: Event | None = None):
        self.submission_id = submission_id
        self.last_event = last_event
        who = "Someone"
        what = "changed this submission"
        if last_event is not None:
            who = last_event.actor.name if last_event.actor else last_event.actor_role.title()
            label = workflow.ACTION_LABELS[Action(last_event.action)].lower()
            what = f"chose “{label}” at {last_event.created_at:%H:%M} UTC"
        super().__init__(
            f"{who} {what} while you were working on it, so your change was not "
            "applied. Nothing you typed is lost: check the submission and apply it again."
        )


@dataclass
class Profile:
    name: str
    email: str
    business: str
    website: str = ""
    location: str = ""
    industry: str = ""
    pitch: str = ""
    socials: dict[str, str] = field(default_factory=dict)
    photo: str | None = None  # a stored photo's name; None keeps the current one


def _last_event(submission_id: int) -> Event | None:
    return db.session.scalar(
        select(Event).where(Event.submission_id == submission_id).order_by(Event.id.desc()).limit(1)
    )


def _move(
    submission: Submission,
    action: Action,
    actor: Actor,
    message: str = "",
    expected_version: int | None = None,
    details: dict | None = None,
) -> Event:
    """Check and apply one transition in the session; the caller commits."""
    if expected_version is not None and submission.version != expected_version:
        raise Conflict(submission.id, _last_event(submission.id))
    source = submission.state
    target = workflow.check(action, source, actor.role, message)
    now = utcnow()
    submission.state = target.value
    submission.state_changed_at = now
    event = Event(
        submission=submission,
        actor=actor.user,
        actor_role=actor.role.value,
        action=action.value,
        from_state=source,
        to_state=target.value,
        message=(message or "").strip(),
        details=details or {},
        created_at=now,
    )
    db.session.add(event)
    return event


def _commit(event: Event) -> Event:
    """Flush, queue the event's emails in the same transaction, commit."""
    db.session.flush()
    queue_for_event(event)
    db.session.commit()
    return event


@contextmanager
def _atomic(submission_id: int | None):
    """All or nothing: any failure rolls back; a lost race becomes a Conflict."""
    try:
        yield
    except StaleDataError:
        db.session.rollback()
        raise Conflict(submission_id, _last_event(submission_id)) from None
    except BaseException:
        db.session.rollback()
        raise


def _write_answers(revision: Revision, answers: dict[int, str]) -> None:
    questions = db.session.scalars(Question.active_query()).all()
    revision.answers = [
        Answer(
            question_id=q.id,
            position=i,
            question_text=q.text,
            body=(answers.get(q.id) or "").strip(),
        )
        for i, q in enumerate(questions)
    ]


def _write_profile(submission: Submission, profile: Profile) -> None:
    for name in ("name", "email", "business", "website", "location", "industry", "pitch"):
        setattr(submission, name, (getattr(profile, name) or "").strip())
    submission.socials = {k: v for k, v in profile.socials.items() if v}
    if profile.photo:
        submission.photo = profile.photo


def open_application(email: str) -> Submission | None:
    """An application from `email` that is still on its way (not closed)."""
    closed = (State.REJECTED.value, State.WITHDRAWN.value, State.PUBLISHED.value)
    return db.session.scalar(
        select(Submission)
        .where(
            db.func.lower(Submission.email) == email.strip().lower(),
            Submission.state.not_in(closed),
        )
        .limit(1)
    )


def apply(
    profile: Profile,
    answers: dict[int, str],
    *,
    submit: bool = True,
    spam_reasons: list[str] | None = None,
) -> tuple[Submission, str]:
    """Start an application (submit it, or save it as a draft).

    What the spam rules caught is submitted and moved to `spam` at once, by the
    system, with the reasons on record: kept for an editor to release, never lost.
    Returns the submission and a status token in clear, for the receipt page.
    """
    action = Action.SUBMIT if submit else Action.SAVE
    workflow.check(action, workflow.NEW, Role.APPLICANT)
    submission = Submission(state=State.DRAFT.value)
    _write_profile(submission, profile)
    revision = Revision(number=1)
    submission.revisions.append(revision)
    _write_answers(revision, answers)
    with _atomic(None):
        db.session.add(submission)
        token = StatusToken.issue(submission)
        # The event records a move from "(new)", so the state is set by _move.
        submission.state = None
        event = _move(submission, action, APPLICANT)
        if submit:
            submission.submitted_at = event.created_at
        if submit and spam_reasons:
            # Not _commit: the submit's own emails are queued below, seeing the spam state.
            _move(submission, Action.MARK_SPAM, SYSTEM, message="; ".join(spam_reasons))
        _commit(event)
    return submission, token


def revise(
    submission: Submission,
    profile: Profile,
    answers: dict[int, str],
    expected_version: int | None = None,
) -> Event:
    """The applicant sends a new revision after a request for changes."""
    with _atomic(submission.id):
        event = _move(submission, Action.REVISE, APPLICANT, expected_version=expected_version)
        _write_profile(submission, profile)
        revision = Revision(number=len(submission.revisions) + 1)
        submission.revisions.append(revision)
        _write_answers(revision, answers)
        return _commit(event)


def continue_draft(
    submission: Submission,
    profile: Profile,
    answers: dict[int, str],
    *,
    submit: bool,
    spam_reasons: list[str] | None = None,
) -> Event:
    """Save a draft again, or submit it. Until it is submitted, the draft's one
    revision is the applicant's work in progress and is updated in place."""
    action = Action.SUBMIT if submit else Action.SAVE
    with _atomic(submission.id):
        event = _move(submission, action, APPLICANT)
        _write_profile(submission, profile)
        _write_answers(submission.latest_revision, answers)
        if submit:
            submission.submitted_at = event.created_at
            if spam_reasons:
                _move(submission, Action.MARK_SPAM, SYSTEM, message="; ".join(spam_reasons))
        return _commit(event)


DRAFT_KEPT_DAYS = 30
DRAFT_REMINDER_DAYS = 25


def purge_drafts(now: datetime | None = None) -> tuple[int, int]:
    """Remind the owners of drafts untouched for 25 days; delete those untouched
    for 30 (their personal data with them). Returns (reminded, deleted)."""
    from .notifications.emails import draft_reminder

    now = now or utcnow()
    drafts = db.session.scalars(
        select(Submission).where(
            Submission.state == State.DRAFT.value,
            Submission.state_changed_at < now - timedelta(days=DRAFT_REMINDER_DAYS),
        )
    ).all()
    reminded = deleted = 0
    for draft in drafts:
        if draft.state_changed_at < now - timedelta(days=DRAFT_KEPT_DAYS):
            db.session.delete(draft)
            deleted += 1
        else:
            reminded += draft_reminder(
                draft, deletes_on=draft.state_changed_at + timedelta(days=DRAFT_KEPT_DAYS)
            )
    db.session.commit()
    return reminded, deleted


SEARCH_REINDEX = (Action.APPROVE, Action.PUBLISH, Action.UNPUBLISH)


def transition(
    submission: Submission,
    action: Action | str,
    actor: Actor,
    message: str = "",
    expected_version: int | None = None,
    when: datetime | None = None,
    answer_requests: dict[int, str] | None = None,
    item_requests: dict[int, str] | None = None,
) -> Event:
    """Apply an action that changes state only (and its side effects).

    `when` schedules a publication; `answer_requests` ties a request for changes
    (or an applicant's request for a fix) to specific answers, by question id.
    """
    try:
        action = Action(action)
    except ValueError:
        raise workflow.IllegalTransition(f"There is no action called {action!r}.") from None
    if action in (Action.SAVE, Action.SUBMIT, Action.REVISE):
        raise workflow.IllegalTransition(
            f"“{workflow.ACTION_LABELS[action]}” comes with the application form."
        )
    with _atomic(submission.id):
        requests = {str(k): v.strip() for k, v in (answer_requests or {}).items() if v.strip()}
        fixes = {str(k): v.strip() for k, v in (item_requests or {}).items() if v.strip()}
        details = {}
        if requests:
            details["answers"] = requests  # by question id: what to change
        if fixes:
            details["items"] = fixes  # by interview item id: what the applicant wants fixed
        event = _move(submission, action, actor, message, expected_version, details or None)
        if action is Action.START_REVIEW and submission.assigned_to is None:
            submission.assigned_to = actor.user
        elif action is Action.APPROVE and submission.interview is None:
            submission.interview = interviews.draft_from(submission)
        elif action is Action.PUBLISH:
            submission.interview.published_at = when or event.created_at
            share_image.ensure(submission.interview)
        elif action is Action.UNPUBLISH:
            submission.interview.published_at = None
            withdraw_announcement(submission)  # a scheduled one never went live
        if submission.interview is not None and action in SEARCH_REINDEX:
            db.session.flush()
            search.index(submission.interview)
        return _commit(event)


def request_status_links(email: str) -> None:
    """Note a request to email the status links again (answered by the mail worker)."""
    db.session.add(ResendRequest(email=email.strip().lower()[:254]))
    db.session.commit()


def answer_resend_requests(limit: int = 100) -> int:
    """Queue the status links asked for; each request row is deleted once answered."""
    requests = db.session.scalars(
        select(ResendRequest).order_by(ResendRequest.id).limit(limit)
    ).all()
    for row in requests:
        resend_status_links(row.email, commit=False)
        db.session.delete(row)
    db.session.commit()
    return len(requests)


def resend_status_links(email: str, commit: bool = True) -> int:
    """Queue a fresh status link for every application from `email`."""
    submissions = db.session.scalars(
        select(Submission).where(db.func.lower(Submission.email) == email.strip().lower())
    ).all()
    stamp = utcnow().isoformat()
    for submission in submissions:
        status_link_again(submission, f"resend:{submission.id}:{stamp}")
    if commit:
        db.session.commit()
    return len(submissions)


def assign(
    submission: Submission,
    assignee: User | None,
    by: User,
    expected_version: int | None = None,
) -> None:
    """Give the submission to an editor (or to nobody); noted in the internal thread."""
    with _atomic(submission.id):
        if expected_version is not None and submission.version != expected_version:
            raise Conflict(submission.id, _last_event(submission.id))
        if assignee is not None and not assignee.active:
            raise workflow.NotPermitted(f"{assignee.name} is deactivated.")
        submission.assigned_to = assignee
        body = f"Assigned to {assignee.name}" if assignee else "Unassigned"
        submission.notes.append(Note(author=by, kind="assign", body=body))
        db.session.commit()


def add_note(submission: Submission, author: User, body: str) -> Note:
    """An internal note: editors only, never shown or mailed to the applicant."""
    note = Note(author=author, kind="note", body=body.strip())
    submission.notes.append(note)
    db.session.commit()
    return note


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)


def bulk(
    submission_ids: list[int], action: str, actor: Actor, assignee: User | None = None
) -> BulkResult:
    """Apply one action (or an assignment) to many submissions; report what was skipped."""
    result = BulkResult()
    for submission_id in submission_ids:
        submission = db.session.get(Submission, submission_id)
        if submission is None or submission.state == State.DRAFT.value:
            result.skipped.append((submission_id, "not found"))
            continue
        try:
            if action == "assign":
                assign(submission, assignee, actor.user)
            else:
                transition(submission, action, actor)
            result.done.append(submission_id)
        except WorkflowError as error:
            result.skipped.append((submission_id, str(error)))
    return result


def ask_after_publication(submission: Submission, kind: str, message: str) -> AfterRequest:
    """The interviewee asks for a correction or a takedown; the editors hear of it."""
    from .notifications.emails import after_request_received

    if submission.state != State.PUBLISHED.value:
        raise workflow.IllegalTransition("Corrections and takedowns are for published interviews.")
    if kind not in ("correction", "takedown") or not message.strip():
        raise workflow.MessageRequired("Tell us what you would like us to change or remove.")
    request = AfterRequest(kind=kind, message=message.strip())
    submission.after_requests.append(request)
    db.session.flush()
    after_request_received(request)
    db.session.commit()
    return request


def handle_after_request(request: AfterRequest, by: User) -> None:
    """An editor marks a correction or takedown request as dealt with."""
    if request.handled_at is None:
        request.handled_at, request.handled_by = utcnow(), by
        db.session.commit()
