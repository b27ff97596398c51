"""The outbox page: what was sent, what waits, what failed and why."""

from __future__ import annotations

from flask import abort, render_template, request
from sqlalchemy import select

from ..auth import editor_required
from ..extensions import db
from ..models import OutboxEmail, count_by
from . import bp

STATUSES = ("pending", "sending", "sent", "failed", "dead")


@bp.route("")
@editor_required
def outbox():
    """The latest emails, filtered by status."""
    status = request.args.get("status", "")
    query = select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(200)
    if status in STATUSES:
        query = query.where(OutboxEmail.status == status)
    return render_template(
        "notifications/outbox.html",
        emails=db.session.scalars(query).all(),
        counts=count_by(OutboxEmail.status),
        statuses=STATUSES,
        status=status,
    )


@bp.route("/<int:email_id>")
@editor_required
def email(email_id: int):
    """One email as it was (or will be) sent."""
    found = db.session.get(OutboxEmail, email_id)
    if found is None:
        abort(404)
    return render_template("notifications/email.html", email=found)
