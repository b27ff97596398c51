"""The only code that changes a submission's state.

Each call checks the move against `workflow`, records the event, queues the
emails in the outbox and commits, all in one transaction. Views, the CLI and
tests all come through here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from . import interviews, personal_data, photos, search, share_image, workflow
from .clock import utcnow
from .extensions import db
from .importing import Found, ImportRefused
from .models import (
    ANSWER_MAX,
    QUESTION_MAX,
    SOCIAL_NETWORKS,
    AfterRequest,
    Answer,
    Event,
    FollowUp,
    ImportedPost,
    Interview,
    Note,
    OldAddress,
    Opinion,
    Question,
    ResendRequest,
    Revision,
    StatusToken,
    Submission,
    User,
)
from .notifications.emails import (
    after_request_received,
    draft_reminder,
    erased_notice,
    follow_up_reminder,
    opinion_asked,
    opinion_given,
    queue_for_event,
    resend_status_links,  # noqa: F401 (views ask for status links here)
    withdraw_announcement,
)
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


class FormAlreadySent(WorkflowError):
    """A form posted again after what it made was withdrawn or erased."""


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
    consented: bool = False  # ticked both consents (kept with a draft, for next time)


def _last_event(submission_id: int) -> Event | None:
    return db.session.scalar(
        select(Event).where(Event.submission_id == submission_id).order_by(Event.id.desc()).limit(1)
    )


def _check_version(submission: Submission, expected_version: int | None) -> None:
    """The form was made from this version of the submission, or it's a Conflict."""
    if expected_version is not None and submission.version != expected_version:
        raise Conflict(submission.id, _last_event(submission.id))


def _move(
    submission: Submission,
    action: Action,
    actor: Actor,
    message: str = "",
    expected_version: int | None = None,
    details: dict | None = None,
) -> Event:
    """Check and apply one transition in the session; the caller commits."""
    _check_version(submission, expected_version)
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
    if profile.consented and submission.consented_at is None:
        submission.consented_at = utcnow()
    if profile.photo:
        interview = submission.interview
        if submission.photo and not (interview and interview.photo == submission.photo):
            photos.discard(submission.photo)  # replaced: gone once this commits
        submission.photo = profile.photo


def other_applications(submission: Submission) -> list[Submission]:
    """The other applications from the same address, newest first: for editors,
    who decide what a second one means (the portal does not tell a visitor).
    An imported interview has no address, so no others."""
    if not submission.email:
        return []
    return list(
        db.session.scalars(
            select(Submission)
            .where(
                db.func.lower(Submission.email) == submission.email.strip().lower(),
                Submission.id != submission.id,
            )
            .order_by(Submission.id.desc())
        )
    )


def apply(
    profile: Profile,
    answers: dict[int, str],
    *,
    submit: bool = True,
    spam_reasons: list[str] | None = None,
    form_key: str | None = None,
) -> tuple[Submission, str]:
    """Start an application (submit it, or save it as a draft).

    What the spam rules caught is submitted and moved to `spam` at once, by the
    system, with the reasons on record: kept for an editor to release, never lost.
    The same form posted again (`form_key`, with the same address) is the
    application it made the first time, even when the two posts race.
    Returns the submission and a status token in clear, for the receipt page.
    """
    earlier = _made_by_form(form_key)
    if earlier is not None:
        if earlier.state == State.WITHDRAWN.value or personal_data.is_erased(earlier):
            raise FormAlreadySent(
                "This form was sent before, and that application has since been withdrawn "
                "or erased, so it was not sent again. To apply again, send the form now."
            )
        if _same_address(earlier, profile) and earlier.state == State.DRAFT.value:
            # Saved, then sent (or saved again) from the same page: the same draft.
            continue_draft(earlier, profile, answers, submit=submit, spam_reasons=spam_reasons)
            return _again(earlier, profile)
        if _same_address(earlier, profile):
            return _again(earlier, profile)
    try:
        with _atomic(None):
            return _start(
                profile, answers, submit, spam_reasons, form_key if earlier is None else None
            )
    except IntegrityError:
        earlier = _made_by_form(form_key)
        if earlier is None or not _same_address(earlier, profile):
            raise
        return _again(earlier, profile)  # the other post of a double tap won the race


def _start(profile, answers, submit, spam_reasons, form_key) -> tuple[Submission, str]:
    action = Action.SUBMIT if submit else Action.SAVE
    submission = Submission(form_key=form_key)
    event = _move(submission, action, APPLICANT)  # from "(new)": no state yet
    _write_profile(submission, profile)
    revision = Revision(number=1)
    submission.revisions.append(revision)
    _write_answers(revision, answers)
    db.session.add(submission)
    token = StatusToken.issue(submission)
    if submit:
        submission.submitted_at = event.created_at
    if submit and spam_reasons:
        # Not _commit: the submit's own emails are queued below, seeing the spam state.
        _move(submission, Action.MARK_SPAM, SYSTEM, message="; ".join(spam_reasons))
    _commit(event)
    return submission, token


