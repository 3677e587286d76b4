"""Handoff tests: a donor (the real app, handoff enabled) and a requester (the real requester service)
on one database, each with its own master key and its own simulated chip under one simulated root."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from app.attestation.providers import SimulatedProvider
from app.config import Settings
from app.db import SessionMaker, create_engine, create_sessionmaker
from app.models import DataEncryptionKey, KeyEvent
from app.services.crypto.master_key import load_or_create_key_file
from app.services.keys.allowlist import sign_allowlist
from app.services.keys.peer import HandoffContext
from app.services.keys.requester import Requester
from app.state import AppState
from tests.support.asgi import asgi_client

DONOR_URL = "https://testserver"


def instance_settings(database_url: str, data_dir: Path, root: Path, **keys: Any) -> Settings:
    keys.setdefault("key_dev_measurements", "self")
    return Settings(
        server={"data_dir": data_dir},  # type: ignore[arg-type]
        db={"url": database_url},  # type: ignore[arg-type]
        keys=keys,  # type: ignore[arg-type]
        attestation={"attestation_provider": "simulated", "simulated_root_dir": root},  # type: ignore[arg-type]
        limits={"rate_limits_enabled": False},  # type: ignore[arg-type]
        sync={"scheduler_enabled": False},  # type: ignore[arg-type]
    )


def operator_key() -> tuple[Ed25519PrivateKey, str]:
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return key, base64.b64encode(raw).decode()


def write_signed_list(path: Path, key: Ed25519PrivateKey, measurements: list[str], **extra: Any) -> Path:
    document = {"format": "zka-key-allowlist-v1", "entries": [{"measurement": m} for m in measurements], **extra}
    path.write_text(json.dumps(sign_allowlist(document, key)))
    return path


@dataclass
class Pair:
    root: Path
    donor_settings: Settings
    donor_state: AppState
    donor: httpx.AsyncClient
    requester_dir: Path
    sessionmaker: SessionMaker
    database_url: str

    def requester(self, **keys: Any) -> Requester:
        settings = instance_settings(self.database_url, self.requester_dir, self.root, **keys)
        provider = SimulatedProvider(self.requester_dir, root_dir=self.root)
        master = load_or_create_key_file(self.requester_dir / "master.key")
        return Requester(HandoffContext(settings, provider), self.sessionmaker, master, "file")

    async def events(self) -> list[KeyEvent]:
        async with self.sessionmaker() as session:
            return list((await session.scalars(select(KeyEvent).order_by(KeyEvent.id))).all())  # type: ignore[arg-type]

    async def wrappings(self) -> int:
        async with self.sessionmaker() as session:
            return int((await session.scalars(select(func.count()).select_from(DataEncryptionKey))).one())


@pytest.fixture(scope="session")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One simulated "AMD" root for the session (two RSA-4096 keys); each instance gets its own chip."""
    return tmp_path_factory.mktemp("simulated-root")


@pytest.fixture
def donor_keys(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """What the donor is configured with: tests parametrize it (indirect=True for a callable of tmp_path)."""
    param = getattr(request, "param", {})
    return param(tmp_path) if callable(param) else dict(param)


@pytest.fixture
async def pair(database_url: str, tmp_path: Path, root: Path, donor_keys: dict[str, Any]) -> AsyncIterator[Pair]:
    settings = instance_settings(database_url, tmp_path / "donor", root, key_handoff_enabled=True, **donor_keys)
    engine = create_engine(database_url)
    states: list[AppState] = []
    async with asgi_client(settings, on_state=states.append) as client:
        yield Pair(root, settings, states[0], client, tmp_path / "requester", create_sessionmaker(engine),
                   database_url)
    await engine.dispose()
