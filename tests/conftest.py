"""Each test gets a fresh app and database; a real SMTP server catches the mail.

The database is SQLite (a file per test) unless TEST_DATABASE_URL names another,
PostgreSQL in CI. CSRF protection stays on: tests post the token as a browser would.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import io
import os
import re
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from PIL import Image
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from portal import create_app, search, share_image
from portal.extensions import db
from portal.models import Question, User
from portal.questionnaire import install_defaults

PUBLIC_URL = "http://portal.test"


def _database_of_this_worker(url: str) -> str:
    """Under pytest-xdist, each worker gets a PostgreSQL database of its own
    (`test_gw0`, `test_gw1`, ...), made on first use beside the one named."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url.startswith("postgresql") or not worker:
        return url
    named = make_url(url)
    mine = named.set(database=f"{named.database}_{worker}")
    engine = create_engine(named, isolation_level="AUTOCOMMIT")
    try:
        for attempt in range(50):
            with engine.connect() as conn:
                if conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"),
                    {"name": mine.database},
                ).scalar():
                    break
                try:
                    conn.exec_driver_sql(f'CREATE DATABASE "{mine.database}"')
                    break
                except OperationalError:  # another worker is copying template1 right now
                    time.sleep(0.1 * (attempt + 1))
    finally:
        engine.dispose()
    return mine.render_as_string(hide_password=False)


TEST_DATABASE_URL = _database_of_this_worker(os.environ.get("TEST_DATABASE_URL", ""))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: email.message.EmailMessage
    raw: bytes = b""  # as it came over the wire

    @property
    def subject(self) -> str:
        return self.message["Subject"]

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        return body.get_content() if body is not None else ""

    @property
    def text(self) -> str:
        return self.part("plain")

    @property
    def html(self) -> str:
        return self.part("html")

    def links(self) -> list[str]:
        return re.findall(r"https?://[^\s\"'<>]+", self.text)

    def paths(self) -> list[str]:
        """The links of the text part, as paths the test client can open."""
        result = []
        for link in self.links():
            parts = urlsplit(link)
            assert f"{parts.scheme}://{parts.netloc}" == PUBLIC_URL, link
            result.append(parts.path)
        return result


class Inbox:
    """What the SMTP server received; `refuse` makes it answer RCPT with an error."""

    def __init__(self):
        self.messages: list[Received] = []
        self.refuse: dict[str, str] = {}
        self.delay = 0.0  # seconds before answering DATA, like a slow server
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), parsed, envelope.content)
            )
        return "250 Message accepted"

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.recipients]

    def clear(self) -> None:
        self.messages.clear()
        self.refuse.clear()
        self.delay = 0.0

    def message_ids(self) -> list[str]:
        """The Message-IDs of what arrived (one per outbox email, every try)."""
        return [m.message["Message-ID"] for m in self.messages]


@pytest.fixture(scope="session")
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def inbox(smtp_server):
    _controller, inbox = smtp_server
    inbox.clear()
    yield inbox
    inbox.clear()


@pytest.fixture
def database_url(tmp_path):
    return TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'test.sqlite3'}"


# PostgreSQL: the shape of the schema this process last built, by database URL.
_BUILT: dict[str, tuple] = {}


def _shape(conn) -> tuple:
    return tuple(
        conn.exec_driver_sql(
            "SELECT c.relname, a.attname, a.atttypid FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 "
            "AND NOT a.attisdropped ORDER BY 1, 2"
        ).all()
    )


def reset_schema() -> None:
    """An empty database with the models' schema.

    On PostgreSQL, dropping and re-creating the schema costs ~150 ms a test; when
    the schema is still the one built here (no test migrated or altered it), its
    tables are emptied instead.
    """
    if db.engine.dialect.name == "postgresql":
        url = db.engine.url.render_as_string(hide_password=False)
        with db.engine.begin() as conn:
            if _BUILT.get(url) == _shape(conn):
                # DELETE, not TRUNCATE: on tables this small, TRUNCATE's new files
                # cost more than the rows. Sequences restart, as on a new schema.
                empty = "".join(
                    f"DELETE FROM {t.name};" for t in reversed(db.metadata.sorted_tables)
                )
                conn.exec_driver_sql(
                    empty + "SELECT setval(c.oid, 1, false) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relkind = 'S' AND n.nspname = 'public'"
                )
                return
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    db.create_all()
    with db.engine.begin() as conn:
        search.create_structures(conn)
        if conn.dialect.name == "postgresql":
            _BUILT[db.engine.url.render_as_string(hide_password=False)] = _shape(conn)


