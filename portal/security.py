"""Security headers on every response, and errors that are logged, not shown."""

from __future__ import annotations

import logging
import secrets

from flask import Flask, render_template, request

log = logging.getLogger("portal.errors")

# Scripts, styles and frames only from this site: no inline script or style
# anywhere in the templates, so nothing needs 'unsafe-inline'.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)


def init_app(app: Flask) -> None:
    @app.after_request
    def headers(response):
        h = response.headers
        if "Content-Security-Policy" not in h:  # the email preview sets a stricter one
            h["Content-Security-Policy"] = CSP
            h["X-Frame-Options"] = "DENY"
        else:
            h.setdefault("X-Frame-Options", "SAMEORIGIN")
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("ENV_NAME") == "production":
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response

    @app.errorhandler(500)
    def server_error(error):
        """The site's error page with a reference that is in the log with the traceback."""
        reference = secrets.token_hex(4)
        original = getattr(error, "original_exception", None) or error
        log.error(
            "Unhandled error, reference %s, on %s %s",
            reference,
            request.method,
            request.path,
            exc_info=(type(original), original, original.__traceback__),
        )
        return render_template("errors/500.html", reference=reference), 500
