"""The sync benchmark harness runs end to end (small size; `zka bench --only sync` runs 1,000)."""

from __future__ import annotations

from app.bench.registry import GROUPS
from app.bench.sync import measure_sync


def test_sync_benchmark_runs_against_fake_venues_in_another_process() -> None:
    assert GROUPS["sync"] is measure_sync
    wall, rss = measure_sync(connections=24)
    assert wall.ok and "'success': 24" in wall.value
    assert rss.ok is not None and "MB" in rss.value
