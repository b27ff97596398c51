"""Editors: login, the review queue, one submission, the draft, team, dashboard,
the outbox."""

from flask import Blueprint

bp = Blueprint("review", __name__, url_prefix="/editor")

from . import (  # noqa: E402,F401
    dashboard,
    draft,
    outbox,
    privacy,
    questions,
    queue,
    session,
    submission,
    team,
)
