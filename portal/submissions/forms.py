"""The application form, built from the questionnaire in the database."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from ..forms import PlainText, strip
from ..models import (
    ANSWER_MAX,
    BUSINESS_MAX,
    EMAIL_MAX,
    INDUSTRY_MAX,
    LOCATION_MAX,
    MESSAGE_MAX,
    NAME_MAX,
    PITCH_MAX,
    SOCIAL_NETWORKS,
    URL_MAX,
    Question,
)
from ..socials import NotAProfile, canonical


def _one_line(max_length: int, required: str | None = None):
    first = DataRequired(required) if required else Optional()
    return [first, Length(max=max_length), PlainText(multiline=False)]


def http_url(form, field):
    if not field.data:
        return
    try:
        parts = urlsplit(field.data if "://" in field.data else "https://" + field.data)
        hostname = parts.hostname
    except ValueError:  # "http://[": a broken IPv6 address
        hostname = None
    if not hostname or parts.scheme not in ("http", "https") or "." not in hostname:
        raise ValidationError("Enter a web address starting with http:// or https://.")
    field.data = parts.geturl()


INDUSTRIES = [
    "Food and drink",
    "Hospitality",
    "Retail",
    "Repairs and maintenance",
    "Trades and construction",
    "Creative services",
    "Health and wellbeing",
    "Outdoor activities",
    "Professional services",
    "Education",
    "Technology",
]


class SocialField(StringField):
    """A handle or profile address; its data becomes the canonical URL."""

    def __init__(self, label, network: str, **kwargs):
        super().__init__(label, filters=[strip], **kwargs)
        self.network = network

    def post_validate(self, form, validation_stopped):
        if self.errors or not self.data:
            return
        try:
            self.data = canonical(self.network, self.data)
        except NotAProfile as error:
            self.errors.append(str(error))


class ProfileForm(FlaskForm):
    name = StringField(
        "Your name",
        filters=[strip],
        validators=_one_line(NAME_MAX, "Tell us your name."),
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        "Email",
        filters=[strip],
        validators=[
            DataRequired("We need your email to tell you what happens next."),
            Length(max=EMAIL_MAX),
            PlainText(multiline=False),
            Email("That doesn't look like an email address."),
        ],
        description="Only the editors see it. Your private status link goes here.",
        render_kw={"autocomplete": "email"},
    )
    business = StringField(
        "Business name",
        filters=[strip],
        validators=_one_line(BUSINESS_MAX, "Tell us your business's name."),
        render_kw={"autocomplete": "organization"},
    )
    website = StringField(
        "Website",
        filters=[strip],
        validators=[*_one_line(URL_MAX), http_url],
        render_kw={"autocomplete": "url", "inputmode": "url"},
    )
    location = StringField(
        "Town or region",
        filters=[strip],
        validators=_one_line(LOCATION_MAX),
        render_kw={"autocomplete": "address-level2"},
    )
    industry = SelectField(
        "Industry",
        choices=[SelectChoice("", "Choose one")]
        + [SelectChoice(name, name) for name in INDUSTRIES]
        + [SelectChoice("other", "Something else")],
        validators=[Optional()],
    )
    industry_other = StringField(
        "Your industry, if something else",
        filters=[strip],
        validators=_one_line(INDUSTRY_MAX),
    )

    def industry_value(self) -> str:
        if self.industry.data == "other":
            return self.industry_other.data or ""
        return self.industry.data or ""

    def set_industry(self, value: str) -> None:
        if value in INDUSTRIES or not value:
            self.industry.data = value
        else:
            self.industry.data, self.industry_other.data = "other", value

    photo = FileField(
        "A photo of you or your logo (optional)",
        description="JPEG, PNG or WebP, up to 5 MB. We remove its location and camera data.",
    )
    # A photo sent with a form that came back to be corrected (photos.keep).
    kept_photo = HiddenField()
    pitch = TextAreaField(
        "Tell us what you do, in a few lines",
        filters=[strip],
        validators=[Optional(), Length(max=PITCH_MAX), PlainText()],
    )


for _key, _label in SOCIAL_NETWORKS.items():
    setattr(
        ProfileForm,
        f"social_{_key}",
        SocialField(
            _label,
            _key,
            validators=[Optional(), Length(max=URL_MAX), PlainText(multiline=False)],
        ),
    )


class ApplyForm(ProfileForm):
    # Spam defences: a field people never see, and when the form was shown.
    fax = StringField("Leave this empty", validators=[Optional(), Length(max=200)])
    shown = HiddenField()
    consent = BooleanField(
        "I agree that the editors may edit my answers and publish them with my name, "
        "business and photo, after I have seen and signed off the proof.",
        validators=[DataRequired("We can only publish with your agreement.")],
    )
    privacy = BooleanField(
        "I have read the privacy notice.",
        validators=[DataRequired("Please read the privacy notice and tick this box.")],
    )


def with_questions(base: type[FlaskForm], questions: list[Question]) -> type[FlaskForm]:
    """A form class with one answer field per question, named q<id>."""

    class Form(base):
        pass

    for q in questions:
        first = DataRequired("Please answer this question.") if q.required else Optional()
        setattr(
            Form,
            f"q{q.id}",
            TextAreaField(
                q.text,
                filters=[strip],
                validators=[first, Length(max=ANSWER_MAX), PlainText()],
                description=q.help_text,
            ),
        )
    return Form


def answers_of(form, questions: list[Question]) -> dict[int, str]:
    return {q.id: form[f"q{q.id}"].data or "" for q in questions}


def socials_of(form) -> dict[str, str]:
    return {key: form[f"social_{key}"].data or "" for key in SOCIAL_NETWORKS}


class ApplicantActionForm(FlaskForm):
    version = HiddenField()
    message = TextAreaField(
        "Message to the editors",
        filters=[strip],
        validators=[Optional(), Length(max=MESSAGE_MAX), PlainText()],
    )


def with_fix_requests(item_ids: list[int]) -> type[ApplicantActionForm]:
    """The applicant's action form with one optional "what to fix" per proof item."""

    class Form(ApplicantActionForm):
        pass

    for item_id in item_ids:
        setattr(
            Form,
            f"fix{item_id}",
            TextAreaField(
                "What to fix in this answer",
                filters=[strip],
                validators=[Optional(), Length(max=1000), PlainText()],
            ),
        )
    return Form


