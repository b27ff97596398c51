"""The submission workflow: states, actions, roles and the one table of legal moves.

Pure data and pure functions: no Flask, no database. `operations.py` is the only
code that applies a move to a stored submission; it asks this module first.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    SPAM = "spam"
    IN_REVIEW = "in_review"
    # An editor asked this applicant questions of their own: their turn.
    FOLLOW_UPS_ASKED = "follow_ups_asked"
    CHANGES_REQUESTED = "changes_requested"
    REJECTED = "rejected"
    APPROVED = "approved"
    AWAITING_SIGNOFF = "awaiting_signoff"
    READY = "ready"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class Action(StrEnum):
    SAVE = "save"
    SUBMIT = "submit"
    MARK_SPAM = "mark_spam"
    RELEASE = "release"
    START_REVIEW = "start_review"
    REQUEST_CHANGES = "request_changes"
    REVISE = "revise"
    ASK_FOLLOW_UPS = "ask_follow_ups"
    ANSWER_FOLLOW_UPS = "answer_follow_ups"
    STOP_FOLLOW_UPS = "stop_follow_ups"
    REJECT = "reject"
    REOPEN = "reopen"
    APPROVE = "approve"
    SEND_PROOF = "send_proof"
    SIGN_OFF = "sign_off"
    ASK_FIX = "ask_fix"
    SKIP_SIGNOFF = "skip_signoff"
    EDIT_AFTER_SIGNOFF = "edit_after_signoff"
    PUBLISH = "publish"
    PUBLISH_CHANGES = "publish_changes"
    CANCEL_SCHEDULE = "cancel_schedule"
    UNPUBLISH = "unpublish"
    WITHDRAW = "withdraw"
    # An interview the publication already had, brought in by `flask import`.
    IMPORT = "import"
    IMPORT_PUBLISHED = "import_published"


class Role(StrEnum):
    APPLICANT = "applicant"
    EDITOR = "editor"
    ADMIN = "admin"
    # The spam rules act on their own; nobody logs in as "system".
    SYSTEM = "system"


class Message(StrEnum):
    NONE = "none"
    OPTIONAL = "optional"
    REQUIRED = "required"


# A submission that does not exist yet: the source of `save` and `submit`.
NEW = None

EDITORS = frozenset({Role.EDITOR, Role.ADMIN})
APPLICANT = frozenset({Role.APPLICANT})
ADMIN = frozenset({Role.ADMIN})

BEFORE_PUBLICATION = frozenset(State) - {State.PUBLISHED, State.WITHDRAWN}


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[State | None]
    target: State
    roles: frozenset[Role]
    message: Message = Message.NONE


def _t(action, sources, target, roles, message=Message.NONE) -> Transition:
    return Transition(action, frozenset(sources), target, frozenset(roles), message)


TRANSITIONS: dict[Action, Transition] = {
    t.action: t
    for t in (
        _t(Action.SAVE, {NEW, State.DRAFT}, State.DRAFT, APPLICANT),
        _t(Action.SUBMIT, {NEW, State.DRAFT}, State.SUBMITTED, APPLICANT),
        _t(Action.MARK_SPAM, {State.SUBMITTED}, State.SPAM, EDITORS | {Role.SYSTEM}),
        _t(Action.RELEASE, {State.SPAM}, State.SUBMITTED, EDITORS),
        _t(Action.START_REVIEW, {State.SUBMITTED}, State.IN_REVIEW, EDITORS),
        _t(
            Action.REQUEST_CHANGES,
            {State.IN_REVIEW},
            State.CHANGES_REQUESTED,
            EDITORS,
            Message.REQUIRED,
        ),
        _t(Action.REVISE, {State.CHANGES_REQUESTED}, State.SUBMITTED, APPLICANT),
        # Questions for this applicant alone, after reading their answers: an
        # interview, not a form. Answered (or declined), it is back in review.
        _t(
            Action.ASK_FOLLOW_UPS,
            {State.IN_REVIEW},
            State.FOLLOW_UPS_ASKED,
            EDITORS,
            Message.OPTIONAL,
        ),
        _t(Action.ANSWER_FOLLOW_UPS, {State.FOLLOW_UPS_ASKED}, State.IN_REVIEW, APPLICANT),
        # No answer coming: the editors go on without it.
        _t(
            Action.STOP_FOLLOW_UPS,
            {State.FOLLOW_UPS_ASKED},
            State.IN_REVIEW,
            EDITORS,
            Message.OPTIONAL,
        ),
        _t(
            Action.REJECT,
            {State.SUBMITTED, State.IN_REVIEW},
            State.REJECTED,
            EDITORS,
            Message.REQUIRED,
        ),
        _t(Action.REOPEN, {State.REJECTED}, State.IN_REVIEW, EDITORS),
        _t(Action.APPROVE, {State.IN_REVIEW}, State.APPROVED, EDITORS),
        _t(
            Action.SEND_PROOF,
            {State.APPROVED},
            State.AWAITING_SIGNOFF,
            EDITORS,
            Message.OPTIONAL,
        ),
        _t(Action.SIGN_OFF, {State.AWAITING_SIGNOFF}, State.READY, APPLICANT),
        _t(
            Action.ASK_FIX,
            {State.AWAITING_SIGNOFF},
            State.APPROVED,
            APPLICANT,
            Message.REQUIRED,
        ),
        _t(
            Action.SKIP_SIGNOFF,
            {State.APPROVED, State.AWAITING_SIGNOFF},
            State.READY,
            ADMIN,
            Message.REQUIRED,
        ),
        # Saving a changed draft after the sign-off: what was signed off is no
        # longer what would go live, so a new proof is needed (or an admin's skip).
        _t(Action.EDIT_AFTER_SIGNOFF, {State.READY}, State.APPROVED, EDITORS),
        _t(Action.PUBLISH, {State.READY}, State.PUBLISHED, EDITORS),
        # A published interview's saved changes go live (the draft editor's own form).
        _t(Action.PUBLISH_CHANGES, {State.PUBLISHED}, State.PUBLISHED, EDITORS, Message.OPTIONAL),
        # A publication set for later, called off before it went live (nobody
        # saw it, so nobody is told it was "taken offline").
        _t(Action.CANCEL_SCHEDULE, {State.PUBLISHED}, State.READY, EDITORS),
        _t(
            Action.UNPUBLISH,
            {State.PUBLISHED},
            State.READY,
            EDITORS,
            Message.REQUIRED,
        ),
        # The back catalogue (`flask import`, run by the operator: nobody logs in
        # as "system"). An old interview arrives as a draft to check, or as it
        # was published on the old blog: it was signed off there, long ago.
        _t(Action.IMPORT, {NEW}, State.APPROVED, {Role.SYSTEM}),
        _t(Action.IMPORT_PUBLISHED, {NEW}, State.PUBLISHED, {Role.SYSTEM}),
        _t(
            Action.WITHDRAW,
            BEFORE_PUBLICATION,
            State.WITHDRAWN,
            APPLICANT,
            Message.OPTIONAL,
        ),
    )
}

# How each state reads to a person, and whose move it is next.
LABELS: dict[State, str] = {
    State.DRAFT: "Draft, not sent yet",
    State.SUBMITTED: "Received, waiting for an editor",
    State.SPAM: "Held for a check",
    State.IN_REVIEW: "Being reviewed",
    State.FOLLOW_UPS_ASKED: "Follow-up questions asked",
    State.CHANGES_REQUESTED: "Changes requested",
    State.REJECTED: "Not selected",
    State.APPROVED: "Approved, being edited",
    State.AWAITING_SIGNOFF: "Proof ready for sign-off",
    State.READY: "Signed off, ready to publish",
    State.PUBLISHED: "Published",
    State.WITHDRAWN: "Withdrawn",
}

ACTION_LABELS: dict[Action, str] = {
    Action.SAVE: "Save and finish later",
    Action.SUBMIT: "Submit",
    Action.MARK_SPAM: "Mark as spam",
    Action.RELEASE: "Release from spam",
    Action.START_REVIEW: "Start review",
    Action.REQUEST_CHANGES: "Request changes",
    Action.REVISE: "Send revision",
    Action.ASK_FOLLOW_UPS: "Ask follow-up questions",
    Action.ANSWER_FOLLOW_UPS: "Answer the follow-up questions",
    Action.STOP_FOLLOW_UPS: "Stop waiting for the answers",
    Action.REJECT: "Reject",
    Action.REOPEN: "Reopen",
    Action.APPROVE: "Approve",
    Action.SEND_PROOF: "Send the proof",
    Action.SIGN_OFF: "Sign it off",
    Action.ASK_FIX: "Ask for a fix",
    Action.SKIP_SIGNOFF: "Skip the sign-off",
    Action.EDIT_AFTER_SIGNOFF: "Edit after the sign-off",
    Action.PUBLISH: "Publish",
    Action.PUBLISH_CHANGES: "Publish the changes",
    Action.CANCEL_SCHEDULE: "Cancel the schedule",
    Action.UNPUBLISH: "Unpublish",
    Action.WITHDRAW: "Withdraw",
    Action.IMPORT: "Import as a draft",
    Action.IMPORT_PUBLISHED: "Import as published",
}


class WorkflowError(Exception):
    """A move the table does not allow; views answer it with HTTP 409."""


class IllegalTransition(WorkflowError):
    pass


class NotPermitted(WorkflowError):
    pass


class MessageRequired(WorkflowError):
    pass


def _state_words(state: State | None) -> str:
    return "a new application" if state is NEW else f"“{LABELS[State(state)]}”"


def check(
    action: Action | str,
    state: State | str | None,
    role: Role | str,
    message: str | None = None,
) -> State:
    """Return the state `action` leads to, or raise a WorkflowError saying why not."""
    try:
        action = Action(action)
    except ValueError:
        raise IllegalTransition(f"There is no action called {action!r}.") from None
    state = State(state) if state is not NEW else NEW
    role = Role(role)
    rule = TRANSITIONS[action]
    if state not in rule.sources:
        raise IllegalTransition(
            f"“{ACTION_LABELS[action]}” is not possible for {_state_words(state)}."
        )
    if role not in rule.roles:
        raise NotPermitted(f"“{ACTION_LABELS[action]}” is not something a {role.value} can do.")
    if rule.message is Message.REQUIRED and not (message or "").strip():
        raise MessageRequired(f"“{ACTION_LABELS[action]}” needs a message.")
    return rule.target


def allowed_actions(state: State | str | None, role: Role | str) -> list[Action]:
    """The actions `role` may take from `state`, in the table's order."""
    state = State(state) if state is not NEW else NEW
    role = Role(role)
    return [
        rule.action for rule in TRANSITIONS.values() if state in rule.sources and role in rule.roles
    ]


