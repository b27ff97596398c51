"""The portal with one extra route, /_ceiling, that returns a short string.

Served by the same gunicorn as the pages, it is the most any page could reach:
the whole request path (Flask, the security headers, gunicorn) and nothing else.
Only the readers' benchmark serves this module.
"""

from wsgi import app


@app.route("/_ceiling")
def ceiling() -> str:
    return "ok"
