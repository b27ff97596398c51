"""Editors' forms."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    Form,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SearchField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from .. import markup
from ..accounts import PASSWORD_MIN
from ..forms import PlainText, strip
from ..models import (
    EMAIL_MAX,
    MESSAGE_MAX,
    NAME_MAX,
    QUESTION_MAX,
    SLUG_MAX,
    SOCIAL_NETWORKS,
    TITLE_MAX,
    Opinion,
)
from ..sanitize import TooLong


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms' SelectChoice objects."""
    return [SelectChoice(value, label) for value, label in pairs]


_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class ForgotForm(FlaskForm):
    # No format check: the address is only looked up, and the answer is the same anyway.
    email = EmailField(
        "Your email", filters=[strip], validators=[DataRequired(), Length(max=EMAIL_MAX)]
    )


class LoginForm(FlaskForm):
    email = EmailField("Email", filters=[strip], validators=[DataRequired(), Length(max=EMAIL_MAX)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])
    next = HiddenField()


def _new_password(label: str = "New password"):
    return PasswordField(
        label,
        validators=[
            DataRequired(),
            Length(min=PASSWORD_MIN, max=1000, message=f"Use at least {PASSWORD_MIN} characters."),
        ],
    )


class SetPasswordForm(FlaskForm):
    password = _new_password("Password")
    confirm = PasswordField(
        "The same password again", validators=[EqualTo("password", "The two passwords differ.")]
    )


class AccountForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=1000)])
    new = _new_password()
    confirm = PasswordField(
        "The new password again", validators=[EqualTo("new", "The two passwords differ.")]
    )
    submit = SubmitField("Change my password")


class CodeForm(FlaskForm):
    """A code from the authenticator app, or a recovery code."""

    code = StringField(
        "Code",
        filters=[strip],
        validators=[DataRequired("Type the code."), Length(max=40)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "spellcheck": "false"},
    )


class TurnOffForm(FlaskForm):
    password = PasswordField("Your password", validators=[DataRequired(), Length(max=1000)])


class RequireForm(FlaskForm):
    required = BooleanField("Every editor signs in with a code from an app")


NOTIFY_CHOICES = [
    ("each", "An email for each new application"),
    ("digest", "One digest a day"),
    ("none", "No emails about new applications"),
]


class NotifyForm(FlaskForm):
    notify_new = RadioField("New applications", choices=choices(NOTIFY_CHOICES))
    save = SubmitField("Save my email choices")


def _id_or_zero(value) -> int:
    """An id as typed in a form, or 0 when it is none (or too large to be one)."""
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else 0


class ActionForm(FlaskForm):
    version = HiddenField()
    preset = SelectField(
        "Start from a saved message",
        coerce=_id_or_zero,
        choices=[SelectChoice(0, "(none: write below)")],
        validate_choice=False,
    )
    message = TextAreaField(
        "Message to the applicant",
        filters=[strip],
        validators=[
            Optional(),
            Length(
                max=MESSAGE_MAX,
                message=f"keep it under {MESSAGE_MAX:,} characters (this one has %(length)d).",
            ),
            PlainText(),
        ],
    )


def with_answer_requests(question_ids: list[int]) -> type[ActionForm]:
    """The action form with one optional "what to change" field per answer."""

    class Form(ActionForm):
        pass

    for qid in question_ids:
        setattr(
            Form,
            f"req{qid}",
            TextAreaField(
                "What to change in this answer",
                filters=[strip],
                validators=[
                    Optional(),
                    Length(
                        max=1000,
                        message="keep it under 1,000 characters (this one has %(length)d).",
                    ),
                    PlainText(),
                ],
            ),
        )
    return Form


# Follow-up questions asked in one go (more in the next round).
FOLLOW_UPS_AT_ONCE = 4


class FollowUpsForm(FlaskForm):
    """Questions for this applicant alone, each placed after one of their answers."""

    version = HiddenField()
    message = TextAreaField(
        "A note with the questions (optional)",
        filters=[strip],
        validators=[Optional(), Length(max=MESSAGE_MAX), PlainText()],
    )


