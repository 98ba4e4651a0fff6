"""scripts/bench.py judges a target only on work that was done: a failed build meets nothing."""

from __future__ import annotations

import importlib.util

from jobmetrics.core.settings import PROJECT_ROOT

_spec = importlib.util.spec_from_file_location("bench", PROJECT_ROOT / "scripts" / "bench.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def _size(
    users: int, *, built: bool, differing: dict, pairs_built: bool = True, nights_built: bool = True
) -> dict:
    """One size's results as `_bench_size` records them, every time well inside its limit."""
    stages = {
        name: {"wall_s": 1.0, "cpu_s": 1.0, "peak_mib": 100, "rows_per_s": 1}
        for name in ("generate", "dbt_build", "report")
    }
    return {
        "users": users,
        "stages": stages,
        "end_to_end_s": 3.0,
        "dbt_overhead_ratio": 1.0,
        "dbt_build_success": built,
        "dbt_overhead_builds_success": pairs_built,
        "incremental": {
            "ratio": 0.1,
            "tables_differing_from_full_refresh": differing,
            "builds_success": nights_built,
        },
    }


def test_fast_times_of_a_failed_build_or_differing_tables_are_not_met() -> None:
    targets = bench._targets(
        [
            _size(10_000, built=False, differing={}, pairs_built=False),
            _size(1_000_000, built=False, differing={"2026-01-15: fct_scans": "3 rows"}),
        ]
    )
    not_met = {name: check["not_valid"] for name, check in targets.items() if not check["met"]}
    assert not_met == {
        "default_end_to_end_s": "dbt build failed",
        "dbt_overhead_ratio_10k": "dbt build failed",
        "dbt_build_1m_s": "dbt build failed",
        "report_1m_s": "dbt build failed",
        "peak_1m_gib": "dbt build failed",
        "incremental_ratio_1m": "tables differ from the full refresh",
    }
    # what the failed build does not time is judged on its value as before
    assert targets["generate_1m_s"]["met"] and targets["dbt_overhead_ratio_1m"]["met"]


def test_the_same_times_of_good_builds_are_met() -> None:
    targets = bench._targets(
        [_size(10_000, built=True, differing={}), _size(1_000_000, built=True, differing={})]
    )
    assert all(check["met"] and "not_valid" not in check for check in targets.values())


def test_a_nightly_ratio_after_a_failed_build_is_not_met() -> None:
    """A failed build on a night, or before it (the untimed days between nights), spoils it."""
    targets = bench._targets([_size(1_000_000, built=True, differing={}, nights_built=False)])
    assert targets["incremental_ratio_1m"] == {
        "value": 0.1,
        "target": 0.2,
        "met": False,
        "not_valid": "dbt build failed",
    }
