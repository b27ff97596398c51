"""Build submissions in any state by walking the workflow, as a real one would."""

from __future__ import annotations

from portal import operations
from portal.extensions import db
from portal.models import Question, Submission, User
from portal.operations import APPLICANT, Actor, Profile
from portal.workflow import Action, Role, State

# From a new application to each state, one legal path.
PATHS: dict[State, list[Action]] = {
    State.DRAFT: [Action.SAVE],
    State.SUBMITTED: [Action.SUBMIT],
    State.SPAM: [Action.SUBMIT, Action.MARK_SPAM],
    State.IN_REVIEW: [Action.SUBMIT, Action.START_REVIEW],
    State.CHANGES_REQUESTED: [Action.SUBMIT, Action.START_REVIEW, Action.REQUEST_CHANGES],
    State.FOLLOW_UPS_ASKED: [Action.SUBMIT, Action.START_REVIEW, Action.ASK_FOLLOW_UPS],
    State.REJECTED: [Action.SUBMIT, Action.REJECT],
    State.APPROVED: [Action.SUBMIT, Action.START_REVIEW, Action.APPROVE],
    State.AWAITING_SIGNOFF: [Action.SUBMIT, Action.START_REVIEW, Action.APPROVE, Action.SEND_PROOF],
    State.READY: [
        Action.SUBMIT,
        Action.START_REVIEW,
        Action.APPROVE,
        Action.SEND_PROOF,
        Action.SIGN_OFF,
    ],
    State.PUBLISHED: [
        Action.SUBMIT,
        Action.START_REVIEW,
        Action.APPROVE,
        Action.SEND_PROOF,
        Action.SIGN_OFF,
        Action.PUBLISH,
    ],
    State.WITHDRAWN: [Action.SUBMIT, Action.WITHDRAW],
}

_counter = iter(range(1, 10**6))


def profile(**overrides) -> Profile:
    n = next(_counter)
    values = dict(
        name=f"Applicant {n}",
        email=f"applicant{n}@shop.example",
        business=f"Shop Number {n}",
        website="https://shop.example",
        location="Penzance",
        industry="Retail",
        socials={"instagram": "https://www.instagram.com/shop"},
    )
    values.update(overrides)
    return Profile(**values)


def answers() -> dict[int, str]:
    questions = db.session.scalars(Question.active_query())
    return {q.id: f"My answer to: {q.text}" for q in questions}


def staff(role: Role = Role.EDITOR) -> User:
    user = db.session.scalar(db.select(User).where(User.role == role.value))
    if user is None:
        user = User(
            email=f"{role.value}@factory.example", name=f"Factory {role.value}", role=role.value
        )
        user.set_password("factory password")
        db.session.add(user)
        db.session.commit()
    return user


def actor_for(action: Action) -> Actor:
    if action in (
        Action.SIGN_OFF,
        Action.ASK_FIX,
        Action.WITHDRAW,
        Action.REVISE,
        Action.ANSWER_FOLLOW_UPS,
    ):
        return APPLICANT
    if action is Action.SKIP_SIGNOFF:
        return Actor.of(staff(Role.ADMIN))
    return Actor.of(staff(Role.EDITOR))


def submission_in(state: State | str, draft=None, **profile_overrides) -> Submission:
    """A submission that reached `state` through the workflow (call in an app context).

    `draft(interview)`, if given, edits the draft once it is approved, before any
    proof: what the interviewee then signs off (and what goes live) includes it."""
    path = PATHS[State(state)]
    submission, _token = operations.apply(
        profile(**profile_overrides), answers(), submit=path[0] is Action.SUBMIT
    )
    for action in path[1:]:
        message = (
            "A message for the record." if action in (Action.REQUEST_CHANGES, Action.REJECT) else ""
        )
        if action is Action.ASK_FOLLOW_UPS:
            asked = [operations.Ask("What surprised you most in your first year online?")]
            operations.ask_follow_ups(submission, actor_for(action), asked)
        else:
            operations.perform(submission, action, actor_for(action), message=message)
        if action is Action.APPROVE and draft is not None:
            draft(submission.interview)
            db.session.commit()
    assert submission.state == State(state).value
    return submission
