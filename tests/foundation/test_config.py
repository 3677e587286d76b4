from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.config import Settings, load_settings
from app.errors import StartupRefused


class _FakeMetadata(BaseHTTPRequestHandler):
    attributes: dict[str, str] = {}

    def do_GET(self) -> None:  # noqa: N802
        if self.headers.get("Metadata-Flavor") != "Google":
            self.send_response(403)
            self.end_headers()
            return
        assert self.path.startswith("/computeMetadata/v1/instance/attributes/")
        body = json.dumps(self.attributes).encode()
        self.send_response(200)
        self.send_header("Metadata-Flavor", "Google")
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def metadata_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeMetadata)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/computeMetadata/v1"
    server.shutdown()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("ZKA_ENV", "DATABASE_URL", "ZKA_DATABASE_URL", "ZKA_JWT_SECRET", "ZKA_LOG_API_KEY", "ZKA_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir("/")  # no stray .env
    return monkeypatch


def test_settings_come_from_gce_metadata_attributes(clean_env: pytest.MonkeyPatch, metadata_server: str) -> None:
    _FakeMetadata.attributes = {"zka-log-api-key": "from-metadata", "ZKA_PORT": "9443",
                                "DATABASE_URL": "postgresql://db/zka"}
    clean_env.setenv("ZKA_CONFIG_SOURCE", "gce-metadata")
    clean_env.setenv("ZKA_GCE_METADATA_URL", metadata_server)
    settings = load_settings()
    assert settings.auth.log_api_key is not None
    assert settings.auth.log_api_key.get_secret_value() == "from-metadata"
    assert settings.server.port == 9443
    assert settings.database_url == "postgresql+psycopg://db/zka"


def test_environment_wins_over_metadata(clean_env: pytest.MonkeyPatch, metadata_server: str) -> None:
    _FakeMetadata.attributes = {"ZKA_PORT": "9443"}
    clean_env.setenv("ZKA_CONFIG_SOURCE", "gce-metadata")
    clean_env.setenv("ZKA_GCE_METADATA_URL", metadata_server)
    clean_env.setenv("ZKA_PORT", "7443")
    assert load_settings().server.port == 7443


def test_metadata_is_not_read_unless_asked(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ZKA_GCE_METADATA_URL", "http://127.0.0.1:9/unreachable")
    assert load_settings().server.port == 8443


@pytest.mark.parametrize(
    ("overrides", "missing"),
    [
        ({}, "PostgreSQL"),
        ({"db": {"url": "postgresql://db/zka"}}, "gateway auth"),
        ({"db": {"url": "postgresql://db/zka"}, "auth": {"jwt_secret": "s" * 32},
          "keys": {"master_key": "00" * 32}}, "ZKA_MASTER_KEY"),
        ({"db": {"url": "postgresql://db/zka"}, "auth": {"jwt_secret": "s" * 32},
          "attestation": {"attestation_provider": "simulated"}}, "simulated"),
    ],
)
def test_production_refuses_each_missing_guarantee(overrides: dict[str, object], missing: str) -> None:
    settings = Settings(server={"env": "production"}, **overrides)  # type: ignore[arg-type]
    with pytest.raises(StartupRefused, match=missing):
        settings.check_production()


def test_production_with_every_guarantee_passes_the_config_check() -> None:
    settings = Settings(server={"env": "production"}, db={"url": "postgresql://db/zka"},  # type: ignore[arg-type]
                        auth={"jwt_secret": "s" * 32})  # type: ignore[arg-type]
    settings.check_production()
    assert "development mode" not in settings.development_weaknesses()


def test_bad_master_key_is_rejected_clearly() -> None:
    with pytest.raises(ValueError, match="64 hex"):
        Settings(keys={"master_key": "abc"})  # type: ignore[arg-type]


def test_production_with_the_default_key_source_claims_no_key_weakness() -> None:
    """`auto` means the hardware-derived key in production: nothing to warn about (it would be signed into
    every report's evidence)."""
    settings = Settings(server={"env": "production"}, db={"url": "postgresql://db/zka"},  # type: ignore[arg-type]
                        auth={"jwt_secret": "s" * 32})  # type: ignore[arg-type]
    assert settings.master_key_source == "snp-derived"
    assert not any("master key" in w for w in settings.development_weaknesses())
    assert any("master key" in w for w in Settings().development_weaknesses())
