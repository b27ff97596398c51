"""Releases an operator can follow: CHANGELOG.md names each release's commit and
schema, and the README's upgrade and rollback order works on real data.

For every earlier release: its own code (from git) builds its schema and fills
it with its demo content; this code upgrades it and serves it; this code
downgrades it to the release's schema (a rollback downgrades before the code
goes back, since only the new code knows the way back); the old code serves the
same pages again.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from portal import __version__
from tests.test_migrations import _empty_database

ROOT = Path(__file__).resolve().parents[1]
CHANGELOG = (ROOT / "CHANGELOG.md").read_text()
_RELEASE = re.compile(
    r"^## (?P<version>\d+\.\d+\.\d+) \((?P<date>\d{4}-\d\d-\d\d)\)\n\n"
    r"(?:Commit `(?P<commit>[0-9a-f]{7,40})`, schema|Schema) `(?P<schema>\d{4})`",
    re.MULTILINE,
)
RELEASES = [m.groupdict() for m in _RELEASE.finditer(CHANGELOG)]
EARLIER = [r for r in RELEASES if r["commit"]]

# Reads the site with the code in the current folder and prints what a reader
# and an editor see: the home page's interviews and each one's page.
_SERVE = r"""
import json, re
from portal import create_app
app = create_app()
client = app.test_client()
home = client.get("/")
links = sorted(set(re.findall(r'href="(/interviews/[^"#?]+)"', home.get_data(as_text=True))))
pages = {}
for link in links:
    page = client.get(link)
    title = re.search(r"<h1[^>]*>(.*?)</h1>", page.get_data(as_text=True), re.S)
    pages[link] = [page.status_code, title and re.sub(r"\s+", " ", title.group(1)).strip()]
login = client.get("/editor/login").get_data(as_text=True)
token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', login).group(1)
client.post("/editor/login", data={"csrf_token": token, "email": "editor@example.com",
            "password": "portal-demo-password"})
queue = client.get("/editor/")
names = sorted(set(re.findall(r'href="/editor/submissions/\d+">([^<]+)<', queue.get_data(as_text=True))))
print(json.dumps({"home": home.status_code, "pages": pages, "queue": queue.status_code,
                  "queue_names": names}))
"""


def test_the_changelog_names_this_release_and_its_schema():
    newest = RELEASES[0]
    assert newest["version"] == __version__
    migrations = sorted(p.name[:4] for p in (ROOT / "migrations" / "versions").glob("0*.py"))
    assert newest["schema"] == migrations[-1]
    assert EARLIER, "no earlier release with its commit in CHANGELOG.md"
    assert [r["version"] for r in RELEASES] == sorted(
        (r["version"] for r in RELEASES), key=lambda v: tuple(map(int, v.split("."))), reverse=True
    )


def _code_of(commit: str, folder: Path) -> Path:
    """The release's code, from this clone's history (CI clones all of main)."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, "portal", "templates", "migrations", "wsgi.py"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    assert archive.returncode == 0, archive.stderr.decode()
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def _flask(code: Path, database_url: str, *words: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "MAIL_"))}
    env.update(DATABASE_URL=database_url, PYTHONPATH=str(code))
    command = [sys.executable, "-m", "flask", "--app", "wsgi", *words] if words else None
    done = subprocess.run(
        command or [sys.executable, "-c", _SERVE],
        cwd=code,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, (code, words, done.stdout[-2000:], done.stderr[-3000:])
    return done.stdout


def _served(code: Path, database_url: str) -> dict:
    return json.loads(_flask(code, database_url).strip().splitlines()[-1])


@pytest.mark.parametrize("release", EARLIER, ids=[r["version"] for r in EARLIER])
def test_upgrade_from_an_earlier_release_and_roll_back(app, database_url, tmp_path, release):
    with app.app_context():
        _empty_database()
    old = _code_of(release["commit"], tmp_path / release["version"])

    # The release as it ran: its schema, its content, its pages.
    _flask(old, database_url, "db", "upgrade")
    _flask(old, database_url, "demo", "seed")
    before = _served(old, database_url)
    assert before["home"] == 200 and len(before["pages"]) >= 2, before
    assert all(status == 200 for status, _ in before["pages"].values()), before
    assert before["queue"] == 200 and before["queue_names"], before

    # Upgrade: this code's migrations, then this code serves the same site.
    _flask(ROOT, database_url, "db", "upgrade")
    assert f"schema of the database: {RELEASES[0]['schema']}" in _flask(
        ROOT, database_url, "version"
    )
    engine = create_engine(database_url)
    with engine.connect() as conn:  # 0014: emails know their application
        orphans = conn.execute(
            text(
                "SELECT count(*) FROM outbox o JOIN events e ON e.id = o.event_id "
                "WHERE e.submission_id IS NOT NULL AND o.submission_id IS NULL"
            )
        ).scalar()
        threaded = conn.execute(
            text("SELECT count(*) FROM outbox WHERE submission_id IS NOT NULL")
        ).scalar()
    engine.dispose()
    assert orphans == 0 and threaded > 0
    after = _served(ROOT, database_url)
    assert after["home"] == 200 and after["pages"].keys() == before["pages"].keys()
    assert all(status == 200 for status, _ in after["pages"].values()), after
    assert after["queue_names"] == before["queue_names"]

    # Roll back: downgrade with this code, then the old code serves it again.
    _flask(ROOT, database_url, "db", "downgrade", release["schema"])
    again = _served(old, database_url)
    assert again == before
