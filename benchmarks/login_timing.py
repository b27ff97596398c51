"""Does the answer's timing tell whether an address is known? Login and the
status-link resend, for a known and an unknown address, with production's
scrypt, through the app (test client, SQLite). Prints the medians and their
ratio; the target is within 10%.

    .venv/bin/python benchmarks/login_timing.py [rounds]
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import User  # noqa: E402
from tests.conftest import reset_schema  # noqa: E402

TARGET = 0.10


def _token(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def _medians(client, path: str, addresses: list[str], extra: dict, rounds: int) -> list[float]:
    """Median time of a POST per address, the addresses taking turns so that
    warm-up and drift fall on both alike."""
    token = _token(client, path)
    times: list[list[float]] = [[] for _ in addresses]
    for _ in range(rounds):
        for i, address in enumerate(addresses):
            start = time.perf_counter()
            client.post(path, data=dict(extra, email=address, csrf_token=token))
            times[i].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def main(rounds: int) -> int:
    workdir = Path(tempfile.mkdtemp())
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'timing.sqlite3'}",
            "RATELIMIT_ENABLED": False,
            "SECRET_KEY": "benchmark",
        }
    )
    with app.app_context():
        reset_schema()
        user = User(email="known@bench.example", name="Known", role="editor")
        user.set_password("the right password")
        db.session.add(user)
        db.session.commit()
    client = app.test_client()
    worst = 0.0
    for label, path, extra in (
        ("login", "/editor/login", {"password": "a wrong password"}),
        ("resend", "/status/resend", {}),
    ):
        _medians(client, path, ["warm@bench.example"], extra, 3)
        known, unknown = _medians(
            client, path, ["known@bench.example", "nobody@bench.example"], extra, rounds
        )
        gap = abs(known - unknown) / max(known, unknown)
        worst = max(worst, gap)
        print(
            f"{label:7} known {known * 1000:7.1f} ms   unknown {unknown * 1000:7.1f} ms   "
            f"difference {gap:5.1%}"
        )
    print(f"target: within {TARGET:.0%}: {'met' if worst <= TARGET else 'NOT met'}")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 25))
