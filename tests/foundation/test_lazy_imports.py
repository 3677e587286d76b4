"""Heavy libraries load only when a sync or a report needs them (SPEC §3, §13 idle RSS)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.bench.server import free_port
from app.cli.serve import NOT_IN_SERVER

HEAVY = ("ccxt", "alpaca", "numpy", "pandas", "aiohttp", "alembic")
# The gRPC transport and its library: only with ZKA_GRPC_PORT set (REST-only idle RSS unchanged).
GRPC = ("grpc", "app.grpc", "grpc_health", "grpc_reflection", "google.protobuf")


def test_starting_the_app_imports_no_heavy_library() -> None:
    probe = (
        "import sys\n"
        "import app.cli, app.cli.server\n"
        "from app.main import create_app\n"
        "from app.config import Settings\n"
        "create_app(Settings())\n"
        f"print(','.join(m for m in {(*HEAVY, *GRPC)!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == ""


def test_the_server_process_keeps_cli_and_unused_library_parts_out(tmp_path: Path) -> None:
    """`zka serve` as the console script runs it, until its first 200 /health: no typer/click help
    machinery of ours, none of the modules app.cli.serve keeps out, none of the heavy libraries."""
    port = free_port()
    unwanted = (*NOT_IN_SERVER, "typer", "app.cli.commands", *HEAVY, *GRPC)
    probe = (
        "import os, ssl, sys, threading, time, urllib.request\n"
        "def watch():\n"
        "    ctx = ssl._create_unverified_context()\n"
        "    while True:\n"
        "        try:\n"
        f"            urllib.request.urlopen('https://127.0.0.1:{port}/health', context=ctx, timeout=1)\n"
        "            break\n"
        "        except OSError:\n"
        "            time.sleep(0.05)\n"
        f"    loaded = [m for m in {unwanted!r} if sys.modules.get(m) is not None]\n"
        "    print('loaded:' + ','.join(loaded), flush=True)\n"
        "    os._exit(0)\n"
        "threading.Thread(target=watch, daemon=True).start()\n"
        "sys.argv = ['zka', 'serve', '--port', sys.argv[1]]\n"
        "from app.cli import main\n"
        "main()\n"
    )
    env = {**os.environ, "ZKA_DATA_DIR": str(tmp_path / "data"), "ZKA_SCHEDULER_ENABLED": "false"}
    env.pop("DATABASE_URL", None)
    # Migrated beforehand: a start that applies migrations loads Alembic for that once.
    subprocess.run([sys.executable, "-m", "app.cli", "migrate"], env=env, check=True, capture_output=True, timeout=60)
    result = subprocess.run([sys.executable, "-c", probe, str(port)], capture_output=True, text=True, timeout=120,
                            env=env)
    assert "loaded:" in result.stdout, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "loaded:"
