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


def site_to_utc(local: datetime) -> datetime:
    """A naive local time in the site's zone, as naive UTC."""
    return local.replace(tzinfo=site_zone()).astimezone(UTC).replace(tzinfo=None)


def utc_to_site(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC).astimezone(site_zone())
