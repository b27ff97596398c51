"""The readers' one form: search (a GET form, no CSRF token)."""

from __future__ import annotations

from wtforms import Form, SearchField

from ..search import QUERY_MAX


class SearchForm(Form):
    q = SearchField(
        "Words to look for",
        render_kw={"maxlength": QUERY_MAX},
        description="“A phrase” in quotes, -word to leave a word out, OR for either of two.",
    )
