"""fct_mrr_forecast and fct_mrr_forecast_backtest agree with a month-by-month Python forecast.

The marts state the rule once (macros/core_mrr_forecast.sql) in closed form; here it is run the
long way: a least-squares line through the window's new + reactivation MRR
(statistics.linear_regression), the pooled movement rates, and ending MRR stepped forward one
month at a time. Inputs are fct_mrr_monthly's complete months, which tests/warehouse checks
against the raw files. Uses the shared `warehouse` fixture of tests/conftest.py (2,000 users,
365 days from 2025-01-01, seed 7: 12 complete months).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow

WINDOW_MONTHS = 6
HORIZON_MONTHS = 6
INTERVAL_QUANTILE = 0.8

# Horizon-3 MAPE measured with this rule on generator 2.0.0 data (README, "MRR forecast"):
# 2.5 % on the default data (10,000 users, seed 42), 4.3-10.1 % over seeds 1-6 of that size,
# and 9.5 % on this test data (seed 7), 5.1-12.5 % over seeds 7-11 of its size (2,000 users:
# fewer customers, so each month's new and churned MRR is noisier relative to the total). 15 %
# is above the worst seed of that size, so the bound is about the generator's noise, not one
# lucky seed. It catches a rule that goes badly wrong (leaving churn out gives 15.2 % here, a
# flat inflow 13.7 %, so only just or not at all); the recomputation tests in this file are
# what hold the rule itself.
HORIZON_3_MAPE_BOUND = 0.15


@dataclass(frozen=True)
class Month:
    """One complete month of fct_mrr_monthly, in floats."""

    month: date
    starting_mrr: float
    inflow_mrr: float
    movement_mrr: float
    ending_mrr: float


def complete_months(warehouse: Path) -> list[Month]:
    """fct_mrr_monthly's complete months in order."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            """
            select month, starting_mrr, new_mrr + reactivation_mrr,
                expansion_mrr + contraction_mrr + churned_mrr, ending_mrr
            from fct_mrr_monthly where is_complete_month order by month
            """
        ).fetchall()
    return [Month(row[0], *(float(value) for value in row[1:])) for row in rows]


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after `month`."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def forecast_from(months: list[Month], origin: int) -> dict[int, float]:
    """Horizon -> forecast ending MRR, made from months[origin] and the months before it."""
    window = months[origin - WINDOW_MONTHS + 1 : origin + 1]
    slope, intercept = statistics.linear_regression(
        range(WINDOW_MONTHS), [month.inflow_mrr for month in window]
    )
    retained = 1 + sum(month.movement_mrr for month in window) / sum(
        month.starting_mrr for month in window
    )
    mrr = months[origin].ending_mrr
    forecast = {}
    for horizon in range(1, HORIZON_MONTHS + 1):
        mrr = mrr * retained + intercept + slope * (WINDOW_MONTHS - 1 + horizon)
        forecast[horizon] = mrr
    return forecast


def expected_backtest(months: list[Month]) -> dict[tuple[date, int], tuple[float, float]]:
    """(origin month, horizon) -> (forecast, actual) wherever the forecast month is complete."""
    rows = {}
    for origin in range(WINDOW_MONTHS - 1, len(months)):
        for horizon, forecast in forecast_from(months, origin).items():
            if origin + horizon < len(months):
                actual = months[origin + horizon].ending_mrr
                rows[(months[origin].month, horizon)] = (forecast, actual)
    return rows


def quantile(values: list[float], fraction: float) -> float:
    """Quantile with linear interpolation between order statistics (R type 7)."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mart_rows(warehouse: Path, sql: str) -> list[tuple]:
    """Rows of a query on the built warehouse, numbers as floats."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(sql).fetchall()
    return [tuple(as_float(value) for value in row) for row in rows]


def as_float(value: object) -> object:
    """DECIMAL and DOUBLE values as floats; dates, counts and NULLs as they are."""
    return value if value is None or isinstance(value, date | int) else float(value)


def test_backtest_matches_a_month_by_month_recomputation(warehouse: Path) -> None:
    expected = expected_backtest(complete_months(warehouse))
    rows = mart_rows(
        warehouse,
        """
        select origin_month, horizon_months, forecast_month, forecast_mrr, actual_mrr,
            error_mrr, absolute_percentage_error
        from fct_mrr_forecast_backtest
        """,
    )
    assert expected, "the test data should have origins with outcomes"
    assert {(row[0], row[1]) for row in rows} == set(expected)
    for origin, horizon, month, forecast, actual, error, ape in rows:
        want_forecast, want_actual = expected[(origin, horizon)]
        assert month == add_months(origin, horizon)
        assert forecast == pytest.approx(want_forecast, abs=1e-5)
        assert actual == pytest.approx(want_actual, abs=1e-6)
        assert error == pytest.approx(want_forecast - want_actual, abs=1e-5)
        assert ape == pytest.approx(abs(want_forecast - want_actual) / want_actual, rel=1e-9)


def test_forecast_starts_from_the_last_complete_month_with_the_backtest_interval(
    warehouse: Path,
) -> None:
    months = complete_months(warehouse)
    backtest = expected_backtest(months)
    errors = {key: abs(forecast - actual) / actual for key, (forecast, actual) in backtest.items()}
    per_month = quantile(
        [error / horizon for (_, horizon), error in errors.items()], INTERVAL_QUANTILE
    )
    forecast = forecast_from(months, len(months) - 1)
    rows = mart_rows(
        warehouse,
        """
        select base_month, horizon_months, forecast_month, forecast_mrr, forecast_lower_mrr,
            forecast_upper_mrr, backtest_origins, backtest_mape
        from fct_mrr_forecast order by horizon_months
        """,
    )
    assert [row[1] for row in rows] == list(range(1, HORIZON_MONTHS + 1))
    for base, horizon, month, mrr, lower, upper, origins, mape in rows:
        assert base == months[-1].month
        assert month == add_months(base, horizon)
        assert mrr == pytest.approx(forecast[horizon], abs=1e-5)
        assert lower == pytest.approx(max(0.0, mrr * (1 - per_month * horizon)), abs=1e-5)
        assert upper == pytest.approx(mrr * (1 + per_month * horizon), abs=1e-5)
        at_horizon = [error for (_, h), error in errors.items() if h == horizon]
        assert origins == len(at_horizon)
        if at_horizon:
            assert mape == pytest.approx(statistics.fmean(at_horizon), rel=1e-9)


def test_three_month_backtest_error_stays_within_the_bound(warehouse: Path) -> None:
    [(origins, mape)] = mart_rows(
        warehouse,
        """
        select count(*), avg(absolute_percentage_error)
        from fct_mrr_forecast_backtest where horizon_months = 3
        """,
    )
    assert origins >= 3, "too few origins for a 3-month error to mean anything"
    assert mape <= HORIZON_3_MAPE_BOUND, f"3-month MAPE {mape:.1%} over {origins} origins"
