"""Start-up opens the key hierarchy: stable across restarts, refuses a master key that opens nothing."""

from __future__ import annotations

import pytest
from asgi_lifespan import LifespanManager

from app.config import Settings
from app.main import create_app
from app.services.crypto import KeyUnavailable
from app.state import AppState


async def _start(settings: Settings) -> AppState:
    states: list[AppState] = []
    async with LifespanManager(create_app(settings, on_state=states.append), startup_timeout=60):
        pass
    return states[0]


async def test_keys_are_the_same_after_a_restart(settings: Settings) -> None:
    first, second = await _start(settings), await _start(settings)
    assert first.keys and second.keys
    assert first.keys.source == "file"
    assert (settings.server.data_dir / "master.key").stat().st_mode & 0o777 == 0o600
    assert first.keys.master_key_id == second.keys.master_key_id
    assert first.keys.dek.dek_id == second.keys.dek.dek_id
    assert first.keys.e2e.public_key_pem == second.keys.e2e.public_key_pem
    assert first.keys.signing_public_key_b64 == second.keys.signing_public_key_b64


async def test_another_master_key_cannot_open_the_dek_and_start_is_refused(settings: Settings) -> None:
    first = await _start(settings)
    assert first.keys is not None
    other = settings.model_copy(deep=True)
    from pydantic import SecretStr

    other.keys.master_key = SecretStr("ab" * 32)
    with pytest.raises(KeyUnavailable) as refused:
        await _start(other)
    assert first.keys.master_key_id in str(refused.value)
    assert "ab" * 32 not in str(refused.value)


async def test_ready_reports_keys_and_hardening(app_client: object) -> None:
    import httpx

    assert isinstance(app_client, httpx.AsyncClient)
    checks = (await app_client.get("/ready")).json()["checks"]
    assert checks["keys"]["ok"] is True and checks["keys"]["source"] == "file"
