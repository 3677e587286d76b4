"""Production refuses to start on any missing guarantee, with one line naming it (SPEC §2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PG = "postgresql://postgres@127.0.0.1:5432/test"
JWT = "j" * 40


def _serve(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ZKA_") and k != "DATABASE_URL"}
    base.update({"ZKA_ENV": "production", "ZKA_DATA_DIR": str(tmp_path), "ZKA_PORT": "1"}, **env)
    return subprocess.run([sys.executable, "-m", "app.cli", "serve"], env=base, capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({}, "PostgreSQL"),
        ({"DATABASE_URL": PG}, "gateway auth"),
        ({"DATABASE_URL": PG, "ZKA_JWT_SECRET": JWT, "ZKA_MASTER_KEY": "ab" * 32}, "ZKA_MASTER_KEY"),
        ({"DATABASE_URL": PG, "ZKA_JWT_SECRET": JWT, "ZKA_ATTESTATION_PROVIDER": "simulated"}, "simulated"),
        ({"DATABASE_URL": PG, "ZKA_JWT_SECRET": JWT, "ZKA_MASTER_KEY_SOURCE": "file"}, "snp-derived"),
    ],
)
def test_each_missing_guarantee_is_named_in_one_line(tmp_path: Path, env: dict[str, str], reason: str) -> None:
    result = _serve(tmp_path, **env)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("zka:")]
    assert len(lines) == 1, result.stderr[-2000:]
    assert reason in lines[0]
    assert "Traceback" not in result.stderr


def test_an_unmigrated_database_is_refused_in_production(tmp_path: Path) -> None:
    result = _serve(tmp_path, DATABASE_URL=PG.replace("/test", "/postgres"), ZKA_JWT_SECRET=JWT,
                    ZKA_SNP_TCB_VERSION="0")
    lines = [line for line in result.stderr.splitlines() if line.startswith("zka:")]
    assert result.returncode != 0 and len(lines) == 1 and "zka migrate" in lines[0], result.stderr[-2000:]


def test_without_sev_snp_hardware_production_does_not_start(tmp_path: Path, migrated_database: str) -> None:
    """Every configured guarantee present, but this machine has no SEV-SNP: no start, a clear reason."""
    if not migrated_database.startswith("postgresql"):
        pytest.skip("production needs PostgreSQL; this runs in the TEST_DATABASE_URL pass")
    result = _serve(tmp_path, DATABASE_URL=migrated_database.replace("+psycopg", ""), ZKA_JWT_SECRET=JWT,
                    ZKA_SNP_TCB_VERSION="0")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("zka:")]
    assert len(lines) == 1, result.stderr[-2000:]
    assert "sev-guest" in lines[0] or "SEV" in lines[0] or "attestation" in lines[0]
