"""Social profiles: accept `@name`, `name` or a full address; keep the canonical URL."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_HANDLE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_NOT_IN_A_PATH = re.compile(r"[^\w.~%/@+!,;:=&'()*$-]")
_MASTODON = re.compile(r"^@?([A-Za-z0-9_]{1,64})@([A-Za-z0-9.-]+\.[A-Za-z]{2,})$")

# network: (hosts we accept, canonical profile URL for a handle)
NETWORKS: dict[str, tuple[tuple[str, ...], str]] = {
    "x": (("x.com", "twitter.com"), "https://x.com/{}"),
    "linkedin": (("linkedin.com",), "https://www.linkedin.com/in/{}"),
    "instagram": (("instagram.com",), "https://www.instagram.com/{}"),
    "facebook": (("facebook.com", "fb.com"), "https://www.facebook.com/{}"),
    "youtube": (("youtube.com",), "https://www.youtube.com/@{}"),
    "tiktok": (("tiktok.com",), "https://www.tiktok.com/@{}"),
}


class NotAProfile(ValueError):
    pass


def _split(url: str):
    """urlsplit, and its hostname read: a broken IPv6 host ("http://[") is no
    address at all, not an error."""
    try:
        parts = urlsplit(url)
        return parts, parts.hostname
    except ValueError:
        return None, None


def _host_matches(host: str, allowed: tuple[str, ...]) -> bool:
    host = host.lower().removeprefix("www.").removeprefix("m.")
    return any(host == a or host.endswith("." + a) for a in allowed)


def canonical(network: str, value: str) -> str:
    """The profile URL for `value` on `network`; raise NotAProfile with a reason."""
    value = (value or "").strip()
    if not value:
        return ""
    if network == "mastodon":
        return _mastodon(value)
    hosts, pattern = NETWORKS[network]
    if "/" in value or "." in value and not _HANDLE.match(value.lstrip("@")):
        url = value if "://" in value else "https://" + value
        parts, hostname = _split(url)
        if not hostname or parts.scheme not in ("http", "https"):
            raise NotAProfile("Enter your name there, like @yourbusiness, or a web address.")
        if not _host_matches(hostname, hosts):
            raise NotAProfile(f"That address is not on {hosts[0]}.")
        path = parts.path.rstrip("/")
        if not path:
            raise NotAProfile("That address has no profile name in it.")
        if _NOT_IN_A_PATH.search(path):
            raise NotAProfile("That address has characters no profile address has.")
        return f"https://{hostname.lower()}{path}"
    handle = value.lstrip("@")
    if not _HANDLE.match(handle):
        raise NotAProfile("A profile name has only letters, digits, dots, dashes and _.")
    return pattern.format(handle)


def _mastodon(value: str) -> str:
    match = _MASTODON.match(value)
    if match:
        user, server = match.groups()
        return f"https://{server.lower()}/@{user}"
    url = value if "://" in value else "https://" + value
    parts, hostname = _split(url)
    if hostname and parts.scheme in ("http", "https") and "/@" in parts.path:
        return f"https://{hostname.lower()}{parts.path.rstrip('/')}"
    raise NotAProfile("Write it as @you@your.server or paste your profile's address.")
