"""A bare Flask app: one route returning a short string, nothing else.

Served by the readers' benchmark with the portal's own gunicorn.conf.py, it is
the ceiling no Flask page can pass: what gunicorn and Flask cost alone. Its
other ceiling, /_ceiling inside the portal (ceiling_wsgi.py), adds the
portal's own per-request cost (its hooks, extensions and headers).
"""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def ok() -> str:
    return "ok"
