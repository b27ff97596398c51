"""Editors' sessions: log in, log out, set a password from a link, own account."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from .. import accounts, two_factor
from ..auth import editor_required, enrolling, load_user
from ..clock import timestamp
from ..extensions import csrf, db, limiter
from ..notifications import limits
from . import bp
from .forms import (
    AccountForm,
    CodeForm,
    ForgotForm,
    LoginForm,
    NotifyForm,
    SetPasswordForm,
    TurnOffForm,
)

# How long the second step waits for its code after the password was right.
SECOND_STEP_SECONDS = 300


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
            target = safe_next(form.next.data) or url_for("review.queue")
            if user.has_two_factor:
                session["second_step"] = {
                    "user": user.get_id(),
                    "next": target,
                    "at": int(timestamp()),
                }
                return redirect(url_for("review.login_code"))
            login_user(user)
            return redirect(target)
        # One answer for a wrong email and a wrong password.
        form.password.errors.append("That email and password don't match an active editor.")
    return render_template("review/login.html", form=form)


def _second_step():
    """The editor whose password was right a moment ago, and where they were going."""
    pending = session.get("second_step")
    if not isinstance(pending, dict) or timestamp() - pending.get("at", 0) > SECOND_STEP_SECONDS:
        return None, None
    return load_user(str(pending.get("user", ""))), pending.get("next")


def _second_step_key() -> str:
    pending = session.get("second_step")
    user = pending.get("user", "") if isinstance(pending, dict) else ""
    return "second-step:" + str(user).partition(":")[0]


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["TWO_FACTOR_LIMIT"], methods=["POST"], key_func=_second_step_key
)
def login_code():
    """Sign-in's second step: a code from the app, or a recovery code."""
    user, target = _second_step()
    if user is None:
        session.pop("second_step", None)
        flash("Please log in again: the code was not typed in time.", "error")
        return redirect(url_for("review.login"))
    form = CodeForm()
    if form.validate_on_submit():
        used = two_factor.check(user, form.code.data)
        if used is not None:
            session.clear()
            login_user(user)
            if used == "recovery":
                left = two_factor.recovery_codes_left(user)
                flash(
                    f"You used a recovery code; {left} left. If your phone is lost, set up "
                    "two-factor sign-in again from My account.",
                    "warning",
                )
            return redirect(safe_next(target) or url_for("review.queue"))
        form.code.errors.append(
            "That code didn't work. Codes change every 30 seconds, and each works once."
        )
    return render_template("review/login_code.html", form=form)


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
@enrolling
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


@bp.route("/account/two-factor", methods=["GET", "POST"])
@enrolling
def two_factor_setup():
    """Turn two-factor sign-in on (scan, type a code, keep the recovery codes),
    make new recovery codes, or turn it off."""
    form = CodeForm(prefix="code")
    off_form = TurnOffForm(prefix="off")
    codes = None
    sent_code = form.code.name in request.form
    try:
        if not current_user.has_two_factor:
            secret = session.get("totp_pending") or two_factor.new_secret()
            session["totp_pending"] = secret
            if sent_code and form.validate_on_submit():
                codes = two_factor.enrol(current_user, secret, form.code.data)
                session.pop("totp_pending", None)
                # This session stays; every other one ended.
                login_user(current_user._get_current_object())
        elif sent_code and form.validate_on_submit():
            codes = two_factor.replace_recovery_codes(current_user, form.code.data)
        elif off_form.password.name in request.form and off_form.validate_on_submit():
            two_factor.turn_off(current_user, off_form.password.data)
            flash("Two-factor sign-in is off.", "success")
            return redirect(url_for("review.account"))
    except two_factor.TwoFactorError as error:
        db.session.rollback()
        (form.code if sent_code else off_form.password).errors.append(str(error))
    secret = None if current_user.has_two_factor else session["totp_pending"]
    uri = two_factor.enrolment_uri(current_user, secret) if secret else None
    return render_template(
        "review/two_factor.html",
        form=form,
        off_form=off_form,
        codes=codes,
        secret=secret,
        qr=two_factor.qr_code(uri) if uri else None,
        required=two_factor.required(),
        codes_left=two_factor.recovery_codes_left(current_user),
    )


@bp.route("/unsubscribe/digest/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: the mail program posts "List-Unsubscribe=One-Click", no form
def unsubscribe_digest(token: str):
    """Stop the daily digest from the link in its headers: a page with one
    button, or the mail program's one-click POST. Needs no login."""
    user = accounts.digest_subscriber(token)
    if user is None:
        return render_template("review/unsubscribe.html", user=None, done=False), 404
    done = False
    if request.method == "POST":
        accounts.stop_digest(user)
        done = True
    return render_template("review/unsubscribe.html", user=user, done=done)
