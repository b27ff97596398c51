"""Mail worker throughput: queue N emails, deliver them with 1 and with 4 workers.

    .venv/bin/python benchmarks/mail_throughput.py [--emails 10000] [--latency-ms 20]

For each database (SQLite file; PostgreSQL at BENCH_POSTGRES_URL, default the local
server's `portal_bench` database, created if missing) and each worker count, it
makes a fresh schema with the migrations, bulk-inserts the emails into the outbox,
starts `flask mail deliver --until-empty` workers against a local aiosmtpd sink and
prints emails per second and each worker's memory (resident set size early in the
run, late in the run, and its peak), so that "flat over the 10,000" can be read off.

The sink answers each message after --latency-ms (default 20 ms), as a hosted
SMTP relay does across a network: workers exist to overlap that wait. With no
latency at all the benchmark only measures how much of this machine's two cores
the workers, PostgreSQL and the sink share.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, free_port, fresh_database, migrate  # noqa: E402
from portal.models import OutboxEmail  # noqa: E402

TEXT_BODY = (
    "Hello Reader,\n\nThank you for applying to be featured. Your application is in.\n\n"
    "An editor will read it and answer within 14 days. Your private status link:\n\n"
    "https://portal.example/status/{token}\n\n-- \nSocial Owners\n"
)
HTML_BODY = "<!doctype html><html><body>" + "<p>{para}</p>" * 6 + "</body></html>"


class Sink:
    def __init__(self, latency: float):
        self.latency = latency
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.latency:
            await asyncio.sleep(self.latency)
        with self.lock:
            self.count += 1
        return "250 OK"


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def env_for(url: str, port: int) -> dict:
    return dict(
        os.environ,
        DATABASE_URL=url,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(port),
        SECRET_KEY="benchmark",  # noqa: S106 (a throwaway database)
        MAIL_TIMEOUT="10",
    )


def queue_emails(url: str, n: int) -> float:
    engine = create_engine(url)
    now = datetime.now(UTC).replace(tzinfo=None)
    started = time.perf_counter()
    with engine.begin() as conn:
        for chunk in range(0, n, 1000):
            conn.execute(
                insert(OutboxEmail),
                [
                    {
                        "dedup_key": f"bench:{i}",
                        "kind": "received",
                        "recipients": [[f"Reader {i}", f"reader{i}@bench.example"]],
                        "to_address": f"reader{i}@bench.example",
                        "subject": "We received your application | Social Owners",
                        "text_body": TEXT_BODY.format(token=f"{i:043d}"),
                        "html_body": HTML_BODY.format(para="A paragraph of a real email. " * 8),
                        "status": "pending",
                        "attempts": 0,
                        "last_error": "",
                        "deliver_after": now,
                        "created_at": now,
                    }
                    for i in range(chunk, min(chunk + 1000, n))
                ],
            )
    engine.dispose()
    return time.perf_counter() - started


def run(kind: str, workers: int, n: int, sink: Sink, port: int, workdir: Path) -> dict:
    url = fresh_database(kind, workdir)
    migrate(env_for(url, port))
    queue_seconds = queue_emails(url, n)
    sink.count = 0
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "wsgi",
                "mail",
                "deliver",
                "--until-empty",
                "--batch",
                "20",
            ],
            cwd=ROOT,
            env=env_for(url, port),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    peaks = {p.pid: 0 for p in procs}
    early = {}
    late = {}
    while any(p.poll() is None for p in procs):
        done = sink.count
        for p in procs:
            rss = rss_kib(p.pid)
            peaks[p.pid] = max(peaks[p.pid], rss)
            if rss and done >= n * 0.1 and p.pid not in early:
                early[p.pid] = rss
            if rss and done <= n * 0.9:
                late[p.pid] = rss
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    for p in procs:
        _out, err = p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"worker failed: {err[-2000:]}")
    if sink.count != n:
        raise SystemExit(f"{kind}: delivered {sink.count} of {n}: {err[-2000:]}")
    return {
        "db": kind,
        "workers": workers,
        "queue_s": queue_seconds,
        "seconds": elapsed,
        "per_second": n / elapsed,
        "early_mib": max(early.values(), default=0) / 1024,
        "late_mib": max(late.values(), default=0) / 1024,
        "peak_mib": max(peaks.values()) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--emails", type=int, default=10_000)
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
            for workers in args.workers:
                row = run(kind, workers, args.emails, sink, port, Path(tmp))
                rows.append(row)
                print(
                    f"{row['db']:<10} {row['workers']} worker(s): "
                    f"{row['per_second']:8.1f} emails/s "
                    f"({args.emails} in {row['seconds']:.1f} s; "
                    f"queued in {row['queue_s']:.1f} s); "
                    f"worker RSS {row['early_mib']:.1f} MiB at 10%, "
                    f"{row['late_mib']:.1f} MiB at 90%, peak {row['peak_mib']:.1f} MiB",
                    flush=True,
                )
    controller.stop()
    print()
    print(f"SMTP sink latency {args.latency_ms:g} ms per message, {args.emails} emails")
    print("| database | workers | emails/s | speed-up | worker RSS at 10% / 90% / peak (MiB) |")
    print("|---|---|---|---|---|")
    for row in rows:
        base = next(r for r in rows if r["db"] == row["db"] and r["workers"] == min(args.workers))
        print(
            f"| {row['db']} | {row['workers']} | {row['per_second']:.1f} | "
            f"{row['per_second'] / base['per_second']:.2f}x | "
            f"{row['early_mib']:.1f} / {row['late_mib']:.1f} / {row['peak_mib']:.1f} |"
        )


if __name__ == "__main__":
    main()
