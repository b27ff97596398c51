"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Every value can be overridden from the environment (GUNICORN_BIND, ...), so the
same file serves behind a proxy on one host or many.
"""

import gc
import glob
import multiprocessing
import os
import shutil
import tempfile

# /metrics adds up what every worker counted: prometheus-client keeps each
# worker's numbers in this folder, which must be set before it is imported
# (the portal imports it) and starts empty.
_made_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _made_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="portal-metrics-")
else:  # numbers left by an earlier run
    for _left in glob.glob(os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], "*.db")):
        os.remove(_left)

from gunicorn.glogging import Logger  # noqa: E402 (after the metrics folder)

from portal.security import redact  # noqa: E402

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
# The app is loaded once, in the master, and each worker is a fork of it: a
# reload (SIGHUP, `systemctl reload`) has its new workers ready at once instead
# of importing the app while the old ones stop (benchmarks/reload.py), and the
# workers share the loaded code's memory. New code needs a restart or the
# USR2 upgrade in the README.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") == "1"
keepalive = 5
# Recycle workers now and then so a slow leak can never grow without bound; not
# often, since each worker's cache of rendered pages goes with it.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "100000"))
max_requests_jitter = max_requests // 10
# Behind a proxy on the same host: trust its X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Rate limits and sending limits count in RATELIMIT_STORAGE_URI (or REDIS_URL):
# in memory, each worker would count alone, and N workers allow N times the limit.
_storage = os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL") or "memory://"
if os.environ.get("PORTAL_ENV") == "production" and workers > 1 and _storage.startswith("memory"):
    raise SystemExit(
        f"Configuration error: rate limits are counted in memory with {workers} workers, so "
        "each allows its own share; set RATELIMIT_STORAGE_URI (or REDIS_URL) to redis://..."
    )
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
# Who, when, what, the status, the bytes, how long it took, where from, the
# browser, and the request's id (the reference an error page shows, and on
# every line the app logged for it).
access_log_format = (
    '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s" rid=%({x-request-id}o)s'
)
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")


class RedactingLogger(Logger):
    """The access log, with the token of a status or set-password link replaced."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        # Every atom that can hold a path: the request line, the path, the
        # referrer, and the {...}e / {...}i copies of the environ and headers.
        return {k: redact(v) if isinstance(v, str) else v for k, v in atoms.items()}


logger_class = RedactingLogger


def _forget_connections(server, close: bool) -> None:
    from portal.extensions import db

    app = server.app.wsgi()
    if "sqlalchemy" not in getattr(app, "extensions", {}):
        return  # not the portal (the benchmarks' bare Flask app): no database
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose(close=close)


def when_ready(server):
    """The master loaded the app (preload_app) and may have talked to the
    database doing so: it closes those connections, holding no lock or
    transaction while it only watches its workers.

    Then what it loaded moves out of the garbage collector's sight
    (`gc.freeze`): each full collection in a worker no longer walks the whole
    app, which made a slow run of a request three times its usual length
    (benchmarks/markdown_render.py), and the pages stay shared after the fork."""
    _forget_connections(server, close=True)
    gc.freeze()


def post_fork(server, worker):
    """A forked worker never uses a connection it inherited: it opens its own."""
    _forget_connections(server, close=False)


def child_exit(server, worker):
    """A worker that stopped: its gauges go (its counters stay in the sums)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _made_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
