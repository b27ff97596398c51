"""How often a visitor may make us email an address they typed.

Every path that sends an email to an address typed in a public form (apply,
save, continue, the status-link resend, the "already applied" reminder) asks
`may_email` first: a limit per recipient address and one per client address,
counted in the rate limiter's storage (Redis when configured, so every worker
and host shares the counts). Over a limit the action still happens (nothing
typed is lost); only the email is held back.
"""

from __future__ import annotations

from flask import current_app, request
from limits import parse

from ..extensions import limiter
from .outbox import holding_back

__all__ = ["holding_back", "may_email"]


def may_email(address: str) -> bool:
    """Count one email to `address` from this client; False when either is past its limit."""
    storage = limiter.limiter
    per_recipient = parse(current_app.config["EMAIL_LIMIT_PER_RECIPIENT"])
    per_client = parse(current_app.config["EMAIL_LIMIT_PER_CLIENT"])
    recipient_ok = storage.hit(per_recipient, "email-to", (address or "").strip().lower())
    client_ok = storage.hit(per_client, "email-from", request.remote_addr or "unknown")
    return recipient_ok and client_ok
