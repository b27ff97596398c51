"""Editors: login, the review queue, one submission, the draft, team, dashboard,
the outbox."""

from flask import Blueprint, has_request_context
from flask_login import current_user

bp = Blueprint("review", __name__, url_prefix="/editor")


@bp.app_context_processor
def desk_warnings():
    """The banner on every page an editor sees while email is in trouble."""
    from ..alarms import desk_warnings

    if not has_request_context() or not current_user.is_authenticated:
        return {"desk_warnings": []}  # an email, a reader, a login page
    return {"desk_warnings": desk_warnings()}


from . import (  # noqa: E402,F401
    dashboard,
    draft,
    newsletter,
    outbox,
    privacy,
    questions,
    queue,
    session,
    submission,
    team,
)
