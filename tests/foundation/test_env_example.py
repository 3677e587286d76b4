"""Every setting is documented in .env.example, and nothing there is unknown."""

from __future__ import annotations

import re

from app.config import Settings
from tests.conftest import REPO_ROOT


def _documented() -> set[str]:
    text = (REPO_ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))


def _settings_vars() -> set[str]:
    names: set[str] = set()
    for name, info in Settings.model_fields.items():
        group = info.default_factory() if info.default_factory else None  # type: ignore[call-arg]
        if group is None:
            names.add(f"ZKA_{name.upper()}")
            continue
        for field_name, field in type(group).model_fields.items():
            alias = field.validation_alias
            names.add(str(alias.choices[-1]) if alias is not None else f"ZKA_{field_name.upper()}")  # type: ignore[union-attr]
    return names


def test_every_setting_is_documented() -> None:
    assert _settings_vars() - _documented() == set()


def test_nothing_documented_is_unknown() -> None:
    assert _documented() - _settings_vars() == set()


def test_the_example_file_loads_as_is(tmp_path: object, monkeypatch: object) -> None:
    """`cp .env.example .env` must start the service: empty values mean "unset", not "invalid"."""
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    for line in (REPO_ROOT / ".env.example").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            name, value = line.split("=", 1)
            monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.keys.master_key is None and settings.db.url is None and settings.auth.jwt_secret is None
    assert settings.server.port == 8443 and settings.sync.venue_urls == {}
