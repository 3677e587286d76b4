"""`zka attest verify` against real HTTPS servers, saved files and raw reports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli.commands import cli
from app.config import Settings
from app.services.crypto import generate_tls_identity
from tests.conftest import FIXTURES
from tests.support.live_server import LiveServer, live_server

runner = CliRunner()


@pytest.fixture
def server(settings: Settings) -> Iterator[LiveServer]:
    with live_server(settings) as running:
        yield running


def test_passes_against_a_development_server_with_trust_simulated(server: LiveServer) -> None:
    result = runner.invoke(cli, ["attest", "verify", server.url, "--trust-simulated", "--nonce"])
    assert result.exit_code == 0, result.output
    assert "VERDICT: PASS" in result.output
    assert "tls_certificate  ok" in result.output


def test_simulated_evidence_fails_without_trust_simulated(server: LiveServer) -> None:
    result = runner.invoke(cli, ["attest", "verify", server.url])
    assert result.exit_code == 1
    assert "VERDICT: FAIL (chain)" in result.output


def test_fails_when_the_server_presents_another_tls_key(settings: Settings) -> None:
    with live_server(settings, presented_tls=generate_tls_identity()) as mitm:
        result = runner.invoke(cli, ["attest", "verify", mitm.url, "--trust-simulated"])
    assert result.exit_code == 1
    assert "VERDICT: FAIL (tls_certificate)" in result.output


def test_a_measurement_not_on_the_allow_list_fails(server: LiveServer) -> None:
    result = runner.invoke(cli, ["attest", "verify", server.url, "--trust-simulated", "--measurement", "00" * 48])
    assert result.exit_code == 1
    assert "VERDICT: FAIL (measurement)" in result.output


def test_a_saved_document_verifies_offline_and_fails_after_an_edit(server: LiveServer, tmp_path: Path) -> None:
    saved = tmp_path / "attestation.json"
    fetched = runner.invoke(cli, ["attest", "verify", server.url, "--trust-simulated", "--save", str(saved)])
    assert fetched.exit_code == 0
    offline = runner.invoke(cli, ["attest", "verify", str(saved), "--trust-simulated"])
    assert offline.exit_code == 0 and "tls_certificate  skip" in offline.output
    doc = json.loads(saved.read_text())
    doc["keys"]["e2e"]["public_key"] = generate_e2e_pem()
    saved.write_text(json.dumps(doc))
    edited = runner.invoke(cli, ["attest", "verify", str(saved), "--trust-simulated"])
    assert edited.exit_code == 1 and "VERDICT: FAIL (report_data)" in edited.output


def generate_e2e_pem() -> str:
    from app.services.crypto import E2EKey

    return E2EKey.generate().public_key_pem


def test_verify_report_with_a_real_milan_report_and_its_vcek() -> None:
    sev = FIXTURES / "sevsnp" / "virtee-sev"
    result = runner.invoke(cli, ["attest", "verify-report", str(sev / "report_milan.bin"),
                                 "--vcek", str(sev / "vcek_milan.der")])
    # AMD certificates are checked against today's date; this VCEK is valid until 2029+.
    assert result.exit_code == 0, result.output
    assert "chain" in result.output and "VERDICT: PASS" in result.output


def test_verify_report_with_the_wrong_vcek_fails_on_signature() -> None:
    sev = FIXTURES / "sevsnp"
    result = runner.invoke(cli, ["attest", "verify-report", str(sev / "virtee-sev" / "report_milan.bin"),
                                 "--vcek", str(sev / "trustee" / "test-vcek.der")])
    assert result.exit_code == 1
    assert "VERDICT: FAIL" in result.output
