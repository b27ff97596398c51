"""Email: what each event mails to whom, the outbox, its delivery, its page."""

from flask import Blueprint

bp = Blueprint("notifications", __name__, url_prefix="/editor/outbox")

from . import views  # noqa: E402,F401
