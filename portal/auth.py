"""Editor sessions: Flask-Login's user loader and the role checks views use."""

from __future__ import annotations

from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user, login_required

from . import two_factor
from .extensions import db, login_manager
from .models import User


def init_app(app) -> None:
    login_manager.login_view = "review.login"
    login_manager.login_message = "Please log in to see the editors' pages."
    login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    # The cookie holds "<id>:<nonce>"; a new nonce (logout, deactivation) ends it.
    ident, _, nonce = user_id.partition(":")
    if not (ident.isascii() and ident.isdigit()) or not nonce:
        return None
    user = db.session.get(User, int(ident))
    if user is None or not user.active or user.session_nonce != nonce:
        return None
    return user


def enrolling(view):
    """Any signed-in editor, even one who still has to set up two-factor
    sign-in where it is required: the pages that let them do it, and log out."""
    return login_required(view)


def editor_required(view):
    """Any active editor or admin, with a second factor where one is required."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if two_factor.must_enrol(current_user):
            if request.method != "GET":
                abort(403)
            return redirect(url_for("review.two_factor_setup"))
        return view(*args, **kwargs)

    return wrapped


def admin_required(view):
    @wraps(view)
    @editor_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped
