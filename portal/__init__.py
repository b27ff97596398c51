"""The interview portal: create_app() builds it."""

from __future__ import annotations

# This release; CHANGELOG.md says what is in it and how to upgrade.
__version__ = "1.7.0"

import logging
import os

from flask import Flask, has_request_context, render_template, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as settings
from . import readership
from .extensions import csrf, db, limiter, login_manager, mail, migrate
from .forms import KeptMessageForm
from .security import LOG_FORMAT, JsonLines
from .workflow import WorkflowError

_read_only = ("GET", "HEAD", "OPTIONS")


class _Sessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signer made once per key instead
    of on every request (a reader's request has no session at all)."""

    def get_signing_serializer(self, app: Flask):
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached = getattr(self, "_signer", None)
        if cached is None or cached[0] != key:
            self._signer = cached = (key, super().get_signing_serializer(app))
        return cached[1]


class Portal(Flask):
    session_interface = _Sessions()

    def log_exception(self, exc_info) -> None:
        """Not here: the 500 handler (security.py) logs it once, with a reference
        and the path with any private token replaced."""

    def ensure_sync(self, func):
        """Flask asks, for each hook of each request, whether it is a coroutine:
        none here is, and the answer for a function does not change."""
        known = self.__dict__.setdefault("_sync", {})
        if func not in known:
            known[func] = super().ensure_sync(func)
        return known[func]


def create_app(config: dict | None = None) -> Flask:
    """Build the app from environment settings, overridden by `config`."""
    app = Portal(
        __name__,
        # Each host's own folder (INSTANCE_PATH; default: instance/ beside the
        # code). Nothing in it is shared: photos are in the database.
        instance_path=os.environ.get("INSTANCE_PATH") or None,
        instance_relative_config=True,
        template_folder="../templates",
    )
    app.config.update(settings.from_environment())
    if config:
        app.config.update(config)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        if app.config["ENV_NAME"] == "production":
            # A shell that did not load the settings would build a new, empty
            # SQLite file and report success: refuse instead.
            raise settings.ConfigError(
                "DATABASE_URL is not set. Load the site's settings first (the `portal` "
                "command in deploy/ does), or set DATABASE_URL=postgresql+psycopg://..."
            )
        # Only then: an installed site's code folder is not the service's to write.
        os.makedirs(app.instance_path, exist_ok=True)
        path = os.path.join(app.instance_path, "portal.sqlite3")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    settings.check(app.config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # Plan every statement with its values: psycopg would otherwise prepare a
        # statement run five times, and PostgreSQL may then plan it once for any
        # value; a search for a rare and for a common word need different plans.
        options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        options.setdefault("connect_args", {}).setdefault("prepare_threshold", None)
        # A pooled connection is checked before use: after a database restart the
        # first visitor of each stale one gets the page, not a 500.
        options.setdefault("pool_pre_ping", True)
    # A reader's "read" is answered before the app, inside the proxy's fix (it
    # tells one reader from another by the address the proxy passes on).
    app.wsgi_app = readership.CountReads(app.wsgi_app, app)
    if app.config["PROXY_COUNT"]:
        # Behind that many proxies: take the client's address and scheme from them,
        # so rate limits count readers, not the proxy.
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=0)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    if app.config["LOG_FORMAT"] == "json":
        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonLines())

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(app.root_path, "..", "migrations"),
        render_as_batch=True,
        compare_type=True,
        include_object=_described_by_models,
    )
    mail.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    _limit_writes_only(app)
    with app.app_context():
        _tune_sqlite(app, db.engine)

    from . import auth, cli, filters, metrics, security

    security.register_converters(app)
    from .caching import watch_changes
    from .publishing import bp as publishing_bp
    from .review import bp as review_bp
    from .submissions import bp as submissions_bp

    auth.init_app(app)
    filters.init_app(app)
    watch_changes()
    app.register_blueprint(publishing_bp)
    app.register_blueprint(submissions_bp)
    app.register_blueprint(review_bp)
    cli.init_app(app)
    _register_errors(app)
    security.init_app(app)
    metrics.init_app(app)
    readership.init_app(app)
    return app


