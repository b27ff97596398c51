"""Migrations from an empty database reach exactly the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import func, select

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
