"""Two real `zka serve` processes on one database (PostgreSQL when TEST_DATABASE_URL is set), each with
its own master key and simulated chip: B starts with no wrapping, obtains the DEK from A by attested
handoff, opens a credential A stored, and starts again alone. The DEK never shows in clear in any log,
response or database row."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, inspect, select, text

from app.db import create_engine as create_async_engine
from app.db import create_sessionmaker, sync_url
from app.models import ExchangeConnection, KeyEvent
from app.services.crypto import decrypt_credentials, seal_credentials
from app.services.crypto.keyring import open_or_create_dek
from app.services.crypto.master_key import load_or_create_key_file
from tests.conftest import REPO_ROOT, private_database
from tests.fakes.ccxt_venues import binance_scenario, start_fake_venue
from tests.support.live_server import free_port

API_KEY, API_SECRET = "two-process-api-key-0001", "two-process-api-secret-0001"


@contextmanager
def serve(name: str, tmp: Path, env: dict[str, str]) -> Iterator[tuple[str, Path]]:
    """`zka serve` as a process; yields its URL and its log file (stdout and stderr)."""
    port = free_port()
    log = tmp / f"{name}-{time.monotonic_ns()}.log"
    child = {**os.environ, "ZKA_PORT": str(port), "ZKA_SCHEDULER_ENABLED": "false",
             "ZKA_RATE_LIMITS_ENABLED": "false", **env}
    child.pop("DATABASE_URL", None)
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve"], env=child, cwd=REPO_ROOT,
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/ready", verify=False, timeout=1).status_code == 200:  # noqa: S501
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} not ready in 90 s: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield url, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def _connect(url: str) -> int:
    document = httpx.get(f"{url}/api/v1/attestation", verify=False).json()  # noqa: S501
    envelope = seal_credentials(document["keys"]["e2e"]["public_key"], {"api_key": API_KEY, "api_secret": API_SECRET})
    response = httpx.post(f"{url}/api/v1/credentials/connect", verify=False, timeout=60,  # noqa: S501
                          json={"user_uid": "user_twoproc0001", "exchange": "binance", "label": "main",
                                "encrypted": envelope})
    assert response.status_code == 201, response.text
    return int(response.json()["connection"]["id"])


def _ready_keys(url: str) -> dict[str, object]:
    body = httpx.get(f"{url}/ready", verify=False).json()  # noqa: S501
    keys: dict[str, object] = body["checks"]["keys"]
    return keys


async def _open_with(database_url: str, master_key_file: Path, connection_id: int) -> tuple[bytes, str]:
    """Open the DEK with one instance's own master key file (its own wrapping), decrypt the credential."""
    engine = create_async_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            dek = await open_or_create_dek(session, load_or_create_key_file(master_key_file), wrapping="file")
            row = await session.get(ExchangeConnection, connection_id)
            assert row is not None and row.credentials is not None
            return dek.key, decrypt_credentials(dek, connection_id, row.credentials).api_key
    finally:
        await engine.dispose()


def _all_rows_text(database_url: str) -> str:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as conn:
            out = []
            for table in inspect(conn).get_table_names():
                for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                    out.append(" ".join(v.hex() if isinstance(v, bytes | memoryview) and not isinstance(v, str)
                                        else str(v) for v in (bytes(x) if isinstance(x, memoryview) else x
                                                              for x in row)))
            return "\n".join(out)
    finally:
        engine.dispose()


async def _events(database_url: str) -> list[tuple[str, str, str]]:
    engine = create_async_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            rows = (await session.scalars(select(KeyEvent).order_by(KeyEvent.id))).all()  # type: ignore[arg-type]
            return [(r.action, r.outcome, r.instance_master_key_id) for r in rows]
    finally:
        await engine.dispose()


@pytest.fixture
def venue() -> Iterator[str]:
    fake = start_fake_venue("binance", binance_scenario({"spot": {"USDT": "1000"}}, {"BTC/USDT": "50000"},
                                                        api_key=API_KEY, api_secret=API_SECRET))
    try:
        yield fake.base_url
    finally:
        fake.stop()


async def test_second_instance_obtains_the_dek_by_handoff(migrated_database: str, tmp_path: Path, venue: str) -> None:
    database_url = private_database(migrated_database, tmp_path)
    common = {"ZKA_DATABASE_URL": database_url, "ZKA_SIMULATED_ROOT_DIR": str(tmp_path / "sim-root"),
              "ZKA_ATTESTATION_PROVIDER": "simulated", "ZKA_KEY_DEV_MEASUREMENTS": "self",
              "ZKA_VENUE_URLS": json.dumps({"binance": venue})}
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    with serve("a", tmp_path, {**common, "ZKA_DATA_DIR": str(a_dir), "ZKA_KEY_HANDOFF_ENABLED": "true"}) as (a, a_log):
        connection_id = _connect(a)
        a_keys = _ready_keys(a)
        with serve("b", tmp_path, {**common, "ZKA_DATA_DIR": str(b_dir), "ZKA_KEY_PEERS": a}) as (b, b_log):
            b_keys = _ready_keys(b)
    assert b_keys["dek_id"] == a_keys["dek_id"] and b_keys["master_key_id"] != a_keys["master_key_id"]
    events = await _events(database_url)
    assert events == [("handoff_donor", "granted", a_keys["master_key_id"]),
                      ("handoff_requester", "received", b_keys["master_key_id"])]
    # B's own wrapping (its own master key file) opens the DEK, and with it the credential A stored.
    dek_b, api_key = await _open_with(database_url, b_dir / "master.key", connection_id)
    dek_a, _ = await _open_with(database_url, a_dir / "master.key", connection_id)
    assert api_key == API_KEY and dek_b == dek_a
    # B alone (A stopped) starts on its own wrapping: no second handoff.
    with serve("b-again", tmp_path, {**common, "ZKA_DATA_DIR": str(b_dir)}) as (b, b2_log):
        assert _ready_keys(b)["dek_id"] == a_keys["dek_id"]
    assert len(await _events(database_url)) == 2
    # The DEK in clear: nowhere in the logs or the database (raw, hex or base64).
    forms = [dek_a.hex(), base64.b64encode(dek_a).decode(), dek_a.hex().upper()]
    haystacks = [a_log.read_bytes().decode(errors="replace"), b_log.read_bytes().decode(errors="replace"),
                 b2_log.read_bytes().decode(errors="replace"), _all_rows_text(database_url)]
    assert "key handoff" in haystacks[0] and "key handoff" in haystacks[1]
    for haystack in haystacks:
        for form in forms:
            assert form not in haystack
    assert dek_a.hex() not in _all_rows_text(database_url).replace(" ", "")
