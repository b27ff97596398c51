"""The outbox page: what was sent, what waits, what failed and why; retry."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select

from ..auth import editor_required
from ..clock import utcnow
from ..extensions import db
from ..models import OutboxEmail, count_by
from ..notifications.delivery import last_seen, retry_dead
from ..notifications.delivery import retry as retry_email
from . import bp
from .forms import RecipientFilterForm

STATUSES = ("pending", "sending", "sent", "failed", "dead")
# A worker polls every few seconds (longer while it waits out an outage).
WORKER_SILENT = timedelta(minutes=3)
PAGE_SIZE = 50

# The HTML part is shown in a sandboxed frame: no scripts, no forms, no fetches,
# whatever the email holds.
HTML_PART_POLICY = "sandbox; default-src 'none'; img-src https: data:; style-src 'unsafe-inline'"


@bp.route("/outbox")
@editor_required
def outbox():
    """The latest emails, filtered by status and recipient."""
    status = request.args.get("status", "")
    recipient = (request.args.get("recipient") or "").strip().lower()[:254]
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 100_000))
    query = (
        select(OutboxEmail).where(OutboxEmail.not_to_subscribers()).order_by(OutboxEmail.id.desc())
    )
    if status in STATUSES:
        query = query.where(OutboxEmail.status == status)
    if recipient:
        query = query.where(OutboxEmail.to_address == recipient)
    rows = db.session.scalars(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    worker = last_seen()
    return render_template(
        "review/outbox.html",
        emails=rows[:PAGE_SIZE],
        has_next=len(rows) > PAGE_SIZE,
        page=page,
        counts=count_by(OutboxEmail.status, OutboxEmail.not_to_subscribers()),
        statuses=STATUSES,
        status=status,
        recipient=recipient,
        filter_form=RecipientFilterForm(formdata=None, recipient=recipient),
        worker=worker,
        worker_silent=worker is not None and worker.last_seen < utcnow() - WORKER_SILENT,
    )


def _desk_email(email_id: int) -> OutboxEmail:
    """An email the desk may open: not one to a newsletter subscriber."""
    found = db.get_or_404(OutboxEmail, email_id)
    if found.subscriber_id is not None:
        abort(404)
    return found


@bp.route("/outbox/<int:email_id>")
@editor_required
def email(email_id: int):
    """One email as it was (or will be) sent."""
    return render_template("review/email.html", email=_desk_email(email_id), form=FlaskForm())


@bp.route("/outbox/<int:email_id>/html")
@editor_required
def html_part(email_id: int):
    """The HTML part alone, for the sandboxed frame on the email's page."""
    response = _desk_email(email_id)
    headers = {
        "Content-Security-Policy": HTML_PART_POLICY,
        "Content-Type": "text/html; charset=utf-8",
        "X-Content-Type-Options": "nosniff",
    }
    return response.html_body, 200, headers


@bp.route("/outbox/<int:email_id>/retry", methods=["POST"])
@editor_required
def retry(email_id: int):
    """Send a failed or dead email again."""
    found = _desk_email(email_id)
    retry_email(found)
    flash(f"“{found.subject}” is queued to be sent again.", "success")
    return redirect(url_for("review.email", email_id=found.id))


@bp.route("/outbox/retry-dead", methods=["POST"])
@editor_required
def outbox_retry_dead():
    """Every dead email of the last few days back in line, at once (after an outage)."""
    days = request.form.get("days", type=int)
    if FlaskForm().validate_on_submit() and days in (1, 3, 7, 30):
        count = retry_dead(utcnow() - timedelta(days=days))
        flash(f"{count} dead email{'s' if count != 1 else ''} will be sent again.", "success")
    return redirect(url_for("review.outbox", status="dead"))
