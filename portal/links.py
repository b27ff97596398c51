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

# Addresses an app keeps built; past this many it starts again.
KEPT = 20_000


def _kept(key: tuple, build) -> str:
    built = current_app.extensions.setdefault("built_links", {})
    try:
        return built[key]
    except KeyError:
        pass
    if len(built) >= KEPT:
        built.clear()
    built[key] = address = build()
    return address


def public_url(endpoint: str, **values) -> str:
    """An absolute link built from PUBLIC_URL, never from a request's Host header."""
    base = current_app.config["PUBLIC_URL"]

    def build() -> str:
        adapter = current_app.url_map.bind("localhost", script_name="/")
        return base + adapter.build(endpoint, values, force_external=False)

    try:
        return _kept(("public", base, endpoint, *values.items()), build)
    except TypeError:  # a list among the values: not a key
        return build()


# url_for's own arguments: an absolute address, an anchor... built every time.
_NOT_KEPT = frozenset({"_external", "_anchor", "_method", "_scheme"})


def paths(app) -> Callable[..., str]:
    """`url_for` for `app`'s templates, keeping the paths it builds. Absolute
    addresses and anchors, relative endpoints and addresses made outside a
    request go to url_for every time."""
    built: dict[tuple, str] = {}

    def path_for(endpoint: str, **values) -> str:
        if endpoint[0] == "." or not _NOT_KEPT.isdisjoint(values) or not has_request_context():
            return url_for(endpoint, **values)
        key = (request.script_root, endpoint, *values.items())
        try:
            return built[key]
        except KeyError:
            pass
        except TypeError:  # a list among the values: not a key
            return url_for(endpoint, **values)
        if len(built) >= KEPT:
            built.clear()
        built[key] = path = url_for(endpoint, **values)
        return path

    return path_for