def _made_by_form(form_key: str | None) -> Submission | None:
    if not form_key:
        return None
    return db.session.scalar(select(Submission).where(Submission.form_key == form_key))


def _same_address(submission: Submission, profile: Profile) -> bool:
    return submission.email.lower() == profile.email.strip().lower()


def _again(submission: Submission, profile: Profile) -> tuple[Submission, str]:
    """A form posted a second time: no second application (nor its photo) and
    nobody is emailed again; the poster gets the first post's status page."""
    if profile.photo and profile.photo != submission.photo:
        photos.discard(profile.photo)
    token = StatusToken.issue(submission)
    db.session.commit()
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
        previous = submission.latest_revision
        revision = Revision(number=len(submission.revisions) + 1)
        submission.revisions.append(revision)
        _write_answers(revision, answers)
        # The answers to follow-up questions are not on the form: they stay as sent.
        carried = [_copy(a) for a in previous.answers if a.follow_up_id] if previous else []
        revision.answers = _arranged([*revision.answers, *carried], submission)
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
    for 30 (their personal data with them); drop expired status links.
    Returns (reminded, deleted)."""
    now = now or utcnow()
    drafts = db.session.scalars(
        select(Submission).where(
            Submission.state == State.DRAFT.value,
            Submission.state_changed_at < now - timedelta(days=DRAFT_REMINDER_DAYS),
        )
    ).all()
    reminded = deleted = 0
    with _atomic(None):
        for draft in drafts:
            if draft.state_changed_at < now - timedelta(days=DRAFT_KEPT_DAYS):
                db.session.delete(draft)
                deleted += 1
            else:
                reminded += draft_reminder(
                    draft, deletes_on=draft.state_changed_at + timedelta(days=DRAFT_KEPT_DAYS)
                )
        # Expired status links: no use to anyone, so not kept.
        db.session.execute(
            delete(StatusToken).where(StatusToken.last_used_at < StatusToken.oldest_valid())
        )
        db.session.commit()
    return reminded, deleted


def _act(
    submission: Submission,
    action: Action,
    actor: Actor,
    message: str = "",
    expected_version: int | None = None,
    details: dict | None = None,
    then: Callable[[Event], None] | None = None,
) -> Event:
    """The steps every action shares: check and record the move, run the
    action's own step (`then`), queue the emails, commit; all or nothing."""
    with _atomic(submission.id):
        event = _move(submission, action, actor, message, expected_version, details)
        if then is not None:
            then(event)
        return _commit(event)


def _reindex(submission: Submission) -> None:
    db.session.flush()
    search.index(submission.interview)


def mark_spam(submission, actor, message="", *, expected_version=None) -> Event:
    """Hold a submission as spam; it waits in the Spam tab to be released."""
    return _act(submission, Action.MARK_SPAM, actor, message, expected_version)


def release(submission, actor, message="", *, expected_version=None) -> Event:
    """Release a submission held as spam back into the queue."""
    return _act(submission, Action.RELEASE, actor, message, expected_version)


def start_review(submission, actor, message="", *, expected_version=None) -> Event:
    """Start reviewing; the reviewer takes it when nobody has it yet."""

    def take(_event):
        if submission.assigned_to is None:
            submission.assigned_to = actor.user

    return _act(submission, Action.START_REVIEW, actor, message, expected_version, then=take)


def request_changes(
    submission, actor, message="", *, expected_version=None, answer_requests=None
) -> Event:
    """Ask the applicant for changes, optionally tied to answers (by question id).
    Notes on answers are message enough."""
    requests = _cleaned(answer_requests)
    details = {"answers": requests} if requests else None
    if requests and not (message or "").strip():
        message = "Please see our notes beside your answers."
    return _act(submission, Action.REQUEST_CHANGES, actor, message, expected_version, details)


def reject(submission, actor, message="", *, expected_version=None) -> Event:
    """Turn the application down, with the reason the applicant will read."""
    return _act(submission, Action.REJECT, actor, message, expected_version)


def reopen(submission, actor, message="", *, expected_version=None) -> Event:
    """Take a rejected application back into review."""
    return _act(submission, Action.REOPEN, actor, message, expected_version)


def approve(submission, actor, message="", *, expected_version=None) -> Event:
    """Approve: the answers become the draft interview the editors work on."""

    def make_draft(_event):
        if submission.interview is None:
            submission.interview = interviews.draft_from(submission)
        _reindex(submission)

    return _act(submission, Action.APPROVE, actor, message, expected_version, then=make_draft)


NO_PROOF_FOR_IMPORTS = (
    "This interview came from the old blog, and its interviewee has no address here: "
    "nobody could sign off a proof. An admin publishes it by skipping the sign-off "
    "(saying why)."
)


