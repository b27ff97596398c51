"""Readers: the newsletter. Subscribe (double opt-in), confirm, and the
subscriber's own page behind the link in every issue: unsubscribe (also the
mail program's one-click POST, RFC 8058), how often, forget the address.

The forms carry no CSRF token (see publishing/forms.py): the subscribe form is
on shared, cached pages, and the other two are opened by a signed link that
only the address's owner holds, which is what a token would prove."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, redirect, render_template, request, url_for

from .. import newsletter
from ..extensions import csrf, limiter
from ..notifications.limits import may_email
from . import bp
from .forms import CadenceForm, SubscribeForm


def _from_elsewhere() -> bool:
    """The POST came from another site's page (a browser says so)."""
    fetched = request.headers.get("Sec-Fetch-Site")
    if fetched is not None:
        return fetched not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin == "null"
    ours = {request.host_url.rstrip("/"), current_app.config["PUBLIC_URL"].rstrip("/")}
    parts = urlsplit(origin)
    return f"{parts.scheme}://{parts.netloc}" not in {
        f"{urlsplit(o).scheme}://{urlsplit(o).netloc}" for o in ours
    }


@bp.route("/subscribe", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SUBSCRIBE_LIMIT_PER_ADDRESS"], methods=["POST"])
@csrf.exempt  # see the module's docstring: checked to come from our own pages instead
def subscribe():
    """The newsletter's form: an address and how often. Whatever the address,
    the answer is the same page ("check your inbox"), so nobody learns from it
    who subscribes."""
    form = SubscribeForm(request.form if request.method == "POST" else request.args)
    if request.method == "GET":
        return render_template("publishing/subscribe.html", form=form, confirm=False)
    if _from_elsewhere():
        # Another site sent this: the form, filled in, for the reader to send themselves.
        return render_template("publishing/subscribe.html", form=form, confirm=True), 400
    if not form.validate():
        return render_template("publishing/subscribe.html", form=form, confirm=False), 400
    if not form.fax.data:  # a bot gets the same answer, and nothing is kept
        try:
            newsletter.ask(form.email.data, form.cadence.data, may_email(form.email.data))
        except newsletter.NotAnAddress as error:
            form.email.errors = [str(error)]
            return render_template("publishing/subscribe.html", form=form, confirm=False), 400
    return redirect(url_for("publishing.subscribe_sent"), 303)


@bp.route("/subscribe/sent")
def subscribe_sent():
    days = current_app.config["NEWSLETTER_CONFIRM_DAYS"]
    return render_template("publishing/subscribe_sent.html", days=days)


@bp.route("/subscribe/confirm/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed link is the proof (module docstring)
def confirm_subscription(token: str):
    """The link in the confirmation email: a page with one button (a mail
    scanner that opens links confirms nothing), then "you're subscribed"."""
    found = newsletter.asked_by(token)
    if found is None:
        return render_template("publishing/subscription.html", subscriber=None, step="ended"), 404
    subscriber, cadence = found
    if request.method == "POST":
        newsletter.confirm(subscriber, cadence)
    done = subscriber.status == "confirmed" and subscriber.cadence == cadence
    return render_template(
        "publishing/subscription.html",
        subscriber=subscriber,
        cadence=cadence,
        step="confirmed" if done else "confirm",
    )


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: the mail program posts "List-Unsubscribe=One-Click", no form
def unsubscribe(token: str):
    """The subscriber's page, from the link in every issue (and the mail
    program's one-click POST): unsubscribe, how often, forget the address."""
    subscriber = newsletter.subscriber_for(token)
    if subscriber is None:
        return render_template("publishing/subscription.html", subscriber=None, step="gone"), 404
    form = CadenceForm(request.form, cadence=subscriber.cadence)
    step = "manage"
    if request.method == "POST":
        action = request.form.get("action", "")
        if request.form.get("List-Unsubscribe") == "One-Click" or action == "unsubscribe":
            newsletter.unsubscribe(subscriber)
            step = "unsubscribed"
        elif action == "cadence" and form.validate():
            newsletter.change_cadence(subscriber, form.cadence.data)
            step = "changed"
        elif action == "erase":  # a second button, so that no slip forgets it
            step = "erase"
        elif action == "erase-now":
            newsletter.erase(subscriber)
            return render_template("publishing/subscription.html", subscriber=None, step="erased")
    return render_template(
        "publishing/subscription.html", subscriber=subscriber, step=step, form=form
    )
