"""Two-factor sign-in for editors: a time-based code from an authenticator app
(RFC 6238, with pyotp), or one of ten single-use recovery codes.

The secret is made when an editor starts to enrol and kept in their session
until they prove their app has it by typing a code; only then is it stored.
A code is accepted once (its time step is remembered), one step early or late
for clocks that drift. Recovery codes are stored as hashes and shown once.
An admin can require two-factor sign-in for everyone, and can take it off an
editor who lost their phone.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC

import pyotp
import segno
from flask import current_app
from markupsafe import Markup
from sqlalchemy import delete, func, select

from .clock import utcnow
from .extensions import db
from .models import RecoveryCode, SiteState, User, hash_token
from .notifications.outbox import queue
from .workflow import WorkflowError

RECOVERY_CODES = 10
# One step each way: a phone whose clock is up to 30 seconds off still works.
DRIFT_STEPS = 1


class TwoFactorError(WorkflowError):
    """A two-factor change that can't be made (the page says why)."""


def new_secret() -> str:
    return pyotp.random_base32()


def enrolment_uri(user: User, secret: str) -> str:
    """What the QR code holds: the otpauth:// address authenticator apps read."""
    issuer = current_app.config["SITE_NAME"]
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def qr_code(uri: str) -> Markup:
    """The enrolment address as an inline SVG QR code: made here, no outside service."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=5, border=4, light="#fff", omitsize=True, title="QR code for your authenticator app"
    )
    return Markup(svg)  # noqa: S704 (paths and a fixed title: nothing of the user is in it)


def _step_accepted(secret: str, code: str, after: int | None) -> int | None:
    """The time step `code` belongs to, if it is current (within the drift) and
    later than `after`; else None."""
    totp = pyotp.TOTP(secret)
    now = totp.timecode(utcnow().replace(tzinfo=UTC))
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _digits(code: str) -> str:
    return "".join(c for c in code if not c.isspace())


def _recovery_form(code: str) -> str:
    return "".join(c for c in code.lower() if c.isalnum())


def enrol(user: User, secret: str, code: str) -> list[str]:
    """Turn two-factor sign-in on, if `code` shows the app has `secret`.
    Returns the recovery codes, in clear, to be shown this once."""
    step = _step_accepted(secret, _digits(code), None)
    if step is None:
        raise TwoFactorError(
            "That code doesn't match. Check that your phone's clock is right, and type "
            "the code your app shows now."
        )
    user.totp_secret = secret
    user.totp_since = utcnow()
    user.totp_last_step = step
    # A session opened with the password alone (by anyone) ends here; the
    # caller signs the editor's own session in again.
    user.end_sessions()
    codes = _new_recovery_codes(user)
    _tell(user, "on")
    db.session.commit()
    return codes


def check(user: User, code: str) -> str | None:
    """Sign-in's second step: "app" or "recovery" for a good code, else None.
    Each code works once."""
    if not user.has_two_factor or not code:
        return None
    digits = _digits(code)
    if digits.isascii() and digits.isdigit() and len(digits) == 6:
        step = _step_accepted(user.totp_secret, digits, user.totp_last_step)
        if step is None:
            return None
        user.totp_last_step = step
        db.session.commit()
        return "app"
    if not code.isascii():
        return None
    wanted = hash_token(_recovery_form(code))
    for row in db.session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ):
        if hmac.compare_digest(row.code_hash, wanted):
            row.used_at = utcnow()
            db.session.commit()
            return "recovery"
    return None


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(5)  # 40 bits each, single use, behind a password
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=hash_token(raw)))
    return codes


def replace_recovery_codes(user: User, code: str) -> list[str]:
    """Ten new codes for old ones used or lost; a current code proves it is the editor."""
    if check(user, code) is None:
        raise TwoFactorError("That code doesn't match: type the one your app shows now.")
    codes = _new_recovery_codes(user)
    _tell(user, "codes")
    db.session.commit()
    return codes


def turn_off(user: User, password: str) -> None:
    """The editor turns it off, with their password; not while it is required."""
    if required():
        raise TwoFactorError("Two-factor sign-in is required for every editor here.")
    if not user.check_password(password):
        raise TwoFactorError("That is not your password.")
    _clear(user)
    _tell(user, "off")
    db.session.commit()


def reset(user: User, by: User) -> None:
    """An admin takes it off an editor who lost their phone and their codes.
    Their sessions end; if it is required, they set it up again at next sign-in."""
    if not by.is_admin:
        raise TwoFactorError("Only an admin can do that.")
    _clear(user)
    user.end_sessions()
    _tell(user, "reset", by=by)
    db.session.commit()


def _clear(user: User) -> None:
    user.totp_secret = None
    user.totp_since = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def _tell(user: User, change: str, by: User | None = None) -> None:
    """Every change to how someone signs in is emailed to them: if it wasn't
    them, they know at once."""
    subjects = {
        "on": "Two-factor sign-in is on",
        "off": "Two-factor sign-in is off",
        "codes": "New recovery codes for your account",
        "reset": "Two-factor sign-in was reset",
    }
    queue(
        "two_factor",
        [(user.name, user.email)],
        subjects[change],
        key=f"two-factor:{user.id}:{change}:{utcnow().isoformat()}",
        user=user,
        change=change,
        by=by,
    )


def required() -> bool:
    state = db.session.get(SiteState, 1)
    return bool(state and state.two_factor_required)


def set_required(value: bool, by: User) -> None:
    if not by.is_admin:
        raise TwoFactorError("Only an admin can do that.")
    if value and not by.has_two_factor:
        raise TwoFactorError("Turn two-factor sign-in on for yourself first.")
    state = db.session.get(SiteState, 1)
    if state is None:
        state = SiteState(id=1)
        db.session.add(state)
    state.two_factor_required = value
    db.session.commit()


def must_enrol(user: User) -> bool:
    """Signed in with a password alone where a second factor is required."""
    return not user.has_two_factor and required()
