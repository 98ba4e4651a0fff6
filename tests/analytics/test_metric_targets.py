"""fct_metric_targets agrees with a plain-Python recomputation from seeds/metric_targets.csv and
the marts the figures come from (fct_mrr_monthly; the blended row of fct_channel_performance),
for every complete month of dim_periods: the actual value, the target, and on track by the
comparator as the README states it (`>=`: at or above; `<=`: at or below; no value: not
judged). Uses the shared `warehouse` fixture of tests/conftest.py.
"""

from __future__ import annotations

import csv
import operator
from pathlib import Path

import duckdb
import pytest

from jobmetrics.core.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow

COMPARATORS = {">=": operator.ge, "<=": operator.le}
UNIT_ECONOMICS = ("ltv_to_cac", "cac_payback_months")


def seed_targets() -> dict[str, tuple[str, float]]:
    with (PROJECT_ROOT / "seeds" / "metric_targets.csv").open(encoding="utf-8") as stream:
        return {
            row["metric"]: (row["comparator"], float(row["target_value"]))
            for row in csv.DictReader(stream)
        }


def test_targets_recomputed_from_the_seed_and_the_marts(warehouse: Path) -> None:
    targets = seed_targets()
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        months = [
            row[0]
            for row in connection.execute(
                "select period_start_date from dim_periods where grain = 'month' and is_complete"
            ).fetchall()
        ]

        def values(metric: str) -> dict:
            if metric in UNIT_ECONOMICS:
                sql = (
                    f"select performance_month, {metric} from fct_channel_performance "
                    "where channel = 'all'"
                )
            else:
                sql = f"select month, {metric} from fct_mrr_monthly"
            return dict(connection.execute(sql).fetchall())

        expected = {}
        for metric, (comparator, target) in targets.items():
            by_month = values(metric)
            for month in months:
                actual = by_month.get(month)
                actual = None if actual is None else float(actual)
                on_track = None if actual is None else COMPARATORS[comparator](actual, target)
                expected[(month, metric)] = (actual, target, comparator, on_track)
        mart = {
            (row[0], row[1]): tuple(row[2:])
            for row in connection.execute(
                "select month, metric, actual_value, target_value, comparator, is_on_track, "
                "gap_to_target from fct_metric_targets"
            ).fetchall()
        }
    assert set(mart) == set(expected)
    for key, (actual, target, comparator, on_track) in expected.items():
        got_actual, got_target, got_comparator, got_on_track, gap = mart[key]
        if actual is None:
            assert got_actual is None, key
        else:
            assert got_actual == pytest.approx(actual, abs=1e-9), key
        assert (got_target, got_comparator, got_on_track) == (target, comparator, on_track), key
        if on_track is None:
            assert gap is None, key
        else:
            assert (gap >= 0) == on_track, key
    judged = [value[3] for value in expected.values() if value[3] is not None]
    # the small data set exercises both outcomes, or the comparison above proves little
    assert True in judged and False in judged
