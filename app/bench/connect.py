"""POST /credentials/connect throughput with the exchange check stubbed (SPEC §13: >= 300 req/s).

A server process runs the real app over TLS (SQLite, rate limits off) whose connector factory is a stub
that answers at once: everything else is real — envelope decryption, validation, at-rest encryption,
the duplicate check, storing the connection, its initial snapshot and audit event. wrk, in a second
process, replays pre-built E2E envelopes (each with its own ephemeral key, as clients send them),
one per request with a unique label.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from app.bench import Measure
from app.bench.load import parse_wrk
from app.bench.server import free_port

USER = "user_2benchConnect01"
_LUA = """
local bodies = {}
for line in io.lines(os.getenv("ZKA_BENCH_BODIES")) do bodies[#bodies + 1] = line end
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", "/api/v1/credentials/connect", {["Content-Type"] = "application/json"},
                    bodies[((i - 1) % #bodies) + 1])
end
"""


class _StubConnector:
    """Answers the live check at once: the benchmark measures the service, not a venue."""

    venue = "binance"
    rotated_credentials = None

    async def check_credentials(self) -> None:
        return None

    async def permissions(self) -> set[Any]:
        from app.connectors.base import Permission

        return {Permission.READ}

    async def fetch_account_state(self, window: Any) -> Any:  # noqa: ARG002 - same state every day
        from app.connectors.base import AccountState

        return AccountState(total_equity=Decimal("1000"), cash=Decimal("1000"))

    async def close(self) -> None:
        return None


def serve_with_stub(port: int) -> None:
    """The server process: the real app, its connector factory replaced by the stub."""
    import uvicorn

    from app.config import load_settings
    from app.main import create_app
    from app.services.crypto import generate_tls_identity, write_tls_files

    settings = load_settings()
    tls = generate_tls_identity()

    def use_stub(state: Any) -> None:
        state.connector_factory = lambda _venue, _creds, _options: _StubConnector()

    app = create_app(settings, tls=tls, on_state=use_stub)
    with write_tls_files(tls) as files:
        uvicorn.run(app, host="127.0.0.1", port=port, ssl_certfile=str(files.certfile), ssl_keyfile=str(files.keyfile),
                    log_config=None, access_log=False, ws="none", http="httptools", loop="uvloop")


def _bodies(url: str, count: int, path: Path) -> None:
    from app.services.crypto import seal_credentials

    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # bench client on loopback
    e2e = httpx.get(f"{url}/api/v1/attestation", verify=context).json()["keys"]["e2e"]["public_key"]
    with path.open("w") as out:
        for i in range(count):
            secret = {"api_key": f"AKbench{i:08d}xxxxxxxxxxxx", "api_secret": f"secret-{i:08d}-yyyyyyyyyyyy"}
            body = {"user_uid": USER, "exchange": "binance", "label": f"b{i}",
                    "encrypted": seal_credentials(e2e, secret), "exclude_from_report": False}
            out.write(json.dumps(body) + "\n")


def measure_connect(seconds: int = 8, connections: int = 16) -> list[Measure]:
    """On the embedded SQLite database, or on PostgreSQL when ZKA_BENCH_DATABASE_URL names an empty database."""
    database = os.environ.get("ZKA_BENCH_DATABASE_URL")
    name = f"POST /credentials/connect (exchange check stubbed, {'PostgreSQL' if database else 'SQLite'})"
    wrk = shutil.which("wrk")
    if wrk is None:
        return [Measure(name, ">= 300 req/s", "wrk not installed (apt-get install wrk)", None)]
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ZKA_DATA_DIR": str(Path(tmp) / "data"), "ZKA_SCHEDULER_ENABLED": "false",
               "ZKA_RATE_LIMITS_ENABLED": "false", "ZKA_ENV": "development"}
        for name_ in ("DATABASE_URL", "ZKA_DATABASE_URL", "ZKA_JWT_SECRET", "ZKA_JWT_PUBLIC_KEY"):
            env.pop(name_, None)
        if database:
            env["DATABASE_URL"] = database
        server = subprocess.Popen([sys.executable, "-m", "app.bench.connect", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"https://127.0.0.1:{port}"
            _wait(url)
            bodies, script = Path(tmp) / "bodies.jsonl", Path(tmp) / "connect.lua"
            _bodies(url, 6000 * 1 + 500 * seconds, bodies)
            script.write_text(_LUA)
            out = subprocess.run([wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
                                 env={**os.environ, "ZKA_BENCH_BODIES": str(bodies)}, capture_output=True, text=True,
                                 check=True).stdout
        finally:
            server.terminate()
            server.wait(timeout=15)
    rate, latency = parse_wrk(out)
    failed = _non_2xx(out)
    value = f"{rate:,.0f} req/s; p99 {latency.get('p99', 0):.1f} ms; non-2xx {failed}"
    return [Measure(name, ">= 300 req/s", value, rate >= 300 and failed == 0)]


def _non_2xx(output: str) -> int:
    for line in output.splitlines():
        if "Non-2xx or 3xx responses" in line:
            return int(line.rsplit(":", 1)[1])
    return 0


def _wait(url: str) -> None:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", verify=context, timeout=0.5).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("bench server did not start")


if __name__ == "__main__":
    serve_with_stub(int(sys.argv[1]))
