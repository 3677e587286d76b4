"""Heavy libraries load only when a sync or a report needs them (SPEC §3, §13 idle RSS)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("ccxt", "alpaca", "numpy", "pandas", "aiohttp", "alembic")


def test_starting_the_app_imports_no_heavy_library() -> None:
    probe = (
        "import sys\n"
        "import app.cli, app.cli.server\n"
        "from app.main import create_app\n"
        "from app.config import Settings\n"
        "create_app(Settings())\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == ""
