"""What each event mails to whom: one small function per event of DESIGN.md."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import delete, select

from .. import newsletter
from ..clock import utcnow
from ..extensions import db
from ..links import public_url
from ..models import Event, ImportedPost, OutboxEmail, ResendRequest, Submission, User
from ..share_image import pull_quote
from ..workflow import Action, State
from .outbox import PRIVATE_LINK, numbered_private_link, queue

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
    users = db.session.scalars(select(User).where(*_ON_THE_TEAM).order_by(User.id))
    return [(u.name, u.email) for u in users]


# Who gets the editors' emails: active, and past the invitation (a password is
# set: until then the address is only someone an admin typed in).
_ON_THE_TEAM = (User.active.is_(True), User.password_hash.contains("$"))


def _status_link(submission: Submission) -> dict:
    """The applicant's status link, as the worker will mint it when the email
    leaves: the stored email shows PRIVATE_LINK, so no editor can open it."""
    return {"status_link": PRIVATE_LINK, "private_link": f"status:{submission.id}"}


def _editor_link(submission: Submission) -> str:
    return public_url("review.submission", submission_id=submission.id)


def _key(event: Event) -> str:
    return f"event:{event.id}"


def _follow_ups_link(submission: Submission) -> dict:
    """The page where the applicant answers follow-up questions (private, as above)."""
    return {"status_link": PRIVATE_LINK, "private_link": f"follow-ups:{submission.id}"}


def pointed(event: Event) -> list[tuple[str, str]]:
    """(question, what is asked about its answer) for each answer the event
    points at, in the order of the interview: an editor's requests for changes
    or the interviewee's fix requests on a proof."""
    submission = event.submission
    if event.action == Action.ANSWER_FOLLOW_UPS.value:
        sent = set((event.details or {}).get("follow_ups") or [])
        return [
            (f.question, "Declined: they would rather not say." if f.declined else f.answer)
            for f in submission.follow_ups
            if f.id in sent
        ]
    if event.action == Action.ASK_FIX.value and submission.interview is not None:
        asked = event.item_requests
        return [(i.question, asked[i.id]) for i in submission.interview.items if i.id in asked]
    asked = event.answer_requests
    revision = submission.latest_revision
    if not asked or revision is None:
        return []
    return [
        (a.question_text, asked[a.question_id]) for a in revision.answers if a.question_id in asked
    ]


@on(Action.SAVE)
def saved(event: Event) -> None:
    submission = event.submission
    queue(
        "saved",
        _applicant(submission),
        "Your application is saved",
        event=event,
        key=_key(event),
        submission=submission,
        **_status_link(submission),
    )


@on(Action.SUBMIT)
def submitted(event: Event) -> None:
    submission = event.submission
    queue(
        "received",
        _applicant(submission),
        "We received your application",
        event=event,
        key=_key(event),
        submission=submission,
        **_status_link(submission),
        response_days=current_app.config["RESPONSE_DAYS"],
    )
    if submission.state == State.SPAM.value:
        return  # caught by the spam rules: no alert; it waits in the Spam tab
    editors = db.session.scalars(
        select(User).where(*_ON_THE_TEAM, User.notify_new == "each").order_by(User.id)
    )
    queue(
        "new_application",
        [(u.name, u.email) for u in editors],
        f"New application: {submission.business}",
        event=event,
        key=_key(event),
        submission=submission,
        editor_link=_editor_link(submission),
    )


@on(Action.REVISE, Action.ANSWER_FOLLOW_UPS, Action.SIGN_OFF, Action.ASK_FIX, Action.WITHDRAW)
def applicant_acted(event: Event) -> None:
    submission = event.submission
    subjects = {
        Action.REVISE: f"Revised application: {submission.business}",
        Action.ANSWER_FOLLOW_UPS: f"Follow-ups answered: {submission.business}",
        Action.SIGN_OFF: f"Proof signed off: {submission.business}",
        Action.ASK_FIX: f"Fix requested on the proof: {submission.business}",
        Action.WITHDRAW: f"Application withdrawn: {submission.business}",
    }
    erased = bool((event.details or {}).get("erased"))
    subject = "An application was erased" if erased else subjects[Action(event.action)]
    queue(
        "applicant_update",
        _editors_for(submission),
        subject,
        event=event,
        key=_key(event),
        submission=submission,
        action=event.action,
        erased=erased,
        message=event.message,
        pointed=[] if erased else pointed(event),
        editor_link=_editor_link(submission),
    )


