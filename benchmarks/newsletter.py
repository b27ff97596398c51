"""The newsletter at 100,000 subscribers: writing an issue's copies, then sending them.

    .venv/bin/python benchmarks/newsletter.py [--subscribers 100000] [--seconds 60]

For each database (SQLite file; PostgreSQL at BENCH_POSTGRES_URL, as
mail_throughput.py): a fresh schema by the migrations and the demo content,
then --subscribers confirmed addresses. It publishes one of the demo's
interviews that are ready (timing that request's work, which writes one issue
whatever the number of subscribers), then times what a mail worker does next:
every copy written into the outbox (`newsletter.fan_out`, batches of
NEWSLETTER_BATCH). Then it runs 1 and then 4 `flask mail deliver --loop`
workers, each for --seconds, against a local SMTP sink that answers each
message after --latency-ms (20 ms, like a hosted relay), and prints emails per
second and the speed-up (goals: copies written in under 60 s; 4 workers at
least 3 times one).
"""

from __future__ import annotations

import argparse
import logging
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, free_port, fresh_database, migrate_and_seed  # noqa: E402
from benchmarks.mail_throughput import Sink, env_for  # noqa: E402
from portal.models import OutboxEmail, Subscriber  # noqa: E402


def add_subscribers(url: str, n: int) -> None:
    engine = create_engine(url)
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        for chunk in range(0, n, 5000):
            conn.execute(
                insert(Subscriber),
                [
                    {
                        "email": f"subscriber{i}@bench.example",
                        "cadence": "each",
                        "status": "confirmed",
                        "asked_at": now,
                        "confirmed_at": now,
                        "bounce": "",
                    }
                    for i in range(chunk, min(chunk + 5000, n))
                ],
            )
    engine.dispose()


def publish_and_fan_out(url: str, port: int) -> tuple[float, float, int]:
    """(seconds the publication took, seconds until every copy was written, copies)."""
    import os

    os.environ.update(env_for(url, port))
    from portal import create_app, newsletter, operations
    from portal.extensions import db
    from portal.models import Submission, User
    from portal.operations import Actor
    from portal.workflow import Action

    app = create_app()
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # the sink's line per message
    with app.app_context():
        ready = db.session.scalar(
            select(Submission).where(Submission.state == "awaiting_signoff").limit(1)
        )
        if ready is None:
            raise SystemExit("the demo content has no proof waiting to be signed off")
        operations.sign_off(ready)  # the interviewee's part, before the timed publication
        db.session.commit()
        editor = db.session.scalar(select(User).limit(1))
        started = time.perf_counter()
        operations.perform(ready, Action.PUBLISH, Actor.of(editor))
        db.session.commit()
        published = time.perf_counter() - started
        copies = 0
        while True:
            written = newsletter.fan_out(seconds=3600)
            copies += written
            if not written:
                break
        fanned = time.perf_counter() - started
        pending = db.session.scalar(
            select(func.count()).select_from(OutboxEmail).where(OutboxEmail.kind == "newsletter")
        )
        assert pending == copies, (pending, copies)
        db.session.remove()
        db.engine.dispose()
    return published, fanned, copies


def deliver_for(url: str, port: int, workers: int, seconds: float, sink: Sink) -> float:
    """Emails per second that `workers` workers send in `seconds`."""
    sink.count = 0
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "deliver", "--loop"]
            + ["--name", f"bench-{n}", "--interval", "0.2"],
            cwd=ROOT,
            env=env_for(url, port),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(workers)
    ]
    # Counted from the first email, so that start-up is not in the figure.
    deadline = time.monotonic() + 60
    while sink.count == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    first, started = sink.count, time.perf_counter()
    time.sleep(seconds)
    sent, elapsed = sink.count - first, time.perf_counter() - started
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        _out, err = p.communicate(timeout=60)
        if p.returncode not in (0, -signal.SIGTERM):
            raise SystemExit(f"worker failed: {err[-2000:]}")
    return sent / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 4])
    args = parser.parse_args()

    sink = Sink(args.latency_ms / 1000)
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.databases:
            url = fresh_database(kind, Path(tmp))
            migrate_and_seed(env_for(url, port))
            add_subscribers(url, args.subscribers)
            published, fanned, copies = publish_and_fan_out(url, port)
            print(
                f"{kind}: publishing took {published * 1000:.0f} ms; "
                f"{copies} copies written {fanned:.1f} s after it",
                flush=True,
            )
            rates = {}
            for workers in args.workers:
                rates[workers] = deliver_for(url, port, workers, args.seconds, sink)
                print(f"{kind}: {workers} worker(s): {rates[workers]:.1f} emails/s", flush=True)
            rows.append((kind, published, fanned, copies, rates))
    controller.stop()
    print()
    print(
        f"{args.subscribers} subscribers; SMTP sink latency {args.latency_ms:g} ms per message; "
        f"each delivery run {args.seconds:g} s"
    )
    print(
        "| database | publish (ms) | copies written (s) | "
        + " | ".join(f"{w} worker{'s' if w != 1 else ''} (emails/s)" for w in args.workers)
        + " | speed-up |"
    )
    print("|---|---|---|" + "---|" * len(args.workers) + "---|")
    for kind, published, fanned, _copies, rates in rows:
        low, high = rates[min(args.workers)], rates[max(args.workers)]
        print(
            f"| {kind} | {published * 1000:.0f} | {fanned:.1f} | "
            + " | ".join(f"{rates[w]:.1f}" for w in args.workers)
            + f" | {high / low:.2f}x |"
        )


if __name__ == "__main__":
    main()
