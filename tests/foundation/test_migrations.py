from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from app.db import sync_url
from app.models import metadata


def test_migrations_and_models_agree(migrated_database: str) -> None:
    engine = create_engine(sync_url(migrated_database))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
    engine.dispose()


def test_every_spec_table_exists(migrated_database: str) -> None:
    engine = create_engine(sync_url(migrated_database))
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {
        "users", "exchange_connections", "snapshots", "sync_events", "data_encryption_keys",
        "sealed_keys", "signed_reports", "benchmark_prices",
    } <= tables


def test_history_is_linear_with_one_head() -> None:
    from alembic.script import ScriptDirectory

    from app.migrate import alembic_config, head_revision

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert script.get_heads() == [head_revision()]
