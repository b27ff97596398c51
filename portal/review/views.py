"""Editors' pages: login, the queue, one submission and its draft."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select

from .. import operations, workflow
from ..auth import editor_required
from ..extensions import db
from ..models import Submission, User, count_by
from ..workflow import State
from . import bp
from .forms import ActionForm, LoginForm, with_items

PAGE_SIZE = 50
QUEUE_TABS = [s for s in State if s is not State.DRAFT]


def safe_next(target: str | None) -> str | None:
    """A path on this site, or None: never another host, never a header break."""
    if not target or any(c in target for c in "\r\n\t\\\x00") or not target.isprintable():
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Editor login."""
    if current_user.is_authenticated:
        return redirect(url_for("review.queue"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = db.session.scalar(
            select(User).where(func.lower(User.email) == form.email.data.lower())
        )
        if user is not None and user.active and user.check_password(form.password.data):
            session.clear()  # a fresh session on login
            login_user(user)
            return redirect(safe_next(form.next.data) or url_for("review.queue"))
        # One answer for a wrong email and a wrong password.
        form.password.errors.append("That email and password don't match an active editor.")
    return render_template("review/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@editor_required
def logout():
    """End this editor's sessions for real, not just this cookie."""
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    flash("You are logged out.", "success")
    return redirect(url_for("review.login"))


@bp.route("/")
@editor_required
def queue():
    """The review queue, one tab per state."""
    counts = count_by(Submission.state, Submission.state != State.DRAFT.value)
    tab = request.args.get("state", State.SUBMITTED.value)
    if tab not in {s.value for s in QUEUE_TABS}:
        tab = State.SUBMITTED.value
    page = max(1, request.args.get("page", 1, type=int) or 1)
    oldest_first = State(tab) in workflow.EDITORS_TURN
    order = (
        Submission.state_changed_at.asc() if oldest_first else Submission.state_changed_at.desc()
    )
    rows = db.session.scalars(
        select(Submission)
        .where(Submission.state == tab)
        .order_by(order, Submission.id)
        .limit(PAGE_SIZE + 1)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "review/queue.html",
        tabs=QUEUE_TABS,
        counts=counts,
        tab=tab,
        rows=rows[:PAGE_SIZE],
        page=page,
        has_next=len(rows) > PAGE_SIZE,
    )


def _submission(submission_id: int) -> Submission:
    submission = db.session.get(Submission, submission_id)
    if submission is None or submission.state == State.DRAFT.value:
        abort(404)
    return submission


@bp.route("/submissions/<int:submission_id>")
@editor_required
def submission(submission_id: int):
    """One submission: answers, history and the actions allowed now."""
    s = _submission(submission_id)
    actions = sorted(
        workflow.allowed_actions(s.state, current_user.role),
        key=lambda a: a in workflow.DESTRUCTIVE,
    )
    return render_template(
        "review/submission.html",
        submission=s,
        actions=actions,
        message_rules={a: workflow.message_rule(a).value for a in actions},
        destructive=workflow.DESTRUCTIVE,
        form=ActionForm(version=s.version),
        draft_editable=State(s.state) in workflow.DRAFT_EDITABLE and s.interview is not None,
    )


@bp.route("/submissions/<int:submission_id>/actions/<action>", methods=["POST"])
@editor_required
def act(submission_id: int, action: str):
    """Apply one workflow action to a submission."""
    s = _submission(submission_id)
    form = ActionForm()
    if not form.validate_on_submit():
        flash(" ".join(form.message.errors) or "Please try again.", "error")
        return redirect(url_for("review.submission", submission_id=s.id))
    version = form.version.data
    operations.transition(
        s,
        action,
        operations.Actor.of(current_user),
        message=form.message.data or "",
        expected_version=int(version) if version and version.isdigit() else None,
    )
    flash(f"Done: {workflow.LABELS[State(s.state)].lower()}.", "success")
    return redirect(url_for("review.submission", submission_id=s.id))


@bp.route("/submissions/<int:submission_id>/draft", methods=["GET", "POST"])
@editor_required
def draft(submission_id: int):
    """The draft editor: title, address, the interviewer's note, the answers."""
    s = _submission(submission_id)
    interview = s.interview
    if interview is None or State(s.state) not in workflow.DRAFT_EDITABLE:
        raise workflow.IllegalTransition(
            "The draft can be edited once the application is approved, and not "
            "while the proof is with the applicant."
        )
    Form = with_items([item.id for item in interview.items])
    form = Form(obj=interview, version=s.version) if request.method == "GET" else Form()
    if request.method == "GET":
        for item in interview.items:
            form[f"item{item.id}"].data = item.answer_html
    if form.validate_on_submit():
        taken = operations.unique_slug(form.slug.data, exclude_id=interview.id)
        if taken != form.slug.data:
            form.slug.errors.append("Another interview has this address already.")
        else:
            operations.save_draft(
                interview,
                title=form.title.data,
                slug=form.slug.data,
                intro_html=form.intro_html.data or "",
                items=[(item.id, form[f"item{item.id}"].data or "") for item in interview.items],
            )
            flash("Draft saved.", "success")
            return redirect(url_for("review.draft", submission_id=s.id))
    return render_template("review/draft.html", submission=s, interview=interview, form=form)


@bp.route("/submissions/<int:submission_id>/preview")
@editor_required
def preview(submission_id: int):
    """The interview exactly as readers will see it."""
    s = _submission(submission_id)
    if s.interview is None:
        abort(404)
    return render_template(
        "publishing/interview.html", interview=s.interview, submission=s, preview=True
    )
