"""Timing of the SPEC §13 case: a report over 5 years × 10 connections of daily snapshots."""

from __future__ import annotations

import statistics
import time
from datetime import date, timedelta
from typing import Any

import numpy as np

from .portfolio import SnapshotRow
from .report import compute_analytics, portfolio_from_rows


def synthetic_rows(connections: int = 10, days: int = 1825, seed: int = 7) -> list[SnapshotRow]:
    """Rows as `load_snapshots` reads them (money stored with 8 decimals, read as float), with some
    deposits and withdrawals."""
    rng = np.random.default_rng(seed)
    start = date(2020, 1, 1)
    rows = []
    for c in range(connections):
        equity = 10_000.0 * (1 + c)
        for d in range(days):
            flow = float(rng.choice([0.0, 500.0, -300.0], p=[0.96, 0.02, 0.02]))
            equity = max(equity * (1 + rng.normal(0.0004, 0.02)) + flow, 0.0)
            rows.append(SnapshotRow(
                c + 1, start + timedelta(days=d), float(f"{equity:.8f}"),
                float(f"{max(flow, 0):.8f}"), float(f"{max(-flow, 0):.8f}"),
            ))
    return rows


def bench_analytics(connections: int = 10, days: int = 1825, repeats: int = 30) -> dict[str, Any]:
    """Milliseconds for rows → portfolio → every metric → full report dict (benchmark included)."""
    rows = synthetic_rows(connections, days)
    start = date(2020, 1, 1)
    closes = {start + timedelta(days=d): 100.0 * (1.0003 ** d) * (1 + 0.01 * np.sin(d)) for d in range(days)}
    timings = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        compute_analytics(portfolio_from_rows(rows), benchmark_symbol="BTC-USD", benchmark_closes=closes)
        timings.append((time.perf_counter() - t0) * 1000.0)
    return {
        "rows": len(rows),
        "repeats": repeats,
        "median_ms": statistics.median(timings),
        "min_ms": min(timings),
        "max_ms": max(timings),
    }
