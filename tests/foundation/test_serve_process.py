"""`zka serve` as a real process: health command exit codes, graceful SIGTERM with an open stream."""

from __future__ import annotations

import signal
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from app.bench.server import free_port, running_server


def _zka(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, timeout=30)


def test_health_command_exit_codes(tmp_path: Path) -> None:
    with running_server(data_dir=tmp_path / "data") as server:
        assert _zka("health", "--url", f"{server['url']}/health").returncode == 0
    assert _zka("health", "--url", f"https://127.0.0.1:{free_port()}/health", "--timeout", "1").returncode == 1


def test_sigterm_ends_open_streams_and_exits_within_ten_seconds(tmp_path: Path) -> None:
    with running_server(data_dir=tmp_path / "data") as server:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        stream_ended = threading.Event()

        def listen() -> None:
            with httpx.stream("GET", f"{server['url']}/api/v1/logs/stream", verify=context, timeout=30) as resp:
                for _ in resp.iter_lines():
                    pass
            stream_ended.set()

        threading.Thread(target=listen, daemon=True).start()
        time.sleep(0.5)
        pid = int(server["pid"])  # type: ignore[call-overload]
        started = time.monotonic()
        subprocess.run(["kill", f"-{signal.SIGTERM.value}", str(pid)], check=True)
        while Path(f"/proc/{pid}").exists() and _is_running(pid) and time.monotonic() - started < 12:
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        assert elapsed < 10, f"shutdown took {elapsed:.1f} s"
        assert stream_ended.wait(2)


def _is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return state != "Z"
