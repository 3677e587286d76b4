"""Track records at the edges (issue 17): overflow, negative equity, wipe-outs, negative flows, and a
property test that no series yields an exception, NaN or ±inf anywhere in the result."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.services.analytics import AnalyticsOptions, SnapshotRow, analyse_snapshots
from app.services.analytics._num import NOT_REPRESENTABLE

D0 = date(2024, 1, 1)
UNRESTRICTED = AnalyticsOptions(min_annualised_days=0)  # annualise any length, to reach the overflows


def day(i: int) -> date:
    return D0 + timedelta(days=i)


def series(*equity: float, flows: dict[int, float] | None = None) -> list[SnapshotRow]:
    f = flows or {}
    return [SnapshotRow(1, day(i), e, max(f.get(i, 0.0), 0.0), max(-f.get(i, 0.0), 0.0))
            for i, e in enumerate(equity)]


def assert_all_finite(node: Any, path: str = "") -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            assert_all_finite(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            assert_all_finite(v, f"{path}[{i}]")
    elif isinstance(node, float):
        assert math.isfinite(node), path


def publishable(result: dict[str, Any]) -> None:
    assert_all_finite(result)
    json.dumps(result, allow_nan=False)


@pytest.mark.parametrize("equity", [(1000, 7000), (0.5, 0.5, 0.5, 0.5, 2000)])
def test_cagr_of_unreported_money_on_a_tiny_account_is_null_not_a_crash(equity: tuple[float, ...]) -> None:
    # 2 days 1,000 → 7,000 annualises to 7^365; dust 0.5 → 2,000 over 5 days to 4000^91: both past 1.8e308.
    result = analyse_snapshots(series(*equity), options=UNRESTRICTED)
    publishable(result)
    assert result["core"]["cagr"] is None and result["undefined"]["core.cagr"] == NOT_REPRESENTABLE
    assert result["core"]["total_return"] == pytest.approx(equity[-1] / equity[0] - 1)


def test_benchmark_alpha_overflow_is_null_not_a_crash() -> None:
    equity = [1.0 * 11.0**i for i in range(30)]  # +1,000 % a day: (1 + mean)^365 is past float range
    closes = {day(i): 100.0 + (i % 3) for i in range(30)}
    result = analyse_snapshots(series(*equity), benchmark_symbol="SPY", benchmark_closes=closes,
                               options=UNRESTRICTED)
    publishable(result)
    assert result["benchmark"]["alpha"] is None and result["benchmark"]["beta"] is not None
    assert result["undefined"]["benchmark.alpha"] == NOT_REPRESENTABLE


def test_nav_overflow_keeps_drawdowns_and_yearly_returns_finite() -> None:
    # Dust receives 1e12 the venue does not report, then it is withdrawn (reported): ×1e12 each time.
    equity: list[float] = []
    flows: dict[int, float] = {}
    for k in range(30):
        equity += [1.0, 1e12]
        if k:
            flows[2 * k] = -(1e12 - 1.0)
    result = analyse_snapshots(series(*equity, flows=flows), options=UNRESTRICTED)
    publishable(result)
    assert result["core"]["total_return"] is None  # NAV 1e360: not representable, and said so
    assert result["undefined"]["core.total_return"] == NOT_REPRESENTABLE
    assert result["core"]["max_drawdown"] == 0.0 and result["core"]["current_drawdown"] == 0.0
    assert result["drawdown"]["max_drawdown"] == 0.0 and result["drawdown"]["periods"] == []
    assert result["yearly_returns"][0]["return"] is None
    assert result["undefined"]["yearly_returns[].return"] == NOT_REPRESENTABLE


def test_negative_equity_is_a_wipe_out_not_a_sign_flip() -> None:
    # 1000, 500, −200 (margin deficit), 100 after a 300 deposit, 150, 160: before, returns −0.5, −1.4, …
    # and total return / max drawdown −132 %, with a NAV falling on every later gain.
    result = analyse_snapshots(series(1000, 500, -200, 100, 150, 160, flows={3: 300}))
    publishable(result)
    returns = [row["return"] for row in result["daily"]]
    assert returns == [None, -0.5, -1.0, None, pytest.approx(0.5), pytest.approx(160 / 150 - 1)]
    assert [row["nav"] for row in result["daily"]] == [1.0, 0.5, 0.0, 0.0, 0.0, 0.0]
    assert result["core"]["total_return"] == -1.0 and result["core"]["max_drawdown"] == -1.0
    assert result["period"]["wipe_out_days"] == [day(2).isoformat()]
    assert result["period"]["undefined_return_days"] == 1  # day 3: base −200 + 300/2 ≤ 0


def test_days_without_capital_are_left_out_of_the_statistics() -> None:
    with_gap = analyse_snapshots(series(100, 110, 0, 0, 0, 0, 100, 99, flows={2: -110, 6: 100}))
    returns = [row["return"] for row in with_gap["daily"]][1:]
    assert returns == [pytest.approx(0.1), 0.0, None, None, None, 0.0, pytest.approx(-0.01)]
    # Day 2 (all withdrawn) had capital; days 3–5 had none and day 6's deposit arrives on an empty base.
    defined = [0.1, 0.0, 0.0, -0.01]
    assert with_gap["period"]["observations"] == 4
    assert with_gap["trading"]["flat_days"] == 2
    assert with_gap["risk"]["var_95"] == pytest.approx(-np.percentile(defined, 5))


def test_cagr_starts_at_the_first_day_with_capital() -> None:
    rows = [SnapshotRow(1, day(i), 0.0) for i in range(100)] + [
        SnapshotRow(1, day(100 + i), 1000.0 * 1.001**i) for i in range(400)]
    result = analyse_snapshots(rows)
    assert result["period"]["capital_start"] == day(100).isoformat()
    assert result["period"]["capital_span_days"] == 399 and result["period"]["span_days"] == 499
    assert result["core"]["cagr"] == pytest.approx((1.001**399) ** (365 / 399) - 1)


@pytest.mark.parametrize("field", ["deposits", "withdrawals"])
def test_negative_flow_amounts_are_refused(field: str) -> None:
    rows = [SnapshotRow(1, day(0), 1000), SnapshotRow(1, day(1), 1000, **{field: -50})]
    with pytest.raises(ValueError, match="non-negative"):
        analyse_snapshots(rows)


def test_flows_summed_gross_not_as_daily_net() -> None:
    # A day with 1,220 in and 201 out is 1,220 / 201, not 1,019 / 0.
    rows = [SnapshotRow(1, day(0), 1000), SnapshotRow(1, day(1), 2019, 1220, 201)]
    flows = analyse_snapshots(rows)["flows"]
    assert (flows["total_inflows"], flows["total_outflows"], flows["net_flows"]) == (1220, 201, 1019)


def test_unknown_flows_are_null_with_a_reason_and_the_figures_marked() -> None:
    result = analyse_snapshots(series(1000, 1010, 1020), flows_unknown=True)
    flows = result["flows"]
    assert flows["known"] is False and flows["start_value"] == 1000
    assert all(flows[k] is None for k in ("total_inflows", "total_outflows", "net_flows", "pnl"))
    assert "does not report deposits/withdrawals" in result["undefined"]["flows.total_inflows"]
    assert "core" in result["depends_on_unknown_flows"]
    assert analyse_snapshots(series(1000, 1010))["depends_on_unknown_flows"] == []


# --- property: no input series makes a figure NaN or infinite, or raises ------------------------------

_amount = st.one_of(
    st.just(0.0), st.floats(1e-8, 1e-2), st.floats(0.01, 1e6), st.floats(1e6, 1e20),
    st.floats(-1e6, -1e-8),  # negative equity: a margin deficit as the venue reports it
)
_flow = st.one_of(st.just(0.0), st.just(0.0), st.floats(1e-8, 1e20))


@st.composite
def track_records(draw: st.DrawFn) -> tuple[list[SnapshotRow], set[int]]:
    rows, active = [], set()
    for conn in range(1, draw(st.integers(1, 3)) + 1):
        n = draw(st.integers(1, 40))
        offset = draw(st.integers(0, 10))
        steps = draw(st.lists(st.sampled_from([1, 1, 1, 2, 9]), min_size=n, max_size=n))
        d = offset
        for step in steps:
            rows.append(SnapshotRow(conn, day(d), draw(_amount), draw(_flow), draw(_flow)))
            d += step
        if draw(st.booleans()):
            active.add(conn)
    return rows, active


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(track_records(), st.booleans(), st.booleans())
def test_no_series_yields_an_exception_nan_or_inf(
    record: tuple[list[SnapshotRow], set[int]], unrestricted: bool, unknown: bool
) -> None:
    rows, active = record
    closes = {day(i): 100.0 * (1 + 0.01 * math.sin(i)) for i in range(0, 400)}
    options = UNRESTRICTED if unrestricted else AnalyticsOptions(min_benchmark_observations=2)
    result = analyse_snapshots(rows, still_active=active, benchmark_symbol="BTC-USD", benchmark_closes=closes,
                               options=options, flows_unknown=unknown)
    publishable(result)
    for section in ("core", "trading", "risk", "benchmark", "flows"):
        for key, value in (result[section] or {}).items():
            if value is None and isinstance(key, str) and key not in ("max_drawdown_end",):
                assert f"{section}.{key}" in result["undefined"], (section, key)


def test_benchmark_figures_left_null_say_why() -> None:
    rows = series(*[1000 + 10 * (i % 3) for i in range(10)])
    closes = {day(i): 100.0 + (i % 4) for i in range(10)}
    result = analyse_snapshots(rows, benchmark_symbol="SPY", benchmark_closes=closes)
    assert result["benchmark"]["beta"] is None
    assert result["undefined"]["benchmark.beta"] == \
        "needs at least 20 returns on dates shared with the benchmark; there are 9"
    assert result["undefined"]["benchmark.alpha"].startswith("not annualised")
    none_shared = analyse_snapshots(rows, benchmark_symbol="SPY", benchmark_closes={day(50): 1.0})
    assert none_shared["undefined"]["benchmark.benchmark_return"] == "fewer than two dates shared with the benchmark"
