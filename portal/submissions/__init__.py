"""Applicants: the application form, the receipt, the private status page."""

from flask import Blueprint

bp = Blueprint("submissions", __name__)

from . import views  # noqa: E402,F401
