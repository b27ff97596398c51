"""Spam rules for the application form. They never delete: what they catch is
saved and moved to the `spam` state, where an editor can release it."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime
from functools import lru_cache

from flask import current_app, request
from itsdangerous import BadSignature, TimestampSigner
from markupsafe import Markup

from .clock import timestamp

_LINK = re.compile(r"https?://|www\.", re.IGNORECASE)
_SALT = "apply-form-shown"


def _signer() -> TimestampSigner:
    return TimestampSigner(current_app.config["SECRET_KEY"], salt=_SALT)


def form_stamp(started: datetime | None = None) -> str:
    """A signed note of when the form was shown (or, for a saved draft taken up
    again, when the applicant started it), for the hidden `shown` field."""
    when = started.replace(tzinfo=UTC).timestamp() if started else timestamp()
    # A random part makes each form shown its own: see form_key.
    return _signer().sign(f"{int(when)}.{secrets.token_hex(8)}").decode()


def _unsigned(stamp: str | None) -> str | None:
    if not stamp or len(stamp) > 200:
        return None
    try:
        return _signer().unsign(stamp).decode()
    except (BadSignature, UnicodeDecodeError):
        return None


def seconds_since(stamp: str | None) -> float | None:
    """How long ago the form was shown, or None if the stamp is missing or forged."""
    value = _unsigned(stamp)
    try:
        return timestamp() - int((value or "").partition(".")[0])
    except ValueError:
        return None


def form_key(stamp: str | None) -> str | None:
    """What one form, shown once, sends each time it is posted (a double tap, a
    retrying proxy, the back button): the same key, so it makes one application.
    None for a missing or forged stamp."""
    value = _unsigned(stamp)
    return hashlib.sha256(value.encode()).hexdigest() if value else None


def blocklist() -> list[str]:
    raw = current_app.config["SPAM_BLOCKLIST"]
    return [w.strip().lower() for w in raw.split(",") if w.strip()]


@lru_cache(maxsize=8)
def _pattern(words: tuple[str, ...]) -> re.Pattern | None:
    """Whole words and phrases only: "porn" is not in "pornographic", nor "cialis"
    in "specialists". Python's \\w is Unicode-aware, so accented words count as words."""
    if not words:
        return None
    phrases = sorted((r"\s+".join(map(re.escape, w.split())) for w in words), key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(phrases) + r")(?!\w)", re.IGNORECASE)


def blocked_words(text: str) -> list[str]:
    """The blocked words and phrases `text` contains, as whole words, lower-cased."""
    pattern = _pattern(tuple(blocklist()))
    if pattern is None:
        return []
    return sorted({" ".join(m.group(0).lower().split()) for m in pattern.finditer(text or "")})


def in_context(texts: list[str], width: int = 60) -> list[Markup]:
    """Each blocked word found, with the words around it and itself marked: what an
    editor reads on a held application to judge it."""
    pattern = _pattern(tuple(blocklist()))
    found = []
    for text in texts:
        for match in pattern.finditer(text or "") if pattern else ():
            start, end = max(0, match.start() - width), match.end() + width
            found.append(
                Markup("{}{}<mark>{}</mark>{}{}").format(
                    "…" if start > 0 else "",
                    text[start : match.start()],
                    match.group(0),
                    text[match.end() : end],
                    "…" if end < len(text) else "",
                )
            )
    return found[:20]


def reasons(texts: list[str], honeypot: str, stamp: str | None) -> list[str]:
    """Why this application looks like spam (empty when it doesn't)."""
    found = []
    if honeypot:
        found.append("a field hidden from people was filled in")
    elapsed = seconds_since(stamp)
    if elapsed is None:
        found.append("the form's time stamp was missing or altered")
    elif elapsed < current_app.config["SPAM_MIN_SECONDS"]:
        found.append(f"the form was filled in {elapsed:.0f} s, faster than a person could")
    everything = "\n".join(t or "" for t in texts)
    links = len(_LINK.findall(everything))
    if links > current_app.config["SPAM_MAX_LINKS"]:
        found.append(f"{links} links")
    hits = blocked_words(everything)
    if hits:
        found.append("blocked words: " + ", ".join(hits))
    if not _within_rate():
        found.append("too many applications from one address")
    return found


def _within_rate() -> bool:
    """Count this application against its address's allowance; False past it."""
    from .notifications.limits import counted

    return counted(
        current_app.config["APPLY_LIMIT_PER_ADDRESS"], "apply", request.remote_addr or "unknown"
    )