@on(Action.REQUEST_CHANGES, Action.REJECT, Action.UNPUBLISH, Action.APPROVE, Action.STOP_FOLLOW_UPS)
def decided(event: Event) -> None:
    submission = event.submission
    subjects = {
        Action.STOP_FOLLOW_UPS: "About our follow-up questions",
        Action.REQUEST_CHANGES: "A few changes to your application",
        Action.REJECT: "About your application",
        Action.UNPUBLISH: "Your interview is offline for now",
        Action.APPROVE: "Your application is approved",
    }
    queue(
        event.action,
        _applicant(submission),
        subjects[Action(event.action)],
        event=event,
        key=_key(event),
        submission=submission,
        message=event.message,
        pointed=pointed(event),
        **_status_link(submission),
    )


def asked(questions) -> list[dict]:
    """Each follow-up question as emails and pages show it: the question, the
    question of the answer it follows, and the profile it is about."""
    submission = questions[0].submission if questions else None
    revision = submission.latest_revision if submission else None
    after = {a.key: a.question_text for a in revision.answers} if revision else {}
    return [
        {"question": q.question, "after": after.get(q.follows, ""), "cited": q.cited}
        for q in questions
    ]


@on(Action.ASK_FOLLOW_UPS)
def follow_ups_asked(event: Event) -> None:
    submission = event.submission
    questions = [f for f in submission.follow_ups if f.asked_event_id == event.id]
    queue(
        "ask_follow_ups",
        _applicant(submission),
        "A few more questions about your application"
        if len(questions) != 1
        else "One more question about your application",
        event=event,
        key=_key(event),
        submission=submission,
        message=event.message,
        questions=asked(questions),
        **_follow_ups_link(submission),
    )


def follow_up_reminder(submission: Submission, questions) -> int:
    """Remind the applicant of follow-up questions still waiting (once a round)."""
    if not questions:
        return 0
    row = queue(
        "follow_up_reminder",
        _applicant(submission),
        "Our questions are still waiting for you",
        key=f"follow-up-reminder:{questions[0].asked_event_id}",
        submission=submission,
        questions=asked(questions),
        asked_at=questions[0].asked_event.created_at,
        **_follow_ups_link(submission),
    )
    return 1 if row is not None else 0


@on(Action.SEND_PROOF)
def proof_sent(event: Event) -> None:
    submission = event.submission
    queue(
        "send_proof",
        _applicant(submission),
        "Your interview is ready for your sign-off",
        event=event,
        key=_key(event),
        submission=submission,
        message=event.message,
        **_status_link(submission),
    )


@on(Action.PUBLISH)
def published(event: Event) -> None:
    submission = event.submission
    interview = submission.interview
    link = public_url("publishing.interview", slug=interview.slug)
    if not _imported(submission):  # the old blog's interviews are not news
        newsletter.announce(interview)
    # Announced when it goes live, not before: a scheduled interview waits.
    queue(
        "publish",
        _applicant(submission),
        "Your interview is live",
        event=event,
        key=_key(event),
        deliver_after=interview.published_at,
        submission=submission,
        interview=interview,
        link=link,
        share_lines=share_lines(submission, interview, link),
        share_image=public_url("publishing.photo", name=interview.share_image)
        if interview.share_image
        else None,
        share_quote=pull_quote(interview),
    )


@on(Action.PUBLISH_CHANGES)
def changes_published(event: Event) -> None:
    """The interviewee hears of every change to their live interview."""
    submission = event.submission
    interview = submission.interview
    queue(
        "publish_changes",
        _applicant(submission),
        "We updated your interview",
        event=event,
        key=_key(event),
        submission=submission,
        note=event.message,
        edited=(event.details or {}).get("edited", []),
        link=public_url("publishing.interview", slug=interview.slug),
        **_status_link(submission),
    )


def week_after(interview, reads: int, days: int, key: str) -> None:
    """A week after it went live, the interviewee hears how often their
    interview was read, with a text for each of their networks again."""
    submission = interview.submission
    link = public_url("publishing.interview", slug=interview.slug)
    queue(
        "week_after",
        _applicant(submission),
        "Your interview's first week",
        key=key,
        submission=submission,
        interview=interview,
        reads=reads,
        days=days,
        link=link,
        share_lines=share_lines(submission, interview, link),
    )


