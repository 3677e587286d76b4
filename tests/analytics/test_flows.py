"""Hand-computed cash-flow cases: money moving is never performance."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta

import pytest

from app.services.analytics import AnalyticsOptions, SnapshotRow, analyse_snapshots, portfolio_from_rows

D0 = date(2024, 1, 1)


def day(i: int) -> date:
    return D0 + timedelta(days=i)


def rets(result: dict) -> list[float]:
    return [row["return"] for row in result["daily"][1:]]


def test_deposit_is_never_a_return() -> None:
    rows = [SnapshotRow(1, day(0), 1000, 1000), SnapshotRow(1, day(1), 1500, 500), SnapshotRow(1, day(2), 1515)]
    result = analyse_snapshots(rows)
    assert rets(result) == pytest.approx([0.0, 0.01], abs=1e-15)
    assert result["core"]["total_return"] == pytest.approx(0.01)
    assert result["flows"] == pytest.approx({"known": True, "start_value": 1000, "end_value": 1515,
                                             "total_inflows": 500, "total_outflows": 0, "net_flows": 500,
                                             "accounts_added": 0, "accounts_removed": 0, "pnl": 15})


def test_deposit_and_gain_same_day_uses_modified_dietz() -> None:
    rows = [SnapshotRow(1, day(0), 1000), SnapshotRow(1, day(1), 1520, 500)]
    assert rets(analyse_snapshots(rows)) == pytest.approx([20 / 1250])


def test_withdrawal_is_never_a_drawdown() -> None:
    rows = [SnapshotRow(1, day(0), 1000), SnapshotRow(1, day(1), 500, 0, 500), SnapshotRow(1, day(2), 490)]
    result = analyse_snapshots(rows)
    assert rets(result) == pytest.approx([0.0, -0.02], abs=1e-15)
    assert result["core"]["max_drawdown"] == pytest.approx(-0.02)  # not −51 %
    assert result["drawdown"]["periods"][0]["start"] == day(1).isoformat()


def test_connection_added_mid_period_joins_at_the_close_counted_once() -> None:
    # B reports its funding as `deposits` on its first day too: the TS original subtracted it twice,
    # and as a mid-day inflow (weight ½) A's +1 % showed as 10 / 3500 = 0.29 %.
    rows = [
        SnapshotRow(1, day(0), 1000), SnapshotRow(1, day(1), 1010), SnapshotRow(1, day(2), 1020),
        SnapshotRow(2, day(1), 5000, 5000), SnapshotRow(2, day(2), 5050),
    ]
    result = analyse_snapshots(rows)
    assert [row["flow"] for row in result["daily"]] == [0, 0, 0]
    assert [row["transfer"] for row in result["daily"]] == [1000, 5000, 0]
    assert rets(result) == pytest.approx([0.01, 60 / 6010])
    assert result["core"]["max_drawdown"] == 0.0
    assert result["flows"]["accounts_added"] == 5000 and result["flows"]["total_inflows"] == 0


def test_account_added_on_a_good_day_does_not_dilute_it() -> None:
    # The case: a 10k account up 5 % on the day a 100k account is added is +5 %, not +0.83 %.
    rows = [SnapshotRow(1, day(0), 10_000), SnapshotRow(1, day(1), 10_500), SnapshotRow(2, day(1), 100_000)]
    assert rets(analyse_snapshots(rows)) == pytest.approx([0.05])


def test_new_account_reporting_its_first_deposit_adds_no_return() -> None:
    # Before: 0.8 % instead of 1 % (the first deposit counted as a mid-day inflow as well).
    rows = [SnapshotRow(1, day(0), 1000), SnapshotRow(1, day(1), 1010),
            SnapshotRow(2, day(1), 250, 250)]
    result = analyse_snapshots(rows)
    assert rets(result) == pytest.approx([0.01])
    assert result["flows"]["total_inflows"] == 0 and result["flows"]["accounts_added"] == 250


def test_removed_connection_leaves_at_the_close_of_its_last_day() -> None:
    rows = [SnapshotRow(1, day(i), 1000) for i in range(3)] + [SnapshotRow(2, day(0), 500),
                                                               SnapshotRow(2, day(1), 510)]
    result = analyse_snapshots(rows)
    assert [row["value"] for row in result["daily"]] == [1500, 1000, 1000]
    assert [row["flow"] for row in result["daily"]] == [0, 0, 0]
    assert [row["transfer"] for row in result["daily"]] == [1500, -510, 0]
    assert rets(result) == pytest.approx([10 / 1500, 0.0], abs=1e-15)
    assert result["core"]["max_drawdown"] == 0.0
    assert result["flows"]["accounts_removed"] == 510
    conn2 = result["coverage"]["connections"][1]
    assert conn2["removed"] is True and conn2["last_day"] == day(1).isoformat()


def test_removal_is_not_a_flow_of_the_next_day() -> None:
    # A gains 10 % the day after B left: before, B's 510 was a half-weighted outflow of that day
    # and the return showed 100 / 1255 = 7.97 %.
    rows = [SnapshotRow(1, day(0), 1000), SnapshotRow(1, day(1), 1000), SnapshotRow(1, day(2), 1100),
            SnapshotRow(2, day(0), 500), SnapshotRow(2, day(1), 510)]
    assert rets(analyse_snapshots(rows)) == pytest.approx([10 / 1500, 0.10])


def test_still_active_connection_is_carried_forward_not_removed() -> None:
    rows = [SnapshotRow(1, day(i), 1000) for i in range(3)] + [SnapshotRow(2, day(0), 500),
                                                               SnapshotRow(2, day(1), 510)]
    result = analyse_snapshots(rows, still_active={2})
    assert [row["value"] for row in result["daily"]] == [1500, 1510, 1510]
    assert result["daily"][2]["carried"] == 1
    assert result["coverage"]["connections"][1]["carried_forward_days"] == [day(2).isoformat()]


def test_missing_day_between_snapshots_is_carried_forward() -> None:
    rows = [SnapshotRow(1, day(i), 1000 + 10 * i) for i in (0, 1, 3)] + [SnapshotRow(2, day(i), 100) for i in range(4)]
    result = analyse_snapshots(rows)
    assert [row["value"] for row in result["daily"]] == [1100, 1110, 1110, 1130]
    assert [row["flow"] for row in result["daily"]][1:] == [0, 0, 0]
    assert result["coverage"]["connections"][0]["carried_forward_days"] == [day(2).isoformat()]
    assert result["coverage"]["connections"][0]["removed"] is False


def test_day_without_any_snapshot_is_a_gap_not_a_flat_day() -> None:
    rows = [SnapshotRow(1, day(0), 1000), SnapshotRow(1, day(1), 1010), SnapshotRow(1, day(4), 1030)]
    result = analyse_snapshots(rows)
    cov = result["coverage"]
    assert cov["gaps"] == [[day(2).isoformat(), day(3).isoformat()]]
    assert (cov["calendar_days"], cov["days_with_data"], cov["days_without_data"]) == (5, 3, 2)
    assert result["period"]["span_days"] == 4 and result["period"]["observations"] == 2
    assert result["core"]["cagr"] is None  # GIPS: 4 days are never annualised
    unrestricted = analyse_snapshots(rows, options=AnalyticsOptions(min_annualised_days=0))
    assert unrestricted["core"]["cagr"] == pytest.approx(1.03 ** (365 / 4) - 1)  # calendar days, not 2


def test_month_boundary_keeps_every_day() -> None:
    # TS vector §39.3 F: the original reported Feb as −2.12 % by dropping Feb 1's +0.99 %,
    # and an 11.76 % drawdown that was really a withdrawal.
    equity = [(date(2024, 1, 30), 1000, 0), (date(2024, 1, 31), 1010, 0), (date(2024, 2, 1), 1020, 0),
              (date(2024, 2, 2), 915, 100), (date(2024, 2, 3), 900, 0)]
    rows = [SnapshotRow("a", d, e, 0, w) for d, e, w in equity]
    result = analyse_snapshots(rows)
    feb = (1020 / 1010) * (1 - 5 / 970) * (900 / 915) - 1
    assert [m["month"] for m in result["monthly_returns"]] == ["2024-01", "2024-02"]
    assert result["monthly_returns"][1]["return"] == pytest.approx(feb)
    assert result["core"]["max_drawdown"] == pytest.approx((1 - 5 / 970) * (900 / 915) - 1)


def test_zero_base_day_is_undefined_not_infinite() -> None:
    rows = [SnapshotRow(1, day(0), 0), SnapshotRow(1, day(1), 100), SnapshotRow(1, day(2), 110)]
    result = analyse_snapshots(rows)
    assert rets(result) == [None, pytest.approx(0.1)]
    assert result["period"]["undefined_return_days"] == 1 and result["period"]["observations"] == 1
    assert result["period"]["capital_start"] == day(1).isoformat()
    assert result["period"]["capital_span_days"] == 1


@pytest.mark.parametrize("equities", [[1000], [0, 0, 0], [5, 5, 5, 5], [100, 50, 0, 0]])
def test_degenerate_inputs_are_json_safe(equities: list[float]) -> None:
    rows = [SnapshotRow(1, day(i), e) for i, e in enumerate(equities)]
    result = analyse_snapshots(rows, benchmark_symbol="SPY", benchmark_closes={day(0): 1.0, day(1): 1.0})
    json.dumps(result, allow_nan=False)  # raises on NaN/inf
    assert all(v is None or math.isfinite(v) for v in result["core"].values())
    assert result["benchmark"]["beta"] is None  # one or no common observation


def test_one_day_report() -> None:
    result = analyse_snapshots([SnapshotRow(1, day(0), 1000, 1000)])
    assert result["core"]["total_return"] == 0.0
    assert result["core"]["cagr"] is None and result["core"]["volatility"] is None
    assert result["trading"]["win_rate"] is None and result["risk"]["var_95"] is None
    assert result["daily"] == [{"date": "2024-01-01", "value": 1000.0, "flow": 0.0, "transfer": 1000.0,
                                "return": None, "nav": 1.0, "drawdown": 0.0, "carried": 0}]


def test_all_zero_returns() -> None:
    result = analyse_snapshots([SnapshotRow(1, day(i), 1000) for i in range(10)])
    core, trading = result["core"], result["trading"]
    assert core["sharpe"] is None and core["sortino"] is None
    assert core["calmar"] is None and core["max_drawdown"] == 0.0 and core["cagr"] is None  # 9 days: GIPS
    core = analyse_snapshots([SnapshotRow(1, day(i), 1000) for i in range(10)],
                             options=AnalyticsOptions(min_annualised_days=0))["core"]
    assert core["volatility"] == 0.0 and core["sharpe"] is None and core["cagr"] == 0.0
    assert trading["win_rate"] is None and trading["flat_days"] == 9
    assert result["risk"] == {"var_95": 0.0, "var_99": 0.0, "es_95": 0.0, "es_99": 0.0,
                              "skewness": None, "kurtosis": None}


def test_rows_as_mappings_and_decimals_and_duplicates() -> None:
    from decimal import Decimal
    rows = [{"connection_id": "x", "day": day(i), "total_equity": Decimal("100.5") + i,
             "deposits": Decimal(0), "withdrawals": Decimal(0)} for i in range(3)]
    assert analyse_snapshots(rows)["flows"]["end_value"] == 102.5
    with pytest.raises(ValueError, match="more than one snapshot"):
        portfolio_from_rows(rows + rows[:1])


def test_account_silent_for_more_than_seven_days_stops_being_carried() -> None:
    # B misses days 4–14 (11 days > 7): it leaves at the close of day 3 and rejoins at the close of
    # day 15, so its jump from 500 to 800 over the silence is neither a return nor a flow.
    rows = [SnapshotRow(1, day(i), 1000) for i in range(21)]
    rows += [SnapshotRow(2, day(i), 500) for i in range(4)] + [SnapshotRow(2, day(i), 800) for i in range(15, 21)]
    result = analyse_snapshots(rows, still_active={1, 2})
    assert all(r == 0.0 for r in rets(result))
    values = [row["value"] for row in result["daily"]]
    assert values[:3] == [1500] * 3 and values[3:15] == [1000] * 12 and values[15:] == [1800] * 6
    b = result["coverage"]["connections"][1]
    assert b["stale_gaps"] == [[day(4).isoformat(), day(14).isoformat()]] and b["stale"] is False
    assert b["carried_forward_days"] == []


def test_a_short_silence_is_carried_and_a_long_one_at_the_end_is_stale() -> None:
    rows = [SnapshotRow(1, day(i), 1000 + i) for i in range(20)]
    rows += [SnapshotRow(2, day(i), 500) for i in (0, 1, 7, 8)]  # 5 silent days: carried forward
    result = analyse_snapshots(rows, still_active={1, 2})
    b = result["coverage"]["connections"][1]
    assert b["carried_forward_days"] == [day(i).isoformat() for i in range(2, 7)]
    assert b["stale"] is True and b["stale_gaps"] == [[day(9).isoformat(), day(19).isoformat()]]
    assert result["daily"][9]["value"] == 1009  # left at the close of day 8, not carried to day 19
    assert rets(result)[7:9] == pytest.approx([1 / 1507, 1 / 1008])  # days 8 and 9
    carried = analyse_snapshots(rows, still_active={1, 2}, options=AnalyticsOptions(stale_after_days=None))
    assert carried["daily"][19]["value"] == 1019 + 500
