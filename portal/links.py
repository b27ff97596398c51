"""Absolute links for emails, feeds and share cards, built from PUBLIC_URL."""

from __future__ import annotations

from flask import current_app


def public_url(endpoint: str, **values) -> str:
    """An absolute link built from PUBLIC_URL, never from a request's Host header."""
    adapter = current_app.url_map.bind("localhost", script_name="/")
    path = adapter.build(endpoint, values, force_external=False)
    return current_app.config["PUBLIC_URL"] + path
