"""The dashboard: applications per week, time to a decision, what waits longest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from flask import render_template
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from .. import readership, workflow
from ..auth import editor_required
from ..clock import utcnow
from ..extensions import db
from ..models import Event, FollowUp, Submission, count_by
from ..workflow import Action, State
from . import bp

WEEKS = 12
DECISIONS = (Action.APPROVE.value, Action.REJECT.value, Action.REQUEST_CHANGES.value)


@dataclass
class Bar:
    label: str
    count: int
    x: float
    y: float
    height: float


def weekly_counts(now: datetime, weeks: int = WEEKS) -> list[tuple[datetime, int]]:
    """Applications submitted in each of the last `weeks` weeks (Monday to Sunday)."""
    this_monday = (now - timedelta(days=now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    start = this_monday - timedelta(weeks=weeks - 1)
    stamps = db.session.scalars(
        select(Submission.submitted_at).where(Submission.submitted_at >= start)
    ).all()
    counts = [0] * weeks
    for stamp in stamps:
        counts[min((stamp - start).days // 7, weeks - 1)] += 1
    return [(start + timedelta(weeks=i), counts[i]) for i in range(weeks)]


def chart(weeks: list[tuple[datetime, int]], width=600, height=200) -> list[Bar]:
    """Bars for a server-rendered SVG: no JavaScript needed to read it."""
    top = max([n for _, n in weeks] + [1])
    slot = width / len(weeks)
    bars = []
    for i, (monday, n) in enumerate(weeks):
        h = (height - 40) * n / top  # room above the tallest bar for its number
        bars.append(Bar(monday.strftime("%-d %b"), n, i * slot + slot * 0.15, height - 20 - h, h))
    return bars


def median_days_to_decision(now: datetime, days: int) -> float | None:
    """Median days from submission to the first decision, for decisions in the window."""
    since = now - timedelta(days=days)
    rows = db.session.execute(
        select(Event.submission_id, Event.created_at, Submission.submitted_at)
        .join(Submission, Submission.id == Event.submission_id)
        .where(Event.action.in_(DECISIONS), Event.created_at >= since)
        .order_by(Event.submission_id, Event.created_at)
    ).all()
    first: dict[int, float] = {}
    for submission_id, decided_at, submitted_at in rows:
        if submission_id not in first and submitted_at is not None:
            first[submission_id] = (decided_at - submitted_at).total_seconds() / 86400
    return round(median(first.values()), 1) if first else None


def median_days_to_answer(now: datetime, days: int) -> float | None:
    """Median days from asking follow-up questions to their answers, for the
    answers sent in the window (a round given up on has no answer: not counted)."""
    since = now - timedelta(days=days)
    asked = aliased(Event)
    rows = db.session.execute(
        select(FollowUp.asked_event_id, asked.created_at, func.min(FollowUp.sent_at))
        .join(asked, asked.id == FollowUp.asked_event_id)
        .where(FollowUp.sent_at.is_not(None), FollowUp.sent_at >= since)
        .group_by(FollowUp.asked_event_id, asked.created_at)
    ).all()
    waits = [(answered - asked_at).total_seconds() / 86400 for _, asked_at, answered in rows]
    return round(median(waits), 1) if waits else None


@bp.route("/dashboard")
@editor_required
def dashboard():
    """Applications per week, time to decision, counts per state, the oldest waiting."""
    now = utcnow()
    weeks = weekly_counts(now)
    oldest = db.session.scalars(
        select(Submission)
        .where(Submission.state.in_([s.value for s in workflow.EDITORS_TURN]))
        .order_by(Submission.state_changed_at)
        .limit(5)
    ).all()
    return render_template(
        "review/dashboard.html",
        bars=chart(weeks),
        total=sum(n for _, n in weeks),
        median_30=median_days_to_decision(now, 30),
        median_90=median_days_to_decision(now, 90),
        answered_90=median_days_to_answer(now, 90),
        counts=count_by(Submission.state, Submission.state != State.DRAFT.value),
        states=[s for s in State if s is not State.DRAFT],
        oldest=oldest,
        most_read=readership.most_read(),
    )
