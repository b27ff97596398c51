"""What counting reads costs: an interview page with counting on and off, and
the read it sends, in one process, in one run.

    .venv/bin/python benchmarks/read_counting.py [--runs 2000] [--rounds 5]

On a fresh SQLite database with the demo content, two apps, one with
READ_COUNTING on and one off, served in turns (on, off, on, off...) so the
machine's noise falls on both: the interview page from the page cache (the
page with counting on carries the script that says "read"), then the read
itself (`POST /interviews/<slug>/read` from a browser's user agent, its count
written every READ_FLUSH_SECONDS, set to 1 s here so the writes are in the
figures), then a whole visit (page and read) against the page alone with
counting off. Prints requests per second from the median of each row's best
round, and the ratios (issue 16's goal: the page with counting on at 95% or
more of the page with it off).
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from werkzeug.test import EnvironBuilder  # noqa: E402

from benchmarks.common import fresh_database, migrate_and_seed  # noqa: E402

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


def _environ(path: str, method: str = "GET") -> dict:
    builder = EnvironBuilder(
        path=path,
        method=method,
        base_url="http://127.0.0.1:5000",
        headers={"User-Agent": BROWSER},
        data="read=1" if method == "POST" else None,
        content_type="application/x-www-form-urlencoded" if method == "POST" else None,
    )
    return builder.get_environ()


def _call(wsgi, environ: dict) -> None:
    request = dict(environ)
    if request["REQUEST_METHOD"] == "POST":  # each request reads its own body
        request["wsgi.input"] = io.BytesIO(b"read=1")
    body = wsgi(request, lambda *_a: None)
    for _chunk in body:
        pass
    if hasattr(body, "close"):
        body.close()


def _median_us(wsgi, environs: list[dict], runs: int) -> float:
    """Median µs of `runs` times the requests in `environs`, one after another."""
    times = []
    gc.collect()
    gc.disable()
    for _ in range(runs + runs // 10):
        started = time.perf_counter()
        for environ in environs:
            _call(wsgi, environ)
        times.append((time.perf_counter() - started) * 1e6)
    gc.enable()
    return statistics.median(times[runs // 10 :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        url = fresh_database("sqlite", work)
        env = dict(os.environ, DATABASE_URL=url, INSTANCE_PATH=str(work / "instance"))
        migrate_and_seed(env)
        os.environ.update(DATABASE_URL=url, INSTANCE_PATH=str(work / "instance"))
        from portal import create_app, readership
        from portal.extensions import db
        from portal.models import Interview

        on = create_app({"READ_COUNTING": True, "READ_FLUSH_SECONDS": 1.0})
        off = create_app({"READ_COUNTING": False})
        with on.app_context():
            slug = db.session.scalar(
                Interview.__table__.select()
                .with_only_columns(Interview.slug)
                .where(Interview.published_at.is_not(None))
            )
        page = _environ(f"/interviews/{slug}")
        read = _environ(f"/interviews/{slug}/read", "POST")
        rows = {
            "page, counting off": (off.wsgi_app, [page]),
            "page, counting on": (on.wsgi_app, [page]),
            "the read (POST)": (on.wsgi_app, [read]),
            "a visit: page and read": (on.wsgi_app, [page, read]),
        }
        best = {name: float("inf") for name in rows}
        for _ in range(args.rounds):  # in turns: noise falls on every row alike
            for name, (wsgi, environs) in rows.items():
                best[name] = min(best[name], _median_us(wsgi, environs, args.runs))
        with on.app_context():
            written = readership.flush()
            total = db.session.scalar(db.text("SELECT SUM(reads) FROM interview_reads"))
        print(f"{args.runs} requests a round, best of {args.rounds} rounds, in one process")
        print(f"{'row':<26} {'µs':>8} {'req/s':>8}")
        for name, us in best.items():
            print(f"{name:<26} {us:>8.0f} {1e6 / us:>8.0f}")
        print()
        ratio = best["page, counting off"] / best["page, counting on"]
        print(f"page with counting on / off: {ratio:.0%}")
        print(
            "a visit with counting (page and read) / the page alone, counting off: "
            f"{best['page, counting off'] / best['a visit: page and read']:.0%}"
        )
        print(f"reads counted and written: {total} (the last {written} at the end)")


if __name__ == "__main__":
    main()
