"""The site's time zone, for the editors' views (kept in portal/clock.py)."""

from __future__ import annotations

from ..clock import NoSuchTime, site_to_utc, site_zone, utc_to_site

__all__ = ["NoSuchTime", "site_to_utc", "site_zone", "utc_to_site"]
