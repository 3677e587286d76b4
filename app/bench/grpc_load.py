"""gRPC throughput of a real `zka serve` with ZKA_GRPC_PORT: 50 concurrent streams on one HTTP/2 connection
(as the gateway's channel), HealthCheck and GetAggregatedMetrics (a user with a year of daily snapshots)."""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.bench import Measure
from app.bench.server import free_port, running_server

USER = "user_benchgrpc0001"
SECRET = "bench-grpc-" + "s" * 32
STREAMS = 50


def measure_grpc(seconds: float = 5.0) -> list[Measure]:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        env = {"ZKA_GRPC_PORT": str(port), "ZKA_JWT_SECRET": SECRET, "ZKA_RATE_LIMITS_ENABLED": "false"}
        with running_server(env=env, data_dir=data_dir) as server:
            return asyncio.run(_measure(str(server["url"]), port, data_dir / "zka.db", seconds))


async def _measure(url: str, port: int, database: Path, seconds: float) -> list[Measure]:
    import ssl

    import grpc
    import jwt

    from app.grpc.generated import enclave_pb2 as pb
    from app.grpc.generated import enclave_pb2_grpc

    await _seed(f"sqlite+aiosqlite:///{database}")
    host, https_port = url.removeprefix("https://").rsplit(":", 1)
    pem = ssl.get_server_certificate((host, int(https_port))).encode()  # the same certificate on both ports
    now = int(time.time())
    token = jwt.encode({"sub": USER, "aud": "zka", "iat": now, "exp": now + 3000}, SECRET, algorithm="HS256")
    metadata = (("authorization", f"Bearer {token}"),)
    out = []
    async with grpc.aio.secure_channel(f"127.0.0.1:{port}", grpc.ssl_channel_credentials(pem)) as channel:
        stub = enclave_pb2_grpc.EnclaveServiceStub(channel)
        calls: list[tuple[str, Any]] = [
            ("HealthCheck", lambda: stub.HealthCheck(pb.HealthCheckRequest(), timeout=10)),
            ("GetAggregatedMetrics", lambda: stub.GetAggregatedMetrics(
                pb.AggregatedMetricsRequest(user_uid=USER), metadata=metadata, timeout=10)),
        ]
        for name, call in calls:
            await _load(call, 1.0)  # warm-up
            rate, p50, p99 = await _load(call, seconds)
            out.append(Measure(f"gRPC {name}, {STREAMS} concurrent streams", "(no SPEC budget)",
                               f"{rate:,.0f} req/s; p50 {p50:.1f} ms, p99 {p99:.1f} ms", None, reference=True))
    return out


async def _load(call: Any, seconds: float) -> tuple[float, float, float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def stream() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await call()
            latencies.append((time.perf_counter() - started) * 1000)

    began = time.perf_counter()
    await asyncio.gather(*(stream() for _ in range(STREAMS)))
    elapsed = time.perf_counter() - began
    cuts = statistics.quantiles(latencies, n=100)
    return len(latencies) / elapsed, cuts[49], cuts[98]


async def _seed(database_url: str) -> None:
    """One connection, a year of daily snapshots (what GetAggregatedMetrics reads by default)."""
    from app.db import create_engine, create_sessionmaker
    from app.models import ExchangeConnection, Snapshot, User

    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            session.add(User(uid=USER))
            conn = ExchangeConnection(user_uid=USER, exchange="binance", label="bench", credentials=None,
                                      permissions=["read"])
            session.add(conn)
            await session.flush()
            assert conn.id is not None
            today = datetime.now(UTC).date()
            for i in range(365):
                day: date = today - timedelta(days=365 - i)
                equity = Decimal(10_000 + i)
                session.add(Snapshot(
                    user_uid=USER, connection_id=conn.id, exchange="binance", label="bench", day=day,
                    taken_at=datetime.combine(day + timedelta(days=1), dtime(0, 0, 5), tzinfo=UTC),
                    trigger="scheduled", total_equity=equity, cash=equity, unrealized_pnl=Decimal(0),
                    deposits=Decimal(0), withdrawals=Decimal(0),
                    breakdown={"spot": {"equity": str(equity), "trades": 3, "volume": "1000", "fees": "1",
                                        "funding": "0"}}))
            await session.commit()
    finally:
        await engine.dispose()


if __name__ == "__main__":  # pragma: no cover - `python -m app.bench.grpc_load`
    from app.bench import render

    os.environ.setdefault("ZKA_SCHEDULER_ENABLED", "false")
    print(render(measure_grpc()))  # noqa: T201
