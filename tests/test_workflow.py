"""The whole transition table: every (state, action, role) either works or raises."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select

from portal import operations, workflow
from portal.extensions import db
from portal.models import Event, OutboxEmail
from portal.operations import APPLICANT, SYSTEM, Actor
from portal.workflow import Action, Role, State
from tests.factories import staff, submission_in

S = State
EDITOR, ADMIN = Role.EDITOR, Role.ADMIN
EDITORS = {EDITOR, ADMIN}

# DESIGN.md's table, written out again by hand so that a mistake in
# workflow.TRANSITIONS can't agree with itself. (source, action) -> (target, roles)
EXPECTED: dict[tuple[State | None, Action], tuple[State, set[Role]]] = {
    (None, Action.SAVE): (S.DRAFT, {Role.APPLICANT}),
    (S.DRAFT, Action.SAVE): (S.DRAFT, {Role.APPLICANT}),
    (None, Action.SUBMIT): (S.SUBMITTED, {Role.APPLICANT}),
    (S.DRAFT, Action.SUBMIT): (S.SUBMITTED, {Role.APPLICANT}),
    (S.SUBMITTED, Action.MARK_SPAM): (S.SPAM, EDITORS | {Role.SYSTEM}),
    (S.SPAM, Action.RELEASE): (S.SUBMITTED, EDITORS),
    (S.SUBMITTED, Action.START_REVIEW): (S.IN_REVIEW, EDITORS),
    (S.IN_REVIEW, Action.REQUEST_CHANGES): (S.CHANGES_REQUESTED, EDITORS),
    (S.CHANGES_REQUESTED, Action.REVISE): (S.SUBMITTED, {Role.APPLICANT}),
    # Follow-up questions (test_follow_ups): asked in review, answered or given up on.
    (S.IN_REVIEW, Action.ASK_FOLLOW_UPS): (S.FOLLOW_UPS_ASKED, EDITORS),
    (S.FOLLOW_UPS_ASKED, Action.ANSWER_FOLLOW_UPS): (S.IN_REVIEW, {Role.APPLICANT}),
    (S.FOLLOW_UPS_ASKED, Action.STOP_FOLLOW_UPS): (S.IN_REVIEW, EDITORS),
    (S.SUBMITTED, Action.REJECT): (S.REJECTED, EDITORS),
    (S.IN_REVIEW, Action.REJECT): (S.REJECTED, EDITORS),
    (S.REJECTED, Action.REOPEN): (S.IN_REVIEW, EDITORS),
    (S.IN_REVIEW, Action.APPROVE): (S.APPROVED, EDITORS),
    (S.APPROVED, Action.SEND_PROOF): (S.AWAITING_SIGNOFF, EDITORS),
    (S.AWAITING_SIGNOFF, Action.SIGN_OFF): (S.READY, {Role.APPLICANT}),
    (S.AWAITING_SIGNOFF, Action.ASK_FIX): (S.APPROVED, {Role.APPLICANT}),
    (S.APPROVED, Action.SKIP_SIGNOFF): (S.READY, {ADMIN}),
    (S.AWAITING_SIGNOFF, Action.SKIP_SIGNOFF): (S.READY, {ADMIN}),
    (S.READY, Action.EDIT_AFTER_SIGNOFF): (S.APPROVED, EDITORS),
    (S.READY, Action.PUBLISH): (S.PUBLISHED, EDITORS),
    (S.PUBLISHED, Action.UNPUBLISH): (S.READY, EDITORS),
    (S.PUBLISHED, Action.PUBLISH_CHANGES): (S.PUBLISHED, EDITORS),
    # Only while it is not live yet (operations checks; test_workspace tests it).
    (S.PUBLISHED, Action.CANCEL_SCHEDULE): (S.READY, EDITORS),
    # The back catalogue, brought in from the command line (test_import).
    (None, Action.IMPORT): (S.APPROVED, {Role.SYSTEM}),
    (None, Action.IMPORT_PUBLISHED): (S.PUBLISHED, {Role.SYSTEM}),
}
for _state in State:
    if _state not in (S.PUBLISHED, S.WITHDRAWN):
        EXPECTED[(_state, Action.WITHDRAW)] = (S.WITHDRAWN, {Role.APPLICANT})

NEEDS_MESSAGE = {
    Action.REQUEST_CHANGES,
    Action.REJECT,
    Action.ASK_FIX,
    Action.SKIP_SIGNOFF,
    Action.UNPUBLISH,
}

COMBINATIONS = list(itertools.product([None, *State], Action, Role))


@pytest.mark.parametrize(("state", "action", "role"), COMBINATIONS, ids=str)
def test_every_combination_of_the_table(state, action, role):
    expected = EXPECTED.get((state, action))
    if expected is not None and role in expected[1]:
        assert workflow.check(action, state, role, message="why") == expected[0]
    else:
        with pytest.raises(workflow.WorkflowError):
            workflow.check(action, state, role, message="why")


@pytest.mark.parametrize("action", sorted(NEEDS_MESSAGE))
def test_a_required_message_cannot_be_blank(action):
    (state, _), (_, roles) = next(
        (key, value) for key, value in EXPECTED.items() if key[1] is action
    )
    role = sorted(roles)[0]
    for blank in ("", "   \n "):
        with pytest.raises(workflow.MessageRequired):
            workflow.check(action, state, role, message=blank)


def test_allowed_actions_list_exactly_the_legal_ones():
    for state, role in itertools.product([None, *State], Role):
        expected = {
            action
            for (source, action), (_target, roles) in EXPECTED.items()
            if source == state and role in roles
        }
        assert set(workflow.allowed_actions(state, role)) == expected


def test_an_unknown_action_is_an_illegal_transition():
    with pytest.raises(workflow.IllegalTransition, match="no action"):
        workflow.check("delete_everything", S.SUBMITTED, EDITOR)


def _actor(role: Role) -> Actor:
    if role is Role.APPLICANT:
        return APPLICANT
    if role is Role.SYSTEM:
        return SYSTEM
    return Actor.of(staff(role))


def _counts():
    return (
        db.session.scalar(select(func.count()).select_from(Event)),
        db.session.scalar(select(func.count()).select_from(OutboxEmail)),
    )


# Actions that come with a form of their own are tested with it (the application
# form, the draft editor in test_signoff.py).
# Cancelling a schedule also needs the publication to be in the future, which the
# table can't say: it has a test of its own (test_notifications, test_workspace).
STATE_ACTIONS = [
    action
    for action in Action
    if action not in workflow.FORM_ACTIONS and action is not Action.CANCEL_SCHEDULE
]


@pytest.mark.parametrize("state", list(State), ids=str)
def test_operations_follow_the_table_in_the_database(app, state):
    """Through operations.transition: legal moves change state and record an event;
    illegal ones raise and leave no trace (no event, no email, no state change)."""
    with app.app_context():
        for action, role in itertools.product(STATE_ACTIONS, Role):
            submission = submission_in(state)
            before = _counts()
            expected = EXPECTED.get((state, action))
            if expected is not None and role in expected[1]:
                event = operations.perform(submission, action, _actor(role), message="why")
                assert submission.state == expected[0].value
                assert (event.from_state, event.to_state) == (state.value, expected[0].value)
                assert event.actor_role == role.value
                assert _counts()[0] == before[0] + 1
            else:
                with pytest.raises(workflow.WorkflowError):
                    operations.perform(submission, action, _actor(role), message="why")
                db.session.rollback()
                db.session.refresh(submission)
                assert submission.state == state.value
                assert _counts() == before


def test_revise_keeps_every_revision(app):
    with app.app_context():
        submission = submission_in(S.CHANGES_REQUESTED)
        first = {a.question_id: a.body for a in submission.latest_revision.answers}
        new_answers = {qid: f"Rewritten {qid}" for qid in first}
        operations.revise(
            submission,
            operations.Profile(
                name=submission.name, email=submission.email, business=submission.business
            ),
            new_answers,
        )
        assert submission.state == S.SUBMITTED.value
        assert [r.number for r in submission.revisions] == [1, 2]
        assert {a.question_id: a.body for a in submission.revisions[0].answers} == first
        assert {a.question_id: a.body for a in submission.revisions[1].answers} == new_answers


def test_revise_is_refused_outside_changes_requested(app):
    with app.app_context():
        submission = submission_in(S.IN_REVIEW)
        with pytest.raises(workflow.IllegalTransition):
            operations.revise(
                submission, operations.Profile(name="x", email="x@example.com", business="x"), {}
            )


def test_form_actions_cannot_be_forced_through_transition(app):
    with app.app_context():
        submission = submission_in(S.CHANGES_REQUESTED)
        with pytest.raises(workflow.IllegalTransition):
            operations.perform(submission, Action.REVISE, APPLICANT)
