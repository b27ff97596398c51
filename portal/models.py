"""The stored world: submissions and their revisions, the editor's draft, people,
events and the email outbox. Constraints live in the database as well as here."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date, datetime, timedelta

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .clock import utcnow
from .extensions import db
from .workflow import Action, Role, State

# Field sizes, shared by the columns and the forms that fill them.
NAME_MAX = 120
EMAIL_MAX = 254
BUSINESS_MAX = 160
URL_MAX = 500
LOCATION_MAX = 120
INDUSTRY_MAX = 80
PITCH_MAX = 600
ANSWER_MAX = 5000
QUESTION_MAX = 500
TITLE_MAX = 200
SLUG_MAX = 200
MESSAGE_MAX = 5000

SOCIAL_NETWORKS = {
    "x": "X / Twitter",
    "linkedin": "LinkedIn",
    "instagram": "Instagram",
    "facebook": "Facebook",
    "youtube": "YouTube",
    "tiktok": "TikTok",
    "mastodon": "Mastodon",
}


def who(name: str, business: str) -> str:
    """ "Name, Business" for a byline, without an empty part (an imported
    interview may not say one)."""
    return ", ".join(part for part in (name, business) if part)


def byline(name: str, business: str, location: str) -> str:
    """ "Name, Business, Location" under a title, without an empty part."""
    return ", ".join(part for part in (name, business, location) if part)


def social_links(socials: dict | None) -> list[tuple[str, str]]:
    """(label, address) of each profile given, in the networks' order."""
    return [
        (label, socials[key])
        for key, label in SOCIAL_NETWORKS.items()
        if socials and socials.get(key)
    ]


class Introduced:
    """How pages name a person (its name, business, location and socials):
    from a submission, or from the plain objects readers' pages are loaded
    into (portal/publishing/loading.py)."""

    __slots__ = ()  # for loading.py's slotted dataclass

    @property
    def who(self) -> str:
        return who(self.name, self.business)

    @property
    def byline(self) -> str:
        return byline(self.name, self.business, self.location)

    @property
    def social_links(self) -> list[tuple[str, str]]:
        return social_links(self.socials)


def _state_check(column: str) -> CheckConstraint:
    values = ", ".join(f"'{s.value}'" for s in State)
    return CheckConstraint(f"{column} IN ({values})", name=f"{column}_valid")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('editor', 'admin')", name="role_valid"),
        CheckConstraint("notify_new IN ('each', 'digest', 'none')", name="notify_new_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10), default=Role.EDITOR.value)
    active: Mapped[bool] = mapped_column(default=True)
    notify_new: Mapped[str] = mapped_column(String(10), default="each")
    # Part of the session cookie: changing it ends every session of this user.
    session_nonce: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Two-factor sign-in (portal/two_factor.py): the authenticator app's shared
    # secret, when it was turned on, and the last time step used (no replays).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_since: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]

    def set_password(self, password: str) -> None:
        method = current_app.config["PASSWORD_HASH_METHOD"]
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def end_sessions(self) -> None:
        self.session_nonce = secrets.token_hex(16)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_nonce}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value

    @property
    def has_two_factor(self) -> bool:
        return self.totp_since is not None


class RecoveryCode(db.Model):
    """A single-use code that stands in for the authenticator app. Only its hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]


class Question(db.Model):
    """One question of the questionnaire. Retired, never deleted."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(String(QUESTION_MAX))
    # Its address under /questions/: from its first wording, kept when it is
    # re-worded or retired, so its answers stay gathered in one place.
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    help_text: Mapped[str] = mapped_column(Text, default="")
    required: Mapped[bool] = mapped_column(default=True)
    retired_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @classmethod
    def active_query(cls):
        return select(cls).where(cls.retired_at.is_(None)).order_by(cls.position, cls.id)