def send_proof(submission, actor, message="", *, expected_version=None) -> Event:
    """Send the edited interview to the interviewee for sign-off; the event keeps
    the fingerprint of exactly what the proof shows."""
    if not submission.email:
        raise workflow.IllegalTransition(NO_PROOF_FOR_IMPORTS)
    interview = submission.interview
    details = {"fingerprint": interviews.fingerprint(interview)} if interview else None
    return _act(submission, Action.SEND_PROOF, actor, message, expected_version, details)


def sign_off(submission, actor=None, message="", *, expected_version=None) -> Event:
    """The interviewee signs the proof off: what they signed is recorded by its
    fingerprint, and refused if the text is no longer the proof they were sent."""
    workflow.check(Action.SIGN_OFF, submission.state, (actor or APPLICANT).role)
    seen = _last_detail(submission, Action.SEND_PROOF, "fingerprint")
    now = interviews.fingerprint(submission.interview)
    if seen is not None and seen != now:
        raise workflow.IllegalTransition(
            "The interview changed after this proof was sent. The editors will send a new one."
        )
    details = {"fingerprint": now}
    return _act(submission, Action.SIGN_OFF, actor or APPLICANT, message, expected_version, details)


def _last_detail(submission: Submission, action: Action, key: str):
    """`key` from the details of the latest `action` event, or None."""
    for event in reversed(submission.events):
        if event.action == action.value:
            return (event.details or {}).get(key)
    return None


def _check_signed_off_text(submission: Submission) -> None:
    """What goes live is what the interviewee signed off, unless an admin skipped
    the sign-off (with a reason on record) after their last sign-off, or changes
    were published since, with the interviewee told."""
    for event in reversed(submission.events):
        if event.action in (Action.SKIP_SIGNOFF.value, Action.PUBLISH_CHANGES.value):
            return
        if event.action == Action.SIGN_OFF.value:
            signed = (event.details or {}).get("fingerprint")
            if signed is not None and signed != interviews.fingerprint(submission.interview):
                raise workflow.IllegalTransition(
                    "The interview is no longer the text the interviewee signed off. "
                    "Open the draft and save it: it goes back to “approved”, for a new proof."
                )
            return


def ask_fix(
    submission, actor=None, message="", *, expected_version=None, item_requests=None
) -> Event:
    """The interviewee asks for fixes to the proof, optionally per item (by item id)."""
    fixes = _cleaned(item_requests)
    details = {"items": fixes} if fixes else None
    if fixes and not (message or "").strip():
        message = "My notes are beside the answers."
    return _act(submission, Action.ASK_FIX, actor or APPLICANT, message, expected_version, details)


def skip_signoff(submission, actor, message="", *, expected_version=None) -> Event:
    """An admin marks the interview ready without the interviewee's sign-off."""
    return _act(submission, Action.SKIP_SIGNOFF, actor, message, expected_version)


def publish(
    submission, actor, message="", *, expected_version=None, when: datetime | None = None
) -> Event:
    """Publish now, or at `when` (UTC), exactly what was signed off; the share
    image is made here. An imported interview keeps its old blog's date."""
    workflow.check(Action.PUBLISH, submission.state, actor.role)
    _check_signed_off_text(submission)

    def go_live(event):
        submission.interview.published_at = when or original_date(submission) or event.created_at
        if when is not None and when > event.created_at:
            event.details = {**(event.details or {}), "scheduled_for": when.isoformat()}
        share_image.try_ensure(submission.interview)
        _reindex(submission)

    return _act(submission, Action.PUBLISH, actor, message, expected_version, then=go_live)


def original_date(submission: Submission) -> datetime | None:
    """When the old blog published an imported interview (None for the rest):
    published here, it keeps that date, the first time and after an unpublish."""
    return db.session.scalar(
        select(ImportedPost.published_at).where(ImportedPost.submission_id == submission.id)
    )


def unpublish(submission, actor, message="", *, expected_version=None) -> Event:
    """Take the interview offline; a "you're live" email not yet sent is dropped."""
    if submission.scheduled_for is not None:
        raise workflow.IllegalTransition(
            "This interview is not live yet: cancel the schedule instead."
        )

    def go_offline(_event):
        submission.interview.published_at = None
        withdraw_announcement(submission)  # a scheduled one never went live
        _reindex(submission)

    return _act(submission, Action.UNPUBLISH, actor, message, expected_version, then=go_offline)


def cancel_schedule(submission, actor, message="", *, expected_version=None) -> Event:
    """Call off a publication set for later, before it goes live: back to "ready
    to publish", its "you're live" email dropped, nobody told of anything."""
    if submission.scheduled_for is None:
        raise workflow.IllegalTransition(
            "This interview is live already: unpublish it instead (with a message)."
        )

    def call_off(_event):
        submission.interview.published_at = None
        withdraw_announcement(submission)
        _reindex(submission)

    return _act(submission, Action.CANCEL_SCHEDULE, actor, message, expected_version, then=call_off)


