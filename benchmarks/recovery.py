"""Recovery from a database restart under load.

    .venv/bin/python benchmarks/recovery.py [--seconds 20] [--restart-at 6]

Against the local PostgreSQL (BENCH_POSTGRES_URL, default `portal_bench`, made
afresh): gunicorn serves the portal, one mail worker delivers to a local SMTP
sink, 10 readers fetch pages and 2 applicants send applications in a loop. At
--restart-at seconds PostgreSQL is restarted (pg_ctlcluster ... restart, which
needs the rights to do so: root on this machine). When the load stops and the
outbox is empty, it prints:

- requests the clients saw fail (5xx or no answer), and for how long;
- seconds from the restart to the first success after it;
- applications the applicants were told were received vs stored in the database;
- emails queued vs delivered, and how many arrived twice;
- whether the mail worker was still the same process, alive.

Goal: nothing lost, nothing sent twice, the worker recovered without a restart.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from http.cookiejar import CookieJar
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, free_port, fresh_database, migrate_and_seed  # noqa: E402
from portal.models import OutboxEmail, Submission  # noqa: E402


class Sink:
    def __init__(self):
        self.ids: list[str] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        found = re.search(rb"Message-ID: <([^>]+)>", envelope.content, re.IGNORECASE)
        self.ids.append(found.group(1).decode() if found else str(len(self.ids)))
        return "250 OK"


def _cluster() -> tuple[str, str]:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    return version, "main"


def restart_postgres() -> float:
    version, name = _cluster()
    started = time.monotonic()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "restart"],  # noqa: S607
        check=True,
        capture_output=True,
    )
    return started


class Client:
    """A browser, as far as the portal can tell: cookies, forms, their tokens."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()),
            _NoRedirect(),
        )

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, ""

    def post(self, path: str, data: dict) -> int:
        body = urllib.parse.urlencode(data).encode()
        try:
            with self.opener.open(self.base + path, data=body, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _field(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page)
    return found.group(1) if found else ""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--restart-at", type=float, default=6)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp())
    url = fresh_database("postgresql", workdir)
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    port = free_port()
    env = dict(
        os.environ,
        DATABASE_URL=url,
        SECRET_KEY="recovery-benchmark-" + "k" * 32,
        PUBLIC_URL=f"http://127.0.0.1:{port}",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(controller.port),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        GUNICORN_ACCESSLOG="",
        SPAM_MIN_SECONDS="0",
        APPLY_LIMIT_PER_ADDRESS="100000 per hour",
        EMAIL_LIMIT_PER_RECIPIENT="100000 per hour",
        EMAIL_LIMIT_PER_CLIENT="100000 per hour",
        RATELIMIT_ENABLED="false",
    )
    migrate_and_seed(env)
    log = open(workdir / "services.log", "w")  # noqa: SIM115 (open for the run)
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "deliver", "--loop"]
        + ["--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if Client(base).get("/healthz")[0] == 200:
                    break
            except OSError:
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise SystemExit("the portal did not start")
            time.sleep(0.2)

        stop = threading.Event()
        lock = threading.Lock()
        failures: list[float] = []  # when a client saw a failure
        successes: list[float] = []
        told_received = Counter()

        def note(ok: bool) -> None:
            with lock:
                (successes if ok else failures).append(time.monotonic())

        def reader():
            client = Client(base)
            while not stop.is_set():
                for path in ("/", "/search?q=kayak", "/feed.atom"):
                    try:
                        status, _ = client.get(path)
                        note(status < 500)
                    except OSError:
                        note(False)

        def applicant(n: int):
            client = Client(base)
            sent = 0
            while not stop.is_set():
                try:
                    status, page = client.get("/apply")
                    if status != 200:
                        note(False)
                        continue
                    data = {
                        "csrf_token": _field(page, "csrf_token"),
                        "shown": _field(page, "shown"),
                        "name": f"Applicant {n}",
                        "email": f"applicant{n}-{sent}@recovery.example",
                        "save": "1",
                    }
                    status = client.post("/apply", data)
                    note(status < 500)
                    if status == 302:
                        told_received[n] += 1
                        sent += 1
                except OSError:
                    note(False)

        threads = [threading.Thread(target=reader) for _ in range(10)]
        threads += [threading.Thread(target=applicant, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        time.sleep(args.restart_at)
        restarted_at = restart_postgres()
        time.sleep(max(0.0, args.seconds - args.restart_at))
        stop.set()
        for thread in threads:
            thread.join()

        engine = create_engine(url)
        deadline = time.monotonic() + 120
        with engine.connect() as conn:
            while time.monotonic() < deadline:
                waiting = conn.scalar(
                    select(func.count())
                    .select_from(OutboxEmail)
                    .where(OutboxEmail.status.in_(("pending", "sending", "failed")))
                )
                conn.commit()
                if waiting == 0:
                    break
                time.sleep(0.5)
            stored = conn.scalar(
                select(func.count())
                .select_from(Submission)
                .where(Submission.email.like("%@recovery.example"))
            )
            queued = conn.scalar(select(func.count()).select_from(OutboxEmail))
            dead = conn.scalar(
                select(func.count()).select_from(OutboxEmail).where(OutboxEmail.status == "dead")
            )
        worker_alive = worker.poll() is None
        engine.dispose()

    finally:
        for process in (worker, web):  # never left running, whatever happened
            process.terminate()
            process.wait(timeout=30)
        controller.stop()
        log.close()

    after = [t for t in successes if t > restarted_at]
    failed_after = [t for t in failures if t >= restarted_at]
    delivered = Counter(sink.ids)
    print(f"requests: {len(successes)} answered, {len(failures)} failed")
    if failed_after:
        print(
            f"failures seen from {failed_after[0] - restarted_at:.2f} s to "
            f"{failed_after[-1] - restarted_at:.2f} s after the restart began"
        )
    print(
        f"first success after the restart began: {after[0] - restarted_at:.2f} s"
        if after
        else "no success after the restart"
    )
    print(f"applications: told received {sum(told_received.values())}, stored {stored}")
    print(
        f"emails: queued {queued}, delivered {len(delivered)}, dead {dead}, "
        f"sent twice {sum(1 for n in delivered.values() if n > 1)}"
    )
    print(f"mail worker: {'the same process, still running' if worker_alive else 'DIED'}")
    lost = sum(told_received.values()) - stored
    ok = lost == 0 and len(delivered) == queued and worker_alive
    ok = ok and all(n == 1 for n in delivered.values())
    print("goal (nothing lost, nothing twice, worker alive):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    asyncio.set_event_loop(asyncio.new_event_loop())
    sys.exit(main())
