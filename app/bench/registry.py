"""Measure groups, in the order of SPEC §13."""

from __future__ import annotations

from app.bench import MeasureFn
from app.bench.server import measure_startup

GROUPS: dict[str, MeasureFn] = {
    "startup": measure_startup,
}
