"""zka import-legacy against a TS-era PostgreSQL database (ts_era.py, dataset.py): every class of row,
credentials, keys, idempotence, dry run, crash and resume, verification, the one-line refusals."""

from __future__ import annotations

import json
import signal
import subprocess
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlmodel import select

from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.models import ExchangeConnection, LegacyReport, Snapshot, SyncEvent
from app.services.crypto.credentials_cipher import decrypt_credentials
from app.services.crypto.keyring import open_or_create_dek
from app.services.legacy_import.keys import master_key_from_measurement
from app.services.report_verify import verify_report
from tests.conftest import private_database
from tests.legacy_import.conftest import Source
from tests.legacy_import.dataset import (
    CREDENTIALS,
    MEASUREMENT,
    REPORT,
    USER_DAILY,
    USER_HOURLY,
    USER_IBKR,
    USER_VECTOR,
    all_expected,
    build,
)
from tests.legacy_import.helpers import cli, cli_command, cli_env, import_into, row_count, snapshot_of, sync_url
from tests.legacy_import.ts_era import ts_master_key
from tests.support.asgi import asgi_client


def test_master_key_derivation_matches_the_original() -> None:
    """HKDF as key-derivation.service.ts does it, checked against RFC 5869 computed by hand (ts_era.py)."""
    assert master_key_from_measurement(MEASUREMENT) == ts_master_key(MEASUREMENT)
    assert master_key_from_measurement(MEASUREMENT, "1.55") == ts_master_key(MEASUREMENT, "1.55")
    # Node's lenient hex: decoding stops at the first pair that is not hex.
    assert master_key_from_measurement("a1b2zz99") == ts_master_key("a1b2")


async def test_import_keeps_every_day_credential_and_report(settings: Settings, source_url: str,
                                                            zka_master: bytes) -> None:
    result = await import_into(settings, source_url, zka_master)
    s = result.summary
    assert s.imported["users"] == 4
    assert s.classes == Counter({"midnight_close": 19, "backfill_close": 5, "first_sync": 4, "intraday": 3,
                                 "overwritten_midnight": 1, "rejected": 1, "duplicate": 1})
    assert s.unsupported == [next(x for x in s.unsupported if x.startswith("bitmex (connection "))]
    assert len(s.deleted) == 1 and s.deleted[0].startswith("bybit of user row")
    assert any("totalEquity is not a finite number" in r for r in s.rejected)
    assert any("backfill close for 2025-03-04 duplicates a first sync (kept)" in r for r in s.rejected)
    assert s.carried_flows == 3 and not s.uncarried
    assert [j.split(" on ")[1] for j in s.jumps] == ["2025-03-09"]

    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            dek = await open_or_create_dek(session, zka_master, wrapping="file")
            rows = (await session.exec(select(ExchangeConnection))).all()
            conns = {(c.user_uid, c.exchange, c.label): c for c in rows}
            snaps = (await session.exec(select(Snapshot))).all()
            events = (await session.exec(select(SyncEvent))).all()
            reports = (await session.exec(select(LegacyReport))).all()
    finally:
        await engine.dispose()

    # Connections: venue names mapped, unsupported and deleted ones inactive, credentials re-encrypted.
    states = {key: (c.is_active, c.legacy_deleted) for key, c in conns.items()}
    assert states == {
        (USER_DAILY, "binance", "Main"): (True, False), (USER_DAILY, "bitmex", "Legacy"): (False, False),
        (USER_HOURLY, "kraken", "Spot"): (True, False),
        (USER_HOURLY, "bybit", "bybit (deleted in the original)"): (False, True),
        (USER_IBKR, "ibkr", "Flex"): (True, False), (USER_VECTOR, "okx", "Vector"): (True, False)}
    for (user, exchange), (key, secret, passphrase) in CREDENTIALS.items():
        conn = next(c for (u, e, _label), c in conns.items() if u == user and e == exchange)
        assert conn.credentials is not None and conn.credentials.startswith("v1.")
        plain = decrypt_credentials(dek, conn.id, conn.credentials)  # type: ignore[arg-type]
        assert (plain.api_key, plain.api_secret, plain.passphrase) == (key, secret, passphrase)
    assert conns[(USER_VECTOR, "okx", "Vector")].credentials is not None  # the real legacy vector decrypted

    # Every day, from the right row, with flows of dropped rows carried to the next close.
    got: dict[tuple[str, str], dict[date, tuple[float, float, float, str]]] = {}
    by_id = {c.id: c for c in conns.values()}
    for snap in snaps:
        conn = by_id[snap.connection_id]
        name = "bybit" if conn.legacy_deleted else conn.exchange
        got.setdefault((snap.user_uid, name), {})[snap.day] = (
            float(snap.total_equity), float(snap.deposits), float(snap.withdrawals), snap.trigger)
    assert got == all_expected()
    assert all(Decimal(str(s.total_equity)) > 0 for s in snaps)

    # Every imported day is marked; the original's syncs are `initial` attempts (anti-cherry-picking).
    imported = Counter((e.connection_id, e.scheduled_for) for e in events if e.trigger == "import")
    assert imported == Counter((s.connection_id, s.day) for s in snaps)
    initial = [e for e in events if e.trigger == "initial"]
    assert len(initial) == 2 and all(e.outcome == "success" for e in initial)

    # The original's signed report, kept verbatim, still verifies (legacy form: hash and signature).
    assert [r.report_id for r in reports] == ["report-123"]
    verdict = verify_report(reports[0].document)
    assert verdict.ok, verdict