class Submission(Introduced, db.Model):
    """An application, from the first save to publication."""

    __tablename__ = "submissions"
    __table_args__ = (
        _state_check("state"),
        Index("ix_submissions_queue", "state", "state_changed_at"),
        Index("ix_submissions_email", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(20))
    # Optimistic locking: every UPDATE checks and bumps it.
    version: Mapped[int] = mapped_column(default=1)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    business: Mapped[str] = mapped_column(String(BUSINESS_MAX))
    website: Mapped[str] = mapped_column(String(URL_MAX), default="")
    location: Mapped[str] = mapped_column(String(LOCATION_MAX), default="")
    industry: Mapped[str] = mapped_column(String(INDUSTRY_MAX), default="")
    pitch: Mapped[str] = mapped_column(Text, default="")
    socials: Mapped[dict] = mapped_column(JSON, default=dict)
    # The stored name of the applicant's photo (see portal/photos.py).
    photo: Mapped[str | None] = mapped_column(String(40))
    # The form it came from (spam.form_key): the same form posted twice is one application.
    form_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # When the applicant ticked both consents (to publish after a proof; the
    # privacy notice): a record of consent, and a saved draft keeps them ticked.
    consented_at: Mapped[datetime | None]
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    state_changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    assigned_to: Mapped[User | None] = relationship()
    revisions: Mapped[list[Revision]] = relationship(
        back_populates="submission",
        order_by="Revision.number",
        cascade="all, delete-orphan",
    )
    events: Mapped[list[Event]] = relationship(
        back_populates="submission",
        order_by="Event.id",
        cascade="all, delete-orphan",
    )
    interview: Mapped[Interview | None] = relationship(
        back_populates="submission", cascade="all, delete-orphan"
    )
    tokens: Mapped[list[StatusToken]] = relationship(
        back_populates="submission", cascade="all, delete-orphan"
    )
    notes: Mapped[list[Note]] = relationship(order_by="Note.id", cascade="all, delete-orphan")
    after_requests: Mapped[list[AfterRequest]] = relationship(
        back_populates="submission", order_by="AfterRequest.id", cascade="all, delete-orphan"
    )
    opinions: Mapped[list[Opinion]] = relationship(
        back_populates="submission", order_by="Opinion.id", cascade="all, delete-orphan"
    )
    follow_ups: Mapped[list[FollowUp]] = relationship(
        back_populates="submission", order_by="FollowUp.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def latest_revision(self) -> Revision | None:
        return self.revisions[-1] if self.revisions else None

    @property
    def scheduled_for(self) -> datetime | None:
        """When a published interview that is not live yet goes live (UTC)."""
        if self.state != State.PUBLISHED.value or self.interview is None:
            return None
        when = self.interview.published_at
        return when if when is not None and when > utcnow() else None


class StatusToken(db.Model):
    """A private status link. Only its hash is kept; each email carries a fresh one.

    A link stops working STATUS_LINK_DAYS after it was last used (or made), when
    the application is withdrawn or erased, and, if it was made before that
    day, STATUS_LINK_DAYS_AFTER_PUBLICATION after the interview went live;
    /status/resend mails a fresh one to the applicant's address."""

    __tablename__ = "status_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="tokens")

    @classmethod
    def issue(cls, submission: Submission) -> str:
        """Create a token for `submission` and return it in clear, once."""
        token = secrets.token_urlsafe(32)  # 256 bits
        submission.tokens.append(cls(token_hash=hash_token(token)))
        return token

    @classmethod
    def find(cls, token: str) -> Submission | None:
        if not token or len(token) > 100:
            return None
        wanted = hash_token(token)
        row = db.session.scalar(select(cls).where(cls.token_hash == wanted))
        if row is None or not hmac.compare_digest(row.token_hash, wanted):
            return None
        if row.last_used_at < cls.oldest_valid() or row.created_at < cls._published_cutoff(row):
            return None  # expired: /status/resend mails a fresh one
        now = utcnow()
        if now - row.last_used_at > _USE_NOTED_EVERY:
            row.last_used_at = now
            db.session.commit()
        return row.submission

    @staticmethod
    def oldest_valid() -> datetime:
        """A link unused since before this no longer opens anything (STATUS_LINK_DAYS)."""
        return utcnow() - timedelta(days=current_app.config["STATUS_LINK_DAYS"])

    @staticmethod
    def _published_cutoff(row: StatusToken) -> datetime:
        """Links made before this stop working: those that went around while the
        interview was being made, once it was first published a while ago (taking
        it down or publishing it again does not bring them back)."""
        first = next(
            (e.created_at for e in row.submission.events if e.action == Action.PUBLISH.value),
            None,
        )
        if first is None:
            return datetime.min
        days = current_app.config["STATUS_LINK_DAYS_AFTER_PUBLICATION"]
        cutoff = first + timedelta(days=days)
        return cutoff if cutoff <= utcnow() else datetime.min

    @classmethod
    def revoke_all(cls, submission: Submission) -> None:
        """No link sent so far opens this application any more."""
        db.session.execute(delete(cls).where(cls.submission_id == submission.id))


# How often a link's use is written down: enough for an expiry counted in days.
_USE_NOTED_EVERY = timedelta(hours=1)


class Revision(db.Model):
    """What the applicant sent on one submit or revise. Never changed afterwards."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("submission_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    number: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="revisions")
    answers: Mapped[list[Answer]] = relationship(
        back_populates="revision", order_by="Answer.position", cascade="all, delete-orphan"
    )


class Answer(db.Model):
    """An answer, with the question's wording as it was when asked."""

    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(
        ForeignKey("revisions.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id", ondelete="SET NULL"))
    position: Mapped[int]
    question_text: Mapped[str] = mapped_column(String(QUESTION_MAX))
    body: Mapped[str] = mapped_column(Text, default="")
    # An answer to a follow-up question, asked of this applicant alone.
    follow_up_id: Mapped[int | None] = mapped_column(
        ForeignKey("follow_ups.id", ondelete="SET NULL")
    )

    revision: Mapped[Revision] = relationship(back_populates="answers")

    @property
    def key(self) -> str:
        """What a follow-up names as the answer it follows (see FollowUp.follows)."""
        if self.follow_up_id is not None:
            return f"f{self.follow_up_id}"
        if self.question_id is not None:
            return f"q{self.question_id}"
        return f"t:{self.question_text}"


class FollowUp(db.Model):
    """A question an editor asked this applicant alone, after reading their
    answers; its answer, as the applicant saves and sends it."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    # The "ask follow-up questions" event that asked it: one round of questions.
    asked_event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(String(QUESTION_MAX))
    # The answer it follows, by its key ("q<question id>" or "f<follow-up id>";
    # see Answer.key): placed after it in the revision and the draft. "" for the end.
    follows: Mapped[str] = mapped_column(String(20), default="")
    # One of the applicant's profiles it is about (a SOCIAL_NETWORKS key), or "".
    cites: Mapped[str] = mapped_column(String(20), default="")
    answer: Mapped[str] = mapped_column(Text, default="")
    declined: Mapped[bool] = mapped_column(default=False)
    # When the answer (or the refusal) was sent to the editors.
    sent_at: Mapped[datetime | None]

    submission: Mapped[Submission] = relationship(back_populates="follow_ups")
    asked_event: Mapped[Event] = relationship()

    @property
    def cited(self) -> tuple[str, str] | None:
        """(network label, address) of the profile it is about, if the applicant has it."""
        address = (self.submission.socials or {}).get(self.cites) if self.cites else None
        return (SOCIAL_NETWORKS[self.cites], address) if address else None


interview_tags = Table(
    "interview_tags",
    db.Model.metadata,
    Column(
        "interview_id",
        ForeignKey("interviews.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)


class Tag(db.Model):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    slug: Mapped[str] = mapped_column(String(60), unique=True)

    interviews: Mapped[list[Interview]] = relationship(
        secondary=interview_tags, back_populates="tags", viewonly=True
    )


class Interview(db.Model):
    """The editor's draft of the interview, kept apart from the applicant's words."""

    __tablename__ = "interviews"
    __table_args__ = (
        # Newest first, and the keyset cursor of the listings: (published_at, id).
        Index("ix_interviews_listing", "published_at", "id"),
        Index("ix_interviews_search_vector", "search_vector", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), unique=True
    )
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    slug: Mapped[str] = mapped_column(String(SLUG_MAX), unique=True)
    # What readers get: rendered from `intro_md`, the Markdown editors write.
    intro_html: Mapped[str] = mapped_column(Text, default="")
    intro_md: Mapped[str] = mapped_column(Text, default="")
    # A line before the first question ("Hello Jesper; welcome…"), the editor's own.
    greeting: Mapped[str] = mapped_column(String(300), default="")
    # The photo readers see: the applicant's, unless an editor replaced it.
    photo: Mapped[str | None] = mapped_column(String(40))
    # A line the editor picks for the share image (else the first answer's start).
    pull_quote: Mapped[str] = mapped_column(String(300), default="")
    # The share image (portal/share_image.py) and a key of what it was made from.
    share_image: Mapped[str | None] = mapped_column(String(40))
    share_image_key: Mapped[str | None] = mapped_column(String(32))
    published_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Optimistic locking for two editors saving the same draft.
    version: Mapped[int] = mapped_column(default=1)
    # Full-text search (portal/publishing/search.py): the plain text, and on
    # PostgreSQL its tsvector (on SQLite an FTS5 table does that job).
    # Deferred: pages never show them, and loading them for every card costs.
    search_text: Mapped[str] = mapped_column(Text, default="", deferred=True)
    search_vector: Mapped[str | None] = mapped_column(
        Text().with_variant(TSVECTOR(), "postgresql"), deferred=True
    )

    submission: Mapped[Submission] = relationship(back_populates="interview")
    items: Mapped[list[InterviewItem]] = relationship(
        back_populates="interview",
        order_by="InterviewItem.position",
        cascade="all, delete-orphan",
    )
    tags: Mapped[list[Tag]] = relationship(
        secondary=interview_tags,
        order_by=lambda: (func.lower(Tag.name), Tag.name),
        back_populates="interviews",
    )
    old_slugs: Mapped[list[SlugRedirect]] = relationship(
        back_populates="interview", cascade="all, delete-orphan"
    )
    # Where an imported interview was on the old blog (answered with a 301).
    old_addresses: Mapped[list[OldAddress]] = relationship(
        back_populates="interview", cascade="all, delete-orphan"
    )
    versions: Mapped[list[InterviewVersion]] = relationship(
        order_by="InterviewVersion.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def interviewer(self) -> str:
        """Who interviewed them, for the byline: the editor who approved the
        application (it stays theirs whoever has it later), else the one it is with."""
        approvals = [e for e in self.submission.events if e.action == "approve" and e.actor]
        editor = approvals[-1].actor if approvals else self.submission.assigned_to
        return editor.name if editor is not None else ""

    @staticmethod
    def public_filter(now: datetime):
        """The condition for an interview readers may see at `now`."""
        return (
            (Submission.state == State.PUBLISHED.value)
            & Interview.published_at.is_not(None)
            & (Interview.published_at <= now)
        )


class InterviewVersion(db.Model):
    """One saved state of an editor's draft, kept so any two can be compared.

    For a published interview a save does not touch what readers see: it is a
    "pending" version (at most one), until an editor publishes it (then
    "published", with the correction note shown on the page) or discards it.
    `content` holds what `interviews.save_draft` takes."""

    __tablename__ = "interview_versions"
    __table_args__ = (
        CheckConstraint(
            "status IN ('saved', 'pending', 'published', 'discarded')", name="status_valid"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(
        ForeignKey("interviews.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), default="saved")
    content: Mapped[dict] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    # Saved by the editor's page as they typed: the next autosave of the same
    # editor within minutes updates it (`interviews.record_version`).
    autosaved: Mapped[bool] = mapped_column(default=False)

    author: Mapped[User | None] = relationship()


class InterviewItem(db.Model):
    """One edited question and answer pair of the draft."""

    __tablename__ = "interview_items"
    __table_args__ = (Index("ix_interview_items_question", "question_id", "interview_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(
        ForeignKey("interviews.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    question: Mapped[str] = mapped_column(String(QUESTION_MAX))
    # What readers get: rendered from `answer_md`, the Markdown editors write.
    answer_html: Mapped[str] = mapped_column(Text, default="")
    answer_md: Mapped[str] = mapped_column(Text, default="")
    # The applicant's answer this pair was made from, to show side by side.
    source_answer_id: Mapped[int | None] = mapped_column(
        ForeignKey("answers.id", ondelete="SET NULL")
    )
    # The questionnaire question it answers (the pair keeps the wording it was
    # asked in): it gathers with every other answer to that question.
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id", ondelete="SET NULL"))

    interview: Mapped[Interview] = relationship(back_populates="items")
    source_answer: Mapped[Answer | None] = relationship()
    asked: Mapped[Question | None] = relationship()


class Event(db.Model):
    """One transition: who, when, from, to, and the message that went with it."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint(
            "actor_role IN ('applicant', 'editor', 'admin', 'system')",
            name="actor_role_valid",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_role: Mapped[str] = mapped_column(String(10))
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text, default="")
    # Per-answer requests: {"answers": {"<question id>": "what to change"}}.
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()

    @property
    def item_requests(self) -> dict[int, str]:
        items = (self.details or {}).get("items") or {}
        return {int(k): v for k, v in items.items() if str(k).isdigit() and v}

    @property
    def answer_requests(self) -> dict[int, str]:
        answers = (self.details or {}).get("answers") or {}
        return {int(k): v for k, v in answers.items() if str(k).isdigit() and v}


class ResendRequest(db.Model):
    """Someone asked for their status links again. The request only writes this row,
    the same whether or not the address is known; the mail worker does the rest."""

    __tablename__ = "resend_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SlugRedirect(db.Model):
    """An address a published interview had before: answered with a 301."""

    __tablename__ = "slug_redirects"

    id: Mapped[int] = mapped_column(primary_key=True)
    old_slug: Mapped[str] = mapped_column(String(SLUG_MAX), unique=True)
    interview_id: Mapped[int] = mapped_column(
        ForeignKey("interviews.id", ondelete="CASCADE"), index=True
    )

    interview: Mapped[Interview] = relationship(back_populates="old_slugs")


class ImportedPost(db.Model):
    """An interview brought in from the publication's old blog (`flask import`):
    what it was made from, so that importing the same file or export again
    finds it and changes nothing."""

    __tablename__ = "imported_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A fingerprint of the text file, or the WordPress post's own id (its guid).
    key: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(20))
    # The file's name or the old post's address, for the editors.
    origin: Mapped[str] = mapped_column(String(URL_MAX))
    # When the old blog published it: its date here too, whenever it goes live.
    published_at: Mapped[datetime | None]
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[Submission] = relationship()


