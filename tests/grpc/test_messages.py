"""The mapping's pieces on their own: a manual sync's answer over several connections (one successful sync
runs end to end in test_process_sync_job.py), the request-field rules, attestation_id."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from app.errors import BadRequest
from app.grpc.calls import day_of_ms, exchange_or_none, iso_day, ms_of_day, peer_address
from app.grpc.messages import attestation_id, sync_job
from app.models import Snapshot
from app.services.manual_sync import ManualResult


def _snapshot(day: date, equity: str, cash: str | None, trades: int) -> Snapshot:
    return Snapshot(user_uid="user_grpcAliceAAAA", connection_id=1, exchange="demo", label="x", day=day,
                    taken_at=datetime(2026, 1, 1, tzinfo=UTC), trigger="initial", total_equity=Decimal(equity),
                    cash=None if cash is None else Decimal(cash), unrealized_pnl=Decimal(0), deposits=Decimal(0),
                    withdrawals=Decimal(0), breakdown={"spot": {"trades": trades}, "unpriced_assets": {}})


def test_a_successful_manual_sync_in_the_originals_shape() -> None:
    done = [ManualResult(_snapshot(date(2026, 3, 1), "100.5", "40", 3), backfilled=364),
            ManualResult(_snapshot(date(2026, 3, 2), "7", None, 2), backfilled=0)]
    answer = sync_job("user_grpcAliceAAAA", "", done)
    assert (answer.success, answer.synced, answer.snapshots_generated) == (True, 5, 366)
    latest = answer.latest_snapshot
    assert (latest.equity, latest.balance, latest.timestamp) == (7.0, 0.0, ms_of_day(date(2026, 3, 2)))
    assert ms_of_day(date(2026, 3, 2)) == 1772409600000
    nothing = sync_job("user_grpcAliceAAAA", "binance", [])
    assert (nothing.success, nothing.exchange, nothing.HasField("latest_snapshot")) == (True, "binance", False)


@pytest.mark.parametrize(("value", "expected"), [(0, None), (1772409600000, date(2026, 3, 2)),
                                                 (1772409600000 + 86_399_999, date(2026, 3, 2)),
                                                 (-1, BadRequest), (2**62, BadRequest)])
def test_epoch_milliseconds(value: int, expected: Any) -> None:
    if expected is BadRequest:
        with pytest.raises(BadRequest, match="start_date: epoch milliseconds"):
            day_of_ms(value, "start_date")
    else:
        assert day_of_ms(value, "start_date") == expected


def test_fields_as_strict_as_rest() -> None:
    assert exchange_or_none("") is None and exchange_or_none("kraken") == "kraken"
    for bad in ("Kraken", "nasdaq", "x" * 500):
        with pytest.raises(BadRequest, match="not supported"):
            exchange_or_none(bad)
    assert iso_day("", "start_date") is None and iso_day("2026-03-02", "start_date") == date(2026, 3, 2)
    for bad in ("2026-3-2", "2026-02-30", "20260302", "2026-03-02T00:00"):
        with pytest.raises(BadRequest, match="YYYY-MM-DD"):
            iso_day(bad, "start_date")


@pytest.mark.parametrize(("peer", "address"), [("ipv4:10.0.0.7:51234", "10.0.0.7"), ("ipv6:[::1]:4000", "::1"),
                                               ("unix:/tmp/x", "unix:/tmp/x")])
def test_peer_address(peer: str, address: str) -> None:
    assert peer_address(SimpleNamespace(peer=lambda: peer)) == address


def test_attestation_id_is_the_signed_reports_report_id() -> None:
    evidence = {"attestation": {"report": {"raw": "…", "decoded": {"report_id": "ab" * 32}}}}
    assert attestation_id(evidence) == "ab" * 32
    for nothing in ({}, {"attestation": None}, {"attestation": {"report": {"decoded": None}}}):
        assert attestation_id(nothing) == ""  # a document without evidence (attestation unavailable)
