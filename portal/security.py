"""Security headers on every response, and errors that are logged, not shown."""

from __future__ import annotations

import json
import logging
import re
import secrets
from datetime import UTC, datetime
from urllib.parse import unquote

from flask import Flask, abort, g, has_request_context, render_template, request
from werkzeug.routing import IntegerConverter

log = logging.getLogger("portal.errors")

# Scripts, styles and frames only from this site: no inline script or style
# anywhere in the templates, so nothing needs 'unsafe-inline'.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)


# The largest id or number a database column holds (a signed 64-bit integer).
MAX_INT = 2**63 - 1

# Pages that show one person's data or a private link: no browser or proxy keeps them.
PRIVATE_PREFIXES = ("/editor", "/status", "/apply", "/subscribe", "/unsubscribe")
# Set on every response that has not its own.
_EVERY_RESPONSE = (
    ("X-Frame-Options", "SAMEORIGIN"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)

# What a private link looks like in a path: the token is replaced before a path
# is written to any log.
_TOKEN_PATH = re.compile(
    r"(/status/|/editor/set-password/|/editor/unsubscribe/digest/|/subscribe/confirm/|/unsubscribe/)"
    r"(?!resend\b)[^/?#\s\"]+"
)

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def redact(path: str) -> str:
    """`path` with any status or set-password token replaced, fit for a log;
    also when it is percent-encoded (/%73tatus/..., /status%2F..., ?next=...)."""
    return _TOKEN_PATH.sub(r"\1[token]", unquote(unquote(path or "")))


class DatabaseInt(IntegerConverter):
    """<int:...> in a URL, limited to what the database can hold: a larger
    number is simply no page (404), not an overflow deep in the driver."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_INT)
        super().__init__(map, *args, **kwargs)


def register_converters(app: Flask) -> None:
    """Before any blueprint adds its routes."""
    app.url_map.converters["int"] = DatabaseInt


class RedactTokens(logging.Filter):
    """For loggers that write request lines (werkzeug's under `flask run`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str) and not record.args:
            record.msg = redact(record.msg)
        return True


# An id a proxy may hand us (nginx's $request_id is 32 hex digits): anything
# else is replaced, so a header can't carry a line break into the logs.
_GIVEN_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
LOG_FORMAT = "%(asctime)s %(levelname)s %(request_id)s %(name)s: %(message)s"


class JsonLines(logging.Formatter):
    """LOG_FORMAT=json: one JSON object per line, for a log collector."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def request_id() -> str:
    """This request's id ("-" outside a request): in the X-Request-Id header of
    the response, on every log line, and as the reference on the error page."""
    return g.get("request_id", "-") if has_request_context() else "-"


def _with_request_id(make_record):
    def factory(*args, **kwargs):
        record = make_record(*args, **kwargs)
        record.request_id = request_id()
        return record

    factory.adds_request_id = True
    return factory


def init_app(app: Flask) -> None:
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactTokens) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(RedactTokens())
    if not getattr(logging.getLogRecordFactory(), "adds_request_id", False):
        logging.setLogRecordFactory(_with_request_id(logging.getLogRecordFactory()))

    def name_the_request():
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if _GIVEN_REQUEST_ID.fullmatch(given) else secrets.token_hex(8)

    # First of all: a request refused before its view (CSRF) is named too.
    app.before_request_funcs.setdefault(None, []).insert(0, name_the_request)

    @app.before_request
    def forms_only():
        """Every POST here is an HTML form: any other body is refused with 415."""
        if request.method == "POST" and request.mimetype not in _FORM_TYPES:
            abort(415)

    production = app.config.get("ENV_NAME") == "production"

    @app.after_request
    def headers(response):
        h = response.headers
        if request.path.startswith(PRIVATE_PREFIXES):
            response.cache_control.no_store = True
            response.cache_control.private = True
        present = {key.lower() for key, _value in h.items()}  # one pass, not one per header
        if "content-security-policy" not in present:
            h.add("Content-Security-Policy", CSP)
            h.add("X-Frame-Options", "DENY")
            present.add("x-frame-options")
        # (The email preview and the photos set a policy of their own.)
        for key, value in _EVERY_RESPONSE:
            if key.lower() not in present:
                h.add(key, value)
        if production and "strict-transport-security" not in present:
            h.add("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        h["X-Request-Id"] = request_id()
        return response

    @app.errorhandler(500)
    def server_error(error):
        """The site's error page with a reference that is in the log with the traceback."""
        reference = g.get("request_id") or secrets.token_hex(8)
        original = getattr(error, "original_exception", None) or error
        log.error(
            "Unhandled error, reference %s, on %s %s",
            reference,
            request.method,
            redact(request.path),
            exc_info=(type(original), original, original.__traceback__),
        )
        from .publishing.views import elsewhere

        return render_template(
            "errors/500.html", reference=reference, **elsewhere(after_error=True)
        ), 500