async def test_a_second_run_adds_nothing(settings: Settings, source_url: str, zka_master: bytes) -> None:
    await import_into(settings, source_url, zka_master)
    before = snapshot_of(settings.database_url)
    again = await import_into(settings, source_url, zka_master)
    assert sum(again.summary.imported.values()) == 0 and again.users_already == 4
    assert snapshot_of(settings.database_url) == before


async def test_dry_run_changes_nothing_and_counts_what_a_run_would(settings: Settings, source_url: str,
                                                                   zka_master: bytes) -> None:
    before = row_count(settings.database_url)
    dry = await import_into(settings, source_url, zka_master, dry_run=True)
    assert row_count(settings.database_url) == before == 0
    real = await import_into(settings, source_url, zka_master)
    assert dry.summary.imported == real.summary.imported and dry.summary.classes == real.summary.classes
    assert dry.summary.unsupported == real.summary.unsupported


async def test_report_over_imported_history_verifies(settings: Settings, source_url: str, zka_master: bytes) -> None:
    await import_into(settings, source_url, zka_master)
    async with asgi_client(settings) as client:
        created = await client.post("/api/v1/reports", json={"user_uid": USER_DAILY})
        assert created.status_code == 201, created.text
        report = created.json()
        verdict = await client.post("/api/v1/reports/verify", json=report, params={"trust_simulated": "true"})
        assert verdict.status_code == 200 and verdict.json()["valid"] is True, verdict.text
        legacy = await client.get("/api/v1/reports/legacy", params={"user_uid": USER_DAILY})
        assert legacy.status_code == 200, legacy.text
        [kept] = legacy.json()["reports"]
        assert kept["report_id"] == "report-123" and kept["document"]["reportHash"] == REPORT["report_hash"]
        verdict = await client.post("/api/v1/reports/verify", json=kept["document"])
        assert verdict.json()["valid"] is True, verdict.text
        others = await client.get("/api/v1/reports/legacy", params={"user_uid": USER_HOURLY})
        assert others.json() == {"reports": []}
        assert (await client.get("/api/v1/reports/report-123")).status_code == 404  # never by its guessable id
        listed = await client.get("/api/v1/connections", params={"user_uid": USER_DAILY})
        assert listed.status_code == 200, listed.text
        assert [c["exchange"] for c in listed.json()] == ["binance"]  # active ones; bitmex is kept inactive
        status = await client.get("/api/v1/sync/status", params={"user_uid": USER_HOURLY})
        assert status.status_code == 200, status.text
        manual = await _manual_sync(client, settings)
        assert manual.status_code == 409 and "manual_sync_not_allowed" in manual.text


async def _manual_sync(client: httpx.AsyncClient, settings: Settings) -> httpx.Response:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            query = select(ExchangeConnection).where(ExchangeConnection.exchange == "binance")
            conn = (await session.exec(query)).one()
    finally:
        await engine.dispose()
    return await client.post("/api/v1/sync", json={"user_uid": USER_DAILY, "connection_id": conn.id})


def test_wrong_legacy_key_is_one_line_and_writes_nothing(settings: Settings, source_url: str) -> None:
    settings.server.data_dir.mkdir(parents=True, exist_ok=True)
    done = cli(settings, "--from", source_url, "--legacy-measurement", "c3" * 48)
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("\n") == 1 and "does not open the original's DEK" in done.stderr
    assert "Traceback" not in done.stderr and not done.stdout
    assert row_count(settings.database_url) == 0


