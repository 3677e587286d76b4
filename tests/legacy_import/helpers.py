"""Running the importer (in process, or as the console script) and reading zka's database back."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.config import Settings
from app.services.legacy_import.keys import master_key_from_measurement
from app.services.legacy_import.run import ImportRequest, ImportResult, run_import
from tests.legacy_import.dataset import MEASUREMENT

REPO = Path(__file__).resolve().parents[2]


async def import_into(settings: Settings, source_url: str, zka_master: bytes, **kw: Any) -> ImportResult:
    request = ImportRequest(source_url=source_url, target_url=settings.database_url,
                            legacy_master_key=master_key_from_measurement(MEASUREMENT), zka_master_key=zka_master,
                            zka_wrapping="file", **kw)
    return await run_import(request)


def cli(settings: Settings, *args: str, **popen: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_command(*args), env=cli_env(settings), cwd=REPO, capture_output=True, text=True,
                          timeout=120, **popen)


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "app.cli", "import-legacy", *args]


def cli_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZKA_") and k != "DATABASE_URL"}
    env.update(ZKA_DATA_DIR=str(settings.server.data_dir), DATABASE_URL=settings.database_url, PYTHONPATH=str(REPO))
    return env


def sync_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        return parsed.set(drivername="sqlite").render_as_string(hide_password=False)
    return parsed.render_as_string(hide_password=False)


def snapshot_of(url: str) -> dict[str, Any]:
    """zka's imported state in comparable form (no ids, no creation instants of the run itself)."""
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            users = sorted(r[0] for r in conn.execute(text("SELECT uid FROM users")))
            conns = sorted((*r[:3], *map(bool, r[3:])) for r in conn.execute(text(
                "SELECT user_uid, exchange, label, is_active, legacy_deleted, exclude_from_report, "
                "credentials IS NOT NULL FROM exchange_connections")))
            snaps = sorted((r[0], r[1], r[2], str(r[3]), float(r[4]), float(r[5]), float(r[6]), r[7]) for r in
                           conn.execute(text(
                               "SELECT s.user_uid, c.label, s.exchange, s.day, s.total_equity, s.deposits, "
                               "s.withdrawals, s.trigger FROM snapshots s JOIN exchange_connections c "
                               "ON c.id = s.connection_id")))
            events = Counter(tuple(r) for r in conn.execute(text(
                "SELECT e.user_uid, e.trigger, e.outcome, CAST(e.scheduled_for AS VARCHAR) FROM sync_events e")))
            reports = sorted(r[0] for r in conn.execute(text("SELECT report_id FROM legacy_reports")))
            markers = Counter(r[0] for r in conn.execute(text("SELECT source_table FROM legacy_import_rows")))
    finally:
        engine.dispose()
    return {"users": users, "connections": conns, "snapshots": snaps, "events": dict(events), "reports": reports,
            "markers": dict(markers)}


def row_count(url: str) -> int:
    state = snapshot_of(url)
    return (len(state["users"]) + len(state["connections"]) + len(state["snapshots"])
            + sum(state["events"].values()) + len(state["reports"]) + sum(state["markers"].values()))
