"""The review queue: tabs per state, filters, search, sorting, bulk actions."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select

from .. import operations, workflow
from ..auth import editor_required
from ..clock import utcnow
from ..extensions import db
from ..models import AfterRequest, Event, Submission, User, count_by
from ..workflow import Action, State
from . import bp
from .forms import BULK_ACTIONS, BulkForm, QueueFilterForm, choices
from .session import safe_next

PAGE_SIZE = 50
QUEUE_TABS = [s for s in State if s is not State.DRAFT]
FILTERS = {"": "Everyone's", "mine": "Assigned to me", "unassigned": "Unassigned"}
SORTS = {"waiting": "Waiting longest", "newest": "Newest"}


def active_editors() -> list[User]:
    return list(db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name)))


def _query(tab: str, who: str, q: str, sort: str):
    # A search looks in every tab (a name is found wherever it is now);
    # drafts are the applicant's own and never listed.
    if q:
        query = select(Submission).where(Submission.state != State.DRAFT.value)
    else:
        query = select(Submission).where(Submission.state == tab)
    if who == "mine":
        query = query.where(Submission.assigned_to_id == current_user.id)
    elif who == "unassigned":
        query = query.where(Submission.assigned_to_id.is_(None))
    if q:
        like = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                func.lower(Submission.name).like(like, escape="\\"),
                func.lower(Submission.business).like(like, escape="\\"),
                func.lower(Submission.email).like(like, escape="\\"),
            )
        )
    oldest_first = sort == "waiting"
    order = (
        Submission.state_changed_at.asc() if oldest_first else Submission.state_changed_at.desc()
    )
    return query.order_by(order, Submission.id)


@bp.route("/")
@editor_required
def queue():
    """The review queue, one tab per state."""
    tab = request.args.get("state", State.SUBMITTED.value)
    if tab not in {s.value for s in QUEUE_TABS}:
        tab = State.SUBMITTED.value
    who = request.args.get("who", "")
    who = who if who in FILTERS else ""
    q = (request.args.get("q") or "").strip()[:100]
    default_sort = "waiting" if State(tab) in workflow.EDITORS_TURN else "newest"
    sort = request.args.get("sort", default_sort)
    sort = sort if sort in SORTS else default_sort
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 100_000))
    rows = db.session.scalars(
        _query(tab, who, q, sort).limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
    ).all()
    flag_before = utcnow() - timedelta(days=current_app.config["QUEUE_FLAG_DAYS"])
    form = BulkForm()
    form.assignee.choices = choices((u.id, u.name) for u in active_editors())
    open_requests = db.session.scalars(
        select(AfterRequest).where(AfterRequest.handled_at.is_(None)).order_by(AfterRequest.id)
    ).all()
    filter_form = QueueFilterForm(formdata=None, q=q, who=who, sort=sort)
    filter_form.who.choices = choices(list(FILTERS.items()))
    filter_form.sort.choices = choices(list(SORTS.items()))
    shown = rows[:PAGE_SIZE]
    return render_template(
        "review/queue.html",
        came_back=_came_back(
            [s.id for s in shown if s.state in (State.IN_REVIEW, State.SUBMITTED)]
        ),
        everywhere=bool(q),
        ageing=State(tab) in workflow.EDITORS_TURN or tab == State.FOLLOW_UPS_ASKED,
        filter_form=filter_form,
        open_requests=open_requests,
        tabs=QUEUE_TABS,
        counts=count_by(Submission.state, Submission.state != State.DRAFT.value),
        tab=tab,
        who=who,
        q=q,
        sort=sort,
        filters=FILTERS,
        sorts=SORTS,
        rows=shown,
        page=page,
        has_next=len(rows) > PAGE_SIZE,
        flag_before=flag_before,
        flag_days=current_app.config["QUEUE_FLAG_DAYS"],
        editors_turn=State(tab) in workflow.EDITORS_TURN,
        form=form,
    )


# What brought an application back to the editors, marked in the queue.
CAME_BACK = {
    Action.REVISE.value: "revised",
    Action.ANSWER_FOLLOW_UPS.value: "follow-ups answered",
}


def _came_back(submission_ids: list[int]) -> dict[int, str]:
    """Those of `submission_ids` whose latest event is the applicant's: a
    revision they were asked for, or answers to follow-up questions; each with
    its mark. (In "waiting longest" order they stand by when they came back.)"""
    if not submission_ids:
        return {}
    latest = (
        select(func.max(Event.id))
        .where(Event.submission_id.in_(submission_ids))
        .group_by(Event.submission_id)
    )
    rows = db.session.execute(
        select(Event.submission_id, Event.action).where(
            Event.id.in_(latest), Event.action.in_(list(CAME_BACK))
        )
    )
    return {submission_id: CAME_BACK[action] for submission_id, action in rows}


@bp.route("/bulk", methods=["POST"])
@editor_required
def bulk():
    """Assign, mark as spam or release many at once, after a confirmation step."""
    form = BulkForm()
    form.assignee.choices = choices((u.id, u.name) for u in active_editors())
    ids = sorted(
        {int(i) for i in request.form.getlist("ids") if i.isascii() and i.isdigit() and len(i) < 19}
    )
    ids = ids[: PAGE_SIZE * 4]
    back = request.form.get("back") or url_for("review.queue")
    if not form.validate_on_submit() or not ids:
        flash("Choose at least one submission and an action.", "error")
        return redirect(_safe_back(back))
    assignee = db.session.get(User, form.assignee.data) if form.action.data == "assign" else None
    if form.action.data == "assign" and (assignee is None or not assignee.active):
        flash("Choose an active editor to assign to.", "error")
        return redirect(_safe_back(back))
    chosen = [
        s
        for s in db.session.scalars(
            select(Submission).where(
                Submission.id.in_(ids), Submission.state != State.DRAFT.value
            )  # drafts are the applicant's own: never listed, never acted on
        )
        if form.action.data == "assign"
        or form.action.data in workflow.allowed_actions(s.state, current_user.role)
    ]
    if not chosen:
        label = dict(BULK_ACTIONS).get(form.action.data, form.action.data).lower()
        flash(f"Nothing to do: none of those can be given “{label}” now.", "error")
        return redirect(_safe_back(back))
    ids = [s.id for s in chosen]
    if form.confirm.data != "yes":
        return render_template(
            "review/bulk_confirm.html",
            form=form,
            submissions=chosen,
            assignee=assignee,
            back=_safe_back(back),
        )
    result = operations.bulk(ids, form.action.data, operations.Actor.of(current_user), assignee)
    message = f"Done for {len(result.done)}."
    if result.skipped:
        message += f" Skipped {len(result.skipped)}: " + "; ".join(
            f"#{sid}: {why}" for sid, why in result.skipped
        )
    flash(message, "success" if not result.skipped else "error")
    return redirect(_safe_back(back))


def _safe_back(target: str) -> str:
    return safe_next(target) or url_for("review.queue")
