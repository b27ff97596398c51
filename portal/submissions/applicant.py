"""What the applicant's status page shows: how long we have taken, what happened
(never the editors' internal notes), and the proof beside their own words."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup
from sqlalchemy import select

from ..clock import utcnow
from ..diffs import word_diff
from ..extensions import db
from ..filters import local
from ..models import Event, OutboxEmail, Submission
from ..notifications.emails import pointed
from ..sanitize import strip_tags
from ..workflow import LABELS, Action, State

# Their messages are internal: the spam rules' reasons, an admin's reason to skip.
PRIVATE_MESSAGES = {Action.MARK_SPAM.value, Action.SKIP_SIGNOFF.value}
WAITING_ON_US = {State.SUBMITTED, State.IN_REVIEW, State.SPAM}


@dataclass
class Waiting:
    day: int
    promised: int

    @property
    def late(self) -> bool:
        return self.day > self.promised


def waiting(submission: Submission, promised_days: int) -> Waiting | None:
    """Which day of the promised answer time this is, while the move is ours."""
    if State(submission.state) not in WAITING_ON_US or submission.submitted_at is None:
        return None
    day = (utcnow().date() - submission.submitted_at.date()).days + 1
    return Waiting(day=day, promised=promised_days)


@dataclass
class Request:
    """The editors' latest request for changes: their message, and their notes
    on answers as {question id: note} and as (question, note) pairs."""

    message: str
    by_question: dict[int, str]
    pointed: list[tuple[str, str]]


def latest_request(submission: Submission) -> Request | None:
    asked = [e for e in submission.events if e.action == Action.REQUEST_CHANGES.value]
    if not asked:
        return None
    return Request(asked[-1].message, asked[-1].answer_requests, pointed(asked[-1]))


@dataclass
class Entry:
    at: datetime
    kind: str  # "event" or "email"
    text: str  # for an event, what the applicant reads about it
    message: str = ""
    notes: dict = field(default_factory=dict)  # their fix requests, by interview item id


# What the applicant did, in their words; the rest is told by the state it led to.
YOU_DID = {
    Action.SAVE.value: "You saved your application",
    Action.SUBMIT.value: "You sent your application",
    Action.REVISE.value: "You sent your revised answers",
    Action.ANSWER_FOLLOW_UPS.value: "You sent your answers to our questions",
    Action.SIGN_OFF.value: "You signed the proof off",
    Action.ASK_FIX.value: "You asked us to fix the proof",
    Action.WITHDRAW.value: "You withdrew your application",
}


def _what_happened(event: Event) -> str:
    if event.actor_role == "applicant" and event.action in YOU_DID:
        return YOU_DID[event.action]
    scheduled = (event.details or {}).get("scheduled_for")
    if event.action == Action.PUBLISH.value and scheduled:
        return f"Scheduled to go live {local(scheduled)}"
    if event.action == Action.ASK_FOLLOW_UPS.value:
        return "We asked you a few more questions"
    if event.action == Action.STOP_FOLLOW_UPS.value:
        return "We went on without the answers to our questions"
    if event.action == Action.CANCEL_SCHEDULE.value:
        return "The publication date was called off: we will set a new one"
    if event.action == Action.EDIT_AFTER_SIGNOFF.value:
        return "We changed the interview after you signed it off: a new proof will follow"
    return LABELS[State(event.to_state)] if event.to_state else ""


def timeline(submission: Submission) -> list[Entry]:
    """Events and the emails we sent them, oldest first."""
    entries = [
        Entry(
            e.created_at,
            "event",
            _what_happened(e),
            "" if e.action in PRIVATE_MESSAGES else e.message,
            e.item_requests if e.action == Action.ASK_FIX.value else {},
        )
        for e in submission.events
    ]
    sent = db.session.execute(
        select(OutboxEmail.sent_at, OutboxEmail.subject)
        .join(Event, Event.id == OutboxEmail.event_id, isouter=True)
        .where(
            OutboxEmail.to_address == submission.email.lower(),
            OutboxEmail.status == "sent",
            (Event.submission_id == submission.id)
            | OutboxEmail.dedup_key.like(f"resend:{submission.id}:%"),
        )
    ).all()
    entries += [Entry(at, "email", subject) for at, subject in sent]
    return sorted(entries, key=lambda entry: entry.at)


@dataclass
class ProofPair:
    item_id: int
    question: str
    edited: Markup
    original: str
    changes: Markup

    @property
    def changed(self) -> bool:
        return strip_tags(str(self.edited)).split() != self.original.split()


def proof_note(submission: Submission) -> str:
    """What the editors wrote when they sent the latest proof."""
    sent = [e for e in submission.events if e.action == Action.SEND_PROOF.value]
    return sent[-1].message if sent else ""


def proof(submission: Submission) -> list[ProofPair]:
    """Each edited answer beside the applicant's own words, the changes marked."""
    pairs = []
    for item in submission.interview.items if submission.interview else []:
        original = item.source_answer.body if item.source_answer else ""
        pairs.append(
            ProofPair(
                item.id,
                item.question,
                Markup(item.answer_html),  # noqa: S704 (sanitized when the editor saved it)
                original,
                word_diff(original, strip_tags(item.answer_html)),
            )
        )
    return pairs