def withdraw(submission, actor=None, message="", *, expected_version=None) -> Event:
    """The applicant withdraws an application that is not published. The links
    sent so far stop working: /status/resend mails a fresh one to the applicant."""

    def end_links(event: Event) -> None:
        StatusToken.revoke_all(submission)

    return _act(
        submission, Action.WITHDRAW, actor or APPLICANT, message, expected_version, then=end_links
    )


def erase(submission: Submission, *, expected_version: int | None = None) -> Event | None:
    """The applicant erases an unpublished application: withdrawn if still open,
    personal data and answers gone, the events kept without them. The editors
    hear of it (without the data). Returns the withdrawal, if there was one."""
    if submission.state == State.PUBLISHED.value:
        raise personal_data.CannotErase(
            "A published interview can't be erased from here: ask us to take it down first."
        )
    with _atomic(submission.id):
        _check_version(submission, expected_version)
        personal_data.scrub(submission)
        event = None
        if Action.WITHDRAW in workflow.allowed_actions(submission.state, Role.APPLICANT):
            event = _move(submission, Action.WITHDRAW, APPLICANT, details={"erased": True})
            _commit(event)
        else:  # already withdrawn: no move, but the editors still hear of it
            erased_notice(submission)
            db.session.commit()
    personal_data.checkpoint()
    return event


def _pairs(interview) -> dict[int, tuple[str, str]]:
    return {item.id: (item.question, item.answer_html) for item in interview.items}


def save_draft(
    submission: Submission,
    actor: Actor,
    *,
    pending_base: int | None = None,
    autosave: bool = False,
    **changes,
) -> Event | None:
    """Save the editor's draft (`interviews.save_draft` takes the changes); each
    save is kept as a version.

    After the interviewee's sign-off, a change to what they signed off (the
    title, the note, a question or an answer, the photo) sends the interview
    back to "approved": a new proof is needed. The event lists what changed.
    A published interview's changes wait, unseen by readers, until an editor
    publishes them (`publish_changes`); `pending_base` is the pending version
    the editor's form was made from.
    """
    interview = submission.interview
    if submission.state == State.PUBLISHED.value:
        interviews.save_pending(
            interview, actor.user, base=pending_base, autosave=autosave, **changes
        )
        return None

    start = interviews.starting_point(interview)

    def keep_version():
        interviews.record_version(interview, actor.user, autosave=autosave, start=start)

    if submission.state != State.READY.value:
        interviews.save_draft(interview, before_commit=keep_version, **changes)
        return None
    before = (
        interview.title,
        interview.intro_html,
        interview.photo,
        interview.greeting,
        _pairs(interview),
    )
    moved: list[Event] = []

    signed = _last_detail(submission, Action.SIGN_OFF, "fingerprint")

    def needs_new_proof():
        after_pairs = _pairs(interview)
        after = (
            interview.title,
            interview.intro_html,
            interview.photo,
            interview.greeting,
            after_pairs,
        )
        unsigned = signed is not None and signed != interviews.fingerprint(interview)
        if after == before and not unsigned:
            return
        old_pairs = before[4]
        edited = [
            after_pairs.get(item_id, pair)[0]
            for item_id, pair in old_pairs.items()
            if after_pairs.get(item_id) != pair
        ]
        if before[:4] != after[:4]:
            edited.insert(0, "the title, the note, the greeting or the photo")
        if not edited:
            edited.append("a text changed outside the draft editor")
        event = _move(submission, Action.EDIT_AFTER_SIGNOFF, actor, details={"edited": edited})
        db.session.flush()
        queue_for_event(event)
        moved.append(event)

    def keep_and_check():
        keep_version()
        needs_new_proof()

    interviews.save_draft(interview, before_commit=keep_and_check, **changes)
    return moved[0] if moved else None


def publish_changes(
    submission: Submission, actor: Actor, note: str = "", *, expected_version: int | None = None
) -> Event:
    """The pending changes to a published interview go live. `note`, if any, is
    shown on the page as a correction; the interviewee is told either way."""
    interview = submission.interview
    if submission.scheduled_for is not None:
        raise workflow.IllegalTransition(
            "This interview is not live yet: cancel the schedule, then edit it (a change "
            "after the sign-off needs a new proof)."
        )
    with _atomic(submission.id):
        version = interviews.pending(interview) if interview else None
        if version is None:
            raise workflow.IllegalTransition("There are no saved changes to publish.")
        live = interviews.snapshot(interview)
        changed = [c.label for c in interviews.compare(live, version.content) if c.changed]
        event = _move(
            submission,
            Action.PUBLISH_CHANGES,
            actor,
            note,
            expected_version,
            details={"edited": changed, "version": version.id},
        )
        version.note = (note or "").strip()
        version.published_at = event.created_at

        def announce():
            db.session.flush()
            queue_for_event(event)

        interviews.apply_pending(interview, version, before_commit=announce)
    return event


