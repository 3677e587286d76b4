"""A TS-era deployment with rows of every class the importer must tell apart, and what zka must hold after.

Dates: March 2025 (before the original removed flow tracking, so some rows carry flows) and a few later.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.legacy_import.ts_era import TsDatabase, ts_master_key, ts_wrap_dek
from tests.paths import VECTORS

MEASUREMENT = "a1" * 48  # the original's launch measurement (SEV-SNP: 48 bytes)
PLATFORM_VERSION = ""
LEGACY = json.loads((VECTORS / "credential-at-rest-legacy.json").read_text())
REPORT = json.loads((VECTORS / "report-signing-legacy.json").read_text())
LEGACY_DEK = bytes.fromhex(LEGACY["dek_hex"])  # the vector's DEK is this deployment's DEK

USER_DAILY = "user_test123456789"  # the uid signed into the legacy report vector
USER_HOURLY = "user_hourly0001"
USER_IBKR = "user_ibkr0001"
USER_VECTOR = "user_vector001"


def at(day: str, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hh, minute=mm, second=ss, tzinfo=None)


def d(text: str) -> date:
    return date.fromisoformat(text)


# (user, original exchange) → {zka day: (equity, deposits, withdrawals, trigger)}
EXPECTED: dict[tuple[str, str], dict[date, tuple[float, float, float, str]]] = {}
CREDENTIALS: dict[tuple[str, str], tuple[str, str, str | None]] = {}


def build() -> TsDatabase:
    db = TsDatabase(dek=LEGACY_DEK)
    master = ts_master_key(MEASUREMENT, PLATFORM_VERSION)
    old_master = ts_master_key("b2" * 48)
    db.deks.append({"id": "dek-old", **ts_wrap_dek(bytes(32), old_master), "isActive": False,
                    "rotatedAt": at("2025-01-01"), "createdAt": at("2024-06-01"), "updatedAt": at("2025-01-01")})
    db.deks.append({"id": "dek-active", **ts_wrap_dek(LEGACY_DEK, master), "isActive": True,
                    "createdAt": at("2025-01-01"), "updatedAt": at("2025-01-01")})
    _daily_user(db)
    _hourly_user(db)
    _ibkr_user(db)
    _vector_user(db)
    return db


def _daily_user(db: TsDatabase) -> None:
    """Interval 1440: first sync stamped 00:00 of its own day (only createdAt tells it from a close), closes,
    a failed day, an overwritten midnight row carrying a deposit, a jump with flows 0, an unsupported venue."""
    u = db.user(USER_DAILY, at("2025-03-01", 9), 1440)
    db.connection(u, "binance", "Main", at("2025-03-01", 10), api_key="bn-key", api_secret="bn-secret")
    CREDENTIALS[(u, "binance")] = ("bn-key", "bn-secret", None)
    exp = EXPECTED[(u, "binance")] = {}
    bd = {"spot": {"totalEquityUsd": 10_000, "equity": 10_000, "volume": 1200.5, "trades": 3, "tradingFees": 1.2,
                   "trading_fees": 1.2, "fundingFees": 0, "funding_fees": 0},
          "global": {"totalEquityUsd": 10_000, "equity": 10_000, "volume": 1200.5, "trades": 3}}
    db.snapshot(u, "binance", at("2025-03-01"), 10_000.0, created=at("2025-03-01", 10, 0, 5), breakdown=bd)
    exp[d("2025-02-28")] = (10_000.0, 0, 0, "initial")
    closes = {"2025-03-02": (10_100.0, 0, 0), "2025-03-03": (11_150.0, 1000.0, 0), "2025-03-04": (11_200.0, 0, 0),
              "2025-03-05": (11_000.0, 0, 100.0), "2025-03-06": (11_050.0, 0, 0),
              # 2025-03-07: the user's whole scheduled day failed in the original: no row (a gap in zka)
              "2025-03-09": (11_600.0, 0, 0),  # + the 500 deposit of the overwritten 03-08 row
              "2025-03-10": (16_300.0, 0, 0)}  # +40 % with flows 0: listed as a jump, not corrected
    for stamp, (equity, dep, wd) in closes.items():
        db.snapshot(u, "binance", at(stamp), equity, deposits=dep, withdrawals=wd)
        carried = 500.0 if stamp == "2025-03-09" else 0.0
        exp[d(stamp) - timedelta(days=1)] = (equity, dep + carried, wd, "scheduled")
    # The 03-08 midnight row, overwritten at 15:00 by an admin-triggered sync with the same rounded stamp:
    db.snapshot(u, "binance", at("2025-03-08"), 11_580.0, created=at("2025-03-08", 0, 0, 6),
                updated=at("2025-03-08", 15, 0, 2), deposits=500.0)
    # A venue zka does not serve: imported inactive, its history kept.
    db.connection(u, "bitmex", "Legacy", at("2025-03-01", 10, 5), api_key="bm-key", api_secret="bm-secret")
    CREDENTIALS[(u, "bitmex")] = ("bm-key", "bm-secret", None)
    db.snapshot(u, "bitmex", at("2025-03-02"), 500.0)
    db.snapshot(u, "bitmex", at("2025-03-03"), 510.0)
    EXPECTED[(u, "bitmex")] = {d("2025-03-01"): (500.0, 0, 0, "scheduled"), d("2025-03-02"): (510.0, 0, 0, "scheduled")}
    db.sync_statuses.append({"id": "ss-daily", "userUid": u, "exchange": "binance", "lastSyncTime": at("2025-03-10"),
                             "status": "completed", "totalTrades": 12, "createdAt": at("2025-03-01", 10),
                             "updatedAt": at("2025-03-10")})
    db.rate_limit_logs.append({"id": "rl-daily", "userUid": u, "exchange": "binance",
                               "lastSyncTime": at("2025-03-01", 10), "syncCount": 1, "createdAt": at("2025-03-01", 10),
                               "updatedAt": at("2025-03-01", 10)})
    financial = json.loads(REPORT["canonical_json"])
    db.reports.append({"id": "rep-1", "reportId": financial["reportId"], "userUid": u,
                       "startDate": at("2024-01-01"), "endDate": at("2024-01-15"), "benchmark": "SPY",
                       "reportData": json.dumps({"financialData": financial, "displayParams": {"reportName": "Q1"},
                                                 "signature": REPORT["signature_b64_der"],
                                                 "publicKey": REPORT["public_key_b64_spki"],
                                                 "signatureAlgorithm": "ECDSA-P256-SHA256", "enclaveVersion": "3.0.0",
                                                 "enclaveMode": "production", "reportHash": REPORT["report_hash"]}),
                       "signature": REPORT["signature_b64_der"], "reportHash": REPORT["report_hash"],
                       "enclaveVersion": "3.0.0", "createdAt": at("2024-01-16")})


def _hourly_user(db: TsDatabase) -> None:
    """Interval 60 (created while 60 was the default): hour-stamped first sync and intraday rows beside the
    midnight closes, flows on dropped intraday rows, and the rows of a connection deleted in the original."""
    u = db.user(USER_HOURLY, at("2025-02-20"), 60)
    db.connection(u, "kraken", "Spot", at("2025-03-02", 14, 20), api_key="kr-key", api_secret="kr-secret")
    CREDENTIALS[(u, "kraken")] = ("kr-key", "kr-secret", None)
    exp = EXPECTED[(u, "kraken")] = {}
    db.snapshot(u, "kraken", at("2025-03-02", 14), 2_000.0, created=at("2025-03-02", 14, 20, 30))
    exp[d("2025-03-01")] = (2_000.0, 0, 0, "initial")
    db.snapshot(u, "kraken", at("2025-03-02", 15), 2_010.0, created=at("2025-03-02", 15, 0, 4))
    db.snapshot(u, "kraken", at("2025-03-02", 16), 2_215.0, created=at("2025-03-02", 16, 0, 4), deposits=200.0)
    db.snapshot(u, "kraken", at("2025-03-04", 13), 2_300.0, created=at("2025-03-04", 13, 0, 4), withdrawals=50.0)
    for stamp, equity in (("2025-03-03", 2_220.0), ("2025-03-04", 2_330.0), ("2025-03-05", 2_260.0),
                          ("2025-03-06", 2_270.0)):
        db.snapshot(u, "kraken", at(stamp), equity)
        carried = {"2025-03-03": (200.0, 0.0), "2025-03-05": (0.0, 50.0)}.get(stamp, (0.0, 0.0))
        exp[d(stamp) - timedelta(days=1)] = (equity, *carried, "scheduled")
    # bybit was connected, synced, then deleted in the original: its rows remain (FK to the user only).
    db.snapshot(u, "bybit", at("2025-03-03"), 700.0)
    db.snapshot(u, "bybit", at("2025-03-04"), 705.0)
    bad = db.snapshot(u, "bybit", at("2025-03-05"), 0.0)
    bad["totalEquity"] = float("nan")  # DOUBLE PRECISION holds NaN: rejected, listed, never guessed
    EXPECTED[(u, "bybit")] = {d("2025-03-02"): (700.0, 0, 0, "scheduled"), d("2025-03-03"): (705.0, 0, 0, "scheduled")}


def _ibkr_user(db: TsDatabase) -> None:
    """IBKR Flex backfill rows stamped with the statement's report date (business days), written at
    connection time; the first sync's day collides with the last backfilled date."""
    u = db.user(USER_IBKR, at("2025-03-05", 15), 1440)
    db.connection(u, "ibkr", "Flex", at("2025-03-05", 16), api_key="flex-token-123", api_secret="987654")
    CREDENTIALS[(u, "ibkr")] = ("flex-token-123", "987654", None)
    exp = EXPECTED[(u, "ibkr")] = {}
    backfill_bd = {"global": {"equity": 50_000}, "stocks": {"equity": 45_000, "available_margin": 0, "volume": 0,
                                                            "trades": 0, "trading_fees": 0, "funding_fees": 0},
                   "futures_commodities": {"equity": 5_000}}
    for report_date, equity in (("2025-02-26", 49_000.0), ("2025-02-27", 49_500.0), ("2025-02-28", 50_000.0),
                                ("2025-03-03", 50_200.0), ("2025-03-04", 50_300.0)):
        db.snapshot(u, "ibkr", at(report_date), equity, created=at("2025-03-05", 16, 0, 1), breakdown=backfill_bd)
        exp[d(report_date)] = (equity, 0, 0, "backfill")
    db.snapshot(u, "ibkr", at("2025-03-05"), 50_350.0, created=at("2025-03-05", 16, 0, 3))
    exp[d("2025-03-04")] = (50_350.0, 0, 0, "initial")  # the first sync wins over the 03-04 backfill row
    for stamp, equity in (("2025-03-06", 50_400.0), ("2025-03-07", 50_500.0)):
        db.snapshot(u, "ibkr", at(stamp), equity)
        exp[d(stamp) - timedelta(days=1)] = (equity, 0, 0, "scheduled")


