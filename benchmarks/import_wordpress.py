"""How long `flask import wordpress` takes on a long export, and its peak memory.

    .venv/bin/python benchmarks/import_wordpress.py [--posts 1000] [--databases sqlite,postgresql]

Generates a WordPress export (WXR) of `--posts` interview posts (a dozen
questions each, in bold, answers of a few paragraphs with links and a list,
a featured image each), plus as many other posts to skip, on a fresh
database migrated as production does; then runs the command as an operator
would (a new process: the cold start is counted), once as drafts and once
with --publish (share cards drawn) on a database of its own. Prints the
seconds and the peak resident memory of the command's process (ru_maxrss).
Goal: under 60 s and under 300 MB for 1,000 posts.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, fresh_database, migrate
from PIL import Image

GOAL_SECONDS = 60.0
GOAL_MB = 300.0
WORDS = [
    "customers",
    "shop",
    "market",
    "video",
    "post",
    "weekly",
    "stories",
    "regulars",
    "photos",
    "town",
    "bakery",
    "repair",
    "orders",
    "newsletter",
    "followers",
    "launch",
    "market",
    "stall",
    "workshop",
    "subscribers",
    "comments",
    "reply",
    "friends",
    "neighbours",
    "season",
    "price",
    "delivery",
    "studio",
    "classes",
]


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def _post(i: int, rng: random.Random, interview: bool) -> str:
    day = f"2011-{1 + i % 12:02d}-{1 + i % 28:02d} 10:{i % 60:02d}:00"
    slug = f"interview-number-{i}" if interview else f"news-{i}"
    if interview:
        parts = [f"<strong>Interviewer's Note:</strong> {_sentence(rng, 30)}"]
        parts.append(f"<strong>Hello Person{i}; welcome. What does your business do?</strong>")
        parts.append(f"I run Shop{i} Trading, which sells {_sentence(rng, 20)}")
        for q in range(11):
            parts.append(f"<strong>{_sentence(rng, 9)[:-1]} number {q}?</strong>")
            parts.append(
                f'{_sentence(rng, 40)} <a href="https://shop{i}.example/">our shop</a> '
                f"{_sentence(rng, 25)}\n\n{_sentence(rng, 35)}"
            )
            if q == 5:
                parts.append("<ul>\n<li>" + _sentence(rng, 6) + "</li>\n<li>one more</li>\n</ul>")
        parts.append(f"Follow Person{i} on Twitter: @person{i}")
        parts.append("Would you like to be featured in one of our interviews? Email us.")
        category = (
            '<category domain="category" nicename="interviews"><![CDATA[Interviews]]></category>'
        )
        thumbnail = (
            "<wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key>"
            "<wp:meta_value>900000</wp:meta_value></wp:postmeta>"
        )
    else:
        parts = [_sentence(rng, 60)]
        category = '<category domain="category" nicename="news"><![CDATA[News]]></category>'
        thumbnail = ""
    content = "\n\n".join(parts)
    return f"""
	<item>
		<title>Post {i}: {_sentence(rng, 6)}</title>
		<link>https://oldblog.example/2011/{1 + i % 12:02d}/{slug}/</link>
		<dc:creator><![CDATA[editor]]></dc:creator>
		<guid isPermaLink="false">https://oldblog.example/?p={i}</guid>
		<content:encoded><![CDATA[{content}]]></content:encoded>
		<wp:post_id>{i}</wp:post_id>
		<wp:post_date_gmt><![CDATA[{day}]]></wp:post_date_gmt>
		<wp:post_name><![CDATA[{slug}]]></wp:post_name>
		<wp:status><![CDATA[publish]]></wp:status>
		<wp:post_type><![CDATA[post]]></wp:post_type>
		{category}
		<category domain="post_tag" nicename="twitter"><![CDATA[Twitter]]></category>
		{thumbnail}
	</item>"""


def write_export(path: Path, posts: int) -> None:
    rng = random.Random(7)
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
            "<title>Old blog</title>\n"
            "<wp:author><wp:author_login>editor</wp:author_login>"
            "<wp:author_display_name>Old Editor</wp:author_display_name></wp:author>\n"
        )
        for i in range(1, posts + 1):
            out.write(_post(i, rng, interview=True))
            out.write(_post(posts + i, rng, interview=False))
        out.write(
            "\n<item><title>photo</title><wp:post_id>900000</wp:post_id>"
            "<wp:post_type>attachment</wp:post_type><wp:attachment_url>"
            "https://oldblog.example/wp-content/uploads/2011/01/person.jpg"
            "</wp:attachment_url></item>\n</channel>\n</rss>\n"
        )


def run(env: dict, *args: str) -> tuple[float, float, str]:
    """Seconds and peak MB of one `flask` process, and its last lines."""
    script = (
        "import resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "seconds = time.perf_counter() - start\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(done.returncode, seconds, peak)\n"
        "print(done.stdout[-600:] + done.stderr[-600:])\n"
    )
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "import", "wordpress", *args]
    done = subprocess.run(
        [sys.executable, "-c", script, *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    first, _, rest = done.stdout.partition("\n")
    code, seconds, peak = first.split()
    if code != "0":
        raise SystemExit(f"the import failed ({code}):\n{rest}")
    return float(seconds), float(peak), rest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--databases", default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        export = work / "export.xml"
        write_export(export, args.posts)
        uploads = work / "uploads" / "2011" / "01"
        uploads.mkdir(parents=True)
        Image.new("RGB", (900, 900), (120, 80, 60)).save(uploads / "person.jpg", "JPEG")
        size = export.stat().st_size / 1024 / 1024
        print(f"An export of {args.posts} interview posts and {args.posts} others: {size:.1f} MB")
        print(f"{'database':<11} {'mode':<8} {'seconds':>8} {'peak MB':>8}  goal")
        for kind in args.databases.split(","):
            for mode in ("drafts", "publish"):
                url = fresh_database(kind, work)
                env = dict(
                    os.environ,
                    DATABASE_URL=url,
                    PYTHONPATH=str(ROOT),
                )
                migrate(env)
                extra = ["--publish"] if mode == "publish" else []
                seconds, peak, out = run(
                    env,
                    str(export),
                    "--category",
                    "interviews",
                    "--uploads",
                    str(work / "uploads"),
                    *extra,
                )
                ok = seconds < GOAL_SECONDS and peak < GOAL_MB
                verdict = "met" if ok else f"MISSED (<{GOAL_SECONDS:.0f} s, <{GOAL_MB:.0f} MB)"
                print(f"{kind:<11} {mode:<8} {seconds:>8.1f} {peak:>8.0f}  {verdict}")
                last = [line for line in out.splitlines() if line.startswith("In all")]
                print(f"{'':<11} {last[0] if last else out[-200:]}")


if __name__ == "__main__":
    main()