def _imported(submission: Submission) -> bool:
    return (
        db.session.scalar(
            select(ImportedPost.id).where(ImportedPost.submission_id == submission.id)
        )
        is not None
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


# What to post where: each network's habits. {site}, {business}, {link} are filled in.
SHARE_TEXT = {
    "X / Twitter": "I talked to {site} about how {business} uses social media: {link}",
    "LinkedIn": (
        "I talked to {site} about how {business} uses social media: how we started, "
        "what worked, what didn't, and what I'd tell someone starting out. "
        "The whole interview: {link}"
    ),
    "Instagram": (
        "I talked to {site} about how {business} uses social media, and what I'd tell "
        "anyone starting out. The interview is live now: link in bio."
    ),
    "Facebook": (
        "I talked to {site} about how {business} uses social media: what worked, "
        "what didn't, and what I learned along the way. Read it here: {link}"
    ),
    "TikTok": (
        "My interview with {site} about how {business} uses social media is live: link in bio."
    ),
    "YouTube": "My interview with {site} about how {business} uses social media: {link}",
    "Mastodon": "I talked to {site} about how {business} uses social media: {link}",
}
ANY_NETWORK = "I talked to {site} about how {business} uses social media: {link}"


def share_lines(submission: Submission, interview, link: str) -> list[tuple[str, str]]:
    """A ready-to-post text for each network the interviewee is on, written for
    that network: short with the link on X, longer on LinkedIn, "link in bio"
    where posts can't carry a link (Instagram, TikTok)."""
    values = dict(site=current_app.config["SITE_NAME"], business=submission.business, link=link)
    networks = [label for label, _url in submission.social_links] or ["Any network"]
    return [(label, SHARE_TEXT.get(label, ANY_NETWORK).format(**values)) for label in networks]


def status_links_again(submissions: list[Submission], cause: str) -> None:
    """The status links of one address's applications, sent again on request: one
    email, whatever the number of applications (newest first, at most
    RESEND_AT_MOST), so a request can't be multiplied into many emails."""
    shown = submissions[:RESEND_AT_MOST]
    queue(
        "status_link",
        _applicant(shown[0]),
        "Your status link" if len(shown) == 1 else "Your status links",
        key=cause,
        submission=shown[0],  # the thread it joins: the newest application's
        private_link=" ".join(f"status:{s.id}" for s in shown),
        entries=[(s, numbered_private_link(n)) for n, s in enumerate(shown, start=1)],
        more=len(submissions) - len(shown),
    )


# A status-link email lists at most this many applications, the newest.
RESEND_AT_MOST = 5


def queue_digests(day: date) -> int:
    """Queue, for each editor who chose a daily digest, the applications of `day`
    (not those held as spam: they wait in their own tab).

    Keyed by user and day, so running it twice on one day sends once.
    """
    start = datetime.combine(day, time.min)
    submissions = db.session.scalars(
        select(Submission)
        .where(
            Submission.submitted_at >= start,
            Submission.submitted_at < start + timedelta(days=1),
            Submission.state != State.SPAM.value,
        )
        .order_by(Submission.submitted_at)
    ).all()
    if not submissions:
        return 0
    items = [(submission, _editor_link(submission)) for submission in submissions]
    readers = db.session.scalars(
        select(User).where(*_ON_THE_TEAM, User.notify_new == "digest").order_by(User.id)
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
        **_status_link(submission),
        deletes_on=deletes_on,
    )
    return 1 if row is not None else 0


def after_request_received(request) -> None:
    """A correction or takedown request: to the assigned editor (all if none)."""
    submission = request.submission
    queue(
        "after_request",
        _editors_for(submission),
        f"{request.kind.title()} requested: {submission.business}",
        key=f"after-request:{request.id}",
        submission=submission,
        request=request,
        editor_link=_editor_link(submission),
    )


def opinion_asked(opinion) -> None:
    """A colleague is asked for a second opinion on an application."""
    submission = opinion.submission
    asker = opinion.asked_by.name if opinion.asked_by else "An editor"
    queue(
        "opinion_asked",
        [(opinion.editor.name, opinion.editor.email)],
        f"{asker} asks your opinion: {submission.business}",
        key=f"opinion-asked:{opinion.id}",
        submission=submission,
        opinion=opinion,
        asker=asker,
        editor_link=_editor_link(submission) + "#opinions",
    )


def opinion_given(opinion, changed: bool = False) -> None:
    """The editor who asked hears the colleague's recommendation."""
    if opinion.asked_by is None or not opinion.asked_by.active:
        return
    submission = opinion.submission
    queue(
        "opinion_given",
        [(opinion.asked_by.name, opinion.asked_by.email)],
        f"{opinion.editor.name}: “{opinion.verdict}” for {submission.business}",
        key=f"opinion-given:{opinion.id}:{opinion.answered_at.isoformat()}",
        submission=submission,
        opinion=opinion,
        changed=changed,
        editor_link=_editor_link(submission) + "#opinions",
    )


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
    """Queue one email with a fresh status link for each application from `email`."""
    submissions = db.session.scalars(
        select(Submission)
        .where(db.func.lower(Submission.email) == email.strip().lower())
        .order_by(Submission.id.desc())
    ).all()
    if submissions:
        status_links_again(submissions, f"resend:{submissions[0].id}:{utcnow().isoformat()}")
    if commit:
        db.session.commit()
    return len(submissions)


def erased_notice(submission: Submission) -> None:
    """Tell the editors an application they had closed was erased (no data in it)."""
    queue(
        "applicant_update",
        _editors_for(submission),
        "An application was erased",
        key=f"erased:{submission.id}",
        submission=submission,
        action=Action.WITHDRAW.value,
        erased=True,
        message="",
        editor_link=_editor_link(submission),
    )
