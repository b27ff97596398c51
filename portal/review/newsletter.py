"""Admins: the newsletter's subscribers (counts, growth, the issues sent) and
their addresses as CSV."""

from __future__ import annotations

from flask import Response, render_template

from .. import newsletter
from ..auth import admin_required
from ..clock import utcnow
from . import bp
from .dashboard import chart


@bp.route("/newsletter")
@admin_required
def newsletter_page():
    figures = newsletter.figures()
    return render_template(
        "review/newsletter.html",
        figures=figures,
        bars=chart(figures.growth),
        cadences=newsletter.CADENCES,
    )


@bp.route("/newsletter/subscribers.csv")
@admin_required
def newsletter_csv():
    filename = f"subscribers-{utcnow():%Y-%m-%d}.csv"
    return Response(
        newsletter.csv_export(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
