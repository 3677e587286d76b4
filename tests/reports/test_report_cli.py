"""`zka report verify FILE`: a report saved from the API passes, any edit fails naming the check."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from typer.testing import CliRunner

from app.cli.commands import cli
from app.db import SessionMaker
from tests.conftest import VECTORS
from tests.reports.test_reports_api import create, seed

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["report", "verify", *args])
    return result.exit_code, result.output


def test_legacy_vector_verifies() -> None:
    code, out = run(str(VECTORS / "report-signing-legacy.json"))
    assert code == 0, out
    assert "VERDICT: PASS" in out and "no hardware evidence" in out


async def test_saved_report_verifies_offline_and_edits_fail(
    client: httpx.AsyncClient, db: SessionMaker, tmp_path: Path
) -> None:
    await seed(db)
    report = (await create(client, benchmark="SPY")).json()
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    code, out = run(str(path), "--trust-simulated")
    assert code == 0, out
    assert "SIMULATED evidence" in out and "report_data_binds_signing_key  ok" in out

    code, out = run(str(path))
    assert code == 1 and "VERDICT: FAIL (attestation.chain)" in out

    measurement = report["payload"]["attestation"]["measurement"]
    code, out = run(str(path), "--trust-simulated", "--measurement", measurement)
    assert code == 0, out
    code, out = run(str(path), "--trust-simulated", "--measurement", "00" * 48)
    assert code == 1 and "VERDICT: FAIL (attestation.measurement)" in out

    report["payload"]["metrics"]["core"]["max_drawdown"] = -0.01
    path.write_text(json.dumps(report))
    code, out = run(str(path), "--trust-simulated")
    assert code == 1 and "VERDICT: FAIL (report_hash)" in out


def test_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text("{not json")
    code, out = run(str(bad))
    words = " ".join(out.replace("│", " ").split())
    assert code == 2 and "not a readable JSON" in words
