"""What a graceful reload costs readers: the slowest answers around a HUP.

    .venv/bin/python benchmarks/reload.py [--workers 5] [--reloads 3]

Starts gunicorn with gunicorn.conf.py on a fresh SQLite demo database, keeps 4
clients fetching the home page, sends the master SIGHUP (what `systemctl reload`
does) a few times, and prints for GUNICORN_PRELOAD off and on: the slowest
answer within 10 s of each reload, and how many requests failed.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, free_port, fresh_database, migrate_and_seed  # noqa: E402


def _fetch(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (our own http URL)
            response.read()
            return response.status == 200
    except OSError:
        return False


def run(preload: bool, workers: int, reloads: int) -> tuple[list[float], int]:
    workdir = Path(tempfile.mkdtemp())
    port = free_port()
    env = dict(
        os.environ,
        DATABASE_URL=fresh_database("sqlite", workdir),
        SECRET_KEY="reload-benchmark-" + "k" * 32,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS=str(workers),
        GUNICORN_PRELOAD="1" if preload else "0",
        GUNICORN_ACCESSLOG="",
    )
    migrate_and_seed(env)
    master = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while not _fetch(url):
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.2)
        time.sleep(2)  # every worker up
        stop = threading.Event()
        samples: list[tuple[float, float, bool]] = []
        lock = threading.Lock()

        def client():
            while not stop.is_set():
                start = time.monotonic()
                ok = _fetch(url)
                with lock:
                    samples.append((start, time.monotonic() - start, ok))

        threads = [threading.Thread(target=client) for _ in range(4)]
        for thread in threads:
            thread.start()
        worst, failed = [], 0
        for _ in range(reloads):
            time.sleep(3)
            at = time.monotonic()
            master.send_signal(signal.SIGHUP)
            time.sleep(10)
            with lock:
                around = [s for s in samples if at - 1 <= s[0] <= at + 10]
            worst.append(max(d for _, d, _ in around))
            failed += sum(1 for *_, ok in around if not ok)
        stop.set()
        for thread in threads:
            thread.join()
        return worst, failed
    finally:
        master.terminate()
        master.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=5)
    parser.add_argument("--reloads", type=int, default=3)
    args = parser.parse_args()
    for preload in (False, True):
        worst, failed = run(preload, args.workers, args.reloads)
        print(
            f"preload {'on ' if preload else 'off'}: slowest answer around a reload "
            f"{statistics.median(worst):.2f} s median, {max(worst):.2f} s worst; {failed} failed"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