def message_rule(action: Action | str) -> Message:
    return TRANSITIONS[Action(action)].message


# What the applicant reads on the status page about what comes next.
APPLICANT_NEXT: dict[State, str] = {
    State.DRAFT: "Your application is saved but not sent. Finish it and submit when you are ready.",
    State.SUBMITTED: "An editor will read your application and answer you by email.",
    State.SPAM: "Your application is waiting for a quick check by an editor.",
    State.IN_REVIEW: "An editor is reading your application now.",
    State.FOLLOW_UPS_ASKED: "The editors have a few more questions for you. Answer them and send "
    "them back; you may decline any you would rather not answer.",
    State.CHANGES_REQUESTED: "The editors asked for a few changes. Revise your answers below and send them back.",
    State.REJECTED: "We are not able to feature this application. Thank you for applying.",
    State.APPROVED: "We are editing your answers into an interview. You will see a proof before anything goes public.",
    State.AWAITING_SIGNOFF: "Read the proof below. Sign it off, or ask us to fix something.",
    State.READY: "Thank you for signing off. We will publish the interview soon and email you when it is live.",
    State.PUBLISHED: "Your interview is live.",
    State.WITHDRAWN: "You withdrew this application. Nothing more will happen with it.",
}

# Actions that end or hide something: shown last, styled as dangerous.
DESTRUCTIVE = frozenset({Action.MARK_SPAM, Action.REJECT, Action.UNPUBLISH, Action.WITHDRAW})

# The editor's draft can be changed in these states; not while the proof is out.
DRAFT_EDITABLE = frozenset({State.APPROVED, State.READY, State.PUBLISHED})
# Actions that come with a form of their own (the application, the draft editor)
# or a command (the import), not with a button on the submission page.
FORM_ACTIONS = frozenset(
    {
        Action.SAVE,
        Action.SUBMIT,
        Action.REVISE,
        Action.ASK_FOLLOW_UPS,
        Action.ANSWER_FOLLOW_UPS,
        Action.EDIT_AFTER_SIGNOFF,
        Action.PUBLISH_CHANGES,
        Action.IMPORT,
        Action.IMPORT_PUBLISHED,
    }
)

# The states where the next move is the editors'.
EDITORS_TURN = frozenset({State.SUBMITTED, State.IN_REVIEW, State.APPROVED, State.READY})
