"""Erase means erased: after an applicant erases an application that had a
replaced photo, a share image and a published interview taken down, nothing
identifying them is left in the database file, a dump, the photo folder or the
outbox. The share card is drawn for real here (a file with their face on it)."""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy import update as sa_update

from portal import operations, photos
from portal.extensions import db
from portal.models import OutboxEmail, StatusToken, Submission
from portal.notifications.delivery import deliver_due
from portal.operations import Actor
from portal.workflow import Role
from tests.conftest import application, post_form, stored, stored_names
from tests.factories import staff

pytestmark = pytest.mark.real_share_images

NAME = "Zebulon Quixotic"
EMAIL = "zebulon@quixotic.example"
BUSINESS = "Quixotic Marmalade Works"
SENTENCE = "Our marmalade glows like a lighthouse at dusk over Tintagel."


def _jpeg(colour) -> bytes:
    """A photo of its own: a colour with noise, so that its bytes are like no other's."""
    noise = Image.effect_noise((640, 480), 40).convert("RGB")
    out = io.BytesIO()
    Image.blend(Image.new("RGB", (640, 480), colour), noise, 0.3).save(out, "JPEG")
    return out.getvalue()


def _files(app) -> dict[str, bytes]:
    return {name: stored(app, name) for name in stored_names(app)}


def _distinctive(content: bytes, size: int = 64) -> bytes:
    """A stretch of a file that no other file has by chance (not a run of zeros)."""
    for at in range(0, len(content) - size, 16):
        if len(set(content[at : at + size])) > size // 2:
            return content[at : at + size]
    raise AssertionError("no distinctive stretch in the file")


def _database_bytes(app, tmp_path) -> bytes:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):
        with app.app_context():
            db.session.remove()
            db.engine.dispose()  # close every connection; the WAL stays as it is
        path = url.removeprefix("sqlite:///")
        return b"".join(
            Path(path + suffix).read_bytes()
            for suffix in ("", "-wal")
            if os.path.exists(path + suffix)
        )
    dump = subprocess.run(
        ["pg_dump", "--data-only", url.replace("postgresql+psycopg", "postgresql")],
        capture_output=True,
        check=True,
    )
    return dump.stdout


def test_erasing_leaves_nothing_that_identifies_the_applicant(app, client, editor, tmp_path):
    form = application(app, name=NAME, email=EMAIL, business=BUSINESS)
    first_answer = next(k for k in form if k.startswith("q"))
    form[first_answer] = SENTENCE
    form["photo"] = (io.BytesIO(_jpeg((200, 40, 40))), "me.jpg")
    status = post_form(client, "/apply", form, content_type="multipart/form-data").headers[
        "Location"
    ]
    token = status.rsplit("/", 1)[1]
    seen_files = dict(_files(app))
    assert seen_files  # the first photo
    with app.app_context():
        submission = db.session.scalar(select(Submission))
        editor_actor = Actor.of(staff(Role.EDITOR))
        operations.start_review(submission, editor_actor)
        operations.request_changes(submission, editor_actor, "A better photo, please.")
        # The applicant sends a new photo: the first one is replaced.
        new_photo = photos.store(_jpeg((40, 40, 200)))
        operations.revise(
            submission,
            operations.Profile(name=NAME, email=EMAIL, business=BUSINESS, photo=new_photo),
            {a.question_id: a.body for a in submission.latest_revision.answers},
        )
        seen_files.update(_files(app))
        operations.start_review(submission, editor_actor)
        operations.approve(submission, editor_actor)
        operations.skip_signoff(submission, Actor.of(staff(Role.ADMIN)), "Agreed by phone.")
        operations.publish(submission, editor_actor)
        assert submission.interview.share_image
        seen_files.update(_files(app))
        operations.unpublish(submission, editor_actor, "Taken down at their request.")
        sid = submission.id
        deliver_due()
        assert db.session.scalar(select(OutboxEmail.id).where(OutboxEmail.to_address == EMAIL))
    assert len(seen_files) >= 3  # two photos and a share card
    # Another application by the same person, withdrawn long ago, keeps its emails.
    with app.app_context():
        other, _ = operations.apply(
            operations.Profile(name=NAME, email=EMAIL, business="Another Venture"), {}
        )
        operations.withdraw(other)
        other_id = other.id
        other_emails = db.session.query(OutboxEmail).filter_by(private_link=f"status:{other_id}")
        assert other_emails.count() >= 1

    response = post_form(client, f"/status/{token}/erase", {"confirm": "yes"})
    assert "Your application is erased" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(StatusToken).filter_by(submission_id=sid).count() == 0
        kept = db.session.query(OutboxEmail).filter_by(private_link=f"status:{other_id}")
        assert kept.count() >= 1  # the other application's emails were not touched
        # Erase that one too, so that nothing of the person is left at all.
        operations.erase(db.session.get(Submission, other_id))

    needles = [NAME, EMAIL, BUSINESS, SENTENCE]
    with app.app_context():
        for row in db.session.scalars(select(OutboxEmail)):
            stored = row.subject + row.text_body + row.html_body + repr(row.recipients)
            assert not [n for n in needles if n in stored], row.subject
    remaining = _files(app)
    for name, content in seen_files.items():
        assert name not in remaining
        assert content not in remaining.values()
    everything = _database_bytes(app, tmp_path)
    for needle in needles:
        assert needle.encode() not in everything, needle
    for name, content in seen_files.items():  # the photos were rows of the database
        assert _distinctive(content) not in everything, name


def test_erasing_strikes_the_applicant_from_daily_digests_only(app, editor):
    from portal.models import User
    from portal.notifications.emails import queue_digests

    with app.app_context():
        db.session.execute(sa_update(User).values(notify_new="digest"))
        erased = operations.apply(
            operations.Profile(name=NAME, email=EMAIL, business=BUSINESS), {}
        )[0]
        kept = operations.apply(
            operations.Profile(name="Other Person", email="o@x.example", business="Other Co"), {}
        )[0]
        assert queue_digests(erased.submitted_at.date()) == 1
        db.session.commit()
        operations.erase(erased)
        digest = db.session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "digest"))
        assert NAME not in digest.text_body and BUSINESS not in digest.html_body
        assert kept.name in digest.text_body
