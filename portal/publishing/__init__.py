"""Readers: the published interviews."""

from flask import Blueprint

bp = Blueprint("publishing", __name__)

from . import questions, views  # noqa: E402,F401