class FollowUpsForm(FlaskForm):
    """The applicant's answers to the editors' follow-up questions."""

    # The round the page shows (its asking event): the answers are for it alone.
    round = HiddenField()


def with_follow_ups(follow_up_ids: list[int]) -> type[FollowUpsForm]:
    """An answer and an "I'd rather not say" per follow-up question."""

    class Form(FollowUpsForm):
        pass

    for follow_up_id in follow_up_ids:
        setattr(
            Form,
            f"answer{follow_up_id}",
            TextAreaField(
                "Your answer",
                filters=[strip],
                validators=[Optional(), Length(max=ANSWER_MAX), PlainText()],
            ),
        )
        setattr(Form, f"decline{follow_up_id}", BooleanField("I'd rather not say"))
    return Form


class ResendForm(FlaskForm):
    email = EmailField(
        "Your email",
        filters=[strip],
        validators=[DataRequired(), Length(max=EMAIL_MAX), PlainText(multiline=False), Email()],
        render_kw={"autocomplete": "email"},
    )


class AfterRequestForm(FlaskForm):
    kind = RadioField(
        "What would you like?",
        choices=[
            SelectChoice("correction", "A correction"),
            SelectChoice("takedown", "To take the interview down"),
        ],
        default="correction",
    )
    message = TextAreaField(
        "Tell us what to change, or why",
        filters=[strip],
        validators=[
            DataRequired("Tell us what you would like."),
            Length(max=MESSAGE_MAX),
            PlainText(),
        ],
    )
