"""Readers: the published interviews."""

from flask import Blueprint

bp = Blueprint("publishing", __name__)

from . import questions, subscribing, views  # noqa: E402,F401
