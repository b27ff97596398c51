"""The time, in one place: naive UTC everywhere in the database.

Tests move the clock with `frozen(when)` instead of sleeping.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime

_fixed: datetime | None = None


def utcnow() -> datetime:
    if _fixed is not None:
        return _fixed
    return datetime.now(UTC).replace(tzinfo=None)


@contextmanager
def frozen(when: datetime):
    global _fixed
    before, _fixed = _fixed, when
    try:
        yield
    finally:
        _fixed = before


def timestamp() -> float:
    """Now, as seconds since the epoch (for values kept outside the database)."""
    return utcnow().replace(tzinfo=UTC).timestamp()
