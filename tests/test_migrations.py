"""One linear migration history that builds exactly the schema the models describe, on each engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from bankcrm.cli import PROJECT_ROOT
from bankcrm.core.db import create_db_engine
from bankcrm.schema import metadata, render_item
from tests.conftest import new_scratch_database


def alembic_config(url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url)
    return config


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_item": render_item, "target_metadata": metadata}
        )
        differences = compare_metadata(context, metadata)
    assert differences == [], f"models and migrations differ: {differences}"


def test_history_is_linear() -> None:
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(scripts.get_heads()) == 1
    for revision in scripts.walk_revisions():
        assert not revision.is_merge_point, f"merge revision {revision.revision}"


def test_downgrade_to_nothing_and_upgrade_again() -> None:
    scratch = new_scratch_database("migrate")
    try:
        config = alembic_config(scratch.url)
        command.upgrade(config, "head")
        command.downgrade(config, "base")
        engine = create_db_engine(scratch.url)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        engine.dispose()
        command.upgrade(config, "head")
        engine = create_db_engine(scratch.url)
        assert {"audit_event", "app_user", "org_unit"} <= set(inspect(engine).get_table_names())
        engine.dispose()
    finally:
        scratch.close()


def test_every_migration_file_is_named_by_its_revision() -> None:
    for path in (Path(PROJECT_ROOT) / "migrations" / "versions").glob("*.py"):
        assert path.name[:4].isdigit(), path.name
