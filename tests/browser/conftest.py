"""The browser suite: Chromium driven by Playwright against the portal as it runs
in production, gunicorn on a loopback port with a mail worker beside it and the
suite's real SMTP server catching the mail.

Every page a test opens is watched: a Content-Security-Policy violation in the
console, an uncaught script error or a dialog fails the test. A failing test
leaves a screenshot of each page it had open in test-artifacts/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import create_engine

from portal import create_app
from portal.extensions import db
from portal.models import User
from tests.conftest import TEST_DATABASE_URL, Inbox, Received, free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "browser-suite-password"
EDITOR = "erin@browser.test"
ADMIN = "ada@browser.test"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@dataclass
class Portal:
    base: str
    inbox: Inbox
    database_url: str
    logs: Path

    def url(self, path: str) -> str:
        return self.base + path

    def mail(self, to: str, subject: str, timeout: float = 20) -> Received:
        """The newest email to `to` whose subject contains `subject`, waiting for it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.inbox.to(to) if subject in (m.subject or "")]
            if found:
                return found[-1]
            time.sleep(0.1)
        got = [(m.recipients, m.subject) for m in self.inbox.messages]
        raise AssertionError(f"no email to {to} about {subject!r} arrived; got {got}")

    def link_in(self, message: Received, path_start: str) -> str:
        """The link of `message` (text part) that opens `path_start…` on this portal."""
        for link in message.links():
            if link.startswith(self.base + path_start):
                return link
        raise AssertionError(f"no {path_start} link in {message.links()}")


def _fresh_database(tmp: Path) -> str:
    if not TEST_DATABASE_URL:
        return f"sqlite:///{tmp / 'browser.sqlite3'}"
    engine = create_engine(TEST_DATABASE_URL)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    engine.dispose()
    return TEST_DATABASE_URL


def _prepare(database_url: str, tmp: Path) -> None:
    """The schema by the migrations production runs, and the two editors."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "browser-suite-secret",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",  # test passwords: cheap to check
        }
    )
    app.instance_path = str(tmp / "instance")
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        for email, name, role in ((EDITOR, "Erin Editor", "editor"), (ADMIN, "Ada Admin", "admin")):
            user = User(email=email, name=name, role=role)
            user.set_password(PASSWORD)
            db.session.add(user)
        db.session.commit()
        db.engine.dispose()


def _wait_for(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (our own http URL)
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer: {log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def portal(tmp_path_factory, smtp_server):
    controller, inbox = smtp_server
    tmp = tmp_path_factory.mktemp("browser")
    database_url = _fresh_database(tmp)
    _prepare(database_url, tmp)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        SECRET_KEY="browser-suite-secret-" + "k" * 32,
        PUBLIC_URL=base,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(controller.port),
        MAIL_DEFAULT_SENDER="Social Owners <editors@browser.test>",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        GUNICORN_ACCESSLOG="",
        # A browser fills a form in well under the spam rule's five seconds, and
        # the hostile-input test applies many times from one address.
        SPAM_MIN_SECONDS="0",
        SPAM_MAX_LINKS="1000",
        APPLY_LIMIT_PER_ADDRESS="1000 per hour",
        EMAIL_LIMIT_PER_RECIPIENT="1000 per hour",
        EMAIL_LIMIT_PER_CLIENT="1000 per hour",
        LOGIN_LIMIT_PER_ADDRESS="1000 per hour",
        LOGIN_LIMIT_PER_ACCOUNT="1000 per hour",
        READ_FLUSH_SECONDS="0",  # each read written at once, for the test to see
    )
    env.pop("PORTAL_ENV", None)  # production cookies are https-only
    logs = tmp / "logs"
    logs.mkdir()
    web_log = logs / "gunicorn.log"
    outputs = [web_log.open("w"), (logs / "worker.log").open("w")]
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=outputs[0],
        stderr=subprocess.STDOUT,
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "deliver", "--loop"]
        + ["--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=outputs[1],
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(base + "/healthz", web, web_log)
        inbox.clear()
        yield Portal(base, inbox, database_url, logs)
    finally:
        for process in (web, worker):
            process.terminate()
        for process in (web, worker):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for output in outputs:
            output.close()


@pytest.fixture(scope="session")
def playwright():
    """One Playwright per process: a second sync_playwright() in it would fail."""
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: `make test` installs it (apt-get).")
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    )
    yield browser
    browser.close()


@dataclass
class Watch:
    """What went wrong on the pages of one test, as the browser reported it."""

    csp: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # responses of 500 and up
    pages: list[Page] = field(default_factory=list)

    def attach(self, page: Page) -> Page:
        def console(message):
            if "Content Security Policy" in message.text or "Refused to" in message.text:
                self.csp.append(f"{page.url}: {message.text}")

        def dialog(d):
            self.dialogs.append(f"{page.url}: {d.type} {d.message!r}")
            d.dismiss()

        page.on("console", console)
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        page.on("dialog", dialog)
        page.on(
            "response",
            lambda r: r.status >= 500 and self.failures.append(f"{r.status} {r.url}"),
        )
        self.pages.append(page)
        return page

    def assert_clean(self) -> None:
        assert not self.csp, "CSP violations:\n" + "\n".join(self.csp)
        assert not self.dialogs, "dialogs opened:\n" + "\n".join(self.dialogs)
        assert not self.errors, "script errors:\n" + "\n".join(self.errors)
        assert not self.failures, "server errors:\n" + "\n".join(self.failures)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


def _failed(request) -> bool:
    return any(
        getattr(request.node, f"report_{when}", None) is not None
        and getattr(request.node, f"report_{when}").failed
        for when in ("setup", "call")
    )


@pytest.fixture
def watch():
    """What the pages opened through `open_page` reported."""
    return Watch()


@pytest.fixture
def open_page(request, browser, watch):
    """A new context and page: `open_page(viewport, **context options)`.

    When the test fails, each page it opened is saved as a screenshot first.
    """
    contexts = []

    def opener(viewport=DESKTOP, **options) -> Page:
        context = browser.new_context(viewport=viewport, **options)
        contexts.append(context)
        return watch.attach(context.new_page())

    yield opener
    if _failed(request):
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        for n, page in enumerate(watch.pages):
            if not page.is_closed():
                page.screenshot(path=str(ARTIFACTS / f"{name}-{n}.png"), full_page=True)
    for context in contexts:
        context.close()


def log_in(page: Page, portal: Portal, email: str = EDITOR) -> None:
    page.goto(portal.url("/editor/login"))
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/editor/login" not in url)


def act(page: Page, action: str, message: str | None = None) -> None:
    """Press an action's button on the editor's submission page."""
    form = page.locator(f"form[action$='/actions/{action}']")
    if message is not None:  # some actions take none
        form.locator("textarea[name=message]").fill(message)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def axe_violations(page: Page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now.

    Injected through the DevTools protocol, which the page's CSP does not govern.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    results = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in results
        if v["impact"] in ("serious", "critical")
    ]


def describe(violations: list[dict]) -> str:
    return json.dumps(violations, indent=1)
