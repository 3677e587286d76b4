"""Alembic, driven from code: `zka migrate`, dev start-up and the tests use the same entry point."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from app.db import sync_url

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", sync_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)
