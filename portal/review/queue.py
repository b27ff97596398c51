"""The review queue: tabs per state, filters, search, sorting, bulk actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from .. import operations, workflow
from ..auth import editor_required
from ..clock import site_to_utc, utcnow
from ..extensions import db
from ..models import (
    AfterRequest,
    Event,
    Interview,
    Opinion,
    Submission,
    Tag,
    User,
    count_by,
    interview_tags,
)
from ..workflow import Action, State
from . import bp
from .forms import BULK_ACTIONS, BulkForm, QueueFilterForm, choices
from .session import safe_next

PAGE_SIZE = 50
QUEUE_TABS = [s for s in State if s is not State.DRAFT]
# Published interviews not live yet, soonest first: not a state of its own.
SCHEDULED = "scheduled"
FILTERS = {
    "": "Everyone's",
    "mine": "Assigned to me",
    "unassigned": "Unassigned",
    "opinion": "Asking my opinion",
}
SORTS = {"waiting": "Waiting longest", "newest": "Newest"}


def active_editors() -> list[User]:
    return list(db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name)))


@dataclass
class Filters:
    """What the queue is narrowed to, from the page's address."""

    q: str = ""
    who: str = ""  # a FILTERS key, or an editor's id
    tag: str = ""  # a tag's slug
    industry: str = ""
    since: date | None = None
    until: date | None = None

    @classmethod
    def read(cls, args, editors: list[User]) -> Filters:
        who = args.get("who", "")
        if who not in FILTERS and who not in {str(u.id) for u in editors}:
            who = ""
        return cls(
            q=(args.get("q") or "").strip()[:100],
            who=who,
            tag=(args.get("tag") or "").strip()[:60],
            industry=(args.get("industry") or "").strip()[:100],
            since=_day(args.get("since")),
            until=_day(args.get("until")),
        )

    def args(self) -> dict[str, str]:
        """The address's part for these filters (for tabs, pages, "clear")."""
        given = {
            "q": self.q,
            "who": self.who,
            "tag": self.tag,
            "industry": self.industry,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return {key: value for key, value in given.items() if value}

    @property
    def narrowed(self) -> bool:
        return bool(self.tag or self.industry or self.since or self.until)


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip()[:10])
    except ValueError:
        return None


def _query(tab: str, filters: Filters, sort: str):
    # A search looks in every tab (a name is found wherever it is now);
    # drafts are the applicant's own and never listed.
    query = select(Submission).options(
        selectinload(Submission.assigned_to), selectinload(Submission.interview)
    )
    if filters.q:
        query = query.where(Submission.state != State.DRAFT.value)
    elif tab == SCHEDULED:
        query = query.join(Interview).where(
            Submission.state == State.PUBLISHED.value, Interview.published_at > utcnow()
        )
    else:
        query = query.where(Submission.state == tab)
    query = _narrowed(query, filters)
    if tab == SCHEDULED and not filters.q:
        return query.order_by(Interview.published_at.asc(), Submission.id)
    oldest_first = sort == "waiting"
    order = (
        Submission.state_changed_at.asc() if oldest_first else Submission.state_changed_at.desc()
    )
    return query.order_by(order, Submission.id)


def _narrowed(query, filters: Filters):
    who = filters.who
    if who == "mine":
        query = query.where(Submission.assigned_to_id == current_user.id)
    elif who == "unassigned":
        query = query.where(Submission.assigned_to_id.is_(None))
    elif who == "opinion":
        query = query.where(
            select(Opinion.id)
            .where(
                Opinion.submission_id == Submission.id,
                Opinion.editor_id == current_user.id,
                Opinion.answered_at.is_(None),
            )
            .exists()
        )
    elif who:
        query = query.where(Submission.assigned_to_id == int(who))
    if filters.q:
        like = (
            "%"
            + filters.q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            + "%"
        )
        query = query.where(
            or_(
                func.lower(Submission.name).like(like, escape="\\"),
                func.lower(Submission.business).like(like, escape="\\"),
                func.lower(Submission.email).like(like, escape="\\"),
            )
        )
    if filters.tag:
        tagged = (
            select(Interview.submission_id)
            .join(interview_tags, interview_tags.c.interview_id == Interview.id)
            .join(Tag, Tag.id == interview_tags.c.tag_id)
            .where(Tag.slug == filters.tag)
        )
        query = query.where(Submission.id.in_(tagged))
    if filters.industry:
        query = query.where(func.lower(Submission.industry) == filters.industry.lower())
    # Dates are the site's days, from the start of the first to the end of the last.
    sent = func.coalesce(Submission.submitted_at, Submission.created_at)
    if filters.since:
        query = query.where(sent >= site_to_utc(datetime.combine(filters.since, time.min)))
    if filters.until:
        end = site_to_utc(datetime.combine(filters.until + timedelta(days=1), time.min))
        query = query.where(sent < end)
    return query


