"""The allow-list: sources, signature, expiry, image digests, minimum TCB, and production's refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.config import KeySettings, Settings
from app.errors import StartupRefused
from app.services.keys.allowlist import AllowListError, load_allowlist, sign_allowlist
from tests.keys.conftest import operator_key

M1, M2, M3 = "aa" * 48, "bb" * 48, "cc" * 48
KEY, PUBLIC = operator_key()


def _signed(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "signed.json"
    path.write_text(json.dumps(sign_allowlist({"format": "zka-key-allowlist-v1", **document}, KEY)))
    return path


def _load(production: bool = False, own: bytes | None = None, **keys: Any) -> Any:
    return load_allowlist(KeySettings(**keys), production=production, own_measurement=own)


def test_the_built_in_list_alone_is_empty() -> None:
    assert _load().empty and _load(production=True).empty


def test_signed_list_merges_and_image_digest_entries_do_not_match_yet(tmp_path: Path) -> None:
    path = _signed(tmp_path, {"entries": [{"measurement": M1, "note": "release 1"},
                                          {"measurement": M2, "image_digest": "sha256:" + "0" * 64}],
                              "min_tcb": {"snpSPL": 8}})
    allow = _load(key_allowlist_file=path, key_operator_public_key=PUBLIC, key_dev_measurements=M3,
                  key_handoff_min_tcb={"snpSPL": 5, "ucodeSPL": 200})
    assert sorted(m.hex() for m in allow.measurements) == [M1, M3]  # M2 needs an attested image digest
    assert dict(allow.min_tcb) == {"snpSPL": 8, "ucodeSPL": 200}  # configuration only ever raises it


@pytest.mark.parametrize(("change", "reason"), [
    (lambda d: d["allowlist"]["entries"].append({"measurement": M3}), "signature invalid"),
    (lambda d: d.update(signature="AAAA"), "signature invalid"),
    (lambda d: d.update(signature="@@"), "not base64"),
    (lambda d: d.update(extra=1), "must be"),
])
def test_a_tampered_signed_list_is_refused(tmp_path: Path, change: Any, reason: str) -> None:
    path = _signed(tmp_path, {"entries": [{"measurement": M1}]})
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))
    with pytest.raises(AllowListError, match=reason):
        _load(key_allowlist_file=path, key_operator_public_key=PUBLIC)


def test_signed_list_needs_an_operator_key_from_the_image_in_production(tmp_path: Path) -> None:
    path = _signed(tmp_path, {"entries": [{"measurement": M1}]})
    # In production the environment's operator key and measurements are ignored (and refused at start).
    with pytest.raises(AllowListError, match="no operator public key is built into the image"):
        _load(production=True, key_allowlist_file=path, key_operator_public_key=PUBLIC)
    assert _load(production=True, key_dev_measurements=M1).empty


@pytest.mark.parametrize(("document", "reason"), [
    ({"entries": [{"measurement": M1}], "expires_at": "2020-01-01T00:00:00Z"}, "expired"),
    ({"entries": [{"measurement": "abc"}]}, "48 bytes"),
    ({"entries": [{"measurement": M1, "surprise": 1}]}, "unknown fields"),
    ({"entries": [{"measurement": M1, "image_digest": "sha1:00"}]}, "sha256"),
    ({"entries": [], "min_tcb": {"snpSPL": "8"}}, "min_tcb"),
])
def test_malformed_or_expired_lists_are_refused(tmp_path: Path, document: dict[str, Any], reason: str) -> None:
    with pytest.raises(AllowListError, match=reason):
        _signed(tmp_path, document)


def test_self_means_this_instances_own_measurement() -> None:
    assert _load(own=bytes.fromhex(M2), key_dev_measurements="self").measurements == [bytes.fromhex(M2)]


@pytest.mark.parametrize("variable", ["key_operator_public_key", "key_dev_measurements"])
def test_production_refuses_an_allow_list_from_the_environment(variable: str) -> None:
    settings = Settings(server={"env": "production"}, db={"url": "postgresql://x@y/z"},  # type: ignore[arg-type]
                        auth={"jwt_secret": "s" * 32}, keys={variable: M1})  # type: ignore[arg-type]
    with pytest.raises(StartupRefused, match="allow-list only from the image"):
        settings.check_production()


def test_operator_keygen_and_sign_allowlist_commands(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from app.cli.commands import cli

    runner = CliRunner()
    key_file = tmp_path / "operator.pem"
    made = runner.invoke(cli, ["keys", "operator-keygen", "--out", str(key_file)])
    assert made.exit_code == 0 and (key_file.stat().st_mode & 0o777) == 0o600
    public = made.output.strip()
    again = runner.invoke(cli, ["keys", "operator-keygen", "--out", str(key_file)])
    assert again.exit_code == 2 and "refusing to overwrite" in again.output
    unsigned = tmp_path / "list.json"
    unsigned.write_text(json.dumps({"format": "zka-key-allowlist-v1", "entries": [{"measurement": M1}]}))
    signed = runner.invoke(cli, ["keys", "sign-allowlist", str(unsigned), "--key", str(key_file)])
    assert signed.exit_code == 0, signed.output
    path = tmp_path / "signed.json"
    path.write_text(signed.output)
    assert [m.hex() for m in _load(key_allowlist_file=path, key_operator_public_key=public).measurements] == [M1]
    unsigned.write_text(json.dumps({"entries": []}))
    bad = runner.invoke(cli, ["keys", "sign-allowlist", str(unsigned), "--key", str(key_file)])
    assert bad.exit_code == 2 and "zka-key-allowlist-v1" in bad.output and "Traceback" not in bad.output


async def test_production_refuses_simulated_peer_evidence(tmp_path: Path) -> None:
    from app.attestation.providers import SimulatedProvider
    from app.services.keys.allowlist import AllowEntry, AllowList
    from app.services.keys.peer import HandoffContext, HandoffRefused

    provider = SimulatedProvider(tmp_path / "sim", root_dir=tmp_path / "root")
    evidence = await provider.get_evidence(bytes(64))
    allow = AllowList((AllowEntry(await provider.measurement(), None, "", "test"),))
    production = Settings(server={"env": "production"})  # type: ignore[arg-type]
    with pytest.raises(HandoffRefused, match="simulated evidence is refused in production"):
        await HandoffContext(production, provider).verify(evidence, expected_report_data=bytes(64), allowlist=allow)
    # The same evidence passes in development, where this instance's own simulated root is trusted.
    development = Settings(server={"env": "development"})  # type: ignore[arg-type]
    report = await HandoffContext(development, provider).verify(evidence, expected_report_data=bytes(64),
                                                                allowlist=allow)
    assert report.measurement == await provider.measurement()