@pytest.fixture
def app(tmp_path, database_url, smtp_server):
    controller, _inbox = smtp_server
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "PUBLIC_URL": PUBLIC_URL,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": controller.port,
            "MAIL_DEFAULT_SENDER": ("Social Owners", "editors@portal.test"),
            "MAIL_TIMEOUT": 5,
            # Tests fill forms in milliseconds and apply many times from one
            # address; the spam tests set these back to production values.
            "SPAM_MIN_SECONDS": 0,
            "APPLY_LIMIT_PER_ADDRESS": "10000 per hour",
            "EMAIL_LIMIT_PER_RECIPIENT": "10000 per hour",
            "EMAIL_LIMIT_PER_CLIENT": "10000 per hour",
            "ALARM_CHECK_SECONDS": 0,  # the desk's banner looks afresh on every page
            # Throwaway passwords need no brute-force resistance: one round
            # instead of scrypt's ~120 ms, paid at every make_user and login.
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
        }
    )
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        reset_schema()
        install_defaults(db.session, Question)
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _one_pixel_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1, 1), "white").save(out, "PNG")
    return out.getvalue()


_TINY_PNG = _one_pixel_png()


@pytest.fixture(autouse=True)
def cheap_share_images(request, monkeypatch):
    """Publishing draws a 1200x630 share card (~60 ms). Tests that don't look at
    it get a one-pixel PNG, still written and linked like the real one; tests
    marked `real_share_images` draw the card."""
    if request.node.get_closest_marker("real_share_images") is None:
        monkeypatch.setattr(share_image, "render", lambda interview: _TINY_PNG)


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def hidden_value(page: str, name: str) -> str | None:
    match = re.search(rf'id="{name}" name="{name}" type="hidden" value="([^"]*)"', page)
    return match.group(1) if match else None


def post_form(client, page_url: str, data: dict, action: str | None = None, **kwargs):
    """Open `page_url` like a browser, then post `data` with the page's CSRF token
    (and its spam time stamp, where it has one)."""
    page = client.get(page_url).get_data(as_text=True)
    token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page).group(1)
    data = dict(data, csrf_token=token)
    shown = hidden_value(page, "shown")
    if shown is not None and "shown" not in data:
        data["shown"] = shown
    return client.post(action or page_url, data=data, **kwargs)


def make_user(
    app,
    email="editor@portal.test",
    name="Erin Editor",
    role="editor",
    password="correct horse battery",
):
    with app.app_context():
        user = User(email=email, name=name, role=role)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user.id


def login(client, email="editor@portal.test", password="correct horse battery"):
    response = post_form(client, "/editor/login", {"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


@pytest.fixture
def editor(app):
    return make_user(app)


@pytest.fixture
def admin(app):
    return make_user(app, email="admin@portal.test", name="Ada Admin", role="admin")


def question_ids(app) -> list[int]:
    with app.app_context():
        return [q.id for q in db.session.scalars(Question.active_query())]


def application(app, **overrides) -> dict:
    """A complete, valid application form."""
    data = {
        "name": "Rosa Marquez",
        "email": "rosa@tidewater.example",
        "business": "Tidewater Kayaks",
        "website": "https://tidewater.example",
        "location": "Falmouth",
        "industry": "Outdoor activities",
        "pitch": "Guided kayak trips along the estuary.",
        "social_instagram": "@tidewaterkayaks",
        "consent": "y",
        "privacy": "y",
    }
    for qid in question_ids(app):
        data[f"q{qid}"] = f"Answer {qid}: we paddle, we post, people come."
    data.update(overrides)
    return data


def draft_data(app, submission_id: int, **changes) -> dict:
    """The draft editor's form as it stands in the database, with `changes` on top."""
    from portal.models import Submission

    with app.app_context():
        interview = db.session.get(Submission, submission_id).interview
        data = {
            "version": str(interview.version),
            "title": interview.title,
            "slug": interview.slug,
            "intro_md": interview.intro_md,
            "tags": ", ".join(t.name for t in interview.tags),
        }
        for n, item in enumerate(interview.items):
            data[f"q{item.id}"] = item.question
            data[f"a{item.id}"] = item.answer_md
            data[f"pos{item.id}"] = str(n + 1)
    data.update(changes)
    return data


def item_ids(app, submission_id: int) -> list[int]:
    from portal.models import Submission

    with app.app_context():
        return [i.id for i in db.session.get(Submission, submission_id).interview.items]


def _in_context(app):
    """The app's context, or the one a test is already in (its session: a second
    one would wait for the first's lock on SQLite)."""
    from contextlib import nullcontext

    from flask import has_app_context

    return nullcontext() if has_app_context() else app.app_context()


def stored(app, name: str | None) -> bytes | None:
    """The bytes of a stored photo or share card (a row of stored_files), or None."""
    from portal import photos

    with _in_context(app):
        found = photos.load(name)
        return found.data if found is not None else None


def stored_names(app) -> set[str]:
    """Every stored photo and share card, by name."""
    from portal.models import StoredFile

    with _in_context(app):
        return set(db.session.scalars(select(StoredFile.name)))
