"""`zka keys handoff --from URL` against a live donor, and rotation after a handoff: the dropped wrapping's
instance obtains the new DEK by handoff."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from app.db import create_engine, create_sessionmaker
from app.models import KeyEvent
from app.services.crypto.keyring import key_status
from app.services.keys.requester import Requester
from tests.conftest import REPO_ROOT
from tests.keys.conftest import DONOR_URL, Pair, instance_settings
from tests.support.asgi import asgi_client
from tests.support.live_server import live_server


def _zka(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    child = {**os.environ, **env}
    child.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "app.cli", *args], env=child, cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=180)


def _requester_env(database_url: str, data_dir: Path, root: Path) -> dict[str, str]:
    return {"ZKA_DATABASE_URL": database_url, "ZKA_DATA_DIR": str(data_dir), "ZKA_SIMULATED_ROOT_DIR": str(root),
            "ZKA_ATTESTATION_PROVIDER": "simulated", "ZKA_KEY_DEV_MEASUREMENTS": "self"}


async def _events(database_url: str) -> list[KeyEvent]:
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            return list((await session.scalars(select(KeyEvent).order_by(KeyEvent.id))).all())  # type: ignore[arg-type]
    finally:
        await engine.dispose()


async def test_keys_handoff_command(database_url: str, tmp_path: Path, root: Path) -> None:
    settings = instance_settings(database_url, tmp_path / "donor", root, key_handoff_enabled=True)
    env = _requester_env(database_url, tmp_path / "requester", root)
    with live_server(settings) as donor:
        done = await asyncio.to_thread(_zka, env, "keys", "handoff", "--from", donor.url)
        assert done.returncode == 0, done.stderr
        assert donor.state.keys is not None and f"DEK {donor.state.keys.dek.dek_id} received" in done.stdout
        again = await asyncio.to_thread(_zka, env, "keys", "handoff", "--from", donor.url)
    assert again.returncode == 1
    assert again.stderr.strip().splitlines() == [
        "zka: key handoff refused: keyring: this instance already has a wrapping of the active DEK "
        "(recorded in key_events)"]
    assert "Traceback" not in again.stderr + done.stderr
    assert [(e.action, e.outcome) for e in await _events(database_url)] == [
        ("handoff_donor", "granted"), ("handoff_requester", "received"), ("handoff_requester", "refused")]
    bad = await asyncio.to_thread(_zka, env, "keys", "handoff", "--from", "not-a-url")
    assert bad.returncode == 2 and "--from must be a URL" in bad.stderr


async def test_rotation_after_handoff_names_the_dropped_wrapping_which_handoff_restores(
    pair: Pair, tmp_path: Path, root: Path
) -> None:
    requester: Requester = pair.requester()
    first = await requester.obtain(DONOR_URL, pair.donor)
    donor_env = {"ZKA_DATABASE_URL": pair.database_url, "ZKA_DATA_DIR": str(pair.donor_settings.server.data_dir)}
    refused = await asyncio.to_thread(_zka, donor_env, "keys", "rotate-dek", "--yes")
    assert refused.returncode == 1 and requester.master_key_id in refused.stderr  # names what would be dropped
    rotated = await asyncio.to_thread(_zka, donor_env, "keys", "rotate-dek", "--yes", "--allow-dropping-wrappings")
    assert rotated.returncode == 0, rotated.stderr
    assert requester.master_key_id in rotated.stdout and "handoff" in rotated.stdout
    events = await _events(pair.database_url)
    assert events[-1].action == "rotate" and requester.master_key_id in events[-1].reason
    # The donor restarted on the new DEK hands it to the instance whose wrapping was dropped.
    async with asgi_client(pair.donor_settings) as donor:
        second = await requester.obtain(DONOR_URL, donor)
    assert second.dek_id != first.dek_id
    async with pair.sessionmaker() as session:
        rows = [r for r in await key_status(session) if r["is_active"]]
    assert pair.donor_state.keys is not None
    assert {r["master_key_id"] for r in rows} == {requester.master_key_id, pair.donor_state.keys.master_key_id}
    assert {r["dek_id"] for r in rows} == {second.dek_id} and len(rows) == 2