def test_cli_imports_lists_unsupported_venues_and_verifies(settings: Settings, source_url: str) -> None:
    settings.server.data_dir.mkdir(parents=True, exist_ok=True)
    done = cli(settings, "--from", source_url, "--legacy-measurement", MEASUREMENT)
    assert done.returncode == 0, done.stderr
    assert "unsupported venues (imported inactive): 1" in done.stdout and "  bitmex (connection" in done.stdout
    assert "equity jumps with no recorded flow" in done.stdout
    # The run is logged (stderr), counts only: no user id, label or credential.
    assert "legacy import finished" in done.stderr and "imported_snapshots=27" in done.stderr
    assert not any(secret in done.stderr for secret in (USER_DAILY, USER_HOURLY, "Main", "bn-key", "bn-secret"))
    checked = cli(settings, "--from", source_url, "--legacy-measurement", MEASUREMENT, "--verify")
    assert checked.returncode == 0 and ": 0 difference(s)" in checked.stdout, checked.stdout + checked.stderr
    # Alter one imported day: --verify names it.
    engine = create_engine_sync(settings.database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE snapshots SET total_equity = total_equity + 1 WHERE day = '2025-03-03' "
                          "AND exchange = 'kraken'"))
    engine.dispose()
    checked = cli(settings, "--from", source_url, "--legacy-measurement", MEASUREMENT, "--verify")
    assert checked.returncode == 1
    assert "1 difference(s)" in checked.stdout and "on 2025-03-03: source" in checked.stdout


def test_killed_half_way_then_resumed_equals_one_clean_run(settings: Settings, sources: Source,
                                                           migrated_database: str, tmp_path: Path) -> None:
    source_url = sources.make()
    settings.server.data_dir.mkdir(parents=True, exist_ok=True)
    args = ["--from", source_url, "--legacy-measurement", MEASUREMENT, "--batch-size", "1"]
    # A real crash: SIGKILL between batches (the pause makes the moment deterministic), 2 of 4 users committed.
    proc = subprocess.Popen(cli_command(*args, "--pause", "60"), env=cli_env(settings), stderr=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        if "batch 2/4 done" in line:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    partial = snapshot_of(settings.database_url)
    assert partial["markers"]["users"] == 2 and len(partial["users"]) == 2

    refused = cli(settings, *args)
    assert refused.returncode == 1 and "stopped part-way (2 users imported): rerun with --resume" in refused.stderr
    resumed = cli(settings, *args, "--resume")
    assert resumed.returncode == 0, resumed.stderr

    clean = Settings(server={"data_dir": tmp_path / "clean"},  # type: ignore[arg-type]
                     db={"url": private_database(migrated_database, tmp_path)})  # type: ignore[arg-type]
    clean.server.data_dir.mkdir(parents=True)
    assert cli(clean, *args).returncode == 0
    assert snapshot_of(settings.database_url) == snapshot_of(clean.database_url)


async def test_exclude_from_report_is_kept_where_the_source_has_it(settings: Settings, sources: Source,
                                                                   zka_master: bytes) -> None:
    db = build()
    for row in db.connections:
        row["excludeFromReport"] = row["exchange"] == "kraken"
    url = sources.make(db, exclude_column=True)
    await import_into(settings, url, zka_master)
    state = snapshot_of(settings.database_url)
    assert {c[1]: bool(c[5]) for c in state["connections"]}["kraken"] is True
    assert sum(c[5] for c in state["connections"]) == 1


def test_source_is_never_written(settings: Settings, source_url: str) -> None:
    import psycopg

    def dump() -> str:
        with psycopg.connect(source_url) as conn:
            tables = ("users", "exchange_connections", "snapshot_data", "sync_statuses", "sync_rate_limit_logs",
                      "signed_reports", "data_encryption_keys")
            return json.dumps({t: sorted(map(str, conn.execute(f'SELECT * FROM "{t}"').fetchall()))  # type: ignore[arg-type]
                               for t in tables})

    before = dump()
    settings.server.data_dir.mkdir(parents=True, exist_ok=True)
    assert cli(settings, "--from", source_url, "--legacy-measurement", MEASUREMENT).returncode == 0
    assert dump() == before


def create_engine_sync(url: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine as sync_engine

    return sync_engine(sync_url(url))
