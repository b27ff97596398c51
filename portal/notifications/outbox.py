"""Writing emails into the outbox, in the caller's transaction."""

from __future__ import annotations

import logging
import re
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from flask import current_app, render_template

from ..clock import utcnow
from ..extensions import db
from ..links import public_url
from ..models import Event, OutboxEmail, Submission

log = logging.getLogger(__name__)

_LINE_BREAKS = re.compile(r"[\r\n\x00-\x1f\x7f]+")


# Addresses that get no email for now (over their sending limit); see holding_back.
_held_back: ContextVar[frozenset[str]] = ContextVar("held_back", default=frozenset())


@contextmanager
def holding_back(*addresses: str) -> Iterator[None]:
    """Queue nothing to `addresses` inside this block; everyone else gets theirs."""
    token = _held_back.set(frozenset(a.strip().lower() for a in addresses if a))
    try:
        yield
    finally:
        _held_back.reset(token)


# What a stored email shows where its recipient's private link will be.
PRIVATE_LINK = "[private link]"


def numbered_private_link(n: int) -> str:
    """The place of the n-th (from 1) of several private links in one email,
    whose `private_link` names them in order, separated by spaces."""
    return f"[private link {n}]"


def shown(link: str) -> str:
    """A link as people read it under a button ("site.org/path"): the button
    holds the full address; writing it again in full would make spam filters
    count the address an odd number of times. For a private link, the place
    where the worker will write it so."""
    if link.startswith("[private link"):
        return link[:-1] + ", shown]"
    return re.sub(r"^https?://", "", link)


def header_safe(text: str, limit: int = 250) -> str:
    """One line of text, fit for a Subject header."""
    return _LINE_BREAKS.sub(" ", text or "").strip()[:limit]


# Text parts are wrapped here; a line holding one address may run longer.
TEXT_WIDTH = 72
_ADDRESS = re.compile(r"(?:https?://\S+|\[private link(?: \d+)?\])")
_BULLET = re.compile(r"^(\s*(?:[*-] )?)")


def _own_lines(line: str) -> list[str]:
    """`line` with every address moved to a line of its own ("Read it: URL"
    becomes "Read it:" and the URL under it), so a mail program can follow
    it and a long one breaks nothing."""
    pieces, rest = [], line
    for match in _ADDRESS.finditer(line):
        before = rest[: match.start() - (len(line) - len(rest))]
        if before.strip():
            pieces.append(before.rstrip())
        pieces.append(match.group(0))
        rest = line[match.end() :]
    if rest.strip():
        pieces.append(rest.strip() if pieces else rest)
    indent = _BULLET.match(line).group(1) if pieces else ""
    return [pieces[0]] + [" " * len(indent) + p.lstrip() for p in pieces[1:]] if pieces else [""]


def wrap_text(text: str) -> str:
    """A text part as mail programs show it best: lines of at most TEXT_WIDTH
    characters (a list item's continuation indented under its text), every
    address on its own line, the "-- " signature marker kept."""
    out = []
    for raw in text.split("\n"):
        if raw == "-- ":
            out.append(raw)
            continue
        for line in _own_lines(raw.rstrip()):
            if len(line) <= TEXT_WIDTH or _ADDRESS.fullmatch(line.strip()):
                out.append(line)
                continue
            lead = _BULLET.match(line).group(1)
            out.extend(
                textwrap.wrap(
                    line,
                    TEXT_WIDTH,
                    subsequent_indent=" " * len(lead),
                    break_long_words=False,
                    break_on_hyphens=False,
                )
            )
    return "\n".join(out)


def queue(
    kind: str,
    to: list[tuple[str, str]],
    subject: str,
    *,
    event: Event | None = None,
    key: str,
    deliver_after: datetime | None = None,
    private_link: str | None = None,
    **context,
) -> OutboxEmail | None:
    """Render `email/<kind>.txt|.html` for each recipient and add it to the outbox.

    One row per recipient, so each person's copy is tracked (and retried) on its
    own. `key` names the cause; with the address it makes the deduplication key.
    `private_link` names the link the worker mints at sending ("status:<id>",
    "set-password:<id>"); the templates are given PRIVATE_LINK in its place.
    Returns the last row queued (None when every copy was queued before). The
    application it is about is the event's, else the `submission` it shows.
    """
    queued = None
    about = event.submission_id if event is not None else None
    if about is None and isinstance(context.get("submission"), Submission):
        about = context["submission"].id
    site = current_app.config["SITE_NAME"]
    held_back = _held_back.get()
    for name, address in to:
        if not address:  # an imported interview's person: nobody to email
            continue
        if address.lower() in held_back:
            log.info("Email %r to a held-back address not queued (sending limit).", kind)
            continue
        dedup_key = f"{key}:{kind}:{address.lower()}"[:200]
        exists = db.session.scalar(
            db.select(OutboxEmail.id).where(OutboxEmail.dedup_key == dedup_key)
        )
        if exists:
            continue
        values = dict(
            context,
            recipient_name=name,
            site_name=site,
            subject=subject,
            settings_link=public_url("review.account"),
            queue_link=public_url("review.queue"),
            reply_to=bool(current_app.config.get("MAIL_REPLY_TO")),
        )
        queued = OutboxEmail(
            dedup_key=dedup_key,
            event=event,
            submission_id=about,
            kind=kind,
            recipients=[[header_safe(name, 120), address]],
            to_address=address.lower(),
            subject=header_safe(subject, 300),
            text_body=wrap_text(render_template(f"email/{kind}.txt", **values)),
            html_body=render_template(f"email/{kind}.html", **values),
            deliver_after=deliver_after or utcnow(),
            private_link=private_link,
        )
        db.session.add(queued)
        if not current_app.config["MAIL_SERVER"]:
            log.info(
                "No MAIL_SERVER set: email %r to %s stays in the outbox.",
                queued.subject,
                address,
            )
    return queued