def discard_changes(submission: Submission, actor: Actor) -> bool:
    """Drop the pending changes to a published interview (noted for the editors)."""
    with _atomic(submission.id):
        if not interviews.discard_pending(submission.interview):
            return False
        submission.notes.append(
            Note(author=actor.user, kind="note", body="Discarded the unpublished changes.")
        )
        db.session.commit()
    return True


# Follow-up questions: an editor asks this applicant something of their own,
# the applicant answers (or declines) from the status link, and the answers
# join the next revision, each after the answer it follows.

FOLLOW_UP_REMINDER_DAYS = 3


@dataclass
class Ask:
    """One follow-up question as the editor wrote it."""

    question: str
    follows: str = ""  # the Answer.key of the answer it follows, or "" for the end
    cites: str = ""  # one of the applicant's profiles (a SOCIAL_NETWORKS key), or ""


@dataclass
class Reply:
    """The applicant's answer to one follow-up question, or their refusal."""

    text: str = ""
    declined: bool = False


def ask_follow_ups(
    submission: Submission,
    actor: Actor,
    questions: list[Ask],
    message: str = "",
    *,
    expected_version: int | None = None,
) -> Event:
    """Ask the applicant one or more questions of their own (a round); they are
    emailed with a link to answer them."""
    asked = [q for q in questions if q.question.strip()]
    if not asked:
        raise workflow.MessageRequired("Write at least one question to ask.")
    revision = submission.latest_revision
    keys = {a.key for a in revision.answers} if revision else set()
    for q in asked:
        if q.follows and q.follows not in keys:
            raise workflow.IllegalTransition(
                "A question follows an answer this application does not have (any more)."
            )
        if q.cites and not (submission.socials or {}).get(q.cites):
            raise workflow.IllegalTransition(
                f"{submission.name or 'The applicant'} gave no "
                f"{SOCIAL_NETWORKS.get(q.cites, q.cites)} profile."
            )

    def write(event):
        for q in asked:
            submission.follow_ups.append(
                FollowUp(
                    asked_event=event,
                    question=q.question.strip()[:QUESTION_MAX],
                    follows=q.follows,
                    cites=q.cites,
                )
            )

    return _act(submission, Action.ASK_FOLLOW_UPS, actor, message, expected_version, then=write)


def follow_up_round(submission: Submission) -> list[FollowUp]:
    """The questions the editors asked last (answered or not)."""
    asked = [e for e in submission.events if e.action == Action.ASK_FOLLOW_UPS.value]
    if not asked:
        return []
    return [f for f in submission.follow_ups if f.asked_event_id == asked[-1].id]


def waiting_follow_ups(submission: Submission) -> list[FollowUp]:
    """The questions waiting for the applicant's answers now."""
    if submission.state != State.FOLLOW_UPS_ASKED.value:
        return []
    return follow_up_round(submission)


NO_LONGER_WAITING = (
    "These questions are no longer waiting for answers: you sent them already, or the "
    "editors went on without them. Your status page says where your application is."
)


def _write_replies(submission: Submission, replies: dict[int, Reply]) -> list[FollowUp]:
    questions = waiting_follow_ups(submission)
    if not questions:
        raise workflow.IllegalTransition(NO_LONGER_WAITING)
    for question in questions:
        reply = replies.get(question.id)
        if reply is not None:
            question.answer = (reply.text or "").strip()[:ANSWER_MAX]
            question.declined = reply.declined
    return questions


def _forget_unsent(questions: list[FollowUp]) -> None:
    """What the applicant typed but did not send (or declined to send) is not kept."""
    for question in questions:
        if question.declined or question.sent_at is None:
            question.answer = ""


def save_follow_up_answers(submission: Submission, replies: dict[int, Reply]) -> None:
    """Keep the applicant's answers so far, to finish later (nobody is told)."""
    with _atomic(submission.id):
        _write_replies(submission, replies)
        db.session.commit()


def answer_follow_ups(
    submission: Submission, replies: dict[int, Reply], *, round_id: int | None = None
) -> Event:
    """The applicant sends the round's answers: each question answered or
    declined. The answers become a new revision, each after the answer it
    follows; the editors hear of it. `round_id`: the asking event the form
    was made for (an editor's unrelated action meanwhile does not matter)."""
    with _atomic(submission.id):
        questions = _write_replies(submission, replies)
        if round_id is not None and questions[0].asked_event_id != round_id:
            raise workflow.IllegalTransition(NO_LONGER_WAITING)
        missing = [q.question for q in questions if not q.answer and not q.declined]
        if missing:
            raise workflow.MessageRequired(
                f"Answer “{missing[0]}”, or tick “I'd rather not say” beside it."
            )
        event = _move(
            submission,
            Action.ANSWER_FOLLOW_UPS,
            APPLICANT,
            details={"follow_ups": [q.id for q in questions]},
        )
        for question in questions:
            question.sent_at = event.created_at
        _forget_unsent(questions)
        previous = submission.latest_revision
        revision = Revision(number=len(submission.revisions) + 1)
        submission.revisions.append(revision)
        answered = [
            Answer(question_text=q.question, body=q.answer, follow_up_id=q.id, position=0)
            for q in questions
            if not q.declined
        ]
        kept = [_copy(a) for a in previous.answers] if previous else []
        revision.answers = _arranged([*kept, *answered], submission)
        return _commit(event)


