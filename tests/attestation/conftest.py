from __future__ import annotations

from pathlib import Path

import pytest

from app.attestation.simulation import SimulatedAuthority
from tests.attestation._data import REAL_CASES, RealCase


@pytest.fixture(params=REAL_CASES, ids=lambda c: c.id)
def real_case(request: pytest.FixtureRequest) -> RealCase:
    case: RealCase = request.param
    return case


@pytest.fixture(scope="session")
def sim_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with the simulated chain generated once per session (RSA-4096 keygen is the slow part)."""
    data_dir = tmp_path_factory.mktemp("simdata")
    SimulatedAuthority.load_or_create(data_dir / "attestation-simulated")
    return data_dir


@pytest.fixture(scope="session")
def authority(sim_data_dir: Path) -> SimulatedAuthority:
    return SimulatedAuthority.load_or_create(sim_data_dir / "attestation-simulated")


@pytest.fixture(scope="session")
def code_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fixed code tree for the simulated MEASUREMENT: the real app/ changes under our feet while
    other work happens in the repo, which would make measurement comparisons racy."""
    root = tmp_path_factory.mktemp("code")
    (root / "main.py").write_text("print('zka')\n")
    return root
