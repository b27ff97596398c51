"""Two-factor sign-in for editors, as an editor meets it: set it up by scanning a
code, sign in with the app or a recovery code, lose a phone; and as an admin
who requires it of everyone."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pyotp
from sqlalchemy import select

from portal.clock import frozen, utcnow
from portal.extensions import db
from portal.models import User
from portal.notifications.delivery import deliver_due
from tests.conftest import login, post_form

SETUP = "/editor/account/two-factor"


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _secret_from(page: str) -> str:
    """The key shown under the QR code, as a person would type it."""
    match = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page)
    assert match, "no key on the set-up page"
    return match.group(1).replace(" ", "")


def _code(secret: str, seconds: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return totp.at(utcnow().timestamp() + seconds) if seconds else totp.now()


def _turn_on(client) -> tuple[str, list[str]]:
    page = _text(client.get(SETUP))
    assert "<svg" in page and "QR code for your authenticator app" in page
    assert "http" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]  # no outside service
    secret = _secret_from(page)
    response = post_form(client, SETUP, {"code-code": _code(secret)})
    page = _text(response)
    codes = re.findall(r"<li><code>([0-9a-f]{5}-[0-9a-f]{5})</code></li>", page)
    assert response.status_code == 200 and len(codes) == 10, page
    return secret, codes


def _password_step(client, email="editor@portal.test"):
    response = post_form(
        client, "/editor/login", {"email": email, "password": "correct horse battery"}
    )
    assert response.status_code == 302
    return response


def test_turn_on_then_sign_in_needs_the_code(app, client, editor, inbox):
    login(client)
    secret, codes = _turn_on(client)
    # The codes are shown once: the page does not show them again.
    again = _text(client.get(SETUP))
    assert codes[0] not in again and "10 of 10 recovery codes left" in again
    with app.app_context():
        deliver_due()
    [mail] = inbox.to("editor@portal.test")
    assert "Two-factor sign-in is on" in mail.subject and secret not in mail.text
    post_form(client, "/editor/", {}, action="/editor/logout")

    # The password alone lets nobody in.
    response = _password_step(client)
    assert response.headers["Location"].endswith("/editor/login/code")
    assert client.get("/editor/").status_code == 302
    wrong = post_form(client, "/editor/login/code", {"code": "000000"})
    assert "That code didn't work" in _text(wrong)
    assert client.get("/editor/").status_code == 302
    # The app's code does.
    response = post_form(client, "/editor/login/code", {"code": _code(secret, 30)})
    assert response.status_code == 302
    assert client.get("/editor/").status_code == 200


def test_a_code_works_once_and_a_recovery_code_once(app, client, editor):
    login(client)
    secret, codes = _turn_on(client)
    post_form(client, "/editor/", {}, action="/editor/logout")
    _password_step(client)
    used = _code(secret, 30)
    assert post_form(client, "/editor/login/code", {"code": used}).status_code == 302
    post_form(client, "/editor/", {}, action="/editor/logout")
    # Someone who saw that code over a shoulder can't use it again.
    _password_step(client)
    replay = post_form(client, "/editor/login/code", {"code": used})
    assert "That code didn't work" in _text(replay)
    # A recovery code, typed with capitals and spaces, works once.
    typed = codes[3].upper().replace("-", " ")
    response = post_form(client, "/editor/login/code", {"code": typed})
    assert response.status_code == 302
    assert "9 left" in _text(client.get("/editor/"))
    post_form(client, "/editor/", {}, action="/editor/logout")
    _password_step(client)
    again = post_form(client, "/editor/login/code", {"code": codes[3]})
    assert "That code didn't work" in _text(again)


def test_the_second_step_is_rate_limited_and_expires(app, client, editor):
    app.config["TWO_FACTOR_LIMIT"] = "3 per 10 minutes"
    login(client)
    secret, _ = _turn_on(client)
    post_form(client, "/editor/", {}, action="/editor/logout")
    _password_step(client)
    for _ in range(3):
        post_form(client, "/editor/login/code", {"code": "123456"})
    refused = post_form(client, "/editor/login/code", {"code": _code(secret)})
    assert refused.status_code == 429
    assert client.get("/editor/").status_code == 302
    # A second step left waiting goes back to the password.
    other = app.test_client()
    _password_step(other)
    with frozen(utcnow() + timedelta(minutes=6)):
        late = other.get("/editor/login/code")
    assert late.status_code == 302 and late.headers["Location"].endswith("/editor/login")


def test_a_wrong_first_code_does_not_turn_it_on(app, client, editor):
    login(client)
    page = _text(client.get(SETUP))
    secret = _secret_from(page)
    response = post_form(client, SETUP, {"code-code": "999999"})
    assert "That code doesn't match" in _text(response)
    # The key stays the same while setting up, so a second try works.
    assert _secret_from(_text(response)) == secret
    with app.app_context():
        assert db.session.scalar(select(User.totp_since)) is None


def test_turning_off_needs_the_password(app, client, editor):
    login(client)
    _turn_on(client)
    wrong = post_form(client, SETUP, {"off-password": "not my password"})
    assert "That is not your password" in _text(wrong)
    right = post_form(client, SETUP, {"off-password": "correct horse battery"})
    assert right.status_code == 302
    post_form(client, "/editor/", {}, action="/editor/logout")
    assert _password_step(client).headers["Location"].endswith("/editor/")


def test_required_for_everyone_by_an_admin(app, client, editor, admin):
    # An admin can't require what they don't use themselves.
    login(client, "admin@portal.test")
    refused = post_form(client, "/editor/team", {"required": "y"}, action="/editor/team/two-factor")
    assert refused.status_code == 409
    _turn_on(client)
    response = post_form(
        client, "/editor/team", {"required": "y"}, action="/editor/team/two-factor"
    )
    assert response.status_code == 302
    # An editor without it is sent to set it up, and can do nothing else first.
    other = app.test_client()
    login(other)
    queue = other.get("/editor/")
    assert queue.status_code == 302 and queue.headers["Location"].endswith(SETUP)
    page = _text(other.get(SETUP))
    assert "required for every editor" in page
    secret, _ = _turn_on(other)
    assert other.get("/editor/").status_code == 200
    # ... and can't turn it off while it is required.
    page = _text(other.get(SETUP))
    assert "so it stays on" in page and "off-password" not in page
    # Lost phone: an admin resets it; their sessions end.
    with app.app_context():
        editor_id = db.session.scalar(select(User.id).where(User.email == "editor@portal.test"))
    post_form(client, "/editor/team", {}, action=f"/editor/team/{editor_id}/two-factor-reset")
    assert other.get("/editor/").status_code == 302
    with app.app_context():
        assert db.session.get(User, editor_id).totp_secret is None


def test_a_non_admin_cannot_reset_or_require(app, client, editor, admin):
    login(client)
    with app.app_context():
        admin_id = db.session.scalar(select(User.id).where(User.role == "admin"))
    reset = post_form(client, "/editor/", {}, action=f"/editor/team/{admin_id}/two-factor-reset")
    require = post_form(client, "/editor/", {"required": "y"}, action="/editor/team/two-factor")
    assert reset.status_code == 403 and require.status_code == 403
