"""ProcessSyncJob doing what it is for, end to end: a connection's first snapshot, over gRPC, by zka's rules,
with the same outcome as REST's POST /api/v1/sync.

zka's connect takes the first snapshot itself, in one transaction with storing the connection (when the
venue cannot be read, nothing is stored), so a manual sync only runs for a connection stored without one:
e.g. one carried over from the TypeScript original, whose CreateUserConnection never read the venue (its
gateway called ProcessSyncJob next). The tests store such connections in the running service's database as
connect would (credentials encrypted under the service's own DEK, opened with its development master key);
everything after that is the running `zka serve` against a real fake binance (signatures checked)."""

from __future__ import annotations

import json
import os
import re
import ssl
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from app.connectors.base import Credentials
from app.db import SessionMaker, create_engine, create_sessionmaker, unit_of_work
from app.models import Snapshot, SyncEvent
from app.services.crypto import open_or_create_dek
from tests.factories import create_sealed_connection
from tests.fakes.ccxt_venues import FakeVenue, VenueRefusal, binance_scenario, fake_venue
from tests.grpc.conftest import Client, Service, auth, channel, ms, serve, token

MASTER_KEY = os.urandom(32).hex()  # the service's development master key: the test opens its DEK with it
API_KEY, API_SECRET = "grpc-sync-api-key-0001", "grpc-sync-api-secret-0001"
EQUITY = 0.5 * 50_000 + 1_000  # BTC at 50,000 and USDT
DOWN = VenueRefusal(503, {"code": -1001, "msg": "Internal error; unable to process your request. Please try again."})


@pytest.fixture(scope="module")
def binance() -> Iterator[FakeVenue]:
    scenario = binance_scenario({"spot": {"BTC": "0.5", "USDT": "1000"}}, {"BTC/USDT": "50000"},
                                api_key=API_KEY, api_secret=API_SECRET)
    with fake_venue("binance", scenario) as venue:
        yield venue


@pytest.fixture(scope="module")
def service(migrated_database: str, tmp_path_factory: pytest.TempPathFactory, binance: FakeVenue) -> Iterator[Service]:
    """`zka serve` with gRPC on, reading binance from the fake."""
    yield from serve(migrated_database, tmp_path_factory.mktemp("grpc-sync"),
                      {"ZKA_VENUE_URLS": json.dumps({"binance": binance.base_url}), "ZKA_MASTER_KEY": MASTER_KEY})


