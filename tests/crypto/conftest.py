"""DB fixtures for the crypto tests: SQLite always, PostgreSQL too when TEST_DATABASE_URL is set.

Tables come from SQLModel.metadata for now. On PostgreSQL each test gets its own schema so parallel
runs (and other suites on the same database) do not collide.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

import app.models  # noqa: F401  (registers the tables)
from app.config import normalise_db_url
from tests.paths import VECTORS

_BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def load_vector(name: str) -> dict[str, Any]:
    return json.loads((VECTORS / name).read_text())


@pytest.fixture(params=_BACKENDS)
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        eng = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'crypto.db'}")
        async with eng.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)
        yield eng
        await eng.dispose()
        return
    url = normalise_db_url(os.environ["TEST_DATABASE_URL"])
    schema = f"zka_crypto_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(url)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    eng = create_async_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        async with eng.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)
        yield eng
    finally:
        await eng.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
