"""A status link or a set-password link is readable by its recipient alone: the
outbox an editor can read holds "[private link]", the worker mints the real
link as the email leaves, and a person has one live set-password link."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxEmail, StatusToken, User, hash_token
from portal.notifications.delivery import deliver_due
from portal.workflow import State
from tests.conftest import login, post_form
from tests.factories import submission_in

LINK = re.compile(r"""https?://[^\s"'<>]+""")


def _working(client, url: str) -> bool:
    path = re.sub(r"^https?://[^/]+", "", url)
    with client.get(path) as response:  # a static file (the share image) is a file kept open
        return response.status_code == 200 and (
            "/status/" in path or "/editor/set-password/" in path
        )


def test_an_editor_reading_the_outbox_finds_no_link_that_works(app, client, admin, editor, inbox):
    login(client, email="admin@portal.test")
    # An invitation (to an admin), a fresh password link, and a proof to an applicant.
    invite = {"name": "Ivy Admin", "email": "ivy@team.example", "role": "admin"}
    assert post_form(client, "/editor/team", invite).status_code == 302
    post_form(client, "/editor/team", {}, action=f"/editor/team/{editor}/password-link")
    with app.app_context():
        proof = submission_in(State.AWAITING_SIGNOFF)
        applicant = proof.email
        ids = db.session.scalars(select(OutboxEmail.id)).all()
    kinds = {"set_password", "send_proof"}
    with app.app_context():
        assert kinds <= set(db.session.scalars(select(OutboxEmail.kind)))
    # A non-admin editor reads every email, as stored and as the HTML frame shows it.
    reader = app.test_client()
    login(reader)
    for email_id in ids:
        page = reader.get(f"/editor/outbox/{email_id}").get_data(as_text=True)
        frame = reader.get(f"/editor/outbox/{email_id}/html").get_data(as_text=True)
        for url in LINK.findall(page + frame):
            assert not _working(app.test_client(), url), url
    with app.app_context():
        stored = db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.private_link.is_not(None))
        )
        for row in stored:
            assert "[private link]" in row.text_body and "[private link]" in row.html_body
    # The recipients get links that work.
    with app.app_context():
        deliver_due()
    [invitation] = [m for m in inbox.to("ivy@team.example") if "invited" in m.subject]
    [proof_mail] = [m for m in inbox.to(applicant) if "sign" in m.subject.lower()]
    for mail, prefix in ((invitation, "/editor/set-password/"), (proof_mail, "/status/")):
        [path] = [p for p in mail.paths() if p.startswith(prefix)]
        assert app.test_client().get(path).status_code == 200


def test_one_live_set_password_link_per_person(app, client, admin, editor, inbox):
    login(client, email="admin@portal.test")
    for _ in range(2):
        post_form(client, "/editor/team", {}, action=f"/editor/team/{editor}/password-link")
        with app.app_context():
            deliver_due()
    first, second = (
        next(p for p in m.paths() if p.startswith("/editor/set-password/"))
        for m in inbox.to("editor@portal.test")
    )
    newcomer = app.test_client()
    assert newcomer.get(first).status_code == 404  # the newer link replaced it
    assert newcomer.get(second).status_code == 200
    data = {"password": "a brand new password", "confirm": "a brand new password"}
    assert post_form(newcomer, second, data).status_code == 302
    assert newcomer.get(second).status_code == 404  # used


def test_a_password_change_revokes_a_link_mailed_earlier(app, client, editor, inbox):
    login(client)
    with app.app_context():
        from portal import accounts

        accounts.send_set_password_link(db.session.get(User, editor), welcome=False)
        db.session.commit()
        deliver_due()
    [mail] = inbox.to("editor@portal.test")
    link = next(p for p in mail.paths() if p.startswith("/editor/set-password/"))
    assert app.test_client().get(link).status_code == 200
    with app.app_context():
        from portal import accounts

        user = db.session.get(User, editor)
        accounts.change_password(user, "correct horse battery", "another good password")
    assert app.test_client().get(link).status_code == 404


def test_status_links_are_minted_per_email_sent(app, inbox):
    with app.app_context():
        submission = submission_in(State.IN_REVIEW)
        before = db.session.query(StatusToken).count()
        deliver_due()
        assert db.session.query(StatusToken).count() > before
        sid = submission.id
        address = submission.email
    paths = [p for m in inbox.to(address) for p in m.paths() if p.startswith("/status/")]
    assert paths and len(set(paths)) == len(paths)  # each email its own token
    with app.app_context():
        assert all(StatusToken.find(p.rsplit("/", 1)[1]).id == sid for p in paths)