class OldAddress(db.Model):
    """A path an imported interview had on the old blog (`/2011/05/its-title/`,
    `/?p=123`): answered with a 301 to its page here while it is published."""

    __tablename__ = "old_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(URL_MAX), unique=True)
    interview_id: Mapped[int] = mapped_column(
        ForeignKey("interviews.id", ondelete="CASCADE"), index=True
    )

    interview: Mapped[Interview] = relationship(back_populates="old_addresses")


class StoredFile(db.Model):
    """A photo or a share card, its bytes in the database: written in the
    transaction of the change that adds it (a failed save leaves nothing),
    deleted in the one that removes it (erasure too), in every backup, and
    served by every host. Pages link it by its random name (portal/photos.py)."""

    __tablename__ = "stored_files"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    # Of the bytes: the response's ETag, and a check that a copy is whole.
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SiteState(db.Model):
    """One row of site-wide state. Mostly what readers can see, as a number
    bumped on every change to it: rendered public pages are cached under this
    number (portal/caching.py); the bump happens in the same transaction as
    the change."""

    __tablename__ = "site_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_generation: Mapped[int] = mapped_column(default=0)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # An admin's choice: every editor signs in with a second factor.
    two_factor_required: Mapped[bool] = mapped_column(default=False)


class Note(db.Model):
    """Editors' internal thread on a submission: notes and assignments.

    Never shown or mailed to the applicant.
    """

    __tablename__ = "notes"
    __table_args__ = (CheckConstraint("kind IN ('note', 'assign')", name="kind_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(10), default="note")
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship()


class AfterRequest(db.Model):
    """After publication, the interviewee asks for a correction or a takedown.

    It lands in the editors' queue until an editor marks it handled.
    """

    __tablename__ = "after_requests"
    __table_args__ = (
        CheckConstraint("kind IN ('correction', 'takedown')", name="kind_valid"),
        Index("ix_after_requests_open", "handled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(12))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None]
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    submission: Mapped[Submission] = relationship(back_populates="after_requests")
    handled_by: Mapped[User | None] = relationship()


class Opinion(db.Model):
    """A colleague's second opinion on an application, asked for by an editor:
    open until they give their recommendation and a comment."""

    __tablename__ = "opinions"
    __table_args__ = (
        CheckConstraint(
            "recommendation IN ('feature', 'not_for_us', 'changes')", name="recommendation_valid"
        ),
        Index("ix_opinions_editor_open", "editor_id", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    editor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    asked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    question: Mapped[str] = mapped_column(Text, default="")
    recommendation: Mapped[str | None] = mapped_column(String(12))
    comment: Mapped[str] = mapped_column(Text, default="")
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]

    submission: Mapped[Submission] = relationship(back_populates="opinions")
    editor: Mapped[User] = relationship(foreign_keys=[editor_id])
    asked_by: Mapped[User | None] = relationship(foreign_keys=[asked_by_id])

    RECOMMENDATIONS = {
        "feature": "Feature them",
        "not_for_us": "Not for us",
        "changes": "Needs changes",
    }

    @property
    def verdict(self) -> str:
        return self.RECOMMENDATIONS.get(self.recommendation or "", "")


class ReplyPreset(db.Model):
    """A saved message for requesting changes or rejecting, managed by admins."""

    __tablename__ = "reply_presets"
    __table_args__ = (
        CheckConstraint("action IN ('request_changes', 'reject')", name="action_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Who wrote or last changed it, and when; two admins' edits can't overwrite
    # each other (the version is checked and bumped by every UPDATE).
    changed_at: Mapped[datetime | None]
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1)

    changed_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}


class Subscriber(db.Model):
    """A reader's address on the newsletter: pending until they confirm from the
    email we send it (double opt-in), then confirmed until they unsubscribe or
    mail to it fails for good. Its private links (confirm, unsubscribe) are
    signed when an email leaves, never stored."""

    __tablename__ = "subscribers"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'confirmed', 'unsubscribed', 'bounced')", name="status_valid"
        ),
        CheckConstraint("cadence IN ('each', 'weekly')", name="cadence_valid"),
        Index("ix_subscribers_sending", "status", "cadence", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)  # lower-cased
    # Every publication as it goes live, or one weekly digest.
    cadence: Mapped[str] = mapped_column(String(10), default="each")
    status: Mapped[str] = mapped_column(String(12), default="pending")
    # When they last asked (a confirmation link names it: asking again ends the old link).
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    # When they unsubscribed or their address bounced.
    left_at: Mapped[datetime | None]
    bounce: Mapped[str] = mapped_column(String(300), default="")


class SubscribeRequest(db.Model):
    """Someone typed an address into the newsletter form. The request only writes
    this row, the same work whether or not the address is known (so its timing
    tells nobody who subscribes); the mail worker does the rest."""

    __tablename__ = "subscribe_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    cadence: Mapped[str] = mapped_column(String(10))
    # False when the form's sending limits were reached: recorded, not emailed.
    may_email: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Mailing(db.Model):
    """One newsletter issue: an interview as it goes live, or a week's digest.

    Written in the transaction of its cause; a mail worker writes one outbox row
    per confirmed subscriber in batches (`cursor` is the last subscriber id
    written), each row pointing here for its text instead of a copy of it."""

    __tablename__ = "mailings"
    __table_args__ = (
        CheckConstraint("kind IN ('interview', 'weekly')", name="kind_valid"),
        CheckConstraint(
            "status IN ('waiting', 'sending', 'done', 'cancelled', 'empty')", name="status_valid"
        ),
        Index("ix_mailings_due", "status", "send_after"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # "interview:<id>" or "weekly:<ISO year>-W<week>": never two issues of one.
    key: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    interview_id: Mapped[int | None] = mapped_column(
        ForeignKey("interviews.id", ondelete="SET NULL"), index=True
    )
    # A weekly digest's window of publication times.
    period_start: Mapped[datetime | None]
    period_end: Mapped[datetime | None]
    send_after: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default="waiting")
    # Rendered once, when the first batch is written.
    subject: Mapped[str] = mapped_column(String(300), default="")
    text_body: Mapped[str] = mapped_column(Text, default="")
    html_body: Mapped[str] = mapped_column(Text, default="")
    cursor: Mapped[int] = mapped_column(default=0)
    recipients: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    interview: Mapped[Interview | None] = relationship()


class InterviewReads(db.Model):
    """How many times an interview was read on one day (the site's), counted
    without a cookie or an address: in each web process's memory, written
    here in batches (portal/readership.py)."""

    __tablename__ = "interview_reads"

    interview_id: Mapped[int] = mapped_column(
        ForeignKey("interviews.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)
    reads: Mapped[int] = mapped_column(default=0)


class SearchWord(db.Model):
    """A word published interviews use (folded: no case, no accents), and in
    how many: the vocabulary "did you mean" picks from (portal/search.py).
    Only ever added to as interviews are published; a suggestion is checked
    to find something before it is shown."""

    __tablename__ = "search_words"

    word: Mapped[str] = mapped_column(String(40), primary_key=True)
    interviews: Mapped[int] = mapped_column(default=0)


class PasswordToken(db.Model):
    """A set-password link: hashed, valid once, expiring."""

    __tablename__ = "password_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class OutboxEmail(db.Model):
    """An email written in the same transaction as its cause, sent later by a worker."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'dead')",
            name="status_valid",
        ),
        Index("ix_outbox_due", "status", "deliver_after"),
        # What the workers claim: everyone's emails, then a newsletter's copies,
        # each in order, read from the index (an issue is 100,000 rows).
        Index("ix_outbox_claim", "status", "mailing_id", "deliver_after"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The same event never mails the same person twice.
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True
    )
    # The application it is about, if any: its emails thread together, and
    # erasing the application finds them.
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    # [[name, address], ...]: never joined into one string, so a name can't
    # smuggle in another address.
    recipients: Mapped[list] = mapped_column(JSON)
    # The one recipient's address, lower-cased, for the outbox page's filter.
    to_address: Mapped[str] = mapped_column(String(EMAIL_MAX), index=True, default="")
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    # The link only the recipient may hold ("status:<submission id>",
    # "set-password:<user id>"; several, space-separated, for numbered places):
    # the bodies show PRIVATE_LINK in its place and the worker mints the real one
    # as it sends, so no stored copy opens anything.
    private_link: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    deliver_after: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    # The worker that claimed it: a worker starting again hands its claims back.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    # When the server first turned it away for now (4xx): it is given up
    # MAIL_EXPIRE_DAYS after that, however long an outage kept it waiting before.
    failing_since: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    # A newsletter's copy: its text is the mailing's, and it goes after every
    # email a person is waiting for.
    mailing_id: Mapped[int | None] = mapped_column(
        ForeignKey("mailings.id", ondelete="CASCADE"), index=True
    )
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )

    event: Mapped[Event | None] = relationship()

    @staticmethod
    def not_to_subscribers():
        """The emails the desk shows and its alarms count: not the newsletter's
        (its copies are counted per issue on the admins' newsletter page, and
        readers' addresses are not every editor's to read)."""
        return OutboxEmail.subscriber_id.is_(None)


class MailWorker(db.Model):
    """A mail worker's heartbeat: the outbox page and /healthz say when each was
    last seen, so mail that silently stopped is noticed."""

    __tablename__ = "mail_workers"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    pid: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    # What the worker last met: "" when all is well, else e.g. "SMTP down since 10:04".
    trouble: Mapped[str] = mapped_column(String(300), default="")


def count_by(column, *where) -> dict[str, int]:
    """{value: count} of `column` over the rows matching `where`."""
    rows = db.session.execute(select(column, func.count()).where(*where).group_by(column))
    return {value: n for value, n in rows}
