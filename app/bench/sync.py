"""Scheduled sync of 1,000 connections against local replica venues (SPEC §13: ≤ 60 s, peak RSS ≤ 300 MB).

Three processes: the fake venues (tests/fakes/ccxt_venue_process.py, so their CPU and memory are not
counted), and a worker that is the service as the scheduler runs it — build_state (SQLite in a temporary
data dir), 1,000 stored connections with encrypted credentials spread over binance, bybit, okx and
kraken, then one run_daily_sync() with the default concurrency settings. The worker reports the run's
wall time and its own peak RSS (VmHWM: the whole life of the process, start-up included).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.bench import Measure

VENUES = ("binance", "bybit", "okx", "kraken")
REPO_ROOT = Path(__file__).resolve().parents[2]


def measure_sync(connections: int = 1000) -> list[Measure]:
    name = f"scheduled sync of {connections:,} connections"
    if not (REPO_ROOT / "tests" / "fakes" / "ccxt_venue_process.py").is_file():
        return [Measure(name, "<= 60 s, RSS <= 300 MB", "needs the repository's fake venues", None)]
    fakes = subprocess.Popen([sys.executable, "-m", "tests.fakes.ccxt_venue_process", *VENUES], cwd=REPO_ROOT,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert fakes.stdout is not None
        urls = json.loads(fakes.stdout.readline())
        result = _run_worker(urls, connections)
    finally:
        fakes.terminate()
        fakes.wait(timeout=15)
    wall, rss = result["wall_s"], result["peak_rss_mb"]
    detail = f"{result['outcomes']}"
    return [
        Measure(f"{name}: wall", "<= 60 s", f"{wall:.1f} s ({connections / wall:.0f}/s) {detail}",
                wall <= 60 and result["outcomes"].get("success") == connections),
        Measure(f"{name}: peak RSS", "<= 300 MB", f"{rss:.0f} MB (start {result['start_rss_mb']:.0f} MB)",
                rss <= 300),
    ]


def _run_worker(urls: dict[str, str], connections: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ZKA_DATA_DIR": str(Path(tmp) / "data"), "ZKA_VENUE_URLS": json.dumps(urls),
               "ZKA_SCHEDULER_ENABLED": "false", "ZKA_ENV": "development"}
        env.pop("DATABASE_URL", None)
        env.pop("ZKA_DATABASE_URL", None)
        out = subprocess.run([sys.executable, "-m", "app.bench.sync", str(connections)], env=env, cwd=REPO_ROOT,
                             capture_output=True, text=True, timeout=600, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"sync benchmark worker failed: {out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _worker(connections: int) -> dict[str, Any]:
    from app.config import load_settings
    from app.connectors.base import Credentials
    from app.core.logging import get_logger
    from app.db import unit_of_work
    from app.models import ExchangeConnection
    from app.services.crypto import encrypt_credentials
    from app.services.scheduler import run_daily_sync
    from app.services.sync import sync_runtime
    from app.state import build_state

    state = await build_state(load_settings())
    get_logger("zka.bench").info("sync benchmark: storing connections", connections=connections)
    assert state.keys is not None
    created = datetime(2024, 1, 1, tzinfo=UTC)
    async with unit_of_work(state.sessionmaker) as session:
        rows = [ExchangeConnection(user_uid=f"user_bench{i:08d}", exchange=VENUES[i % len(VENUES)], label="main",
                                   permissions=["read"], created_at=created) for i in range(connections)]
        session.add_all(rows)
        await session.flush()
        for row in rows:
            assert row.id is not None
            secret = f"bench-secret-{row.id:08d}"
            if row.exchange == "kraken":  # kraken secrets are base64
                secret = base64.b64encode(secret.encode()).decode()
            creds = Credentials(f"bench-key-{row.id:08d}", secret, "bench-pass" if row.exchange == "okx" else None)
            row.credentials = encrypt_credentials(state.keys.dek, row.id, creds)
    start_rss = _rss_mb("VmRSS")
    started = time.perf_counter()
    result = await run_daily_sync(sync_runtime(state), now=datetime.now(UTC))
    wall = time.perf_counter() - started
    await state.aclose()
    return {"wall_s": wall, "peak_rss_mb": _rss_mb("VmHWM"), "start_rss_mb": start_rss, "outcomes": result.outcomes}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(_worker(int(sys.argv[1])))))  # noqa: T201 - read by measure_sync