@pytest.fixture
async def db(service: Service) -> AsyncIterator[SessionMaker]:
    engine = create_engine(service.database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def stub(service: Service, client_stubs: Client) -> AsyncIterator[Any]:
    async with channel(service) as ch:
        yield client_stubs.grpc_pb.EnclaveServiceStub(ch)


def rest(service: Service, uid: str) -> httpx.AsyncClient:
    context = ssl.create_default_context(cadata=service.cert_pem.decode())
    context.check_hostname = False  # pinned to the attested certificate itself
    return httpx.AsyncClient(base_url=service.url, verify=context, timeout=60,
                             headers={"Authorization": f"Bearer {token(uid)}"})


async def stored_without_snapshot(db: SessionMaker, uid: str) -> int:
    """A connection of `uid` to the fake binance account, with no snapshot yet."""
    async with unit_of_work(db) as session:
        dek = await open_or_create_dek(session, bytes.fromhex(MASTER_KEY), wrapping="env")  # the service's own
        conn = await create_sealed_connection(session, dek, Credentials(API_KEY, API_SECRET, None), user_uid=uid,
                                              created_at=datetime.now(UTC))
        assert conn.id is not None
        return conn.id


async def history(db: SessionMaker, connection_id: int) -> tuple[list[tuple[str, str]], list[Snapshot]]:
    """The connection's sync_events (trigger, outcome) and snapshots."""
    async with db() as session:
        events = (await session.exec(select(SyncEvent).where(SyncEvent.connection_id == connection_id)
                                     .order_by(col(SyncEvent.id)))).all()
        snaps = (await session.exec(select(Snapshot).where(Snapshot.connection_id == connection_id))).all()
    return [(e.trigger, e.outcome) for e in events], list(snaps)


async def test_the_first_snapshot_over_grpc_then_refused_as_over_rest(
    service: Service, stub: Any, client_stubs: Client, db: SessionMaker, binance: FakeVenue
) -> None:
    pb = client_stubs.pb
    dora, eve = "user_grpcSyncDora01", "user_grpcSyncEve001"  # one over gRPC, her twin over REST
    over_grpc, over_rest = await stored_without_snapshot(db, dora), await stored_without_snapshot(db, eve)

    first = await stub.ProcessSyncJob(pb.SyncJobRequest(user_uid=dora), metadata=auth(dora), timeout=120)
    assert (first.success, first.error, first.user_uid, first.exchange) == (True, "", dora, "")
    assert (first.snapshots_generated, first.synced) == (1, 0)  # the first snapshot; no trades in this account
    assert first.latest_snapshot.equity == pytest.approx(EQUITY)
    assert first.latest_snapshot.balance == pytest.approx(1_000)  # cash: the USDT
    events, snaps = await history(db, over_grpc)
    assert events == [("initial", "success")] and [s.trigger for s in snaps] == ["initial"]
    assert first.latest_snapshot.timestamp == ms(snaps[0].day)

    async with rest(service, eve) as client:
        body = (await client.post("/api/v1/sync", json={"connection_id": over_rest})).json()
        assert (body["trigger"], body["backfilled_days"]) == ("initial", 0)
        series = (await client.get("/api/v1/snapshots", params={"start_date": body["day"]})).json()["snapshots"]
        assert [(r["day"], float(r["total_equity"]), float(r["cash"])) for r in series] == [
            (snaps[0].day.isoformat(), first.latest_snapshot.equity, first.latest_snapshot.balance)]

        # Within 23 h, and with a snapshot now: refused on both transports with one message, audited, nothing run.
        calls = len(binance.requests)
        second = await stub.ProcessSyncJob(pb.SyncJobRequest(user_uid=dora, exchange="binance"), metadata=auth(dora),
                                           timeout=60)
        again = await client.post("/api/v1/sync", json={"connection_id": over_rest})
    assert (second.success, second.exchange, second.snapshots_generated, second.synced) == (False, "binance", 0, 0)
    assert again.status_code == 409 and again.json()["error"]["message"] == second.error
    assert "first snapshot" in second.error and "00:00 UTC" in second.error
    assert len(binance.requests) == calls  # the venue was not asked again
    assert (await history(db, over_grpc))[0] == (await history(db, over_rest))[0] == [
        ("initial", "success"), ("manual", "refused")]


async def test_a_first_sync_the_venue_failed_is_not_retried_within_23_hours(
    service: Service, stub: Any, client_stubs: Client, db: SessionMaker, binance: FakeVenue
) -> None:
    pb = client_stubs.pb
    finn, gail = "user_grpcSyncFinn01", "user_grpcSyncGail01"
    over_grpc, over_rest = await stored_without_snapshot(db, finn), await stored_without_snapshot(db, gail)
    account = binance.scenario.responses["/api/v3/account"]

    def down(_query: dict[str, str]) -> Any:
        raise DOWN

    binance.scenario.responses["/api/v3/account"] = down  # the venue fails at that moment
    try:
        failed = await stub.ProcessSyncJob(pb.SyncJobRequest(user_uid=finn), metadata=auth(finn), timeout=120)
        async with rest(service, gail) as client:
            failed_rest = await client.post("/api/v1/sync", json={"connection_id": over_rest})
    finally:
        binance.scenario.responses["/api/v3/account"] = account
    assert (failed.success, failed.exchange, failed.snapshots_generated) == (False, "binance", 0)
    assert failed_rest.status_code == 502 and failed_rest.json()["error"]["message"] == failed.error
    assert "binance could not be read" in failed.error and "-1001" not in failed.error  # the venue's text stays out

    # The venue is back, but a manual sync ran less than 23 h ago: refused (the next chance is 00:00 UTC's run).
    retry = await stub.ProcessSyncJob(pb.SyncJobRequest(user_uid=finn), metadata=auth(finn), timeout=60)
    async with rest(service, gail) as client:
        retry_rest = await client.post("/api/v1/sync", json={"connection_id": over_rest})
    assert (retry.success, retry.snapshots_generated) == (False, 0)
    assert retry_rest.status_code == 429 and int(retry_rest.headers["retry-after"]) > 22 * 3600
    wait = re.compile(r"retry in \d+ s")
    assert wait.sub("", retry.error) == wait.sub("", retry_rest.json()["error"]["message"])
    assert "less than 23 h ago" in retry.error
    for conn in (over_grpc, over_rest):
        events, snaps = await history(db, conn)
        assert events == [("initial", "failed"), ("manual", "refused")] and snaps == []