for _n in range(1, FOLLOW_UPS_AT_ONCE + 1):
    setattr(
        FollowUpsForm,
        f"question{_n}",
        TextAreaField(
            f"Question {_n}",
            filters=[strip],
            validators=[Optional(), Length(max=QUESTION_MAX), PlainText()],
        ),
    )
    setattr(FollowUpsForm, f"follows{_n}", SelectField("After their answer to", default=""))
    setattr(FollowUpsForm, f"cites{_n}", SelectField("About their profile", default=""))


def follow_ups_form(submission, formdata=None) -> FollowUpsForm:
    """The form, its choices the applicant's answers and profiles."""
    revision = submission.latest_revision
    answers = [(a.key, _shortened(a.question_text)) for a in (revision.answers if revision else [])]
    profiles = [
        (key, label)
        for key, label in SOCIAL_NETWORKS.items()
        if (submission.socials or {}).get(key)
    ]
    form = FollowUpsForm(formdata=formdata, version=submission.version)
    for n in range(1, FOLLOW_UPS_AT_ONCE + 1):
        form[f"follows{n}"].choices = choices([("", "(none: at the end)"), *answers])
        form[f"cites{n}"].choices = choices([("", "(none)"), *profiles])
    return form


def _shortened(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


class NoteForm(FlaskForm):
    body = TextAreaField(
        "Internal note (editors only)",
        filters=[strip],
        validators=[DataRequired("Write the note first."), Length(max=MESSAGE_MAX), PlainText()],
    )


class AskOpinionsForm(FlaskForm):
    """Colleagues ("colleagues", checkboxes of user ids) and what to ask them."""

    question = TextAreaField(
        "What would you like their view on? (optional)",
        filters=[strip],
        validators=[Optional(), Length(max=MESSAGE_MAX), PlainText()],
    )


class OpinionForm(FlaskForm):
    recommendation = RadioField(
        "Your recommendation",
        choices=choices(Opinion.RECOMMENDATIONS.items()),
        validators=[DataRequired("Choose a recommendation.")],
    )
    comment = TextAreaField(
        "Why (for your colleagues)",
        filters=[strip],
        validators=[Optional(), Length(max=MESSAGE_MAX), PlainText()],
    )


class AssignForm(FlaskForm):
    version = HiddenField()
    assignee = SelectField("Assign to", coerce=_id_or_zero)


class EditorMarkdown(TextAreaField):
    """Markdown from an editor: refused, with what and why, if readers would not
    get all of it (`markup.render`)."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.data = (self.data or "").replace("\r\n", "\n").replace("\r", "\n").strip()

    def post_validate(self, form, validation_stopped):
        if self.errors:
            return
        try:
            markup.render(self.data)
        except (TooLong, markup.Refused) as error:
            self.errors.append(str(error))


def slug_format(form, field):
    if not _SLUG.match(field.data or ""):
        raise ValidationError(
            "Use lower-case letters, digits and single dashes, like jane-doe-bakery."
        )


MARKDOWN_HELP = (
    "Markdown: **bold**, *italics*, [a link](https://…), “- ” or “1. ” to start a "
    "list item, “> ” for a quote, a blank line between paragraphs."
)


class DraftForm(FlaskForm):
    version = HiddenField()
    # A published interview: the pending version the form was made from ("" for none).
    pending = HiddenField()
    # A digest of each field as the form was filled: after a colleague's save,
    # what this editor left alone takes the colleague's text (review/draft.py).
    base = HiddenField()
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
    intro_md = EditorMarkdown(
        "Interviewer's note",
        validators=[Optional()],
        description=MARKDOWN_HELP,
    )
    greeting = StringField(
        "Greeting before the first question",
        filters=[strip],
        validators=[Optional(), Length(max=300), PlainText(multiline=False)],
        description="Optional, in your words: “Hello Maya; welcome to the series!”",
    )
    tags = StringField(
        "Tags",
        filters=[strip],
        validators=[Optional(), Length(max=600), PlainText(multiline=False)],
        description="Separated by commas. New tags are created as you save.",
    )
    pull_quote = StringField(
        "Pull quote for the share image",
        filters=[strip],
        validators=[Optional(), Length(max=200), PlainText(multiline=False)],
        description="A line of theirs for social cards. Empty: the start of the first answer.",
    )
    photo = FileField("Replace the photo", description="JPEG, PNG or WebP, up to 5 MB.")
    remove_photo = BooleanField("Show no photo")


def with_items(item_ids: list[int]) -> type[DraftForm]:
    class Form(DraftForm):
        pass

    for n, item_id in enumerate(item_ids):
        setattr(
            Form,
            f"q{item_id}",
            StringField(
                f"Question {n + 1}",
                filters=[strip],
                validators=[DataRequired(), Length(max=QUESTION_MAX), PlainText(multiline=False)],
            ),
        )
        # Numbered, so the error summary says which pair it means.
        setattr(Form, f"a{item_id}", EditorMarkdown(f"Answer {n + 1}", validators=[Optional()]))
        setattr(
            Form,
            f"pos{item_id}",
            IntegerField("Position", default=n + 1, validators=[Optional(), NumberRange(1, 1000)]),
        )
        setattr(Form, f"remove{item_id}", BooleanField("Remove this pair"))
    return Form


class ChangesForm(FlaskForm):
    """Publishing a live interview's saved changes."""

    version = HiddenField()
    message = TextAreaField(
        "Correction note for readers (optional)",
        filters=[strip],
        validators=[Optional(), Length(max=1000), PlainText()],
        description="Shown on the page with the date, and sent to the interviewee. "
        "Leave it empty for changes readers needn't be told of, like a typo.",
    )


class PublishForm(FlaskForm):
    version = HiddenField()
    publish_at = DateTimeLocalField(
        "Publish at",
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[Optional()],
        description="Leave empty to publish now. In the site's time zone.",
    )


class InviteForm(FlaskForm):
    name = StringField(
        "Name", filters=[strip], validators=[DataRequired(), Length(max=NAME_MAX), PlainText(False)]
    )
    email = EmailField(
        "Email", filters=[strip], validators=[DataRequired(), Length(max=EMAIL_MAX), Email()]
    )
    role = SelectField("Role", choices=choices([("editor", "Editor"), ("admin", "Admin")]))


class MemberForm(FlaskForm):
    role = SelectField("Role", choices=choices([("editor", "Editor"), ("admin", "Admin")]))


class QuestionForm(FlaskForm):
    text = StringField(
        "Question",
        filters=[strip],
        validators=[DataRequired(), Length(max=QUESTION_MAX), PlainText(False)],
    )
    help_text = TextAreaField(
        "Help text", filters=[strip], validators=[Optional(), Length(max=500), PlainText()]
    )
    required = BooleanField("Applicants must answer it")


class PresetForm(FlaskForm):
    # The version it was read at (editing): two admins can't overwrite each other.
    version = HiddenField()
    action = SelectField(
        "For", choices=choices([("request_changes", "Requesting changes"), ("reject", "Rejecting")])
    )
    title = StringField(
        "Name", filters=[strip], validators=[DataRequired(), Length(max=120), PlainText(False)]
    )
    body = TextAreaField(
        "Message",
        filters=[strip],
        validators=[DataRequired(), Length(max=MESSAGE_MAX), PlainText()],
    )


BULK_ACTIONS = [
    ("assign", "Assign"),
    ("mark_spam", "Mark as spam"),
    ("release", "Release from spam"),
]


class BulkForm(FlaskForm):
    action = SelectField("With the selected", choices=choices(BULK_ACTIONS))
    assignee = SelectField("Assign to", coerce=_id_or_zero, validate_choice=False)
    confirm = HiddenField()


class CompareForm(Form):
    """Which two revisions the submission page compares (a GET form)."""

    to = SelectField("To revision", coerce=int, validate_choice=False)


# "from" is a keyword in Python: the field is attached under its form name.
CompareForm.from_ = SelectField("From revision", coerce=int, validate_choice=False, name="from")


# Filters and look-ups: GET forms, so no CSRF token; the view fills in their values.
class QueueFilterForm(Form):
    q = SearchField("Search name, business or email", description="Searches every tab.")
    who = SelectField("Show")
    tag = SelectField("Tag")
    industry = SelectField("Industry")
    since = DateField("Sent from")
    until = DateField("to")
    sort = SelectField("Sort")


class RecipientFilterForm(Form):
    recipient = EmailField("Recipient's email")


class LookupForm(Form):
    email = EmailField("Email address")
