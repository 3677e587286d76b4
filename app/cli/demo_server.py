"""`zka demo`'s service: the one already answering at the URL, or a `zka serve` started for it and left
running after the demo (its own session, so the terminal's Ctrl-C or make's exit does not stop it)."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_S = 60.0


class DemoFailed(Exception):
    """One line for the user: what went wrong and what to do."""


@dataclass(frozen=True)
class Service:
    url: str
    pid: int | None  # None: it was already running, not ours
    log_file: Path | None

    def stop(self) -> None:
        """Only a service this demo started, and only when the demo failed."""
        if self.pid is not None:
            try:
                os.kill(self.pid, 15)
            except ProcessLookupError:
                pass


def _liveness_context() -> ssl.SSLContext:
    # Liveness only: trust in this server comes from verifying its attestation, the next step.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def is_healthy(url: str, *, timeout: float = 1.0) -> bool:
    import httpx  # loaded when the demo runs, not for every `zka` command

    try:
        return httpx.get(f"{url}/health", verify=_liveness_context(), timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def ensure_service(url: str, *, data_dir: Path) -> Service:
    if is_healthy(url):
        return Service(url, None, None)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    log_file = data_dir / "demo-server.log"
    with log_file.open("ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve"], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, start_new_session=True)
    try:
        _wait_healthy(url, proc, log_file)
    except BaseException:  # Ctrl-C included: a service that never became the demo's is not left behind
        proc.terminate()
        raise
    return Service(url, proc.pid, log_file)


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log_file: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DemoFailed(f"the service did not start: {_last_line(log_file)} (full log: {log_file})")
        if is_healthy(url, timeout=0.5):
            return
        time.sleep(0.1)
    raise DemoFailed(f"the service did not answer {url}/health within {START_TIMEOUT_S:.0f} s (log: {log_file})")


def _last_line(log_file: Path) -> str:
    lines = [line for line in log_file.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"
