""" "Did you mean": how long finding the nearest word takes in a large vocabulary.

    .venv/bin/python benchmarks/search_suggestions.py [--words 300000] [--runs 200]

For each database (SQLite file; PostgreSQL at BENCH_POSTGRES_URL), a fresh
schema by the migrations and a vocabulary of --words words (made-up words of
3 to 12 letters, with a Zipf-like spread of how many interviews use each; a
hundred thousand interviews' worth of English has some 100,000 to 300,000
distinct words). Then --runs misspellings of words in it (a letter dropped,
doubled, swapped or changed) are looked up as a search that found nothing
does, and the median and worst times printed. Only a search that finds
nothing pays this.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import string
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert  # noqa: E402

from benchmarks.common import fresh_database, migrate  # noqa: E402
from portal.models import SearchWord  # noqa: E402


def made_up(rng: random.Random, n: int) -> list[str]:
    words: set[str] = set()
    while len(words) < n:
        length = min(12, max(3, int(rng.gauss(7, 2))))
        words.add("".join(rng.choice(string.ascii_lowercase) for _ in range(length)))
    return sorted(words)


def misspelt(rng: random.Random, word: str) -> str:
    i = rng.randrange(1, len(word))  # the first letter kept, as most typos do
    kind = rng.choice(("drop", "double", "swap", "change"))
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "swap" and i < len(word) - 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + rng.choice(string.ascii_lowercase) + word[i + 1 :]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--words", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    rng = random.Random(7)
    words = made_up(rng, args.words)
    rows = [{"word": w, "interviews": max(1, int(1000 / (n + 1)))} for n, w in enumerate(words)]
    rng.shuffle(rows)
    targets = [
        misspelt(rng, rng.choice([w for w in words if len(w) >= 5])) for _ in range(args.runs)
    ]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.databases:
            url = fresh_database(kind, Path(tmp))
            migrate(dict(os.environ, DATABASE_URL=url, SECRET_KEY="benchmark"))
            engine = create_engine(url)
            with engine.begin() as conn:
                for start in range(0, len(rows), 10_000):
                    conn.execute(insert(SearchWord), rows[start : start + 10_000])
            engine.dispose()
            os.environ.update(DATABASE_URL=url, SECRET_KEY="benchmark")
            from portal import create_app, search

            app = create_app()
            times, found = [], 0
            with app.app_context():
                for word in targets:
                    started = time.perf_counter()
                    nearest = search._nearest(word)
                    times.append((time.perf_counter() - started) * 1000)
                    found += nearest is not None
                from portal.extensions import db

                db.session.remove()
                db.engine.dispose()
            times.sort()
            results.append((kind, statistics.median(times), times[-1], found))
            print(
                f"{kind}: median {statistics.median(times):.1f} ms, worst {times[-1]:.1f} ms, "
                f"a word found for {found} of {len(targets)}",
                flush=True,
            )
    print()
    print(f"{args.words} words in the vocabulary, {args.runs} misspellings")
    print("| database | median (ms) | worst (ms) | suggested |")
    print("|---|---|---|---|")
    for kind, median, worst, found in results:
        print(f"| {kind} | {median:.1f} | {worst:.1f} | {found} of {len(targets)} |")


if __name__ == "__main__":
    main()