def test_the_operator_can_print_an_email_with_a_working_link(app, editor):
    with app.app_context():
        from portal import accounts

        accounts.send_set_password_link(db.session.get(User, editor), welcome=False)
        db.session.commit()
        email_id = db.session.scalar(select(OutboxEmail.id))
    result = app.test_cli_runner().invoke(args=["mail", "show", str(email_id)])
    assert result.exit_code == 0, result.output
    path = re.search(r"http://portal.test(/editor/set-password/\S+)", result.output).group(1)
    assert app.test_client().get(path).status_code == 200
    missing = app.test_cli_runner().invoke(args=["mail", "show", "999999"])
    assert missing.exit_code != 0 and "no email 999999" in missing.output


def test_a_status_link_expires_and_the_purge_drops_it(app, client):
    from datetime import timedelta

    from portal.clock import utcnow
    from portal.operations import purge_drafts

    with app.app_context():
        submission = submission_in(State.SUBMITTED)
        fresh, old = StatusToken.issue(submission), StatusToken.issue(submission)
        db.session.flush()
        row = db.session.scalars(select(StatusToken).order_by(StatusToken.id.desc())).first()
        row.created_at = row.last_used_at = utcnow() - timedelta(
            days=app.config["STATUS_LINK_DAYS"] + 1
        )
        db.session.commit()
    assert client.get(f"/status/{fresh}").status_code == 200
    assert client.get(f"/status/{old}").status_code == 404
    with app.app_context():
        purge_drafts()
        assert StatusToken.find(fresh) is not None
        hashes = {t.token_hash for t in db.session.scalars(select(StatusToken))}
        assert hash_token(old) not in hashes and hash_token(fresh) in hashes


def test_forgot_password_answers_alike_and_mails_only_a_team_member(app, client, editor, inbox):
    assert "Forgot your password?" in client.get("/editor/login").get_data(as_text=True)
    pages = []
    for address in ("editor@portal.test", "stranger@portal.test"):
        response = post_form(client, "/editor/forgot", {"email": address}, follow_redirects=True)
        body = response.get_data(as_text=True)
        pages.append(re.sub(r'name="csrf_token"[^>]*>', "", body))
    assert pages[0] == pages[1] and "If that address belongs to an active editor" in pages[0]
    with app.app_context():
        deliver_due()
    assert not inbox.to("stranger@portal.test")
    [mail] = inbox.to("editor@portal.test")
    link = next(p for p in mail.paths() if p.startswith("/editor/set-password/"))
    data = {"password": "a fresh new password", "confirm": "a fresh new password"}
    assert post_form(app.test_client(), link, data).status_code == 302
    login(app.test_client(), password="a fresh new password")


def test_forgot_password_is_limited_per_address(app, client, editor):
    app.config["EMAIL_LIMIT_PER_RECIPIENT"] = "2 per hour"
    for _ in range(4):
        post_form(client, "/editor/forgot", {"email": "editor@portal.test"})
    with app.app_context():
        assert db.session.query(OutboxEmail).filter_by(kind="set_password").count() == 2


def test_a_retried_email_carries_the_link_its_first_copy_had(app, client, admin, editor, inbox):
    """After a timeout that hid a delivery, the retry arrives as a second copy of
    the same message: whichever copy the person opens, its link works."""
    login(client, email="admin@portal.test")
    post_form(client, "/editor/team", {}, action=f"/editor/team/{editor}/password-link")
    with app.app_context():
        deliver_due()
        # The worker heard nothing back and tries again (same row, same Message-ID).
        db.session.execute(
            OutboxEmail.__table__.update()
            .where(OutboxEmail.kind == "set_password")
            .values(status="failed", deliver_after=OutboxEmail.created_at)
        )
        db.session.commit()
        deliver_due()
    copies = inbox.to("editor@portal.test")
    assert len(copies) == 2
    assert copies[0].message["Message-ID"] == copies[1].message["Message-ID"]
    first, second = (
        next(p for p in m.paths() if p.startswith("/editor/set-password/")) for m in copies
    )
    assert first == second
    newcomer = app.test_client()
    assert newcomer.get(first).status_code == 200
    data = {"password": "a brand new password", "confirm": "a brand new password"}
    assert post_form(newcomer, first, data).status_code == 302
    assert newcomer.get(second).status_code == 404  # one link, used once
