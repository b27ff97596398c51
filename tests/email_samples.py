"""One email of every kind the portal sends, with ordinary or hostile names:
what the email-format tests check and what benchmarks/email_scores.py scores.

Call `queue_every_kind` in an app context on an empty schema with the default
questionnaire; it walks the workflow the way people would, so each email is
queued by the code that queues it in production.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from portal import accounts, alarms, newsletter, operations, readership, two_factor
from portal.clock import utcnow
from portal.extensions import db
from portal.interviews import ItemEdit
from portal.models import OutboxEmail, Subscriber
from portal.notifications.emails import answer_resend_requests, draft_reminder, queue_digests
from portal.workflow import Action, Role, State
from tests.factories import actor_for, answers, profile, staff, submission_in

# Every kind: one template pair per kind under templates/email/.
KINDS = sorted(
    p.stem
    for p in (Path(__file__).parents[1] / "templates" / "email").glob("*.html")
    if not p.stem.startswith("_")
)

ORDINARY = {
    "name": "Maya Lindqvist",
    "business": "Lindqvist Ceramics",
    "email": "maya@lindqvist-ceramics.example",
}
HOSTILE = {
    "name": "Renée Montgomery-Featherstonehaugh, Founder: Bcc: someone@example.com",
    "business": "Pâtisserie Émile & Zoë <b>“Best” in town</b>",
    "email": "renee@patisserie-emile.example",
}

MESSAGE = (
    "Thank you for the answers about your workshop. Could you say more about how "
    "you found your first customers online, and which network brought the most orders? "
    "A sentence or two about what did not work would help readers too. Our guide for "
    "interviewees may help: https://socialowners.example.org/apply"
)
NETWORKS = {
    "x": "https://x.com/lindqvistceramics",
    "linkedin": "https://www.linkedin.com/in/lindqvist",
    "instagram": "https://www.instagram.com/lindqvistceramics",
}


def queue_every_kind(who: dict) -> set[str]:
    """Queue one email of each kind (to `who` or, for editors' emails, to the
    team) and commit; returns the kinds queued."""
    n = iter(range(1, 100))

    def person():
        # One address per application: an email per kind, not the sending limit's.
        i = next(n)
        local, _, domain = who["email"].partition("@")
        return dict(name=who["name"], business=who["business"], email=f"{local}+{i}@{domain}")

    editor = staff()
    editor.name = "Erin Editor"
    admin = staff(Role.ADMIN)
    editor.notify_new = "each"
    db.session.commit()

    draft, _token = operations.apply(profile(**person()), answers(), submit=False)
    submission_in(State.SUBMITTED, **person())
    for state in (State.REJECTED, State.WITHDRAWN, State.AWAITING_SIGNOFF):
        submission_in(state, **person())
    changes = submission_in(State.IN_REVIEW, **person())
    operations.request_changes(changes, actor_for(Action.REQUEST_CHANGES), MESSAGE)
    operations.revise(changes, profile(**dict(person(), email=changes.email)), answers())
    approved = submission_in(State.IN_REVIEW, **person())
    operations.approve(approved, actor_for(Action.APPROVE), MESSAGE)
    live = submission_in(State.PUBLISHED, socials=NETWORKS, **person())
    interview = live.interview
    operations.save_draft(
        live,
        actor_for(Action.PUBLISH),
        title="A new title for the interview",
        slug=interview.slug,
        intro_md=interview.intro_md,
        tag_names=[t.name for t in interview.tags],
        items=[ItemEdit(i.id, i.question, i.answer_md, n) for n, i in enumerate(interview.items)],
    )
    operations.publish_changes(live, actor_for(Action.PUBLISH), "We corrected a date.")
    operations.ask_after_publication(live, "correction", MESSAGE)
    offline = submission_in(State.PUBLISHED, **person())
    operations.unpublish(offline, actor_for(Action.UNPUBLISH), "A takedown while we check a fact.")
    operations.request_status_links(live.email)
    answer_resend_requests()  # the mail worker's job

    curious = submission_in(State.IN_REVIEW, socials=NETWORKS, **person())
    asker = actor_for(Action.ASK_FOLLOW_UPS)
    operations.ask_follow_ups(
        curious,
        asker,
        [
            operations.Ask(
                "You post a new piece every week: how did the first hundred followers find you?",
                curious.latest_revision.answers[0].key,
                "instagram",
            ),
            operations.Ask("What would you tell a potter opening a shop online today?"),
        ],
        MESSAGE,
    )
    first, second = curious.follow_ups
    operations.answer_follow_ups(
        curious,
        {
            first.id: operations.Reply("Through a weekly kiln-opening video."),
            second.id: operations.Reply(declined=True),
        },
    )
    operations.ask_follow_ups(curious, asker, [operations.Ask("And on LinkedIn?")])
    operations.remind_follow_ups(utcnow() + timedelta(days=4))
    operations.stop_follow_ups(curious, asker, "We have what we need for the interview.")
    (opinion,) = operations.ask_opinions(curious, admin, [editor], "Is this one for us?")
    operations.give_opinion(opinion, editor, "feature", "Yes: the kiln videos are a story.")

    draft_reminder(draft, (draft.state_changed_at + timedelta(days=30)).date())
    editor.notify_new = "digest"
    queue_digests(live.submitted_at.date())
    accounts.invite("nia@portal.test", who["name"], "editor")
    two_factor.reset(editor, admin)
    db.session.commit()
    alarms.unit_failed("portal-daily.service")
    _newsletter(person()["email"])
    readership.tell_interviewees(utcnow() + timedelta(days=8))  # a week after "live"
    return set(db.session.scalars(db.select(OutboxEmail.kind).distinct()))


def _newsletter(address: str) -> None:
    """A confirmation to a new address; an issue (the live interview) and a
    weekly digest to two subscribers, written the way the mail worker does."""
    newsletter.subscribe(address, "each")
    local, _, domain = address.partition("@")
    for cadence in ("each", "weekly"):
        db.session.add(
            Subscriber(
                email=f"{local}-{cadence}@{domain}",
                cadence=cadence,
                status="confirmed",
                confirmed_at=utcnow(),
            )
        )
    db.session.commit()
    weekly = newsletter.plan_weekly(newsletter.weekly_due(utcnow() + timedelta(days=7))[1])
    weekly.send_after = utcnow()
    db.session.commit()
    newsletter.fan_out()
