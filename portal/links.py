"""Links: absolute ones for emails, feeds and share cards, built from
PUBLIC_URL, and the paths pages link to.

Each address is built once per process and kept: a listing rendered from the
database links every card's page, photo and tags, and werkzeug builds each
from its rule every time. An address depends only on the endpoint, its values
and the script root or PUBLIC_URL (the portal has no URL defaults or host
rules), so keeping it is safe.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, has_request_context, request, url_for

# Addresses kept at most; past this many a store starts again.
KEPT = 20_000


class Built(dict):
    """Addresses already built, by a key of what made them."""

    def address(self, key: tuple, build: Callable[[], str]) -> str:
        try:
            return self[key]
        except KeyError:
            pass
        except TypeError:  # a list among the values: not a key
            return build()
        if len(self) >= KEPT:
            self.clear()
        self[key] = address = build()
        return address


def public_url(endpoint: str, **values) -> str:
    """An absolute link built from PUBLIC_URL, never from a request's Host header."""
    base = current_app.config["PUBLIC_URL"]

    def build() -> str:
        adapter = current_app.url_map.bind("localhost", script_name="/")
        return base + adapter.build(endpoint, values, force_external=False)

    built = current_app.extensions.setdefault("public_urls", Built())
    return built.address((base, endpoint, *values.items()), build)


# url_for's own arguments: an absolute address, an anchor... built every time.
_NOT_KEPT = frozenset({"_external", "_anchor", "_method", "_scheme"})


def paths() -> Callable[..., str]:
    """`url_for` for an app's templates, keeping the paths it builds. Absolute
    addresses and anchors, relative endpoints and addresses made outside a
    request go to url_for every time."""
    built = Built()

    def path_for(endpoint: str, **values) -> str:
        if endpoint[0] == "." or not _NOT_KEPT.isdisjoint(values) or not has_request_context():
            return url_for(endpoint, **values)
        key = (request.script_root, endpoint, *values.items())
        return built.address(key, lambda: url_for(endpoint, **values))

    return path_for
