"""Readers: the published interviews."""

from flask import Blueprint

bp = Blueprint("publishing", __name__)

from . import views  # noqa: E402,F401