@bp.route("/")
@editor_required
def queue():
    """The review queue, one tab per state, and the scheduled publications."""
    tab = request.args.get("state", State.SUBMITTED.value)
    if tab not in {s.value for s in QUEUE_TABS} | {SCHEDULED}:
        tab = State.SUBMITTED.value
    editors = active_editors()
    filters = Filters.read(request.args, editors)
    state = State.PUBLISHED if tab == SCHEDULED else State(tab)
    default_sort = "waiting" if state in workflow.EDITORS_TURN else "newest"
    sort = request.args.get("sort", default_sort)
    sort = sort if sort in SORTS else default_sort
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 100_000))
    rows = db.session.scalars(
        _query(tab, filters, sort).limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
    ).all()
    flag_before = utcnow() - timedelta(days=current_app.config["QUEUE_FLAG_DAYS"])
    form = BulkForm()
    form.assignee.choices = choices((u.id, u.name) for u in editors)
    open_requests = db.session.scalars(
        select(AfterRequest)
        .options(selectinload(AfterRequest.submission))
        .where(AfterRequest.handled_at.is_(None))
        .order_by(AfterRequest.id)
    ).all()
    filter_form = QueueFilterForm(
        formdata=None,
        q=filters.q,
        who=filters.who,
        sort=sort,
        tag=filters.tag,
        industry=filters.industry,
        since=filters.since,
        until=filters.until,
    )
    filter_form.who.choices = choices(
        list(FILTERS.items()) + [(str(u.id), f"Assigned to {u.name}") for u in editors]
    )
    filter_form.sort.choices = choices(list(SORTS.items()))
    filter_form.tag.choices = choices(
        [("", "Any tag")]
        + [
            (slug, name)
            for slug, name in db.session.execute(select(Tag.slug, Tag.name).order_by(Tag.name))
        ]
    )
    industries = db.session.scalars(
        select(Submission.industry)
        .where(Submission.industry != "", Submission.state != State.DRAFT.value)
        .group_by(Submission.industry)
        .order_by(Submission.industry)
    ).all()
    filter_form.industry.choices = choices([("", "Any industry")] + [(i, i) for i in industries])
    shown = rows[:PAGE_SIZE]
    counts = count_by(Submission.state, Submission.state != State.DRAFT.value)
    counts[SCHEDULED] = db.session.scalar(
        select(func.count())
        .select_from(Submission)
        .join(Interview)
        .where(Submission.state == State.PUBLISHED.value, Interview.published_at > utcnow())
    )
    return render_template(
        "review/queue.html",
        came_back=_came_back(
            [s.id for s in shown if s.state in (State.IN_REVIEW, State.SUBMITTED)]
        ),
        opinions=_opinions([s.id for s in shown]),
        everywhere=bool(filters.q),
        ageing=state in workflow.EDITORS_TURN or tab == State.FOLLOW_UPS_ASKED,
        filter_form=filter_form,
        filters=filters,
        keep=filters.args(),
        unsearched={k: v for k, v in filters.args().items() if k != "q"},
        open_requests=open_requests,
        tabs=[(s.value, s.value) for s in QUEUE_TABS],
        scheduled=SCHEDULED,
        counts=counts,
        tab=tab,
        q=filters.q,
        sort=sort,
        rows=shown,
        page=page,
        has_next=len(rows) > PAGE_SIZE,
        flag_before=flag_before,
        flag_days=current_app.config["QUEUE_FLAG_DAYS"],
        editors_turn=state in workflow.EDITORS_TURN,
        form=form,
    )


def _opinions(submission_ids: list[int]) -> dict[int, list[Opinion]]:
    """Each listed application's second opinions, asked and given, in one query."""
    found: dict[int, list[Opinion]] = {}
    if not submission_ids:
        return found
    for opinion in db.session.scalars(
        select(Opinion)
        .options(selectinload(Opinion.editor))
        .where(Opinion.submission_id.in_(submission_ids))
        .order_by(Opinion.id)
    ):
        found.setdefault(opinion.submission_id, []).append(opinion)
    return found


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
