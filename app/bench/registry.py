"""Measure groups, in the order of SPEC §13."""

from __future__ import annotations

from app.bench import MeasureFn
from app.bench.connect import measure_connect
from app.bench.crypto import measure_ecies
from app.bench.grpc_load import measure_grpc
from app.bench.load import measure_attestation
from app.bench.machine import measure_machine
from app.bench.reports import measure_report
from app.bench.server import measure_startup
from app.bench.sync import measure_sync

GROUPS: dict[str, MeasureFn] = {
    "machine": measure_machine,
    "startup": measure_startup,
    "attestation": measure_attestation,
    "connect": measure_connect,
    "ecies": measure_ecies,
    "report": measure_report,
    "sync": measure_sync,
    "grpc": measure_grpc,
}
