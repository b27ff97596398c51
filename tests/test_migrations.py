"""Migrations from an empty database reach exactly the models' schema."""

from __future__ import annotations

from datetime import datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import func, select, text
from sqlalchemy import inspect as sa_inspect

from portal import _described_by_models, search
from portal.extensions import db
from portal.models import Question
from portal.questionnaire import DEFAULT_QUESTIONS


def _empty_database():
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    else:
        db.drop_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
            search.drop_structures(conn)


def test_upgrade_from_empty_matches_the_models(app):
    with app.app_context():
        _empty_database()
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "render_as_batch": True,
                    "include_object": _described_by_models,
                },
            )
            diff = compare_metadata(context, db.metadata)
        assert diff == []
        # The default questionnaire comes with the schema.
        assert db.session.scalar(select(func.count()).select_from(Question)) == len(
            DEFAULT_QUESTIONS
        )


def test_flask_db_check_finds_no_drift(app):
    with app.app_context():
        _empty_database()
        upgrade()
    result = app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output


def test_migrations_have_a_single_head(app):
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_0012_redacts_links_stored_before_it_and_revokes_set_password_links(app):
    link = "http://portal.test/status/AbCdEfGh_ijkl-123"
    with app.app_context():
        _empty_database()
        upgrade(revision="0011")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, email, name, role, password_hash, active, notify_new, "
                    "session_nonce, created_at) VALUES (7, 'u@portal.test', 'U', 'editor', '!', "
                    ":yes, 'each', 'n', :now)"
                ),
                {"yes": True, "now": datetime(2026, 11, 1)},
            )
            conn.execute(
                text(
                    "INSERT INTO password_tokens (user_id, token_hash, expires_at, created_at) "
                    "VALUES (7, 'h', :later, :now)"
                ),
                {"later": datetime(2099, 1, 1), "now": datetime(2026, 11, 1)},
            )
            conn.execute(
                text(
                    "INSERT INTO outbox (dedup_key, kind, recipients, to_address, subject, "
                    "text_body, html_body, status, attempts, last_error, deliver_after, "
                    "created_at) VALUES (:key, 'status_link', '[]', 'a@b.example', 'S', :text, "
                    ":html, 'pending', 0, '', :now, :now)"
                ),
                {
                    "key": "resend:42:2026:status_link:a@b.example",
                    "text": f"Your page: {link}\n",
                    "html": f'<a href="{link}">{link}</a>',
                    "now": datetime(2026, 11, 1),
                },
            )
        upgrade()
        with db.engine.connect() as conn:
            row = conn.execute(text("SELECT text_body, html_body, private_link FROM outbox")).one()
            used = conn.execute(text("SELECT used_at FROM password_tokens")).scalar()
    assert "AbCdEfGh" not in row.text_body + row.html_body
    assert "[private link]" in row.text_body and row.private_link == "status:42"
    assert used is not None


def test_0017_reads_the_photo_folder_into_the_database_and_back(app, client, monkeypatch):
    from pathlib import Path

    from flask_migrate import downgrade

    folder = Path(app.instance_path) / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    photo = folder / ("a" * 32 + ".jpg")
    card = folder / ("b" * 32 + ".png")
    photo.write_bytes(b"\xff\xd8 a photo's bytes")
    card.write_bytes(b"\x89PNG a card's bytes")
    (folder / ("c" * 32 + ".jpg.partial")).write_bytes(b"half")  # a crash's leftover
    monkeypatch.delenv("PHOTO_DIR", raising=False)
    with app.app_context():
        _empty_database()
        upgrade(revision="0016")
        upgrade()
        rows = dict(db.session.execute(text("SELECT name, size FROM stored_files")).all())
        db.session.remove()
    assert rows == {photo.name: photo.stat().st_size, card.name: card.stat().st_size}
    served = client.get(f"/photos/{photo.name}")
    assert served.status_code == 200 and served.data == photo.read_bytes()
    assert served.headers["Content-Type"] == "image/jpeg"
    photo.unlink()
    with app.app_context():
        downgrade(revision="0016")
    assert photo.read_bytes() == b"\xff\xd8 a photo's bytes"  # written back


