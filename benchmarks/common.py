"""What the benchmarks share: a free port, a fresh database, the migrations."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database(kind: str, workdir: Path) -> str:
    """An empty SQLite file in `workdir`, or the PostgreSQL bench database re-created."""
    if kind == "sqlite":
        path = workdir / "bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    admin = create_engine(
        POSTGRES_URL.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT"
    )
    name = POSTGRES_URL.rsplit("/", 1)[1]
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return POSTGRES_URL


def _flask(env: dict, *command: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *command],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def migrate(env: dict) -> None:
    """The schema, by the same migrations production runs."""
    _flask(env, "db", "upgrade")


def migrate_and_seed(env: dict) -> None:
    """The schema by the migrations, then the demo content."""
    env.pop("PORTAL_ENV", None)
    migrate(env)
    _flask(env, "demo", "seed")
