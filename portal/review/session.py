"""Editors' sessions: log in, log out, set a password from a link, own account."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from .. import accounts
from ..auth import editor_required
from ..extensions import db, limiter
from ..notifications import limits
from . import bp
from .forms import AccountForm, ForgotForm, LoginForm, NotifyForm, SetPasswordForm


def safe_next(target: str | None) -> str | None:
    """A path on this site, or None: never another host, never a header break."""
    if not target or not target.isprintable() or any(c in target for c in "\\\x00"):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _account_key() -> str:
    return "login-account:" + (request.form.get("email") or "").strip().lower()[:254]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"], key_func=_account_key
)
def login():
    """Editor login."""
    if current_user.is_authenticated:
        return redirect(url_for("review.queue"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            session.clear()  # a fresh session on login
            login_user(user)
            return redirect(safe_next(form.next.data) or url_for("review.queue"))
        # One answer for a wrong email and a wrong password.
        form.password.errors.append("That email and password don't match an active editor.")
    return render_template("review/login.html", form=form)


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"])
def forgot():
    """Ask for a set-password link: the same answer whether or not the address is known."""
    form = ForgotForm()
    if form.validate_on_submit():
        if limits.may_email(form.email.data):
            accounts.forgot_password(form.email.data)
        hours = int(accounts.SET_PASSWORD_VALID.total_seconds() // 3600)
        flash(
            "If that address belongs to an active editor, a link to set a new password is on "
            f"its way; it works once, for {hours} hours.",
            "success",
        )
        return redirect(url_for("review.login"))
    return render_template("review/forgot.html", form=form)


@bp.route("/logout", methods=["POST"])
@editor_required
def logout():
    """End this editor's sessions for real, not just this cookie."""
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are logged out.", "success")
    return redirect(url_for("review.login"))


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    """Set a password from an emailed link (valid once, expiring)."""
    row, problem = accounts.token_user(token)
    if row is None:
        return render_template("review/set_password.html", problem=problem, form=None), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        user = accounts.set_password_with(row, form.password.data)
        flash(f"Your password is set, {user.name}. Log in with it now.", "success")
        return redirect(url_for("review.login"))
    return render_template("review/set_password.html", form=form, user=row.user, problem="")


@bp.route("/account", methods=["GET", "POST"])
@editor_required
def account():
    """Change your own password and choose which emails you get."""
    password_form = AccountForm(prefix="pw")
    notify_form = NotifyForm(prefix="notify", notify_new=current_user.notify_new)
    if password_form.submit.data and password_form.validate_on_submit():
        try:
            accounts.change_password(
                current_user, password_form.current.data, password_form.new.data
            )
        except accounts.TeamError as error:
            password_form.current.errors.append(str(error))
        else:
            login_user(current_user)  # this device stays logged in
            flash("Password changed. Other devices will need to log in again.", "success")
            return redirect(url_for("review.account"))
    elif notify_form.save.data and notify_form.validate_on_submit():
        accounts.set_notify(current_user, notify_form.notify_new.data)
        flash("Email choices saved.", "success")
        return redirect(url_for("review.account"))
    return render_template(
        "review/account.html", password_form=password_form, notify_form=notify_form
    )