def _copy(answer: Answer) -> Answer:
    return Answer(
        question_id=answer.question_id,
        question_text=answer.question_text,
        body=answer.body,
        follow_up_id=answer.follow_up_id,
        position=answer.position,
    )


def _arranged(answers: list[Answer], submission: Submission) -> list[Answer]:
    """The answers in the interview's order: each answer to a follow-up right
    after the answer it follows (in the order they were asked), those that
    follow none (or an answer no longer there) at the end; positions renumbered."""
    follows = {f.id: f.follows for f in submission.follow_ups}
    after: dict[str, list[Answer]] = {}
    base = []
    for answer in answers:
        if answer.follow_up_id is not None and answer.follow_up_id in follows:
            after.setdefault(follows[answer.follow_up_id], []).append(answer)
        else:
            base.append(answer)
    for group in after.values():
        group.sort(key=lambda a: a.follow_up_id)
    ordered: list[Answer] = []

    def place(answer: Answer) -> None:
        ordered.append(answer)
        for child in after.pop(answer.key, []):
            place(child)

    for answer in base:
        place(answer)
    for anchor in list(after):  # what they follow is gone: at the end
        for answer in after.pop(anchor, []):
            place(answer)
    for position, answer in enumerate(ordered):
        answer.position = position
    return ordered


def stop_follow_ups(submission, actor, message="", *, expected_version=None) -> Event:
    """No answers coming: the editors go on without them (the applicant is told;
    anything they had saved, unsent, is not kept)."""

    def forget(_event):
        _forget_unsent(follow_up_round(submission))

    return _act(submission, Action.STOP_FOLLOW_UPS, actor, message, expected_version, then=forget)


def remind_follow_ups(now: datetime | None = None) -> int:
    """Remind each applicant whose follow-up questions have waited for
    FOLLOW_UP_REMINDER_DAYS (once per round). Returns how many were reminded."""
    now = now or utcnow()
    waiting = db.session.scalars(
        select(Submission).where(
            Submission.state == State.FOLLOW_UPS_ASKED.value,
            Submission.state_changed_at < now - timedelta(days=FOLLOW_UP_REMINDER_DAYS),
        )
    ).all()
    reminded = 0
    with _atomic(None):
        for submission in waiting:
            reminded += follow_up_reminder(submission, follow_up_round(submission))
        db.session.commit()
    return reminded


def _cleaned(requests: dict | None) -> dict[str, str]:
    return {str(k): v.strip() for k, v in (requests or {}).items() if v and v.strip()}


# The actions an editor's or applicant's form names; the application form's own
# (save, submit, revise) come through apply, continue_draft and revise.
ACTIONS: dict[Action, Callable[..., Event]] = {
    Action.MARK_SPAM: mark_spam,
    Action.RELEASE: release,
    Action.START_REVIEW: start_review,
    Action.REQUEST_CHANGES: request_changes,
    Action.REJECT: reject,
    Action.REOPEN: reopen,
    Action.STOP_FOLLOW_UPS: stop_follow_ups,
    Action.APPROVE: approve,
    Action.SEND_PROOF: send_proof,
    Action.SIGN_OFF: sign_off,
    Action.ASK_FIX: ask_fix,
    Action.SKIP_SIGNOFF: skip_signoff,
    Action.PUBLISH: publish,
    Action.CANCEL_SCHEDULE: cancel_schedule,
    Action.UNPUBLISH: unpublish,
    Action.WITHDRAW: withdraw,
}


def perform(
    submission: Submission,
    action: Action | str,
    actor: Actor,
    message: str = "",
    expected_version: int | None = None,
    **options,
) -> Event:
    """Apply the action a form names: its function, with that action's options."""
    try:
        action = Action(action)
    except ValueError:
        raise workflow.IllegalTransition(f"There is no action called {action!r}.") from None
    if action not in ACTIONS:
        raise workflow.IllegalTransition(
            f"“{workflow.ACTION_LABELS[action]}” comes with a form of its own."
        )
    return ACTIONS[action](submission, actor, message, expected_version=expected_version, **options)


def new_status_link(submission: Submission) -> str:
    """A fresh status link for the page the applicant is sent to (in clear, once)."""
    token = StatusToken.issue(submission)
    db.session.commit()
    return token


