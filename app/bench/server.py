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
def running_server(*, env: dict[str, str] | None = None, data_dir: Path | None = None) -> Iterator[dict[str, object]]:
    """Start `zka serve` on a free port; yields pid, url and the seconds to the first 200 /health."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        child_env = {**os.environ, "ZKA_DATA_DIR": str(data_dir or Path(tmp) / "data"), "ZKA_PORT": str(port),
                     "ZKA_SCHEDULER_ENABLED": "false", **(env or {})}
        child_env.pop("DATABASE_URL", None)
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve"], env=child_env,
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
            raise RuntimeError(f"zka serve exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/health", verify=context, timeout=0.5).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.005)
    raise RuntimeError("zka serve did not become healthy in 30 s")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def measure_startup(runs: int = 5) -> list[Measure]:
    times: list[float] = []
    rss: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        for i in range(runs + 1):
            with running_server(data_dir=data_dir) as server:
                if i == 0:
                    first = float(server["startup_s"])  # type: ignore[arg-type]
                    continue  # the first start also creates keys and the database
                times.append(float(server["startup_s"]))  # type: ignore[arg-type]
                time.sleep(1.0)
                rss.append(rss_mb(int(server["pid"])))  # type: ignore[call-overload]
    p50 = statistics.median(times)
    return [
        # The very first start also creates the database, the keys and the simulated AMD-like chain
        # (two RSA-4096 keys): reported, but the budget is for a process starting on its data.
        Measure("cold start to first 200 /health", "<= 1.0 s",
                f"{p50:.3f} s median of {runs} (first-ever {first:.3f} s)", p50 <= 1.0),
        Measure("idle RSS after start", "<= 80 MB", f"{max(rss):.1f} MB max of {runs}", max(rss) <= 80),
    ]