def _vector_user(db: TsDatabase) -> None:
    """A connection whose API key is the real at-rest value of the legacy vector; passphrase set."""
    u = db.user(USER_VECTOR, at("2025-03-03", 8), 1440)
    db.connection(u, "okx", "Vector", at("2025-03-03", 11), api_key=LEGACY["plaintext"], api_secret="okx-secret",
                  passphrase="okx-pass", stored_key=LEGACY["stored"])
    CREDENTIALS[(u, "okx")] = (LEGACY["plaintext"], "okx-secret", "okx-pass")
    db.snapshot(u, "okx", at("2025-03-03"), 3_000.0, created=at("2025-03-03", 11, 0, 2))
    db.snapshot(u, "okx", at("2025-03-04"), 3_030.0)
    db.snapshot(u, "okx", at("2025-03-05"), 3_010.0)
    EXPECTED[(u, "okx")] = {d("2025-03-02"): (3_000.0, 0, 0, "initial"), d("2025-03-03"): (3_030.0, 0, 0, "scheduled"),
                            d("2025-03-04"): (3_010.0, 0, 0, "scheduled")}


def private_source(admin_url: str) -> tuple[str, str]:
    """A new, empty PostgreSQL database on the server of admin_url: (name, URL)."""
    import psycopg

    name = f"zka_ts_era_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin_url.rpartition("/")
    return name, f"{base}/{name}"


def fill(url: str, db: TsDatabase, *, exclude_column: bool = False) -> None:
    import psycopg

    from tests.legacy_import.ts_era import DDL, EXCLUDE_FROM_REPORT_DDL

    with psycopg.connect(url, autocommit=False) as conn:
        conn.execute(DDL)  # type: ignore[arg-type]
        if exclude_column:
            conn.execute(EXCLUDE_FROM_REPORT_DDL)  # type: ignore[arg-type]
        db.write(conn)
        conn.commit()


def aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC)


def all_expected() -> dict[tuple[str, str], dict[date, tuple[float, float, float, str]]]:
    if not EXPECTED:
        build()
    return EXPECTED


Row = dict[str, Any]
