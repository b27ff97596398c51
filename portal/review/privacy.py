"""Admins: export everything held about an email address."""

from __future__ import annotations

import json

from flask import Response, render_template, request

from .. import personal_data
from ..auth import admin_required
from . import bp
from .forms import LookupForm


@bp.route("/privacy")
@admin_required
def privacy():
    """Export everything held about an email address as JSON."""
    address = (request.args.get("email") or "").strip()[:254]
    if address and request.args.get("download"):
        data = personal_data.export(address)
        body = json.dumps(data, ensure_ascii=False, indent=2)
        filename = "export-" + "".join(c for c in address if c.isalnum() or c in "@.-_") + ".json"
        return Response(
            body,
            mimetype="application/json",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    found = personal_data.export(address) if address else None
    return render_template(
        "review/privacy.html",
        address=address,
        found=found,
        form=LookupForm(formdata=None, email=address),
    )
