"""Editors' forms."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..forms import PlainText, strip
from ..models import EMAIL_MAX, MESSAGE_MAX, SLUG_MAX, TITLE_MAX
from ..sanitize import TooLong, clean_html

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class LoginForm(FlaskForm):
    email = EmailField("Email", filters=[strip], validators=[DataRequired(), Length(max=EMAIL_MAX)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])
    next = HiddenField()


class ActionForm(FlaskForm):
    version = HiddenField()
    message = TextAreaField(
        "Message to the applicant",
        filters=[strip],
        validators=[Optional(), Length(max=MESSAGE_MAX), PlainText()],
    )


class EditorHTML(TextAreaField):
    """Formatted text from an editor, sanitized as it is read from the form."""

    def post_validate(self, form, validation_stopped):
        if self.errors:
            return
        try:
            self.data = clean_html(self.data)
        except TooLong as error:
            self.errors.append(str(error))


def slug_format(form, field):
    if not _SLUG.match(field.data or ""):
        raise ValidationError(
            "Use lower-case letters, digits and single dashes, like jane-doe-bakery."
        )


class DraftForm(FlaskForm):
    version = HiddenField()
    title = StringField(
        "Title",
        filters=[strip],
        validators=[DataRequired(), Length(max=TITLE_MAX), PlainText(multiline=False)],
    )
    slug = StringField(
        "Address",
        filters=[strip],
        validators=[DataRequired(), Length(max=SLUG_MAX), slug_format],
        description="The interview's address: /interviews/<this>.",
    )
    intro_html = EditorHTML("Interviewer's note", validators=[Optional()])


def with_items(item_ids: list[int]) -> type[DraftForm]:
    class Form(DraftForm):
        pass

    for item_id in item_ids:
        setattr(Form, f"item{item_id}", EditorHTML("Answer", validators=[Optional()]))
    return Form
