"""The readers' forms: search (a GET form), and the newsletter's.

Neither carries a CSRF token: they sit on pages every reader shares (cached
here and by nginx), where one person's token can't be. Search changes
nothing; subscribing only ever sends a confirmation email to the address
typed, which anyone could ask for directly, and is checked to come from this
site's own pages (portal/publishing/subscribing.py)."""

from __future__ import annotations

from wtforms import EmailField, Form, RadioField, SearchField, SelectChoice, StringField
from wtforms.validators import DataRequired, Email, Length

from ..models import EMAIL_MAX
from ..newsletter import CADENCES
from ..search import QUERY_MAX


class SearchForm(Form):
    q = SearchField(
        "Words to look for",
        render_kw={"maxlength": QUERY_MAX},
        description="“A phrase” in quotes, -word to leave a word out, OR for either of two.",
    )


_CADENCES = [SelectChoice(value, label) for value, label in CADENCES.items()]


class SubscribeForm(Form):
    email = EmailField(
        "Your email address",
        validators=[
            DataRequired("Give the address the interviews should go to."),
            Length(max=EMAIL_MAX),
            Email("That doesn't look like an email address."),
        ],
        render_kw={"maxlength": EMAIL_MAX, "autocomplete": "email", "inputmode": "email"},
    )
    cadence = RadioField("How often", choices=_CADENCES, default="each")
    # Hidden from people; a bot fills it in (see the .hp rule in the style sheet).
    fax = StringField("Leave this empty", render_kw={"tabindex": "-1", "autocomplete": "off"})


class CadenceForm(Form):
    cadence = RadioField("How often", choices=_CADENCES, default="each")