def request_status_links(email: str) -> None:
    """Note a request to email the status links again (answered by the mail worker)."""
    db.session.add(ResendRequest(email=email.strip().lower()[:254]))
    db.session.commit()


def assign(
    submission: Submission,
    assignee: User | None,
    by: User,
    expected_version: int | None = None,
) -> None:
    """Give the submission to an editor (or to nobody); noted in the internal thread."""
    with _atomic(submission.id):
        _check_version(submission, expected_version)
        if assignee is not None and not assignee.active:
            raise workflow.NotPermitted(f"{assignee.name} is deactivated.")
        submission.assigned_to = assignee
        body = f"Assigned to {assignee.name}" if assignee else "Unassigned"
        submission.notes.append(Note(author=by, kind="assign", body=body))
        db.session.commit()


def add_note(submission: Submission, author: User, body: str) -> Note:
    """An internal note: editors only, never shown or mailed to the applicant."""
    with _atomic(submission.id):
        note = Note(author=author, kind="note", body=body.strip())
        submission.notes.append(note)
        db.session.commit()
    return note


def ask_opinions(
    submission: Submission, asker: User, colleagues: list[User], question: str = ""
) -> list[Opinion]:
    """Ask colleagues for a second opinion; each is emailed in the same
    transaction. A colleague already asked and not yet answering is not asked
    twice; the asker and inactive accounts are not asked at all."""
    if submission.state == State.DRAFT.value:
        raise workflow.IllegalTransition("A draft application is the applicant's own.")
    waiting = {o.editor_id for o in submission.opinions if o.answered_at is None}
    asked = []
    with _atomic(submission.id):
        for colleague in colleagues:
            if colleague.id == asker.id or not colleague.active or colleague.id in waiting:
                continue
            opinion = Opinion(editor=colleague, asked_by=asker, question=question.strip())
            submission.opinions.append(opinion)
            asked.append(opinion)
            waiting.add(colleague.id)
        db.session.flush()
        for opinion in asked:
            opinion_asked(opinion)
        db.session.commit()
    return asked


def give_opinion(opinion: Opinion, editor: User, recommendation: str, comment: str) -> Opinion:
    """The colleague asked gives their recommendation (they may change it
    later); the one who asked hears of it by email."""
    if opinion.editor_id != editor.id:
        raise workflow.NotPermitted("Only the colleague asked gives this opinion.")
    if recommendation not in Opinion.RECOMMENDATIONS:
        raise ValueError(f"Not a recommendation: {recommendation}")
    with _atomic(opinion.submission_id):
        first = opinion.answered_at is None
        opinion.recommendation, opinion.comment = recommendation, comment.strip()
        opinion.answered_at = utcnow()
        db.session.flush()
        opinion_given(opinion, changed=not first)
        db.session.commit()
    return opinion


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
                perform(submission, action, actor)
            result.done.append(submission_id)
        except WorkflowError as error:
            result.skipped.append((submission_id, str(error)))
    return result


def ask_after_publication(submission: Submission, kind: str, message: str) -> AfterRequest:
    """The interviewee asks for a correction or a takedown; the editors hear of it."""
    if submission.state != State.PUBLISHED.value:
        raise workflow.IllegalTransition("Corrections and takedowns are for published interviews.")
    if kind not in ("correction", "takedown") or not message.strip():
        raise workflow.MessageRequired("Tell us what you would like us to change or remove.")
    with _atomic(submission.id):
        request = AfterRequest(kind=kind, message=message.strip())
        submission.after_requests.append(request)
        db.session.flush()
        after_request_received(request)
        db.session.commit()
    return request


def handle_after_request(request: AfterRequest, by: User) -> None:
    """An editor marks a correction or takedown request as dealt with."""
    if request.handled_at is None:
        with _atomic(request.submission_id):
            request.handled_at, request.handled_by = utcnow(), by
            db.session.commit()


@dataclass
class Imported:
    """What became of one interview read from the old blog."""

    found: Found
    # "imported", "published", "already here", "repeated" (twice in one run),
    # "skipped", or "would be …" (a dry run)
    outcome: str
    submission: Submission | None = None


def import_interviews(
    found: list[Found],
    *,
    publish: bool = False,
    tags: list[str] | None = None,
    dry_run: bool = False,
    each: Callable[[], None] | None = None,
) -> list[Imported]:
    """Write the interviews read from the old blog, all or nothing: as drafts
    in "approved" for an editor to check, or published at their old date.

    One found before (by its key or one of its old addresses) is left as it
    is, so a second run changes nothing. Nobody is emailed: the people in a
    back catalogue never applied here. Past SHARE_CARDS_DRAWN publications,
    the share cards are left to the mail worker. `dry_run` says what would happen and
    writes nothing. `each` is called after each one (a progress bar).
    """
    action = Action.IMPORT_PUBLISHED if publish else Action.IMPORT
    try:
        return _import_all(found, action, tags or [], dry_run, each)
    except IntegrityError:  # _atomic rolled it all back
        raise ImportRefused(
            "Another import wrote some of these at the same time, so nothing of this run "
            "was written. Run it again: it leaves alone what is there now."
        ) from None


