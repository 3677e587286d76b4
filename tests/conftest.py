"""Shared fixtures: a database built by the real migrations (SQLite, or PostgreSQL when
TEST_DATABASE_URL is set), a clean state per test, and the app behind a real ASGI client."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.config import Settings, normalise_db_url
from app.migrate import upgrade
from app.models import metadata
from tests.paths import FIXTURES, VECTORS  # noqa: F401  (re-exported: tests import them from here)
from tests.support.asgi import asgi_client

REPO_ROOT = Path(__file__).resolve().parent.parent
# PostgreSQL databases made by private_database() in this session (xdist worker), dropped at its end.
_private_databases: list[str] = []


def _postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    return normalise_db_url(url) if url else None


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database per test session (per xdist worker), built by `alembic upgrade head`."""
    pg = _postgres_url()
    if pg is None:
        template = tmp_path_factory.mktemp("db") / "template.db"
        url = f"sqlite+aiosqlite:///{template}"
        upgrade(url)
        yield url
        return
    name = f"zka_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg.replace("+psycopg", "+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            for db in [*_private_databases, name]:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        _private_databases.clear()
        admin.dispose()


def private_database(migrated_database: str, directory: Path) -> str:
    """A database of one's own, for fixtures that outlive a test (module-scoped servers): a copy of the
    SQLite template, or a new PostgreSQL database built by the migrations. Never the shared template."""
    if migrated_database.startswith("sqlite"):
        copy = directory / f"private-{uuid.uuid4().hex[:8]}.db"
        shutil.copy(migrated_database.split("///", 1)[1], copy)
        return f"sqlite+aiosqlite:///{copy}"
    name = f"zka_private_{uuid.uuid4().hex[:10]}"
    admin = create_engine(_postgres_url() or migrated_database, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    _private_databases.append(name)
    url = make_url(migrated_database).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url


@pytest.fixture
def database_url(migrated_database: str, tmp_path: Path) -> str:
    """A clean database for one test: a copy of the SQLite template, or truncated PostgreSQL tables."""
    if migrated_database.startswith("sqlite"):
        copy = tmp_path / "zka.db"
        shutil.copy(migrated_database.split("///", 1)[1], copy)
        return f"sqlite+aiosqlite:///{copy}"
    engine = create_engine(migrated_database)
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return migrated_database


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    data_dir = tmp_path / "data"
    return Settings(
        server={"data_dir": data_dir},  # type: ignore[arg-type]
        db={"url": database_url},  # type: ignore[arg-type]
        sync={"scheduler_enabled": False},  # type: ignore[arg-type]
    )


@pytest.fixture
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app (lifespan included) behind httpx, as a loopback client."""
    async with asgi_client(settings) as client:
        yield client
