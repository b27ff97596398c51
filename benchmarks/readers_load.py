"""Readers under load: 100,000 published interviews, served by gunicorn, hit by wrk.

    .venv/bin/python benchmarks/readers_load.py [--interviews 100000] [--seconds 10]

For each database (a SQLite file; PostgreSQL at BENCH_POSTGRES_URL, default the
local server's `portal_bench` database, re-created) it migrates a fresh schema,
bulk-inserts the interviews with their applicants, Q&A pairs and tags (answers
of realistic length, made from sentences about running a small business) and
builds the search index, then starts gunicorn with the production config
(`gunicorn.conf.py`, 2 sync workers) and loads, one after the other with wrk on
loopback: a bare Flask app returning a short string under the same gunicorn
config (`bare-flask`: the ceiling no Flask page can pass), a bare route
returning a short string from the portal itself (`ceiling`: the portal's own
per-request cost on top), `/`, interview pages, tag pages, searches, `/feed.atom`, question
pages (/questions/<slug>, each with about 100,000 answers) and later pages of
them by cursor; interview pages again while one application arrives every
second (`interview+applications`: an application must not empty the readers'
caches); then home, interview, tag and question pages again with the
page cache off (`-uncached`: rendered from the database every time). It prints
requests per second, p50 and p99 latency, and each page's share of both ceilings.

With interview pages in the run, they are loaded through nginx too
(deploy/nginx.conf as production has it: TLS, its micro-cache), beside nginx
serving a static file of the same size (the edge's ceiling); nginx-light is
installed with apt when missing and the benchmark runs as root.

Interview, tag and search requests rotate through many different addresses
(200 interviews, 20 tags, 30 searches), as readers arriving from many links do.
Searches are never cached: every one is a full-text query against 100,000
interviews. A last run, `search-1c`, sends the searches one at a time: what a
search costs when it waits behind no other. wrk needs Debian's `wrk` package.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, free_port, fresh_database, migrate  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import (  # noqa: E402
    Interview,
    InterviewItem,
    Question,
    Submission,
    Tag,
    interview_tags,
)
from portal.submissions.forms import INDUSTRIES  # noqa: E402

CHUNK = 2000
WORKERS = 2

FIRST = [
    "Ada",
    "Ben",
    "Cleo",
    "Dev",
    "Esme",
    "Femi",
    "Gus",
    "Hana",
    "Ivo",
    "Jia",
    "Kit",
    "Lena",
    "Milo",
    "Nia",
    "Omar",
    "Pia",
    "Quin",
    "Rosa",
    "Sami",
    "Tova",
    "Uma",
    "Vik",
    "Wren",
    "Yara",
    "Zed",
]
LAST = [
    "Abbott",
    "Baker",
    "Chen",
    "Daly",
    "Egan",
    "Fox",
    "Gill",
    "Hale",
    "Ito",
    "Jones",
    "Khan",
    "Lowe",
    "Moss",
    "Nair",
    "Okafor",
    "Patel",
    "Quinn",
    "Reyes",
    "Sato",
    "Tran",
    "Usher",
    "Vance",
    "Ward",
    "Young",
    "Zhou",
]
TRADES = [
    ("bakery", "Bakes"),
    ("pottery studio", "Clay"),
    ("bike repair shop", "Cycles"),
    ("florist", "Blooms"),
    ("bookshop", "Books"),
    ("coffee roastery", "Roasters"),
    ("yoga studio", "Yoga"),
    ("tailoring service", "Tailors"),
    ("candle workshop", "Candles"),
    ("dog grooming salon", "Grooming"),
    ("kayak hire", "Kayaks"),
    ("letterpress print shop", "Press"),
    ("vintage clothing store", "Vintage"),
    ("plant nursery", "Nursery"),
    ("cheese shop", "Cheese"),
    ("barbershop", "Barbers"),
    ("hot sauce brand", "Sauce"),
    ("furniture restorer", "Restoration"),
    ("tattoo studio", "Ink"),
    ("tea room", "Teas"),
]
PLACES = [
    "Leeds",
    "Porto",
    "Lyon",
    "Cork",
    "Ghent",
    "Malmo",
    "Turin",
    "Bristol",
    "Gdansk",
    "Bilbao",
    "Utrecht",
    "Aarhus",
]
NETWORKS = ["Instagram", "TikTok", "Facebook", "LinkedIn", "Pinterest", "YouTube", "Threads"]
TAGS = [
    "Retail",
    "Food and drink",
    "Crafts",
    "Services",
    "Wellness",
    "Outdoors",
    "Video",
    "Newsletters",
    "Local",
    "Community",
    "Photography",
    "Reviews",
    "Advertising",
    "Events",
    "Hiring",
    "Family business",
    "Side project",
    "Sustainability",
    "Online shop",
    "Growth",
]
SENTENCES = [
    "We started posting on {net} three times a week and stuck with it for a whole year.",
    "Most of our customers now find us on {net} before they ever walk through the door.",
    "The first video that took off was a clip of the {trade} at six in the morning.",
    "I answer every message myself, usually in the evening when the shop is quiet.",
    "We tried paid ads for two months, spent about four hundred pounds and stopped.",
    "Word of mouth still matters more than anything we post, but posting feeds it.",
    "Our newsletter goes out every other Sunday to a little over {n} subscribers.",
    "Behind-the-scenes photos always do better than polished product shots.",
    "Customers tag us when they share what they bought, and we repost the best ones.",
    "A local journalist found us through {net} and wrote about the {trade} last spring.",
    "I batch the week's posts on Monday morning so they don't eat into the rest of it.",
    "We collaborate with two other shops in {place} on a seasonal market.",
    "Our reviews doubled once we started asking for them on the receipt.",
    "Reels brought new followers, but the long captions brought the loyal ones.",
    "Hiring our first employee happened through a post, not a job board.",
    "We keep a simple spreadsheet of what we posted and what it sold.",
    "The hardest part was showing my face on camera for the first time.",
    "A customer in {place} asked for a workshop, so we started running one a month.",
    "We stopped chasing trends and went back to showing the work as it is.",
    "Around {n} people follow us now, and most of them have bought something.",
    "Our best month came after a post about a mistake we made and how we fixed it.",
    "I set aside an hour every Friday to reply to comments and thank people.",
    "The online shop grew slowly; most orders still come from people nearby.",
    "Sustainability matters to our customers, so we show where every material comes from.",
    "Live sessions on {net} feel like chatting across the counter.",
    "We learned to write captions as if talking to one regular customer.",
]


def paragraph(rng: random.Random, trade: str, place: str, sentences: int) -> str:
    words = []
    for _ in range(sentences):
        words.append(
            rng.choice(SENTENCES).format(
                net=rng.choice(NETWORKS), trade=trade, place=place, n=rng.randrange(300, 40000)
            )
        )
    return " ".join(words)


def generate(url: str, n: int, seed: int = 2026) -> float:
    """Bulk-insert `n` published interviews; return the seconds it took."""
    rng = random.Random(seed)
    engine = create_engine(url)
    started = time.perf_counter()
    with engine.connect() as conn:  # the questionnaire the migrations installed
        questions = conn.execute(
            select(Question.id, Question.text).order_by(Question.position).limit(7)
        ).all()
    newest = datetime(2026, 11, 1, 9, 0)
    with engine.begin() as conn:
        conn.execute(
            insert(Tag),
            [
                {"id": i + 1, "name": name, "slug": name.lower().replace(" ", "-")}
                for i, name in enumerate(TAGS)
            ],
        )
        item_id = 0
        for start in range(0, n, CHUNK):
            submissions, interviews, items, links, search_rows = [], [], [], [], []
            for i in range(start + 1, min(start + CHUNK, n) + 1):
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                trade, word = rng.choice(TRADES)
                place = rng.choice(PLACES)
                business = f"{rng.choice(LAST)} {word}"
                when = newest - timedelta(hours=(n - i) * 2, minutes=rng.randrange(60))
                submissions.append(
                    {
                        "id": i,
                        "state": "published",
                        "version": 1,
                        "name": name,
                        "email": f"owner{i}@bench.example",
                        "business": business,
                        "website": f"https://shop{i}.example",
                        "location": place,
                        "industry": INDUSTRIES[i % len(INDUSTRIES)],
                        "pitch": "",
                        "socials": {"instagram": f"https://www.instagram.com/shop{i}"},
                        "created_at": when,
                        "submitted_at": when,
                        "state_changed_at": when,
                    }
                )
                intro = paragraph(rng, trade, place, 2)
                pairs = []
                for position, (question_id, question) in enumerate(questions):
                    item_id += 1
                    answer = "".join(
                        f"<p>{paragraph(rng, trade, place, rng.randrange(2, 5))}</p>"
                        for _ in range(rng.randrange(1, 4))
                    )
                    pairs.append((question, answer))
                    items.append(
                        {
                            "id": item_id,
                            "interview_id": i,
                            "position": position,
                            "question": question,
                            "question_id": question_id,
                            "answer_html": answer,
                        }
                    )
                body = " ".join([intro] + [f"{q} {re.sub('<[^>]+>', ' ', a)}" for q, a in pairs])
                title = f"{name} of {business}, a {trade} in {place}"
                interviews.append(
                    {
                        "id": i,
                        "submission_id": i,
                        "title": title,
                        "slug": f"{title.lower().replace(' ', '-').replace(',', '')}-{i}",
                        "intro_html": f"<p>{intro}</p>",
                        "pull_quote": "",
                        "published_at": when,
                        "updated_at": when,
                        "version": 1,
                        "search_text": body,
                    }
                )
                search_rows.append(
                    {"id": i, "title": title, "name": name, "business": business, "body": body}
                )
                for tag_id in rng.sample(range(1, len(TAGS) + 1), rng.randrange(1, 4)):
                    links.append({"interview_id": i, "tag_id": tag_id})
            conn.execute(insert(Submission), submissions)
            conn.execute(insert(Interview), interviews)
            conn.execute(insert(InterviewItem), items)
            conn.execute(insert(interview_tags), links)
            if conn.dialect.name == "sqlite":
                conn.execute(
                    text(
                        "INSERT INTO interview_search (rowid, title, name, business, body) "
                        "VALUES (:id, :title, :name, :business, :body)"
                    ),
                    search_rows,
                )
        if conn.dialect.name == "postgresql":
            # The same weights as portal.search.index, for all rows at once.
            conn.execute(
                text(
                    "UPDATE interviews i SET search_vector = "
                    "setweight(to_tsvector('english', i.title), 'A') || "
                    "setweight(to_tsvector('english', s.name || ' ' || s.business), 'A') || "
                    "setweight(to_tsvector('english', i.search_text), 'B') "
                    "FROM submissions s WHERE s.id = i.submission_id"
                )
            )
            for table in ("submissions", "interviews", "interview_items", "tags"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds


SEARCHES = [
    "bakery",
    "instagram",
    "newsletter subscribers",
    "paid ads",
    '"word of mouth"',
    "workshop",
    "reviews receipt",
    "journalist",
    "kayak",
    "sustainability",
    "live sessions",
    "spreadsheet",
    "hiring employee",
    "pottery studio",
    "Porto",
    "camera",
    "tiktok video",
    "captions",
    "seasonal market",
    "mistake",
    "online shop orders",
    "behind the scenes",
    "coffee roastery Lyon",
    "trends",
    "Friday comments",
    "florist",
    "letterpress",
    "threads",
    "barbershop Leeds",
    "loyal followers",
]


def targets(url: str) -> dict[str, list[str]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        slugs = conn.scalars(
            select(Interview.slug).order_by(Interview.id).where(Interview.id % 500 == 7)
        ).all()[:200]
        tags = conn.scalars(select(Tag.slug)).all()
        asked = conn.scalars(select(Question.slug).order_by(Question.position).limit(7)).all()
        # Later pages of a question, by cursor: the cards after the 120th, 1,200th, ...
        deep = []
        for skip in (120, 1_200, 12_000, 60_000):
            row = conn.execute(
                select(Interview.published_at, Interview.id)
                .order_by(Interview.published_at.desc(), Interview.id.desc())
                .offset(skip)
                .limit(1)
            ).first()
            if row is not None:
                cursor = f"{row.published_at.strftime('%Y%m%dT%H%M%S.%f')}-{row.id}"
                deep += [f"/questions/{slug}?before={cursor}" for slug in asked]
    engine.dispose()
    from urllib.parse import quote

    return {
        "ceiling": ["/_ceiling"],
        "home": ["/"],
        "interview": [f"/interviews/{s}" for s in slugs],
        "tag": [f"/tags/{t}" for t in tags],
        "search": [f"/search?q={quote(q)}" for q in SEARCHES],
        "feed": ["/feed.atom"],
        "question": [f"/questions/{slug}" for slug in asked],
        "question-deep": deep,
    }


def lua_for(paths: list[str], folder: Path, name: str) -> Path:
    script = folder / f"{name}.lua"
    listed = ", ".join(f'"{p}"' for p in paths)
    script.write_text(
        f"local paths = {{{listed}}}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #paths + 1\n"
        '  return wrk.format("GET", paths[i])\n'
        "end\n"
    )
    return script


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def load(base: str, script: Path, seconds: int, connections: int) -> dict:
    threads = min(2, connections)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(script),
    ]
    out = subprocess.run(command + [base], check=True, capture_output=True, text=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
        "p99": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
        "bad": int(errors.group(1)) if errors else 0,
    }


def serve(
    url: str,
    port: int,
    folder: Path,
    app: str = "benchmarks.ceiling_wsgi:app",
    probe: str = "/_ceiling",
    **settings: str,
) -> subprocess.Popen:
    env = dict(
        os.environ,
        **settings,
        DATABASE_URL=url,
        SECRET_KEY="benchmark-" + "x" * 40,
        PUBLIC_URL=f"http://127.0.0.1:{port}",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS=str(WORKERS),
        GUNICORN_LOGLEVEL="warning",
        PYTHONPATH=str(ROOT),
    )
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            app,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    import urllib.request

    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=1)
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"gunicorn did not start: {process.stderr.read()[-2000:]}")


@contextmanager
def nginx_in_front(upstream: int, folder: Path, static: bytes):
    """deploy/nginx.conf in front of the portal on `upstream`, as production has
    it (TLS, the micro-cache), with one more file it serves itself: `static`,
    at /bench-static.html. Yields the https base address."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        if os.geteuid() != 0:
            raise SystemExit("nginx is missing: sudo apt-get install nginx-light")
        subprocess.run(
            ["/usr/bin/apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx-light"],
            check=True,
            capture_output=True,
            env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"),
        )
    home = folder / "nginx"
    for sub in ("", "temp", "logs", "cache", "static"):
        (home / sub).mkdir(exist_ok=True)
    (home / "static" / "bench-static.html").write_bytes(static)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=interviews.example.org", "-keyout", str(home / "key.pem")]
        + ["-out", str(home / "cert.pem")],
        check=True,
        capture_output=True,
    )
    port, plain = free_port(), free_port()
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    site = "\n".join(x for x in site.splitlines() if "[::]" not in x)
    site = (
        site.replace("listen 80;", f"listen 127.0.0.1:{plain};")
        .replace("listen 443 ssl", f"listen 127.0.0.1:{port} ssl")
        .replace(
            "/etc/letsencrypt/live/interviews.example.org/fullchain.pem", str(home / "cert.pem")
        )
        .replace("/etc/letsencrypt/live/interviews.example.org/privkey.pem", str(home / "key.pem"))
        .replace("http://127.0.0.1:8000", f"http://127.0.0.1:{upstream}")
        .replace("/srv/portal", str(ROOT))
        .replace("/var/log/nginx/", f"{home}/logs/")
        .replace("/var/cache/nginx/portal", f"{home}/cache")
        .replace(
            "location = /metrics { return 404; }",
            "location = /metrics { return 404; }\n"
            f"    location = /bench-static.html {{ root {home}/static; }}",
        )
    )
    temp = home / "temp"
    (home / "nginx.conf").write_text(
        # Run by root, nginx's workers would be "nobody", who can't read this
        # benchmark's private folder: they run as root here (a benchmark only).
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"pid {home}/nginx.pid;\nerror_log {home}/logs/error.log;\ndaemon off;\n"
        "worker_processes auto;\nevents {}\nhttp {\n  include /etc/nginx/mime.types;\n"
        + "".join(
            f"  {k}_temp_path {temp}/{k};\n"
            for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + site
        + "\n}\n"
    )
    process = subprocess.Popen(
        [nginx, "-p", str(home), "-c", str(home / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    import ssl
    import urllib.request

    unverified = ssl._create_unverified_context()  # noqa: S323 (our own certificate)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(
                    f"https://127.0.0.1:{port}/bench-static.html", timeout=1, context=unverified
                )
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit(f"nginx did not start: {process.stderr.read()[-2000:]}")
        yield f"https://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def applications_arriving(url: str, every: float = 1.0):
    """While the block runs, one application a second arrives (in this process,
    through operations.apply, as the form's view would make it)."""
    from portal import create_app, operations
    from portal.operations import Profile

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark-" + "x" * 40, "MAIL_SERVER": ""}
    )
    stop = threading.Event()
    made = [0]

    def arrive():
        with app.app_context():
            questions = db.session.scalars(select(Question.id)).all()
            while not stop.wait(every):
                made[0] += 1
                n = made[0]
                operations.apply(
                    Profile(
                        name=f"Mixed Applicant {n}",
                        email=f"mixed{n}@bench.example",
                        business=f"Mixed Shop {n}",
                        website="https://mixed.example",
                        location="Truro",
                        industry="Retail",
                        socials={},
                    ),
                    {q: "We sell on Instagram and at the Saturday market." for q in questions},
                )

    thread = threading.Thread(target=arrive, daemon=True)
    thread.start()
    try:
        yield made
    finally:
        stop.set()
        thread.join(timeout=30)
    if made[0] == 0:
        raise SystemExit("the mixed run made no application")


def _report(row: dict) -> None:
    print(
        f"{row['db']:<10} {row['page']:<9} {row['rps']:8.0f} req/s  p50 {row['p50']:6.2f} ms  "
        f"p99 {row['p99']:6.2f} ms  non-2xx {row['bad']}",
        flush=True,
    )


def run(
    kind: str, n: int, seconds: int, connections: int, folder: Path, only: list[str] | None = None
) -> list[dict]:
    url = fresh_database(kind, folder)
    migrate(dict(os.environ, DATABASE_URL=url, SECRET_KEY="benchmark"))
    made = generate(url, n)
    print(f"{kind}: {n} interviews generated and indexed in {made:.0f} s", flush=True)
    pages = targets(url)
    if only:  # the ceiling always, to compare with
        pages = {k: v for k, v in pages.items() if k == "ceiling" or k in only}
    rows = []
    # The ceiling no Flask page can pass: a bare Flask app, same gunicorn config.
    port = free_port()
    server = serve(url, port, folder, app="benchmarks.bare_wsgi:app", probe="/")
    try:
        script = lua_for(["/"], folder, "bare-flask")
        load(f"http://127.0.0.1:{port}", script, 2, connections)
        row = {
            "db": kind,
            "page": "bare-flask",
            **load(f"http://127.0.0.1:{port}", script, seconds, connections),
        }
        rows.append(row)
        _report(row)
    finally:
        server.terminate()
        server.wait(timeout=30)
    port = free_port()
    server = serve(url, port, folder)
    try:
        base = f"http://127.0.0.1:{port}"
        # Each page under load, then searches one at a time: what a search costs
        # when it waits behind no other.
        runs = [(name, paths, connections) for name, paths in pages.items()]
        if "search" in pages:
            runs.append(("search-1c", pages["search"], 1))
        for name, paths, clients in runs:
            script = lua_for(paths, folder, name)
            load(base, script, 2, clients)  # warm up: imports, caches, the database
            row = {"db": kind, "page": name, **load(base, script, seconds, clients)}
            rows.append(row)
            _report(row)
        if "interview" in pages:
            # Through nginx (deploy/nginx.conf, its micro-cache warm), beside
            # nginx serving a static file of the same size: the edge's ceiling.
            import urllib.request

            with urllib.request.urlopen(base + pages["interview"][0]) as response:  # noqa: S310
                page = response.read()
            with nginx_in_front(port, folder, page) as edge:
                for name, paths in (
                    ("nginx static file", ["/bench-static.html"]),
                    ("nginx interview", pages["interview"]),
                ):
                    script = lua_for(paths, folder, name.replace(" ", "-"))
                    load(edge, script, 2, connections)
                    row = {"db": kind, "page": name, **load(edge, script, seconds, connections)}
                    rows.append(row)
                    _report(row)
            # The mixed run: readers on the same interview pages while one
            # application (with its emails) arrives every second.
            script = lua_for(pages["interview"], folder, "interview-mixed")
            with applications_arriving(url):
                row = {
                    "db": kind,
                    "page": "interview+applications",
                    **load(base, script, seconds, connections),
                }
            rows.append(row)
            _report(row)
    finally:
        server.terminate()
        server.wait(timeout=30)
    # The slow path: the same pages with the page cache off, each one rendered
    # from the database on every request.
    port = free_port()
    server = serve(url, port, folder, PAGE_CACHE_SIZE="0")
    try:
        base = f"http://127.0.0.1:{port}"
        for name in ("home", "interview", "tag", "question", "question-deep"):
            if name not in pages:
                continue
            script = lua_for(pages[name], folder, f"{name}-uncached")
            load(base, script, 2, connections)
            row = {
                "db": kind,
                "page": f"{name}-uncached",
                **load(base, script, seconds, connections),
            }
            rows.append(row)
            _report(row)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--interviews", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--pages", nargs="+", help="only these pages (and the ceiling)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.databases:
            rows += run(
                kind, args.interviews, args.seconds, args.connections, Path(tmp), args.pages
            )
    print()
    print(
        f"{args.interviews} interviews, gunicorn with {WORKERS} sync workers, "
        f"wrk {args.connections} connections, {args.seconds} s per page"
    )
    print(
        "| database | page | req/s | p50 ms | p99 ms | share of bare Flask "
        "| share of the portal's bare route | non-2xx |"
    )
    print("|---|---|---|---|---|---|---|---|")
    edges: list[str] = []
    for row in rows:
        if row["page"] == "nginx interview":
            static = next(
                r for r in rows if r["db"] == row["db"] and r["page"] == "nginx static file"
            )
            edges.append(f"{row['db']}: {row['rps'] / static['rps']:.0%}")
        bare = next(r for r in rows if r["db"] == row["db"] and r["page"] == "bare-flask")
        ceiling = next(r for r in rows if r["db"] == row["db"] and r["page"] == "ceiling")
        print(
            f"| {row['db']} | {row['page']} | {row['rps']:.0f} | {row['p50']:.2f} | "
            f"{row['p99']:.2f} | {row['rps'] / bare['rps']:.0%} | "
            f"{row['rps'] / ceiling['rps']:.0%} | {row['bad']} |"
        )

    if edges:
        print(
            "Interview pages through nginx, as a share of nginx serving a static file "
            "of the same size: " + ", ".join(edges)
        )


if __name__ == "__main__":
    main()