def _import_all(found, action, tags, dry_run, each) -> list[Imported]:
    results: list[Imported] = []
    keys: set[str] = set()
    cards = 0
    with _atomic(None):
        known = _imported_before(found)
        for item in found:
            earlier = next((known[k] for k in (item.key, *item.old_paths) if k in known), None)
            if item.skipped:
                results.append(Imported(item, "skipped"))
            elif earlier is not None:
                results.append(Imported(item, "already here", db.session.get(Submission, earlier)))
            elif item.key in keys:
                results.append(Imported(item, "repeated"))  # twice in the same run
            elif dry_run:
                results.append(Imported(item, f"would be {_OUTCOME[action]}"))
            else:
                submission = _import_one(item, action, tags, cards < SHARE_CARDS_DRAWN)
                cards += action is Action.IMPORT_PUBLISHED
                results.append(Imported(item, _OUTCOME[action], submission))
            keys.add(item.key)
            if each is not None:
                each()
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    return results


_OUTCOME = {Action.IMPORT: "imported", Action.IMPORT_PUBLISHED: "published"}
# Share cards an import draws itself (~0.1 s each); the mail worker draws the
# rest between its rounds (share_image.fill_missing), so a long import is not
# kept waiting by them.
SHARE_CARDS_DRAWN = 20


def _imported_before(found: list[Found]) -> dict[str, int]:
    """The application each key or old address already made, for the whole
    run in a few queries (an export has thousands of posts)."""
    known: dict[str, int] = {}
    keys = [item.key for item in found if not item.skipped]
    paths = [path for item in found if not item.skipped for path in item.old_paths]
    for at in range(0, len(keys), 500):
        known.update(
            db.session.execute(
                select(ImportedPost.key, ImportedPost.submission_id).where(
                    ImportedPost.key.in_(keys[at : at + 500])
                )
            ).all()
        )
    for at in range(0, len(paths), 500):
        known.update(
            db.session.execute(
                select(OldAddress.path, Interview.submission_id)
                .join(Interview, OldAddress.interview_id == Interview.id)
                .where(OldAddress.path.in_(paths[at : at + 500]))
            ).all()
        )
    return known


def _import_one(item: Found, action: Action, tags: list[str], draw_card: bool) -> Submission:
    said = [f"Imported from {item.origin}"]
    if item.author:
        said.append(f"written by {item.author}")
    if item.published_at is not None:
        said.append(f"published there on {item.published_at:%Y-%m-%d}")
    # Built whole, then written in one flush: the lookups on the way (a free
    # slug, the tags, the old addresses) don't flush half of it each time.
    with db.session.no_autoflush:
        submission = Submission(
            name=item.name, email="", business=item.business, socials=dict(item.socials)
        )
        event = _move(submission, action, SYSTEM, message=", ".join(said) + ".")
        revision = Revision(number=1)
        submission.revisions.append(revision)
        revision.answers = [
            Answer(position=i, question_text=pair.question, body=pair.answer_text)
            for i, pair in enumerate(item.pairs)
        ]
        interview = interviews.imported(item, revision.answers)
        submission.interview = interview
        if item.photo_paths:
            interview.photo = submission.photo = _imported_photo(item)
        interview.tags = interviews.tags_from([*item.tags, *tags])
        if item.doubts:  # the report scrolls away; the submission's history keeps them
            doubts = "\n".join(f"- {doubt}" for doubt in item.doubts)
            event.message += f"\n\nWhat the import was unsure of:\n{doubts}"
        taken = set(
            db.session.scalars(select(OldAddress.path).where(OldAddress.path.in_(item.old_paths)))
        )
        interview.old_addresses = [OldAddress(path=p) for p in item.old_paths if p not in taken]
        if action is Action.IMPORT_PUBLISHED:
            interview.published_at = item.published_at or event.created_at
        db.session.add(submission)
        db.session.add(
            ImportedPost(
                key=item.key,
                source=item.source,
                origin=item.origin,
                published_at=item.published_at,
                submission=submission,
            )
        )
    db.session.flush()
    if draw_card and action is Action.IMPORT_PUBLISHED:
        share_image.try_ensure(interview)
    _reindex(submission)
    queue_for_event(event)  # none: the import's actions email nobody
    return submission


def _imported_photo(item: Found) -> str | None:
    """The first of the post's images that is a photo the portal accepts."""
    for path in item.photo_paths:
        try:
            with open(path, "rb") as handle:
                return photos.store(handle.read())
        except (OSError, photos.PhotoError) as error:
            item.doubts.append(f"the image {os.path.basename(path)} was left out: {error}")
    return None
