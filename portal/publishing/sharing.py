"""Share links for an interview: plain links to each network's own share page,
no third-party script. Mastodon has no one address: a page of ours asks for the
reader's server, then sends them to its share page."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import quote, urlencode, urlsplit

# A host name of at least two labels, ending in letters (no IP address, no port).
_HOST = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def links(title: str, url: str, mastodon: str) -> list[tuple[str, str]]:
    """(network, address) of each share link; `mastodon` is our own asking page."""
    return [
        ("X", "https://x.com/intent/post?" + urlencode({"text": title, "url": url})),
        ("LinkedIn", "https://www.linkedin.com/sharing/share-offsite/?" + urlencode({"url": url})),
        ("Facebook", "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url})),
        ("Mastodon", mastodon),
        (
            "Email",
            "mailto:?"
            + urlencode({"subject": title, "body": f"{title}\n\n{url}"}, quote_via=quote),
        ),
    ]


def mastodon_server(typed: str) -> str | None:
    """The server's host name from what a reader typed ("mastodon.social",
    "https://mastodon.social/about", "@me@mastodon.social"), or None if it
    is not a public host name."""
    text = (typed or "").strip().lower()
    if not text or len(text) > 300:
        return None
    if text.startswith("@") or ("@" in text and "/" not in text):
        text = text.rsplit("@", 1)[-1]  # an account: @name@server
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or port not in (None, 443) or parts.username:
        return None
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    host = host.rstrip(".")
    return host if _HOST.match(host) and not host.endswith((".local", ".localhost")) else None


def mastodon_link(server: str, title: str, url: str) -> str:
    """The server's own share page, the post written."""
    return f"https://{server}/share?" + urlencode({"text": f"{title} {url}"})
