"""The only code that changes a submission's state.

Each call checks the move against `workflow`, records the event, queues the
emails in the outbox and commits, all in one transaction. Views, the CLI and
tests all come through here.
"""

from __future__ import annotations

import re
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from . import workflow
from .clock import utcnow
from .extensions import db
from .models import (
    Answer,
    Event,
    Interview,
    InterviewItem,
    Question,
    Revision,
    StatusToken,
    Submission,
    User,
)
from .notifications.emails import queue_for_event, status_link_again
from .sanitize import plain_to_html
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


def apply(
    profile: Profile, answers: dict[int, str], *, submit: bool = True
) -> tuple[Submission, str]:
    """Start an application (submit it, or save it as a draft).

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


def transition(
    submission: Submission,
    action: Action | str,
    actor: Actor,
    message: str = "",
    expected_version: int | None = None,
    when: datetime | None = None,
) -> Event:
    """Apply an action that changes state only (and its side effects)."""
    try:
        action = Action(action)
    except ValueError:
        raise workflow.IllegalTransition(f"There is no action called {action!r}.") from None
    if action in (Action.SAVE, Action.SUBMIT, Action.REVISE):
        raise workflow.IllegalTransition(
            f"“{workflow.ACTION_LABELS[action]}” comes with the application form."
        )
    with _atomic(submission.id):
        event = _move(submission, action, actor, message, expected_version)
        if action is Action.START_REVIEW and submission.assigned_to is None:
            submission.assigned_to = actor.user
        elif action is Action.APPROVE and submission.interview is None:
            submission.interview = draft_from(submission)
        elif action is Action.PUBLISH:
            submission.interview.published_at = when or event.created_at
        elif action is Action.UNPUBLISH:
            submission.interview.published_at = None
        return _commit(event)


def slugify(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "interview"


def unique_slug(base: str, exclude_id: int | None = None) -> str:
    slug, n = base, 2
    while True:
        query = select(Interview.id).where(Interview.slug == slug)
        if exclude_id is not None:
            query = query.where(Interview.id != exclude_id)
        if db.session.scalar(query) is None:
            return slug
        slug, n = f"{base}-{n}", n + 1


def draft_from(submission: Submission) -> Interview:
    """The editor's first draft: the latest answers, as they were written."""
    revision = submission.latest_revision
    interview = Interview(
        title=f"{submission.name} of {submission.business}",
        slug=unique_slug(slugify(f"{submission.name} {submission.business}")),
        intro_html="",
    )
    interview.items = [
        InterviewItem(
            position=a.position,
            question=a.question_text,
            answer_html=str(plain_to_html(a.body)),
            source_answer_id=a.id,
        )
        for a in (revision.answers if revision else [])
        if a.body
    ]
    return interview


def save_draft(
    interview: Interview,
    *,
    title: str,
    slug: str,
    intro_html: str,
    items: list[tuple[int, str]],
) -> None:
    """Save the editor's changes to the draft interview (sanitized by the form)."""
    interview.title = title
    interview.slug = slug
    interview.intro_html = intro_html
    by_id = {item.id: item for item in interview.items}
    for item_id, answer_html in items:
        if item_id in by_id:
            by_id[item_id].answer_html = answer_html
    db.session.commit()


def resend_status_links(email: str) -> int:
    """Queue a fresh status link for every application from `email`."""
    submissions = db.session.scalars(
        select(Submission).where(db.func.lower(Submission.email) == email.strip().lower())
    ).all()
    stamp = utcnow().isoformat()
    for submission in submissions:
        status_link_again(submission, f"resend:{submission.id}:{stamp}")
    db.session.commit()
    return len(submissions)
