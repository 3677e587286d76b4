"""Measures that start the real service as a subprocess: cold start and idle RSS."""

from __future__ import annotations

import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from app.bench import Measure


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _insecure_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # self-signed enclave cert; liveness polling only
    return context


@contextmanager
def running_server(
    *, env: dict[str, str] | None = None, data_dir: Path | None = None, stack_floor: bool = False
) -> Iterator[dict[str, object]]:
    """Start `zka serve` (or the stack-floor app) on a free port; yields pid, url and the seconds to the
    first 200 /health."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        child_env = {**os.environ, "ZKA_DATA_DIR": str(data_dir or Path(tmp) / "data"), "ZKA_PORT": str(port),
                     "ZKA_SCHEDULER_ENABLED": "false", **(env or {})}
        child_env.pop("DATABASE_URL", None)
        started = time.perf_counter()
        command = ["app.cli", "serve"]
        if stack_floor:
            command = ["app.bench.stack_floor", str(port), child_env["ZKA_DATA_DIR"]]
        proc = subprocess.Popen([sys.executable, "-m", *command], env=child_env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"https://127.0.0.1:{port}"
        try:
            elapsed = _wait_healthy(url, started, proc)
            yield {"pid": proc.pid, "url": url, "startup_s": elapsed}
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_healthy(url: str, started: float, proc: subprocess.Popen[bytes]) -> float:
    context = _insecure_context()
    deadline = started + 30
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/health", verify=context, timeout=0.5).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.005)
    raise RuntimeError(f"{proc.args!r} did not become healthy in 30 s")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def start_and_idle_rss(*, data_dir: Path, stack_floor: bool = False) -> tuple[float, float]:
    """One start: seconds to the first 200 /health, and VmRSS one second later."""
    with running_server(data_dir=data_dir, stack_floor=stack_floor) as server:
        time.sleep(1.0)
        return float(server["startup_s"]), rss_mb(int(server["pid"]))  # type: ignore[arg-type, call-overload]


def measure_startup(runs: int = 5) -> list[Measure]:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        first, _ = start_and_idle_rss(data_dir=data_dir)  # the first start also creates keys and the database
        starts = [start_and_idle_rss(data_dir=data_dir) for _ in range(runs)]
        floor = max(start_and_idle_rss(data_dir=Path(tmp) / "floor", stack_floor=True)[1] for _ in range(3))
    p50 = statistics.median(t for t, _ in starts)
    rss = max(r for _, r in starts)
    return [
        # The very first start also creates the database, the keys and the simulated AMD-like chain
        # (two RSA-4096 keys): reported, but the budget is for a process starting on its data.
        Measure("cold start to first 200 /health", "<= 1.0 s",
                f"{p50:.3f} s median of {runs} (first-ever {first:.3f} s)", p50 <= 1.0),
        Measure("idle RSS after start", "<= 80 MB", f"{rss:.1f} MB max of {runs}", rss <= 80),
        Measure("  the stack's floor: 1 route, 1 table", "(app.bench.stack_floor)", f"{floor:.1f} MB max of 3",
                None, reference=True),
    ]
