"""A real app whose benchmark sources are local fakes, and a session on the same database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from app.db import SessionMaker, create_engine, create_sessionmaker
from tests.reports.fakes import FakeBinance, FakeYahoo, serve
from tests.support.asgi import asgi_client


@pytest.fixture
async def yahoo() -> AsyncIterator[tuple[FakeYahoo, str]]:
    fake = FakeYahoo()
    runner, url = await serve(fake.handle, "/v8/finance/chart/{symbol}")
    yield fake, url
    await runner.cleanup()


@pytest.fixture
async def binance() -> AsyncIterator[tuple[FakeBinance, str]]:
    fake = FakeBinance()
    runner, url = await serve(fake.handle, "/{tail:.*}")
    yield fake, url
    await runner.cleanup()


@pytest.fixture
def report_settings(database_url: str, tmp_path: Path, yahoo: tuple[FakeYahoo, str],
                    binance: tuple[FakeBinance, str]) -> Settings:
    return Settings(
        server={"data_dir": tmp_path / "data"},  # type: ignore[arg-type]
        db={"url": database_url},  # type: ignore[arg-type]
        sync={"scheduler_enabled": False, "benchmark_yahoo_url": yahoo[1],  # type: ignore[arg-type]
              "benchmark_crypto_url": binance[1]},
        limits={"rate_limits_enabled": False},  # type: ignore[arg-type]
    )


@pytest.fixture
async def client(report_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(report_settings) as c:
        yield c


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[SessionMaker]:
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()
