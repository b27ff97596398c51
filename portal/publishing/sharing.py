"""Share links for an interview: plain links to each network's own share page,
no third-party script. Mastodon has no one address: a page of ours asks for the
reader's server, then sends them to its share page."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import quote, urlencode, urlsplit

# A host name of at least two labels, ending in letters (no IP address, no port).
_HOST = re.compile(
    r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$"
)


def links(title: str, url: str, mastodon: str) -> list[tuple[str, str]]:
    """(network, address) of each share link; `mastodon` is our own asking page."""
    return [
        ("X", "https://x.com/intent/post?" + urlencode({"text": title, "url": url})),
        ("LinkedIn", "https://www.linkedin.com/sharing/share-offsite/?" + urlencode({"url": url})),
        ("Facebook", "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url})),
        ("Mastodon", mastodon),
        (
            "Email",
            # Lines end in CRLF in a mailto body (RFC 6068).
            "mailto:?"
            + urlencode({"subject": title, "body": f"{title}\r\n\r\n{url}"}, quote_via=quote),
        ),
    ]


class NotAServer(ValueError):
    """What a reader typed is not a public server's name; the message says why."""


# Names no public server has (RFC 2606, RFC 6761, RFC 6762, RFC 8375, and the
# private suffixes networks use).
_PRIVATE = (
    ".local", ".localhost", ".internal", ".test", ".example", ".invalid", ".arpa",
    ".lan", ".home", ".corp", ".onion",
)  # fmt: skip
ASK = "Give your server's address, like mastodon.social (or your @you@server handle)."


def mastodon_server(typed: str) -> str:
    """The server's host name from what a reader typed ("mastodon.social",
    "https://mastodon.social/about", "@me@mastodon.social", "мастодон.рф"),
    or NotAServer saying why it can't be one."""
    text = (typed or "").strip().lower().rstrip("/")
    if not text or len(text) > 300:
        raise NotAServer(ASK)
    if text.startswith("@") or ("@" in text and "/" not in text):
        text = text.rsplit("@", 1)[-1]  # an account: @name@server
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        raise NotAServer(ASK) from None
    if parts.scheme not in ("http", "https") or parts.username or parts.password:
        raise NotAServer(ASK)
    if port not in (None, 443):
        raise NotAServer("Leave out the port: Mastodon servers answer on the usual one.")
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        raise NotAServer("Give the server's name, not an IP address: like mastodon.social.")
    try:
        host = host.encode("idna").decode("ascii")  # мастодон.рф -> xn--80aiwgdbsi.xn--p1ai
    except UnicodeError:
        raise NotAServer(ASK) from None
    if host == "localhost" or host.endswith(_PRIVATE) or "." not in host:
        raise NotAServer("That name is not a server on the internet: like mastodon.social.")
    if not _HOST.match(host):
        raise NotAServer(ASK)
    return host


def mastodon_link(server: str, title: str, url: str) -> str:
    """The server's own share page, the post written."""
    return f"https://{server}/share?" + urlencode({"text": f"{title} {url}"})
