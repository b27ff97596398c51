"""How often a visitor may make us email an address they typed.

Every path that sends an email to an address typed in a public form (apply,
save, continue, the status-link resend, the "already applied" reminder) asks
`may_email` first: a limit per recipient address and one per client address,
counted in the rate limiter's storage (Redis when configured, so every worker
and host shares the counts). Over a limit the action still happens (nothing
typed is lost); only the email is held back.
"""

from __future__ import annotations

import logging

from flask import current_app, request
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from ..extensions import limiter
from .outbox import holding_back

__all__ = ["counted", "holding_back", "may_email"]

log = logging.getLogger(__name__)

# Counts kept in this process while the shared storage (Redis) is away.
_fallback = FixedWindowRateLimiter(MemoryStorage())


def counted(limit: str, *identifiers: str) -> bool:
    """Count one more against `limit` for `identifiers`; False when past it. With
    the shared storage away, each process counts alone for the time being."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True  # limits switched off (benchmarks, some tests)
    item = parse(limit)
    try:
        return limiter.limiter.hit(item, *identifiers)
    except Exception as error:  # the storage's own errors: connection refused, timeout...
        log.warning("Rate limit storage unavailable (%r); counting in this process", error)
        return _fallback.hit(item, *identifiers)


def may_email(address: str) -> bool:
    """Count one email to `address` from this client; False when either is past its limit."""
    config = current_app.config
    recipient_ok = counted(
        config["EMAIL_LIMIT_PER_RECIPIENT"], "email-to", (address or "").strip().lower()
    )
    client_ok = counted(config["EMAIL_LIMIT_PER_CLIENT"], "email-from", request.remote_addr or "x")
    return recipient_ok and client_ok
