"""Bad input gets one clear GeneratorError; a failed run never leaves a half-written data set."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

import jobmetrics.generator.core
from jobmetrics.core.errors import UserError
from jobmetrics.generator import GENERATOR_VERSION, GeneratorError, generate


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"users": 0}, "users must be a positive whole number, got 0"),
        ({"users": -5}, "users must be a positive whole number, got -5"),
        ({"users": 2.5}, "users must be a positive whole number, got 2.5"),
        ({"users": "100"}, "users must be a positive whole number, got '100'"),
        ({"users": True}, "users must be a positive whole number, got True"),
        ({"days": 0}, "days must be a positive whole number, got 0"),
        ({"days": -1}, "days must be a positive whole number, got -1"),
        ({"days": 100_000}, "days must be at most"),
        ({"start_date": "2025/01/01"}, "start date '2025/01/01' is not a date in YYYY-MM-DD form"),
        ({"start_date": "2025-13-01"}, "start date '2025-13-01' is not a date in YYYY-MM-DD form"),
        ({"start_date": 20250101}, "start date 20250101 is not a date in YYYY-MM-DD form"),
        ({"seed": -1}, "seed must be a whole number ≥ 0, got -1"),
        ({"start_date": "1960-01-01"}, "the data window 1960-01-01..1960-01-10 must lie between"),
    ],
)
def test_bad_parameters_raise_one_clear_line(tmp_path: Path, arguments: dict, message: str) -> None:
    with pytest.raises(GeneratorError) as raised:
        generate(tmp_path / "raw", **{"users": 10, "days": 10, **arguments})
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    assert isinstance(raised.value, UserError)
    assert not (tmp_path / "raw").exists()


def test_output_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "raw"
    target.write_text("not a folder")
    with pytest.raises(GeneratorError, match="exists and is not a folder"):
        generate(target, users=10, days=10)


def test_output_under_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(GeneratorError, match="cannot create output folder"):
        generate(blocker / "raw", users=10, days=10)


def test_a_folder_the_generator_did_not_write_is_never_replaced(tmp_path: Path) -> None:
    target = tmp_path / "precious"
    target.mkdir()
    (target / "thesis.docx").write_text("years of work")
    with pytest.raises(GeneratorError, match="refusing to replace"):
        generate(target, users=10, days=10)
    assert (target / "thesis.docx").read_text() == "years of work"


def test_failure_midway_keeps_the_previous_data_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "raw"
    first = generate(target, users=200, days=30, start_date=date(2025, 1, 1), seed=1)
    before = {p.name: p.read_bytes() for p in target.iterdir()}

    def broken(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(jobmetrics.generator.core, "sessions_table", broken)
    with pytest.raises(OSError, match="disk full"):
        generate(target, users=300, days=30, start_date=date(2025, 1, 1), seed=2)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert json.loads((target / "_manifest.json").read_text()) == first
    # no temporary folder left behind; the raw folder's lock stays, as the warehouse's does
    assert sorted(p.name for p in tmp_path.iterdir()) == [".raw.lock", "raw"]


def test_an_interrupt_just_after_the_staging_folder_is_made_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM raises in whatever line runs when it arrives (`jobmetrics generate` turns it into
    an exception): here, the line after the temporary folder is created. A CI run caught that
    window once, with the folder left beside the raw folder."""
    target = tmp_path / "raw"
    generate(target, users=200, days=30, start_date=date(2025, 1, 1), seed=1)
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    make_folder = Path.mkdir

    def mkdir_then_interrupted(self: Path, *args, **kwargs) -> None:
        make_folder(self, *args, **kwargs)
        if self.name.startswith(".raw.tmp-"):
            raise KeyboardInterrupt

    monkeypatch.setattr(Path, "mkdir", mkdir_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        generate(target, users=300, days=30, start_date=date(2025, 1, 1), seed=2)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".raw.lock", "raw"]


def test_a_generated_folder_is_replaced_after_success(tmp_path: Path) -> None:
    target = tmp_path / "raw"
    generate(target, users=200, days=30, start_date=date(2025, 1, 1), seed=1)
    second = generate(target, users=300, days=40, start_date="2025-02-01", seed=1)
    assert json.loads((target / "_manifest.json").read_text()) == second
    assert second["row_counts"]["raw_users"] == 300
    assert second["data_start"] == "2025-02-01"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".raw.lock", "raw"]


def test_progress_reports_each_step_and_manifest_has_the_version(tmp_path: Path) -> None:
    steps: list[str] = []
    manifest = generate(tmp_path / "raw", users=100, days=20, progress=steps.append)
    assert steps[:3] == ["users", "subscriptions", "invoices"]
    assert {"scans", "sessions", "marketing spend"} <= set(steps)
    assert manifest["generator_version"] == GENERATOR_VERSION
    assert manifest["anomalies"] == []  # 20 days are too few for a detector to learn from


def test_the_build_accepts_the_generated_folder(tmp_path: Path) -> None:
    from jobmetrics.warehouse.raw_data import check_raw_dir

    generate(tmp_path / "raw", users=100, days=20, seed=3)
    assert check_raw_dir(tmp_path / "raw")["row_counts"]["raw_users"] == 100


def test_prices_come_from_the_plans_seed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import csv

    import duckdb

    import jobmetrics.generator.reference

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    source = jobmetrics.generator.reference.SEEDS_DIR
    (seeds / "channels.csv").write_text((source / "channels.csv").read_text())
    with (source / "plans.csv").open(newline="") as handle:
        plans = list(csv.DictReader(handle))
    for plan in plans:
        plan["list_price_usd"] = f"{float(plan['list_price_usd']) * 3:.2f}"
    with (seeds / "plans.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(plans[0]))
        writer.writeheader()
        writer.writerows(plans)
    monkeypatch.setattr(jobmetrics.generator.reference, "SEEDS_DIR", seeds)

    generate(tmp_path / "raw", users=400, days=60, start_date="2025-01-01", seed=5)
    tripled = {(p["plan"], p["billing_cycle"]): float(p["list_price_usd"]) for p in plans}
    found = duckdb.sql(
        f"select distinct plan, billing_cycle, price_usd::double "
        f"from '{tmp_path}/raw/raw_subscriptions.parquet'"
    ).fetchall()
    assert found
    for plan, cycle, price in found:
        assert price in (tripled[(plan, cycle)], round(tripled[(plan, cycle)] * 0.8, 2))


def test_a_plan_catalogue_of_another_shape_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jobmetrics.generator.reference

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    source = jobmetrics.generator.reference.SEEDS_DIR
    (seeds / "channels.csv").write_text((source / "channels.csv").read_text())
    lines = (source / "plans.csv").read_text().splitlines()
    (seeds / "plans.csv").write_text("\n".join(lines[:6]) + "\n")  # premium annual missing
    monkeypatch.setattr(jobmetrics.generator.reference, "SEEDS_DIR", seeds)
    with pytest.raises(GeneratorError, match="no price for premium/annual"):
        generate(tmp_path / "raw", users=10, days=10)
