"""Template filters and globals shared by every page."""

from __future__ import annotations

import re
from datetime import datetime

from .clock import site_time, utc_to_site, utcnow
from .sanitize import plain_to_html, strip_tags
from .workflow import ACTION_LABELS, LABELS, Action, Message, State


def state_label(state: str | None) -> str:
    if state == "scheduled":  # the queue's tab of published interviews not live yet
        return "Scheduled"
    return LABELS[State(state)] if state else "New"


def action_label(action: str) -> str:
    return ACTION_LABELS[Action(action)]


def date(value: datetime | None, fmt: str = "%-d %B %Y") -> str:
    """A time from the database (UTC) as a day here: in SITE_TIMEZONE."""
    return utc_to_site(value).strftime(fmt) if value else ""


def local(value: datetime | str | None, fmt: str = "%a %-d %b %Y, %H:%M") -> str:
    """A time from the database (UTC, or its ISO text), as people here read it:
    in SITE_TIMEZONE, naming the zone."""
    return site_time(value, fmt) if value else ""


def badge(submission) -> tuple[str, str]:
    """The state a person should see: (css class, words). A published interview
    that is not live yet is "scheduled", with the time it goes live."""
    if submission.scheduled_for is not None:
        return "scheduled", f"Scheduled for {local(submission.scheduled_for)}"
    return submission.state, state_label(submission.state)


def ago(value: datetime | None) -> str:
    """How long ago, in the largest whole unit a person would say."""
    if value is None:
        return ""
    seconds = max(0, int((utcnow() - value).total_seconds()))
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


# Words a minute, read at an easy pace on a screen.
READING_PACE = 230


def reading_minutes(interview) -> int:
    """Minutes to read an interview: its note, questions and answers."""
    texts = [interview.intro_html or "", getattr(interview, "greeting", "") or ""]
    for item in interview.items:
        texts += [item.question, item.answer_html]
    plain = [strip_tags(text) for text in texts]
    # Scripts written without spaces: about two characters make a word.
    words = sum(len(text.split()) + len(_UNSPACED.findall(text)) / 2 for text in plain)
    return max(1, round(words / READING_PACE))


_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f]")


def excerpt(html: str | None, length: int = 180) -> str:
    """The first words of an HTML fragment as plain text, cut at a word."""
    text = " ".join(strip_tags(html).split())
    if len(text) <= length:
        return text
    return text[:length].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def full_stop(text: str) -> str:
    """`text` ending a sentence: a full stop, unless it has one ("Co.", "Jr.")
    or another ending of its own ("Yes!")."""
    text = str(text or "")
    return text if text.rstrip().endswith((".", "!", "?", "…")) else text + "."


def compact(data):
    """`data` without its empty values (None, "", {}), at every depth: what a
    JSON-LD block leaves out rather than saying null."""
    if isinstance(data, dict):
        kept = {key: compact(value) for key, value in data.items()}
        return {key: value for key, value in kept.items() if value not in (None, "", {})}
    return data


def isodate(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


def init_app(app) -> None:
    from .notifications.outbox import shown

    app.jinja_env.filters.update(
        plain=plain_to_html,
        state_label=state_label,
        local=local,
        action_label=action_label,
        date=date,
        ago=ago,
        excerpt=excerpt,
        reading_minutes=reading_minutes,
        isodate=isodate,
        compact=compact,
        full_stop=full_stop,
        without_scheme=shown,
    )
    from .links import paths, public_url
    from .photos import kept
    from .publishing.sharing import links as share_links

    app.jinja_env.globals.update(
        url_for=paths(),
        site_name=lambda: app.config["SITE_NAME"],
        kept_photo=kept,
        badge=badge,
        now=utcnow,
        public_url=public_url,
        share_links=share_links,
        # Templates compare with the workflow's names, never with string literals.
        State=State,
        Action=Action,
        Message=Message,
    )
