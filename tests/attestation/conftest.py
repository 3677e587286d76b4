from __future__ import annotations

import pytest

from tests.attestation._data import REAL_CASES, RealCase


@pytest.fixture(params=REAL_CASES, ids=lambda c: c.id)
def real_case(request: pytest.FixtureRequest) -> RealCase:
    case: RealCase = request.param
    return case
