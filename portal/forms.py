"""Pieces every form uses: trimming and refusing characters we cannot store."""

from __future__ import annotations

import re

from wtforms import Form, TextAreaField
from wtforms.validators import ValidationError

# C0 controls other than tab, newline and carriage return, DEL, lone surrogates.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_LINE_BREAK = re.compile(r"[\r\n\u2028\u2029]")
# Direction overrides can make a name display as something else ("Trojan Source").
_BIDI_CONTROL = re.compile(r"[\u202a-\u202e\u2066-\u2069]")


def strip(value):
    return value.strip() if isinstance(value, str) else value


def expected_version(form) -> int | None:
    """The version a form was rendered for (its hidden `version` field), if any;
    -1 (which no submission has) for a value that is not a version."""
    value = str(form.version.data or "").strip()
    if not value:
        return None
    # Not a version we could have written: as stale as an old one (a Conflict).
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else -1


class PlainText:
    """Refuse control characters (a NUL byte, say), and line breaks on one-liners."""

    def __init__(self, multiline: bool = True):
        self.multiline = multiline

    def __call__(self, form, field):
        value = field.data or ""
        if not isinstance(value, str):
            return
        if _FORBIDDEN.search(value):
            raise ValidationError(
                "This contains an invisible control character we can't store; "
                "please retype or paste it again as plain text."
            )
        if not self.multiline and _LINE_BREAK.search(value):
            raise ValidationError("Please keep this on one line.")
        if not self.multiline and _BIDI_CONTROL.search(value):
            raise ValidationError(
                "This contains invisible characters that change the text's direction; "
                "please retype it."
            )


class KeptMessageForm(Form):
    """A message typed into a form that did not go through, given back to resend."""

    message = TextAreaField("Your message")