def test_0017_refuses_to_lose_every_photo_when_their_folder_is_not_found(app, monkeypatch):
    import pytest
    from flask_migrate import downgrade

    from portal.workflow import State
    from tests.factories import submission_in

    monkeypatch.setenv("PHOTO_DIR", str(app.instance_path) + "/not-the-photo-folder")
    with app.app_context():
        _empty_database()
        upgrade()  # the models are today's: the application is made, then the schema goes back
        submission_in(State.SUBMITTED)
        db.session.remove()
        downgrade(revision="0016")
        db.session.execute(
            text("UPDATE submissions SET photo = :name"), {"name": "d" * 32 + ".jpg"}
        )
        db.session.commit()
        db.session.remove()
        with pytest.raises(SystemExit):  # Flask-Migrate's answer to the migration's error
            upgrade()
        db.session.remove()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0016"
            assert "stored_files" not in sa_inspect(conn).get_table_names()


def test_0018_takes_the_drafts_out_of_sqlites_search_index(app, client):
    from flask_migrate import downgrade

    from portal import operations
    from portal.workflow import Action, State
    from tests.factories import actor_for, submission_in

    with app.app_context():
        _empty_database()
        upgrade()  # the models are today's: the interviews are made, then the schema goes back
        live = submission_in(State.READY, business="Quince Quarterly")
        operations.perform(live, Action.PUBLISH, actor_for(Action.PUBLISH))
        drafts = [submission_in(State.APPROVED, business=f"Quince Draft {n}") for n in range(3)]
        live_id, draft_ids = live.interview.id, [(d.interview.id, d.business) for d in drafts]
        db.session.remove()
        downgrade(revision="0017")
        if db.engine.dialect.name == "sqlite":
            for draft_id, business in draft_ids:  # as the code before 0018 indexed a draft
                db.session.execute(
                    text(
                        "INSERT INTO interview_search (rowid, title, name, business, body) "
                        "VALUES (:id, 'Quince', '', :business, 'quince')"
                    ),
                    {"id": draft_id, "business": business},
                )
            db.session.commit()
        db.session.remove()
        upgrade()
        if db.engine.dialect.name == "sqlite":
            indexed = db.session.scalars(text("SELECT rowid FROM interview_search")).all()
            assert indexed == [live_id]
        db.session.remove()
    page = client.get("/search?q=quince").get_data(as_text=True)
    assert "Quince Quarterly" in page and "Quince Draft" not in page


def test_0019_downgrade_puts_an_application_waiting_for_answers_back_in_review(app):
    from flask_migrate import downgrade

    from portal.workflow import State
    from tests.factories import submission_in

    with app.app_context():
        _empty_database()
        upgrade()
        waiting = submission_in(State.FOLLOW_UPS_ASKED).id
        db.session.remove()
        downgrade(revision="0018")
        state = db.session.scalar(
            text("SELECT state FROM submissions WHERE id = :id"), {"id": waiting}
        )
        db.session.remove()
        with db.engine.connect() as conn:
            tables = sa_inspect(conn).get_table_names()
        upgrade()
    assert state == "in_review" and "follow_ups" not in tables


def test_0024_learns_the_words_of_what_is_published_and_no_drafts(app, client):
    from flask_migrate import downgrade

    from portal import operations
    from portal.workflow import Action, State
    from tests.factories import actor_for, submission_in

    with app.app_context():
        _empty_database()
        upgrade()
        live = submission_in(State.READY, business="Quince Quarterly")
        operations.perform(live, Action.PUBLISH, actor_for(Action.PUBLISH))
        submission_in(State.APPROVED, business="Zanzibar Draftworks")
        db.session.remove()
        downgrade(revision="0023")
        upgrade()
        words = set(db.session.scalars(text("SELECT word FROM search_words")))
        db.session.remove()
    assert {"quince", "quarterly"} <= words and "zanzibar" not in words
    page = client.get("/search?q=quartrly").get_data(as_text=True)
    assert "Did you mean" in page and "quarterly" in page
