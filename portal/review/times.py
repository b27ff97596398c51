"""The site's time zone: editors type local times; the database keeps UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app


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
