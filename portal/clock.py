"""The time, in one place: naive UTC everywhere in the database.

Tests move the clock with `frozen(when)` instead of sleeping.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app

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


# The site's time zone: editors type local times; the database keeps UTC.


def site_zone() -> ZoneInfo:
    try:
        return ZoneInfo(current_app.config["SITE_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


class NoSuchTime(ValueError):
    """A local time the clocks skip (when they go forward)."""


def site_to_utc(local: datetime) -> datetime:
    """A naive local time in the site's zone, as naive UTC; NoSuchTime for one
    that does not exist there."""
    zone = site_zone()
    utc = local.replace(tzinfo=zone).astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != local:
        raise NoSuchTime(
            f"Publish at: {local:%H:%M} on {local:%-d %b} does not exist in {zone.key} "
            "(the clocks go forward then). Give another time."
        )
    return utc.replace(tzinfo=None)


def utc_to_site(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC).astimezone(site_zone())


def site_time(value: datetime | str, fmt: str = "%a %-d %b %Y, %H:%M") -> str:
    """A time from the database (naive UTC, or its ISO text) as people here read
    it: in SITE_TIMEZONE, naming the zone."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return f"{utc_to_site(value).strftime(fmt)} ({site_zone().key})"
