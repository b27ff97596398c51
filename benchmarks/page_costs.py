"""What one request costs inside the process: each page type cached and not,
against a bare Flask app, with no server and no network in the way.

    .venv/bin/python benchmarks/page_costs.py [--runs 2000]

On a fresh SQLite database with the demo content, calls each app's WSGI
callable directly with a prepared request (the same for every run): a bare
Flask app returning a short string (`bare`: the least any Flask page costs),
the portal's own `/_ceiling` route (the same string through the portal's
hooks, extensions and headers: its fixed cost per request), then the home,
an interview, a tag and a question page, first from the page cache
(`-cached`), then rendered from the database on every request (`-uncached`,
the page cache off). Each row is the quietest of three rounds, with Python's
garbage collector paused while it is timed. Prints the median and 99th percentile in microseconds
and each row's share of the bare app's speed (issue 17's goals: the portal's
fixed cost at most 1.3x bare, cached pages at least 70%, uncached at least 25%).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask  # noqa: E402
from werkzeug.test import EnvironBuilder  # noqa: E402

from benchmarks.common import fresh_database, migrate_and_seed  # noqa: E402


def bare_app() -> Flask:
    app = Flask("bare")

    @app.route("/")
    def index() -> str:
        return "ok"

    return app


def _cost(wsgi, path: str, runs: int) -> tuple[float, float, int]:
    """Median and p99 of `runs` calls, in µs, and the status of the last."""
    environ = EnvironBuilder(path=path, base_url="http://127.0.0.1:5000").get_environ()
    status = []

    def start_response(code, _headers, _exc=None):
        status.append(code)

    times = []
    gc.collect()
    gc.disable()  # a collection in the middle of one request is noise, not its cost
    for _ in range(runs + runs // 10):
        request = dict(environ)
        started = time.perf_counter()
        body = wsgi(request, start_response)
        for _chunk in body:
            pass
        if hasattr(body, "close"):
            body.close()
        times.append((time.perf_counter() - started) * 1e6)
    gc.enable()
    times = sorted(times[runs // 10 :])  # the first tenth warms up
    return statistics.median(times), times[int(len(times) * 0.99)], int(status[-1][:3])


def _best(wsgi, path: str, runs: int, rounds: int = 3) -> tuple[float, float, int]:
    """The quietest of a few rounds: the machine's other work is not the page's."""
    return min((_cost(wsgi, path, runs) for _ in range(rounds)), key=lambda r: r[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        url = fresh_database("sqlite", work)
        env = dict(os.environ, DATABASE_URL=url, INSTANCE_PATH=str(work / "instance"))
        migrate_and_seed(env)
        os.environ.update(DATABASE_URL=url, INSTANCE_PATH=str(work / "instance"))
        from portal import create_app
        from portal.extensions import db
        from portal.models import Interview, Question, Tag

        rows: list[tuple[str, float, float, int]] = []
        bare = bare_app()
        rows.append(("bare", *_best(bare.wsgi_app, "/", args.runs)))
        for cached in (True, False):
            app = create_app({"PAGE_CACHE_SIZE": 1000 if cached else 0})

            @app.route("/_ceiling")
            def ceiling() -> str:
                return "ok"

            with app.app_context():
                slug = db.session.scalar(
                    Interview.__table__.select()
                    .with_only_columns(Interview.slug)
                    .where(Interview.published_at.is_not(None))
                )
                tag = db.session.scalar(Tag.__table__.select().with_only_columns(Tag.slug))
                question = db.session.scalar(
                    Question.__table__.select().with_only_columns(Question.slug).limit(1)
                )
            suffix = "-cached" if cached else "-uncached"
            if cached:
                rows.append(("portal /_ceiling", *_best(app.wsgi_app, "/_ceiling", args.runs)))
            for name, path in (
                ("home", "/"),
                ("interview", f"/interviews/{slug}"),
                ("tag", f"/tags/{tag}"),
                ("question", f"/questions/{question}"),
            ):
                rows.append((name + suffix, *_best(app.wsgi_app, path, args.runs)))
        bare_median = rows[0][1]
        print(f"{args.runs} requests each, in one process (µs; share of the bare app's speed)")
        print(f"{'page':<22} {'median':>9} {'p99':>9} {'status':>6} {'share':>7}")
        for name, median, p99, status in rows:
            share = bare_median / median
            print(f"{name:<22} {median:>9.0f} {p99:>9.0f} {status:>6} {share:>7.0%}")


if __name__ == "__main__":
    main()
