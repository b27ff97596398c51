"""Editors: login, the review queue, one submission, the draft, team, dashboard."""

from flask import Blueprint

bp = Blueprint("review", __name__, url_prefix="/editor")

from . import dashboard, draft, privacy, questions, queue, session, submission, team  # noqa: E402,F401
