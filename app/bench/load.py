"""Load measures against a real `zka serve` process: wrk on loopback (a second process)."""

from __future__ import annotations

import re
import shutil
import subprocess

from app.bench import Measure
from app.bench.server import running_server

_LATENCY = re.compile(r"^\s*(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(output: str) -> tuple[float, dict[str, float]]:
    rate = float(_RATE.search(output).group(1))  # type: ignore[union-attr]
    latency = {f"p{m[0]}": float(m[1]) * _UNIT_MS[m[2]] for m in _LATENCY.findall(output)}
    return rate, latency


def measure_attestation(seconds: int = 10, connections: int = 50) -> list[Measure]:
    name = f"cached GET /attestation, 1 worker, {connections} concurrent"
    budget = ">= 2,000 req/s; p99 <= 10 ms"
    wrk = shutil.which("wrk")
    if wrk is None:
        return [Measure(name, budget, "wrk not installed (apt-get install wrk)", None)]
    with running_server() as server:
        url = f"{server['url']}/api/v1/attestation"
        subprocess.run([wrk, "-t1", "-c10", "-d2s", url], capture_output=True, check=False)  # warm-up
        out = subprocess.run([wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url],
                             capture_output=True, text=True, check=True).stdout
    rate, latency = parse_wrk(out)
    value = f"{rate:,.0f} req/s; p50 {latency['p50']:.1f} ms, p99 {latency['p99']:.1f} ms"
    return [Measure(name, budget, value, rate >= 2000 and latency["p99"] <= 10)]