def _limit_writes_only(app: Flask) -> None:
    """Flask-Limiter's three hooks run for writes only.

    Every limit here is on a form's POST, so a read never counts, yet the
    hooks set up and tear down the limiter's context on every request: a fifth
    of what the portal adds to a bare Flask request (benchmarks/page_costs.py).
    Fails at start if the hooks are not found, so a new Flask-Limiter that
    registers them otherwise cannot leave them wrapped in nothing."""
    from functools import partial, wraps

    def for_writes(hook, on_read):
        @wraps(hook)
        def run(*args):
            if request.method in _read_only:
                return on_read(*args)
            return hook(*args)

        return run

    def find(hooks, is_it, on_read) -> None:
        found = [i for i, hook in enumerate(hooks) if is_it(hook)]
        if len(found) != 1:
            raise RuntimeError("Flask-Limiter's request hooks were not found where expected")
        hooks[found[0]] = for_writes(hooks[found[0]], on_read)

    find(
        app.before_request_funcs[None],
        lambda hook: hook == limiter._check_request_limit,
        lambda: None,
    )
    find(
        app.after_request_funcs[None],
        lambda hook: isinstance(hook, partial) and hook.args == (limiter,),
        lambda response: response,
    )
    find(
        app.teardown_request_funcs[None],
        lambda hook: getattr(hook, "__self__", None) is limiter,
        lambda _error=None: None,
    )


def _described_by_models(obj, name, type_, reflected, compare_to) -> bool:
    """Migrations compare everything but the FTS5 search table and its shadows."""
    from .search import is_search_table

    return not (type_ == "table" and is_search_table(name))


def _tune_sqlite(app: Flask, engine) -> None:
    """WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE for writers.

    pysqlite opens transactions lazily and never as IMMEDIATE; a transaction that
    reads and then writes can then fail with "database is locked" instead of
    waiting. So we take over BEGIN: requests that may write (and the CLI) begin
    IMMEDIATE and wait their turn; GET requests begin a plain read transaction.
    """
    if engine.dialect.name != "sqlite":
        return
    timeout_ms = app.config["SQLITE_BUSY_TIMEOUT_MS"]

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        # Deleted rows are overwritten, so erased personal data doesn't linger
        # in free pages of the file.
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        writes = True
        if has_request_context():
            writes = request.method not in _read_only
        # On the driver's connection: a readers' page pays for this on every
        # request, and SQLAlchemy's execution path costs more than the BEGIN.
        connection.connection.driver_connection.execute("BEGIN IMMEDIATE" if writes else "BEGIN")


def _retry(error) -> dict | None:
    """For a lost race on a form post: the same form again, against the current version."""
    from .models import Submission
    from .operations import Conflict

    if not isinstance(error, Conflict) or request.method != "POST":
        return None
    submission = db.session.get(Submission, error.submission_id)
    if submission is None:
        return None
    fields = [
        (key, value)
        for key, value in request.form.items(multi=True)
        if key not in ("csrf_token", "version", "message")
    ]
    return {
        "action": request.path,
        "version": submission.version,
        "state": submission.state,
        "fields": fields,
    }


def _back() -> str:
    """Where "Go back" leads from a refused action: the page it was sent from (a
    status page sends no referrer, so it is found from the address)."""
    args = request.view_args or {}
    if "token" in args and (request.endpoint or "").startswith("submissions."):
        return url_for("submissions.status", token=args["token"])
    if "submission_id" in args and (request.endpoint or "").startswith("review."):
        return url_for("review.submission", submission_id=args["submission_id"])
    referrer = request.referrer or ""
    return referrer if referrer.startswith(request.host_url) else url_for("publishing.home")


def _register_errors(app: Flask) -> None:
    @app.errorhandler(WorkflowError)
    def workflow_error(error):
        db.session.rollback()
        retry = _retry(error)
        kept = KeptMessageForm(formdata=None, message=request.form.get("message", ""))
        return render_template(
            "errors/409.html", error=error, retry=retry, kept=kept, back=_back()
        ), 409

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return (
            render_template(
                "errors/http.html",
                code=400,
                title="This form has expired",
                message="The form was too old or was sent from somewhere else. "
                "Go back, reload the page and send it again.",
            ),
            400,
        )

    @app.errorhandler(413)
    def too_large(error):
        """Past MAX_CONTENT_LENGTH nothing of the form is read, so nothing can be
        kept: say so, and send the person back to the form their browser kept."""
        from .photos import MAX_BYTES as PHOTO_MAX_BYTES

        limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
        return (
            render_template(
                "errors/http.html",
                code=413,
                title="That was too large to send",
                message=f"What you sent was over {limit} MB, usually because of a photo, "
                "so none of it reached us. Go back (your browser most likely kept what you "
                f"typed), choose a photo under {PHOTO_MAX_BYTES // (1024 * 1024)} MB, "
                "and send the form again.",
                back=True,
            ),
            413,
        )

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code == 404:
            from .publishing.views import elsewhere, old_address

            moved = old_address()  # an address of the old blog, imported
            if moved is not None:
                return moved
            return render_template("errors/404.html", **elsewhere()), 404
        return (
            render_template(
                "errors/http.html",
                code=error.code,
                title=error.name,
                message=error.description,
            ),
            error.code,
        )
