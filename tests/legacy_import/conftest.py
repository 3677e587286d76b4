"""The source of these tests is a TS-era PostgreSQL database. PostgreSQL is always there (CI runs the
suite on SQLite and on PostgreSQL; on the SQLite pass TEST_DATABASE_URL is unset), so the source server
is ZKA_TEST_LEGACY_PG (default postgresql://postgres@127.0.0.1:5432/test): each test gets its own
database there, dropped after. The tests skip only if that server cannot be reached. The target is
zka's test database (SQLite or PostgreSQL, tests/conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Settings
from app.services.keys import master_key_provider
from tests.legacy_import.dataset import MEASUREMENT, build, fill, private_source
from tests.legacy_import.ts_era import TsDatabase

ADMIN_URL = os.environ.get("ZKA_TEST_LEGACY_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _reachable() -> bool:
    import psycopg

    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@pytest.fixture(scope="session")
def source_server() -> str:
    if not _reachable():
        pytest.skip(f"no PostgreSQL for the TS-era source at ZKA_TEST_LEGACY_PG={ADMIN_URL}")
    return ADMIN_URL


class Source:
    def __init__(self, admin: str) -> None:
        self.admin = admin
        self.names: list[str] = []

    def make(self, db: TsDatabase | None = None, *, exclude_column: bool = False) -> str:
        name, url = private_source(self.admin)
        self.names.append(name)
        fill(url, db or build(), exclude_column=exclude_column)
        return url

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as conn:
            for name in self.names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


@pytest.fixture
def sources(source_server: str) -> Iterator[Source]:
    made = Source(source_server)
    try:
        yield made
    finally:
        made.drop()


@pytest.fixture
def source_url(sources: Source) -> str:
    return sources.make()


@pytest.fixture
async def zka_master(settings: Settings) -> bytes:
    settings.server.data_dir.mkdir(parents=True, exist_ok=True)
    return await master_key_provider(settings).load()


@pytest.fixture
def measurement() -> str:
    return MEASUREMENT


@pytest.fixture
def data_dir(settings: Settings) -> Path:
    return Path(settings.server.data_dir)
