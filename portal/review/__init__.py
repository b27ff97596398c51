"""Editors: login, the review queue, one submission, the draft editor."""

from flask import Blueprint

bp = Blueprint("review", __name__, url_prefix="/editor")

from . import views  # noqa: E402,F401
