"""The editorial team: invitations, set-password links, roles, deactivation, and
the saved replies editors share."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, timedelta

from flask import current_app
from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_decode, base64_encode
from sqlalchemy import func, select, update
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.security import check_password_hash, generate_password_hash

from .clock import utcnow
from .extensions import db
from .links import public_url
from .models import PasswordToken, ReplyPreset, User, hash_token
from .notifications.outbox import PRIVATE_LINK, queue
from .workflow import WorkflowError

SET_PASSWORD_VALID = timedelta(hours=48)
PASSWORD_MIN = 10


class TeamError(WorkflowError):
    """A team change that can't be made (views answer 409 with the reason)."""


_DUMMY_HASHES: dict[str, str] = {}


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None; in the same time
    either way: an unknown address is checked against a dummy hash."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    if user is None or "$" not in user.password_hash:
        # Unknown, or invited and no password set yet ("!"): a real hash's time.
        method = current_app.config["PASSWORD_HASH_METHOD"]
        if method not in _DUMMY_HASHES:
            _DUMMY_HASHES[method] = generate_password_hash(secrets.token_hex(16), method=method)
        check_password_hash(_DUMMY_HASHES[method], password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def email_taken(email: str) -> bool:
    return (
        db.session.scalar(select(User.id).where(func.lower(User.email) == email.lower()))
        is not None
    )


def send_set_password_link(user: User, *, welcome: bool) -> None:
    """Email a set-password link. The link is minted when the email is sent
    (`mint_set_password_link`): the stored email shows "[private link]"."""
    db.session.flush()
    queue(
        "set_password",
        [(user.name, user.email)],
        "Set your password" if not welcome else "You're invited to the editors' desk",
        key=f"set-password:{user.id}:{utcnow().isoformat()}",
        private_link=f"set-password:{user.id}",
        user=user,
        welcome=welcome,
        link=PRIVATE_LINK,
        hours=int(SET_PASSWORD_VALID.total_seconds() // 3600),
    )


def _revoke_password_links(user: User) -> None:
    """Spend every live set-password link of `user`: one live link per person."""
    db.session.execute(
        update(PasswordToken)
        .where(PasswordToken.user_id == user.id, PasswordToken.used_at.is_(None))
        .values(used_at=utcnow())
    )


def _email_token(email_id: int) -> str:
    """The set-password token of outbox email `email_id`: the same on every try
    of that email, made with the secret key so nobody else can make it."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"set-password:{email_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def mint_set_password_link(user_id: int, email_id: int | None = None) -> str | None:
    """The set-password link of the email being sent now (of outbox email
    `email_id`; a random one without it): valid for SET_PASSWORD_VALID and the
    only live one (older ones are revoked). A second try of the same email
    carries the same link, so both copies work until one is used. The caller
    commits. None when the user is gone or deactivated."""
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        return None
    token = _email_token(email_id) if email_id is not None else secrets.token_urlsafe(32)
    link = public_url("review.set_password", token=token)
    tried = db.session.scalar(
        select(PasswordToken.id).where(PasswordToken.token_hash == hash_token(token))
    )
    if tried is not None:
        return link  # as it was: still live, used, or revoked by a newer link
    _revoke_password_links(user)
    db.session.add(
        PasswordToken(
            user=user, token_hash=hash_token(token), expires_at=utcnow() + SET_PASSWORD_VALID
        )
    )
    return link


def invite(email: str, name: str, role: str) -> User:
    """Create an editor or admin with no usable password, and email the link to set one."""
    if email_taken(email):
        raise TeamError(f"There is already a team member with the email {email}.")
    user = User(email=email, name=name, role=role)
    user.password_hash = "!"  # noqa: S105 (matches no password until one is set)
    db.session.add(user)
    send_set_password_link(user, welcome=True)
    db.session.commit()
    return user


def token_user(token: str) -> tuple[PasswordToken | None, str]:
    """The unused, unexpired token for `token`, or None and why not."""
    if not token or len(token) > 100:
        return None, "This link is not valid."
    row = db.session.scalar(
        select(PasswordToken).where(PasswordToken.token_hash == hash_token(token))
    )
    if row is None:
        return None, "This link is not valid."
    if row.used_at is not None:
        return None, "This link was used already. Ask an admin for a new one."
    if row.expires_at < utcnow():
        return None, "This link has expired. Ask an admin for a new one."
    if not row.user.active:
        return None, "This account is deactivated."
    return row, ""


def set_password_with(row: PasswordToken, password: str) -> User:
    """Use a set-password link: set the password, spend the link, end old sessions."""
    row.used_at = utcnow()
    user = row.user
    _revoke_password_links(user)
    user.set_password(password)
    user.end_sessions()
    db.session.commit()
    return user


def change_password(user: User, current: str, new: str) -> None:
    if not user.check_password(current):
        raise TeamError("Your current password is not right.")
    user.set_password(new)
    user.end_sessions()  # other devices log in again
    _revoke_password_links(user)  # a link mailed earlier no longer sets it
    db.session.commit()


def _admins_left(excluding: User) -> int:
    return db.session.scalar(
        select(func.count()).where(
            User.role == "admin", User.active.is_(True), User.id != excluding.id
        )
    )


def change_role(user: User, role: str, by: User) -> None:
    if role not in ("editor", "admin"):
        raise TeamError("A team member is an editor or an admin.")
    if user.role == "admin" and role != "admin" and _admins_left(user) == 0:
        raise TeamError("The team needs at least one active admin.")
    user.role = role
    db.session.commit()


def set_active(user: User, active: bool, by: User) -> None:
    """Deactivate (no login, sessions ended, history kept) or reactivate."""
    if not active and user.id == by.id:
        raise TeamError("You can't deactivate yourself.")
    if not active and user.role == "admin" and _admins_left(user) == 0:
        raise TeamError("The team needs at least one active admin.")
    user.active = active
    if not active:
        user.end_sessions()
    db.session.commit()


def set_notify(user: User, choice: str) -> None:
    if choice not in ("each", "digest", "none"):
        raise TeamError("Choose each, digest or none.")
    user.notify_new = choice
    db.session.commit()


class _ClockSigner(TimestampSigner):
    """Time stamps from the site's clock (which tests can move)."""

    def get_timestamp(self) -> int:
        return int(utcnow().replace(tzinfo=UTC).timestamp())


def _digest_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt="digest-unsubscribe", signer=_ClockSigner
    )


def _canonical(token: str) -> bool:
    """Each part of the token is the one spelling of its bytes: no other
    string decoding to the same bytes (a changed spare bit) opens anything."""
    try:
        return all(base64_encode(base64_decode(part)).decode() == part for part in token.split("."))
    except (BadData, ValueError):
        return False


def digest_unsubscribe_link(address: str) -> str | None:
    """The one-click link that stops the daily digest to `address` (RFC 8058),
    made as each digest leaves: it is in that email's headers only, and works
    for DIGEST_UNSUBSCRIBE_DAYS. None when nobody on the team has that address."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == address.lower()))
    if user is None:
        return None
    token = _digest_signer().dumps([user.id, user.email.lower()])
    return public_url("review.unsubscribe_digest", token=token)


def digest_subscriber(token: str) -> User | None:
    """Whose digest the link stops: None if it was not made here, is too old,
    or the person's address has changed since."""
    if not token or len(token) > 300 or not _canonical(token):
        return None
    days = current_app.config["DIGEST_UNSUBSCRIBE_DAYS"]
    try:
        user_id, address = _digest_signer().loads(token, max_age=days * 86400)
    except (BadData, ValueError, TypeError):
        return None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or user.email.lower() != address:
        return None
    return user


def stop_digest(user: User) -> bool:
    """Unsubscribe `user` from the daily digest; False if they had no digest."""
    if user.notify_new != "digest":
        return False
    user.notify_new = "none"
    db.session.commit()
    return True


def save_preset(action: str, title: str, body: str, by: User | None = None) -> ReplyPreset:
    """A saved message editors can pick when requesting changes or rejecting."""
    preset = ReplyPreset(action=action, title=title, body=body, changed_by=by, changed_at=utcnow())
    db.session.add(preset)
    db.session.commit()
    return preset


class PresetChanged(Exception):
    """Another admin changed the saved message first; nothing was saved."""


def update_preset(
    preset: ReplyPreset,
    action: str,
    title: str,
    body: str,
    by: User,
    expected_version: int | None = None,
) -> None:
    """Change a saved message (messages already sent keep their words)."""
    if expected_version is not None and preset.version != expected_version:
        who = preset.changed_by.name if preset.changed_by else "Another admin"
        raise PresetChanged(
            f"{who} changed this saved message while you were editing it, so yours was "
            "not saved. Your text is still below: compare it with theirs and save again."
        )
    preset.action, preset.title, preset.body = action, title, body
    preset.changed_by, preset.changed_at = by, utcnow()
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise PresetChanged(
            "Another admin saved this message at the same moment, so yours was not saved. "
            "Your text is still below: save again."
        ) from None


def delete_preset(preset: ReplyPreset) -> None:
    """Remove a saved message; messages already sent keep their words."""
    db.session.delete(preset)
    db.session.commit()


def forgot_password(email: str) -> None:
    """Mail a set-password link if `email` is an active team member's; nothing
    otherwise. The caller answers the same either way."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is not None and user.active:
        send_set_password_link(user, welcome=False)
        db.session.commit()
