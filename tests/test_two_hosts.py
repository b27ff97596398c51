"""Two hosts, one site: two portal processes with instance folders of their own,
one database and one Redis, as a site on two web hosts runs. What one host does,
the other shows; limits count across both; two mail workers send each email once.

Runs in both of CI's runs; the PostgreSQL one is the shape of a real two-host site.
"""

from __future__ import annotations

import http.cookiejar
import io
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
import redis
from PIL import Image
from sqlalchemy import func, select

from portal import operations
from portal.extensions import db
from portal.models import OutboxEmail, Submission
from portal.workflow import State
from tests.conftest import application, free_port, make_user
from tests.factories import submission_in

ROOT = Path(__file__).resolve().parents[1]
REDIS = "redis://127.0.0.1:6379/13"
CHECK_SECONDS = 1.0


class Browser:
    """Enough of a browser for a form: cookies, hidden fields, multipart files."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            _NoRedirect(),
        )

    def get(self, path: str) -> tuple[int, bytes, dict]:
        return self._open(urllib.request.Request(self.base + path))

    def post_form(self, path: str, data: dict, files: dict | None = None) -> tuple[int, bytes]:
        page = self.get(path)[1].decode()
        hidden = dict(
            re.findall(r'<input[^>]*name="([^"]+)"[^>]*type="hidden"[^>]*value="([^"]*)"', page)
        )
        hidden.update(
            re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page)
        )
        fields = {**hidden, **data}
        boundary = secrets.token_hex(12)
        body = io.BytesIO()
        for name, value in fields.items():
            body.write(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
        for name, (filename, content) in (files or {}).items():
            body.write(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
            )
            body.write(content + b"\r\n")
        body.write(f"--{boundary}--\r\n".encode())
        request = urllib.request.Request(
            self.base + path,
            data=body.getvalue(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        status, content, _headers = self._open(request)
        return status, content

    def _open(self, request) -> tuple[int, bytes, dict]:
        try:
            with self.opener.open(request, timeout=20) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read(), dict(error.headers)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args, **_kwargs):
        return None  # a 302 is an answer to look at, not to follow


def _host(name: str, database_url: str, tmp_path: Path, smtp_port: int) -> dict:
    return dict(
        os.environ,
        DATABASE_URL=database_url,
        INSTANCE_PATH=str(tmp_path / name),
        SECRET_KEY="two-hosts-secret-" + "k" * 32,
        PUBLIC_URL="http://portal.test",
        RATELIMIT_STORAGE_URI=REDIS,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp_port),
        MAIL_DEFAULT_SENDER="Social Owners <editors@portal.test>",
        PAGE_CACHE_CHECK_SECONDS=str(CHECK_SECONDS),
        LOGIN_LIMIT_PER_ADDRESS="4 per 10 minutes",
        SPAM_MIN_SECONDS="0",
        PYTHONPATH=str(ROOT),
    )


@pytest.fixture
def two_hosts(app, database_url, tmp_path, smtp_server):
    controller, _inbox = smtp_server
    redis.Redis.from_url(REDIS).flushdb()
    hosts, processes = {}, []
    for name in ("a", "b"):
        port = free_port()
        env = _host(name, database_url, tmp_path, controller.port)
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        hosts[name] = (Browser(f"http://127.0.0.1:{port}"), env)
    deadline = time.monotonic() + 30
    for browser, _env in hosts.values():
        while True:
            try:
                if browser.get("/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "a host did not start"
            time.sleep(0.1)
    yield hosts
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


def test_what_one_host_does_the_other_shows_and_counts(app, two_hosts, smtp_server, tmp_path):
    (a, env_a), (b, env_b) = two_hosts["a"], two_hosts["b"]
    _controller, inbox = smtp_server
    inbox.clear()
    make_user(app, email="admin@portal.test", name="Ada Admin", role="admin")
    with app.app_context():
        ready = submission_in(State.READY, business="Two Hosts Bakery")
        ready_id, title = ready.id, ready.interview.title
    assert title not in b.get("/")[1].decode()  # B's home page, now in B's cache

    # Published through A (an editor's form there)...
    assert (
        a.post_form(
            "/editor/login", {"email": "admin@portal.test", "password": "correct horse battery"}
        )[0]
        == 302
    )
    page = a.get(f"/editor/submissions/{ready_id}")[1].decode()
    token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page).group(1)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    published = a._open(
        urllib.request.Request(
            f"{a.base}/editor/submissions/{ready_id}/actions/publish",
            data=f"csrf_token={token}&version={version}&publish_at=".encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    )
    assert published[0] == 302, published[1][:500]
    # ... B shows it within PAGE_CACHE_CHECK_SECONDS.
    started = time.monotonic()
    while title not in b.get("/")[1].decode():
        assert time.monotonic() - started < CHECK_SECONDS + 2, "B still shows its old page"
        time.sleep(0.1)

    # A photo sent to A is served by B, byte for byte.
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 120, 40)).save(out, "JPEG")
    form = application(app, email="photo@two-hosts.example")
    assert a.post_form("/apply", form, files={"photo": ("me.jpg", out.getvalue())})[0] == 302
    with app.app_context():
        photo = db.session.scalar(
            select(Submission.photo).where(Submission.email == "photo@two-hosts.example")
        )
    served = b.get(f"/photos/{photo}")
    assert served[0] == 200 and served[1] == a.get(f"/photos/{photo}")[1]
    assert served[1][:2] == b"\xff\xd8"  # a JPEG

    # The login limit (4 per 10 minutes from one address) counts on both hosts.
    wrong = {"email": "admin@portal.test", "password": "not the password"}
    strangers = [Browser(host.base) for host in (a, b, a, b, a)]  # no session of the admin's
    answers = [stranger.post_form("/editor/login", wrong)[0] for stranger in strangers]
    # The admin's login on A was the first of the four: three more, then 429,
    # on B as on A, though B alone has seen two.
    assert answers == [200, 200, 200, 429, 429], answers

    # Two mail workers, one on each host, send every email once.
    with app.app_context():
        for n in range(30):
            operations.apply(
                operations.Profile(
                    name=f"Applicant {n}", email=f"a{n}@two-hosts.example", business="Shop"
                ),
                {},
            )
        waiting = db.session.scalar(
            select(func.count()).select_from(OutboxEmail).where(OutboxEmail.status == "pending")
        )
    inbox.clear()
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "deliver", "--until-empty"]
    workers = [
        subprocess.Popen(
            [*command, "--name", f"host-{name}:mail"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for name, env in (("a", env_a), ("b", env_b))
    ]
    for worker in workers:
        _out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err.decode()[-2000:]
    ids = Counter(m.message["Message-ID"] for m in inbox.messages)
    assert len(ids) == waiting and set(ids.values()) == {1}
