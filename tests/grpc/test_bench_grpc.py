"""`zka bench` has a gRPC row: HealthCheck and GetAggregatedMetrics with 50 concurrent streams."""

from __future__ import annotations

import re

from app.bench.grpc_load import measure_grpc
from app.bench.registry import GROUPS


def test_grpc_rows_measure_both_calls() -> None:
    assert GROUPS["grpc"] is measure_grpc
    rows = measure_grpc(seconds=0.5)
    assert [r.name for r in rows] == ["gRPC HealthCheck, 50 concurrent streams",
                                      "gRPC GetAggregatedMetrics, 50 concurrent streams"]
    for row in rows:
        rate = float(re.match(r"([\d,]+) req/s", row.value).group(1).replace(",", ""))  # type: ignore[union-attr]
        assert rate > 0 and row.reference
