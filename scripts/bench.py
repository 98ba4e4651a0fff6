"""Benchmark the whole pipeline (generate → dbt build → report) at several sizes.

    .venv/bin/python scripts/bench.py                        # 10k, 100k and 1M users × 365 days
    .venv/bin/python scripts/bench.py --users 10000 100000   # some sizes only
    .venv/bin/python scripts/bench.py --with-10m             # also 10M users

Per size and stage (generate, dbt build, report) it measures wall seconds and peak memory
(each stage runs in its own child process; its peak resident memory, ru_maxrss, includes
DuckDB), the rows of the biggest raw table and rows per second. It also times:
- the mart SQL run directly in one DuckDB connection: `dbt compile`, then every model's
  compiled SQL in dependency order as `create view/table ... as <compiled sql>`, against the
  time of `dbt build` for the same models (models and seeds only; dbt's overhead ratio);
- a nightly rebuild: after `append_days(1)`, an incremental `dbt build` (models and seeds)
  against a full refresh of the same data, and whether both give the same tables (floats
  rounded to 6 decimals: with 2 DuckDB threads, float sums vary in the last digits); three
  nights two weeks apart (a month's first, middle and last days), and the median night's ratio
  reported.
Prints a table and writes bench/results/<date>-<cores>c.json (or --out).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RESULT_PREFIX = "BENCH_RESULT "
DEFAULT_SIZES = [10_000, 100_000, 1_000_000]
START_DATE = "2025-01-01"
SEED = 42
MODELS_AND_SEEDS = ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
OVERHEAD_RUNS = 3
"""Pairs of (dbt build, direct SQL) below 1M users (--overhead-pairs); the median pair's ratio
is reported: one pair varied from ×2.71 to ×3.55 at 10k within 20 minutes, one host, one
commit."""
NIGHTLY_RUNS = 3
"""Nights of the nightly comparison (--nightly-pairs), each appending one day and timing an
incremental build and a full refresh of the same data; the median night's ratio is reported:
single nights at 1M users ranged from ×0.19 to ×0.25 on one host on 2026-12-04 and 05."""
NIGHT_SPACING_DAYS = 14
"""Days from one timed night to the next: in between, the days before the next night are
appended and built untimed. A night's work depends on the day of the month: in a month's first
days the monthly models read the month before again; later, `fct_scans_by_dimension`
re-aggregates the month so far (in a 1M nightly build 0.25–0.29 s on 1 January, 1.2–1.3 s
on 18 January). From the default data's end (31 December) three nights fall on the 1st, 15th
and 29th."""
DIRECT_SQL_THREADS = os.cpu_count() or 1
"""DuckDB threads of the direct SQL run, which executes one query at a time."""
# The generator works in pieces (jobmetrics/generator/chunks.py) but keeps a few compact
# columns per visit, scan and session: measured peaks 0.73 GiB at 1M users and 3.24 GiB at 10M
# users (365 days; bench/results/2026-12-02-generate-10m-2c.json), about this much per user.
# (It held the whole data set before: 20.2 GiB at 10M.)
GENERATOR_BYTES_PER_USER = 350
# Targets of issue 7 on 2 cores (benchmarks, not tests).
TARGETS = {
    "default_end_to_end_s": 20.0,  # 10k users: generate + build + report
    "generate_1m_s": 60.0,
    "dbt_build_1m_s": 120.0,
    "report_1m_s": 10.0,
    "peak_1m_gib": 6.0,
    "dbt_overhead_ratio_1m": 1.5,
}
# Targets of issue 16 (speed), same machine.
TARGETS.update(
    {
        "cli_run_first_s": 20.0,  # `jobmetrics run`, default data, fresh clone (no dbt target)
        "cli_build_unchanged_s": 8.0,  # a second `jobmetrics build`, nothing changed
        "cli_nightly_build_10k_s": 8.0,  # `jobmetrics build` after `generate --append-days 1`
        "dbt_overhead_ratio_10k": 3.0,
        "dbt_overhead_ratio_1m": 1.2,
        "incremental_ratio_1m": 0.2,  # nightly incremental build / full refresh, 1M users
    }
)


# ---------------------------------------------------------------- stages (child processes)


def _dbt_env(paths: dict[str, str]) -> dict[str, str]:
    warehouse = paths["warehouse"]
    return {
        "JOBMETRICS_RAW_DIR": paths["raw"],
        "JOBMETRICS_WAREHOUSE": warehouse,
        "JOBMETRICS_BUILD_PATH": warehouse,
        "DBT_TARGET_PATH": paths["target"],
        "DBT_LOG_PATH": paths["logs"],
    }


def _stage_generate(args: dict) -> dict:
    from jobmetrics.generator import generate

    manifest = generate(
        Path(args["raw"]), users=args["users"], days=args["days"], start_date=START_DATE, seed=SEED
    )
    return {"row_counts": manifest["row_counts"]}


def _stage_append(args: dict) -> dict:
    from jobmetrics.generator import append_days

    manifest = append_days(Path(args["raw"]), args["append_days"])
    return {"row_counts": manifest["row_counts"], "data_end": manifest["data_end"]}


def _stage_dbt(args: dict) -> dict:
    from jobmetrics.warehouse.dbt_invoke import run_dbt

    outcome = run_dbt(args["dbt_args"], env=_dbt_env(args))
    return {"success": outcome.success, "failures": outcome.failures[:5]}


def _stage_report(args: dict) -> dict:
    from jobmetrics.reports import build_site

    result = build_site(Path(args["warehouse"]), Path(args["site"]), strict=False)
    return {"pages": len(result.pages), "page_errors": [str(e) for e in result.errors[:5]]}


def _stage_compare(args: dict) -> dict:
    from jobmetrics.warehouse.diff import differing_tables

    tables, differences = differing_tables(
        Path(args["left"]), Path(args["right"]), float_decimals=6
    )
    return {"tables": len(tables), "differences": differences}


def _stage_direct(args: dict) -> dict:
    """Execute every model's compiled SQL in dependency order in one DuckDB connection."""
    import duckdb

    from jobmetrics.core import settings

    manifest = json.loads((Path(args["target"]) / "manifest.json").read_text())
    nodes = manifest["nodes"]
    models = {
        uid: node
        for uid, node in nodes.items()
        if node["resource_type"] == "model" and node["config"]["materialized"] != "ephemeral"
    }
    order = _topological(models)
    source_db = Path(args["warehouse"])
    # Same catalog name as the dbt warehouse, so the compiled, fully qualified names resolve.
    direct = Path(args["direct"]) / source_db.name
    direct.parent.mkdir(parents=True, exist_ok=True)
    for stale in (direct, direct.with_name(direct.name + ".wal")):
        stale.unlink(missing_ok=True)
    con = duckdb.connect(str(direct))
    con.execute(f"set memory_limit = '{settings.load().memory_limit}'")
    # every core for the one query at a time: dbt's own setting (one thread per query, two
    # queries at a time) would leave a core idle here
    con.execute(f"set threads = {DIRECT_SQL_THREADS}")
    con.execute("set preserve_insertion_order = false")
    # Seeds are loaded by dbt, not part of the mart SQL: copy them untimed.
    con.execute(f"attach '{source_db}' as seeds_source (read_only)")
    for node in nodes.values():
        if node["resource_type"] == "seed":
            con.execute(
                f'create table "{node["name"]}" as select * from seeds_source.main."{node["name"]}"'
            )
    con.execute("detach seeds_source")
    timings: dict[str, float] = {}
    begin, begin_cpu = time.perf_counter(), time.process_time()
    for uid in order:
        node = models[uid]
        kind = "view" if node["config"]["materialized"] == "view" else "table"
        started = time.perf_counter()
        con.execute(
            f'create or replace {kind} "{node["schema"]}"."{node["alias"]}" as\n'
            + node["compiled_code"]
        )
        timings[node["name"]] = time.perf_counter() - started
    seconds, cpu = time.perf_counter() - begin, time.process_time() - begin_cpu
    con.close()
    return {"seconds": seconds, "cpu": cpu, "models": len(order), "model_seconds": timings}


def _topological(models: dict[str, dict]) -> list[str]:
    done: list[str] = []
    seen: set[str] = set()

    def visit(uid: str) -> None:
        if uid in seen:
            return
        seen.add(uid)
        for parent in models[uid]["depends_on"]["nodes"]:
            if parent in models:
                visit(parent)
        done.append(uid)

    for uid in sorted(models):
        visit(uid)
    return done


STAGES = {
    "generate": _stage_generate,
    "append": _stage_append,
    "dbt": _stage_dbt,
    "report": _stage_report,
    "direct": _stage_direct,
    "compare": _stage_compare,
}


def _child_main(stage: str, payload: str) -> int:
    args = json.loads(payload)
    begin = time.perf_counter()
    result = STAGES[stage](args)
    result["wall_s"] = time.perf_counter() - begin
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["peak_mib"] = usage.ru_maxrss / 1024
    # CPU seconds of all the process's threads: unlike wall time, it barely grows when
    # other processes compete for the cores.
    result["cpu_s"] = usage.ru_utime + usage.ru_stime
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    # The process ends now, and its wall time counts: skip the interpreter's final garbage
    # collections over what dbt left behind (about 0.4 s at 10k), as the `jobmetrics` command
    # does (jobmetrics.cli.entry).
    gc.freeze()
    return 0


# ---------------------------------------------------------------- driver


def _run_stage(stage: str, args: dict) -> dict:
    """Run one stage in a child process; wall time includes the interpreter and imports."""
    begin = time.perf_counter()
    child = subprocess.run(
        [sys.executable, __file__, "--stage", stage, json.dumps(args)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - begin
    lines = [line for line in child.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if child.returncode != 0 or not lines:
        tail = (child.stderr or child.stdout)[-2000:]
        raise SystemExit(f"stage {stage} failed (exit {child.returncode}):\n{tail}")
    result = json.loads(lines[-1][len(RESULT_PREFIX) :])
    result["process_wall_s"] = wall
    return result


def _node_seconds(target: Path, top: int = 8) -> list[tuple[str, float]]:
    """The slowest dbt nodes of the last invocation (run_results.json)."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    ranked = sorted(
        ((r["unique_id"], float(r["execution_time"])) for r in results),
        key=lambda item: -item[1],
    )
    return [(uid, round(seconds, 2)) for uid, seconds in ranked[:top]]


def _fresh_size_folder(work: Path, users: int) -> tuple[Path, dict[str, str]]:
    """An empty scratch folder for one size, and the paths of its stages."""
    folder = work / f"u{users}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    paths = {
        "raw": str(folder / "raw"),
        "warehouse": str(folder / "bench.duckdb"),
        "target": str(folder / "target"),
        "logs": str(folder / "logs"),
        "site": str(folder / "site"),
        "direct": str(folder / "direct"),
    }
    return folder, paths


def _bench_size(
    users: int,
    days: int,
    work: Path,
    incremental: bool,
    pairs: int = OVERHEAD_RUNS,
    nights: int = NIGHTLY_RUNS,
) -> dict:
    folder, paths = _fresh_size_folder(work, users)
    out: dict[str, Any] = {"users": users, "days": days, "stages": {}}
    log = lambda message: print(f"  {users:>10,} users: {message}", flush=True)  # noqa: E731

    log("generate")
    generated = _run_stage("generate", {**paths, "users": users, "days": days})
    counts = generated["row_counts"]
    biggest = max(counts, key=counts.get)
    out["raw_rows"] = counts
    out["biggest_raw_table"] = {"table": biggest, "rows": counts[biggest]}

    log("dbt build")
    built = _run_stage("dbt", {**paths, "dbt_args": ["build", "--full-refresh"]})
    out["dbt_build_success"] = built["success"]
    out["dbt_build_failures"] = built["failures"]
    out["slowest_nodes_build"] = _node_seconds(Path(paths["target"]))

    log("report")
    report = _run_stage("report", paths)
    out["report_pages"] = report["pages"]
    out["report_page_errors"] = report["page_errors"]

    for name, result in (("generate", generated), ("dbt_build", built), ("report", report)):
        out["stages"][name] = {
            "wall_s": round(result["process_wall_s"], 2),
            "cpu_s": round(result["cpu_s"], 2),
            "peak_mib": round(result["peak_mib"]),
            "rows_per_s": round(counts[biggest] / result["process_wall_s"]),
        }
    out["end_to_end_s"] = round(sum(s["wall_s"] for s in out["stages"].values()), 2)

    runs = pairs if users < 1_000_000 else 1
    log(f"dbt build (models and seeds) vs the same SQL run directly, {runs}x")
    timed = []
    for attempt in range(runs):
        models = _run_stage(
            "dbt", {**paths, "dbt_args": ["build", "--full-refresh", *MODELS_AND_SEEDS]}
        )
        slowest = _node_seconds(Path(paths["target"]))
        # dbt's overhead without starting Python, importing dbt and loading the project: only
        # the time dbt spends running the models (run_results.json's elapsed_time).
        results = json.loads((Path(paths["target"]) / "run_results.json").read_text())
        if attempt == 0:
            # --full-refresh: incremental models compile to their full-refresh SQL. The same
            # environment as the builds, so dbt keeps its saved parse.
            _run_stage("dbt", {**paths, "dbt_args": ["compile", "--full-refresh"]})
        direct = _run_stage("direct", paths)
        ratio = models["process_wall_s"] / direct["seconds"]
        timed.append((ratio, models, slowest, results, direct))
    # The pair with the median ratio: each pair runs back to back, so a host that slows down
    # between pairs moves both of its times.
    _, models, slowest, results, direct = _median(timed, key=lambda pair: pair[0])
    timed.sort(key=lambda pair: pair[0])
    run_s = results["elapsed_time"]
    out["dbt_overhead_ratio_of_each_pair"] = [round(pair[0], 3) for pair in timed]
    out["dbt_overhead_builds_success"] = all(pair[1]["success"] for pair in timed)
    out["dbt_models_s"] = round(models["process_wall_s"], 2)
    out["dbt_models_cpu_s"] = round(models["cpu_s"], 2)
    out["slowest_models"] = slowest
    out["dbt_models_run_s"] = round(run_s, 2)
    out["direct_sql_s"] = round(direct["seconds"], 2)
    out["direct_sql_cpu_s"] = round(direct["cpu"], 2)
    out["direct_sql_peak_mib"] = round(direct["peak_mib"])
    # Ratios to three decimals: a ratio just over its target (×0.202) must not round to it.
    out["dbt_overhead_ratio"] = round(models["process_wall_s"] / direct["seconds"], 3)
    out["dbt_overhead_ratio_run"] = round(run_s / direct["seconds"], 2)
    out["dbt_overhead_ratio_cpu"] = round(models["cpu_s"] / direct["cpu"], 2)
    out["slowest_models_direct"] = sorted(
        ((name, round(s, 2)) for name, s in direct["model_seconds"].items()), key=lambda i: -i[1]
    )[:8]

    if incremental:
        log(
            f"{nights} nights {NIGHT_SPACING_DAYS} days apart: append 1 day, incremental build"
            " vs full refresh"
        )
        out["incremental"] = _bench_nightly(paths, folder, nights)
    shutil.rmtree(folder / "direct", ignore_errors=True)
    return out


def _timed_cli(args: list[str], env: dict[str, str]) -> dict:
    """Run `jobmetrics <args>` as a user does (its own process); wall and CPU seconds."""
    command = [str(Path(sys.executable).parent / "jobmetrics"), *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    begin = time.perf_counter()
    child = subprocess.run(
        command, cwd=PROJECT_ROOT, env={**os.environ, **env}, capture_output=True, text=True
    )
    wall = time.perf_counter() - begin
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if child.returncode != 0:
        raise SystemExit(f"jobmetrics {' '.join(args)} failed:\n{child.stderr[-2000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {
        "command": "jobmetrics " + " ".join(args),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
    }


def _bench_cli(work: Path, users: int, days: int) -> dict:
    """The commands of the README at the default size, from a fresh clone's state.

    `jobmetrics run` with no raw data, warehouse or dbt target folder (so dbt parses the whole
    project, as after a clone); then `jobmetrics build` with nothing changed; then the nightly
    pair `jobmetrics generate --append-days 1` and `jobmetrics build`.
    """
    folder = work / "cli"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env = {
        "JOBMETRICS_RAW_DIR": str(folder / "raw"),
        "JOBMETRICS_WAREHOUSE": str(folder / "jobmetrics.duckdb"),
        "JOBMETRICS_SITE_DIR": str(folder / "site"),
        "DBT_TARGET_PATH": str(folder / "target"),
        "DBT_LOG_PATH": str(folder / "logs"),
    }
    print("  cli: jobmetrics run (fresh), build (unchanged), append 1 day + build", flush=True)
    steps = {
        "run_first": _timed_cli(
            ["run", "--quiet", "--users", str(users), "--days", str(days)], env
        ),
        "build_unchanged": _timed_cli(["build", "--quiet"], env),
        "append_1_day": _timed_cli(["generate", "--append-days", "1", "--quiet"], env),
        "build_nightly": _timed_cli(["build", "--quiet"], env),
    }
    shutil.rmtree(folder, ignore_errors=True)
    return steps


def _print_cli(steps: dict) -> None:
    print()
    header = f"{'command':<48} {'wall s':>8} {'CPU s':>8}"
    print(header)
    print("-" * len(header))
    for step in steps.values():
        print(f"{step['command']:<48} {step['wall_s']:>8.1f} {step['cpu_s']:>8.1f}")


def _bench_nightly_only(users: int, days: int, work: Path, nights: int = NIGHTLY_RUNS) -> dict:
    """`--only nightly`: generate, build the models and seeds, then the nightly comparison."""
    folder, paths = _fresh_size_folder(work, users)
    print(
        f"  {users:>10,} users: generate, build, then {nights} nights {NIGHT_SPACING_DAYS} days"
        " apart of append 1 day, incremental vs full",
        flush=True,
    )
    _run_stage("generate", {**paths, "users": users, "days": days})
    _run_stage("dbt", {**paths, "dbt_args": ["build", "--full-refresh", *MODELS_AND_SEEDS]})
    return {"users": users, "days": days, "incremental": _bench_nightly(paths, folder, nights)}


def _bench_nightly(paths: dict[str, str], folder: Path, nights: int = NIGHTLY_RUNS) -> dict:
    """`nights` nightly rebuilds NIGHT_SPACING_DAYS apart; the median night, with every night's.

    Before each night after the first, the days up to it are appended and built (untimed). The
    tables of every night are compared, not the median one's only.
    """
    timed, untimed_built = [], True
    for number in range(nights):
        if number:
            _run_stage("append", {**paths, "append_days": NIGHT_SPACING_DAYS - 1})
            caught_up = _run_stage("dbt", {**paths, "dbt_args": ["build", *MODELS_AND_SEEDS]})
            untimed_built = untimed_built and caught_up["success"]
        timed.append(_bench_one_night(paths, folder))
    median = dict(_median(timed, key=lambda night: night["ratio"]))
    # a night after a failed untimed build would time more than one day
    median["builds_success"] = untimed_built and all(night["built"] for night in timed)
    median["date_of_each_night"] = [night["date"] for night in timed]
    median["ratio_of_each_night"] = [night["ratio"] for night in timed]
    median["seconds_of_each_night"] = [
        [night["incremental_build_s"], night["full_refresh_build_s"]] for night in timed
    ]
    median["tables_differing_from_full_refresh"] = {
        f"{night['date']}: {table}": rows
        for night in timed
        for table, rows in night["tables_differing_from_full_refresh"].items()
    }
    return median


def _median(runs: list, key: Any) -> Any:
    """The run with the median `key` (the upper of the two middle ones in an even number)."""
    return sorted(runs, key=key)[len(runs) // 2]


def _bench_one_night(paths: dict[str, str], folder: Path) -> dict:
    """Append one day, then time an incremental build against a full refresh; same tables?"""
    appended = _run_stage("append", {**paths, "append_days": 1})
    # Both timed builds start from the saved parse of the builds before, as a nightly run does.
    inc = _run_stage("dbt", {**paths, "dbt_args": ["build", *MODELS_AND_SEEDS]})
    slowest_incremental = _node_seconds(Path(paths["target"]), top=12)
    incremental_copy = folder / "incremental.duckdb"
    shutil.copy(paths["warehouse"], incremental_copy)
    full = _run_stage("dbt", {**paths, "dbt_args": ["build", "--full-refresh", *MODELS_AND_SEEDS]})
    slowest_full = _node_seconds(Path(paths["target"]), top=12)
    same = _run_stage("compare", {"left": str(incremental_copy), "right": paths["warehouse"]})
    incremental_copy.unlink()
    return {
        "date": appended["data_end"],
        "built": inc["success"] and full["success"],
        "append_1_day_s": round(appended["process_wall_s"], 2),
        "incremental_build_s": round(inc["process_wall_s"], 2),
        "full_refresh_build_s": round(full["process_wall_s"], 2),
        "ratio": round(inc["process_wall_s"] / full["process_wall_s"], 3),
        "incremental_build_cpu_s": round(inc["cpu_s"], 2),
        "full_refresh_build_cpu_s": round(full["cpu_s"], 2),
        "ratio_cpu": round(inc["cpu_s"] / full["cpu_s"], 2),
        "slowest_nodes_incremental": slowest_incremental,
        "slowest_nodes_full_refresh": slowest_full,
        "tables_compared": same["tables"],
        "tables_differing_from_full_refresh": same["differences"],
    }


def _host_speed() -> dict[str, float]:
    """Seconds for two fixed workloads, to compare results files from different machines.

    dbt's time per node is Python-bound (compiling Jinja, writing files); the marts' SQL is
    DuckDB-bound. The same commit can differ twofold between two hosts of the same size.
    """
    import duckdb

    begin = time.perf_counter()
    total = 0
    for number in range(10_000_000):
        total += number
    python_s = time.perf_counter() - begin
    con = duckdb.connect()
    con.execute("set threads = 2")
    con.execute("set enable_progress_bar = false")
    begin = time.perf_counter()
    con.execute("select sum(i * i % 7), count(distinct i % 1000003) from range(20000000) t(i)")
    duckdb_s = time.perf_counter() - begin
    con.close()
    return {"python_loop_10m_s": round(python_s, 2), "duckdb_aggregate_20m_s": round(duckdb_s, 2)}


def _targets(results: list[dict], cli: dict | None = None) -> dict[str, dict]:
    """Each target of the issues that these sizes measure: value, target, met.

    A time is only worth its limit when the work it timed was done: a target measured on a
    dbt build that failed (its failed nodes and everything after them skipped), or a nightly
    ratio of builds whose tables differ, is not met, and says why (`not_valid`).
    """
    values: dict[str, float] = {}
    not_valid: dict[str, str] = {}
    by_users = {r["users"]: r for r in results}
    if cli:
        values["cli_run_first_s"] = cli["run_first"]["wall_s"]
        values["cli_build_unchanged_s"] = cli["build_unchanged"]["wall_s"]
        values["cli_nightly_build_10k_s"] = cli["build_nightly"]["wall_s"]
    if 10_000 in by_users:
        r = by_users[10_000]
        values["default_end_to_end_s"] = r["end_to_end_s"]
        values["dbt_overhead_ratio_10k"] = r["dbt_overhead_ratio"]
        if not r["dbt_build_success"]:
            not_valid["default_end_to_end_s"] = "dbt build failed"
        if not r["dbt_overhead_builds_success"]:
            not_valid["dbt_overhead_ratio_10k"] = "dbt build failed"
    if 1_000_000 in by_users:
        r = by_users[1_000_000]
        values["generate_1m_s"] = r["stages"]["generate"]["wall_s"]
        values["dbt_build_1m_s"] = r["stages"]["dbt_build"]["wall_s"]
        values["report_1m_s"] = r["stages"]["report"]["wall_s"]
        values["peak_1m_gib"] = max(s["peak_mib"] for s in r["stages"].values()) / 1024
        values["dbt_overhead_ratio_1m"] = r["dbt_overhead_ratio"]
        if not r["dbt_build_success"]:
            for name in ("dbt_build_1m_s", "report_1m_s", "peak_1m_gib"):
                not_valid[name] = "dbt build failed"
        if not r["dbt_overhead_builds_success"]:
            not_valid["dbt_overhead_ratio_1m"] = "dbt build failed"
        if "incremental" in r:
            values["incremental_ratio_1m"] = r["incremental"]["ratio"]
            if r["incremental"]["tables_differing_from_full_refresh"]:
                not_valid["incremental_ratio_1m"] = "tables differ from the full refresh"
            if not r["incremental"]["builds_success"]:
                not_valid["incremental_ratio_1m"] = "dbt build failed"
    targets = {}
    for name, value in values.items():
        check = {"value": round(value, 3), "target": TARGETS[name], "met": value <= TARGETS[name]}
        if name in not_valid:
            check.update(met=False, not_valid=not_valid[name])
        targets[name] = check
    return targets


def _print_table(results: list[dict]) -> None:
    print()
    header = (
        f"{'users':>10} {'stage':<22} {'wall s':>8} {'CPU s':>8} {'peak MiB':>9} {'rows/s':>12}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        for stage, s in r["stages"].items():
            print(
                f"{r['users']:>10,} {stage:<22} {s['wall_s']:>8.1f} {s['cpu_s']:>8.1f}"
                f" {s['peak_mib']:>9,}"
                f" {s['rows_per_s']:>12,}"
            )
        print(f"{'':>10} {'end to end':<22} {r['end_to_end_s']:>8.1f}")
        print(
            f"{'':>10} {'dbt models+seeds':<22} {r['dbt_models_s']:>8.1f}"
            f" {r['dbt_models_cpu_s']:>8.1f}   direct SQL {r['direct_sql_s']:.1f} s"
            f" ({r['direct_sql_cpu_s']:.1f} CPU s) → dbt overhead × {r['dbt_overhead_ratio']}"
            f" wall, × {r['dbt_overhead_ratio_cpu']} CPU; running the models alone"
            f" {r['dbt_models_run_s']:.1f} s, × {r['dbt_overhead_ratio_run']}"
        )
        if len(r.get("dbt_overhead_ratio_of_each_pair", [])) > 1:
            each = ", ".join(f"× {ratio}" for ratio in r["dbt_overhead_ratio_of_each_pair"])
            print(f"{'':>10} {'':<22} the median of {each} (dbt build, then direct SQL)")
        if "incremental" in r:
            inc = r["incremental"]
            print(
                f"{'':>10} {'+1 day incremental':<22} {inc['incremental_build_s']:>8.1f}"
                f" {inc['incremental_build_cpu_s']:>8.1f}   full refresh"
                f" {inc['full_refresh_build_s']:.1f} s"
                f" ({inc['full_refresh_build_cpu_s']:.1f} CPU s)"
                f" → × {inc['ratio']} wall, × {inc['ratio_cpu']} CPU;"
                f" same tables: {not inc['tables_differing_from_full_refresh']}"
            )
            if len(inc.get("ratio_of_each_night", [])) > 1:
                each = ", ".join(
                    f"{night} × {ratio}"
                    for night, ratio in zip(
                        inc["date_of_each_night"], inc["ratio_of_each_night"], strict=True
                    )
                )
                print(f"{'':>10} {'':<22} the median night of {each}")
        print(
            f"{'':>10} biggest raw table {r['biggest_raw_table']['table']}: "
            f"{r['biggest_raw_table']['rows']:,} rows; dbt build ok: {r['dbt_build_success']}"
        )


def _at_least_one(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"needs a whole number of at least 1, not {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=DEFAULT_SIZES)
    parser.add_argument("--with-10m", action="store_true", help="also run 10,000,000 users")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument(
        "--work-dir", type=Path, default=Path("/tmp/jobmetrics-bench"), help="scratch folder"
    )
    parser.add_argument("--out", type=Path, help="results JSON (default bench/results/...)")
    parser.add_argument(
        "--no-incremental", action="store_true", help="skip the append + incremental timing"
    )
    parser.add_argument(
        "--only",
        choices=["nightly", "cli"],
        help="only the nightly comparison (generate, build, then nights of: append 1 day,"
        " incremental vs full)"
        " or only the README commands at the default size (cli)",
    )
    parser.add_argument(
        "--no-cli", action="store_true", help="skip timing the README commands (jobmetrics run)"
    )
    parser.add_argument(
        "--cli-users",
        type=int,
        default=10_000,
        help="users of the README commands' data set (default: the default data set, 10,000)",
    )
    parser.add_argument(
        "--overhead-pairs",
        type=_at_least_one,
        default=OVERHEAD_RUNS,
        help="(dbt build, direct SQL) pairs below 1M users; the median pair is reported",
    )
    parser.add_argument(
        "--nightly-pairs",
        type=_at_least_one,
        default=NIGHTLY_RUNS,
        help=(
            f"nights, {NIGHT_SPACING_DAYS} days apart, of (append 1 day, incremental build, full"
            " refresh); the median is reported"
        ),
    )
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("payload", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        return _child_main(args.stage, args.payload)

    sizes = sorted(set(args.users + ([10_000_000] if args.with_10m else [])))
    cores = os.cpu_count() or 1
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    too_big = [users for users in sizes if users * GENERATOR_BYTES_PER_USER > 0.95 * memory]
    if too_big:
        print(
            f"error: generating {too_big[0]:,} users needs about "
            f"{too_big[0] * GENERATOR_BYTES_PER_USER / 2**30:.0f} GiB of memory; "
            f"this machine has {memory / 2**30:.1f} GiB",
            file=sys.stderr,
        )
        return 2
    started = datetime.now(UTC)
    if args.only == "nightly":
        nightly = [
            _bench_nightly_only(users, args.days, args.work_dir, args.nightly_pairs)
            for users in sizes
        ]
        print(json.dumps(nightly, indent=2))
        out = args.out or PROJECT_ROOT / "bench" / "results" / f"{started:%Y-%m-%d}-nightly.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            json.dumps(
                {
                    "started_at": started.isoformat(timespec="seconds"),
                    "load_average_at_end": os.getloadavg(),
                    "results": nightly,
                },
                indent=2,
            )
            + "\n"
        )
        print(f"wrote {out}")
        return 0
    host_speed = _host_speed()
    if args.only == "cli":
        sizes = []
    print(f"JobMetrics benchmark: {cores} cores, sizes {sizes}, {args.days} days; {host_speed}")
    cli = None if args.no_cli else _bench_cli(args.work_dir, args.cli_users, args.days)
    # The targets are about the default data set; other sizes are printed, not judged.
    default_cli = cli if (args.cli_users, args.days) == (10_000, 365) else None
    results = []
    for users in sizes:
        results.append(
            _bench_size(
                users,
                args.days,
                args.work_dir,
                incremental=not args.no_incremental,
                pairs=args.overhead_pairs,
                nights=args.nightly_pairs,
            )
        )
    if cli:
        _print_cli(cli)
    if results:
        _print_table(results)
    checks = _targets(results, default_cli)
    print()
    print(f"{'target':<28} {'measured':>9} {'limit':>7}  met")
    for name, check in checks.items():
        verdict = "yes" if check["met"] else "NO"
        if "not_valid" in check:
            verdict += f" ({check['not_valid']})"
        print(f"{name:<28} {check['value']:>9} {check['target']:>7}  {verdict}")
    from jobmetrics.core.settings import load

    build_settings = load()
    document = {
        "started_at": started.isoformat(timespec="seconds"),
        "cores": cores,
        "load_average_at_end": os.getloadavg(),
        "host_speed": host_speed,
        "memory_total_gib": round(memory / 2**30, 1),
        "settings": {
            # as the builds read them (jobmetrics/core/settings.py, the defaults' one place)
            "threads": str(build_settings.threads),
            "duckdb_threads": str(build_settings.duckdb_threads),
            "direct_sql_threads": DIRECT_SQL_THREADS,
            "memory_limit": build_settings.memory_limit,
        },
        "days": args.days,
        "cli": cli,
        "results": results,
        "targets": checks,
    }
    out = args.out or PROJECT_ROOT / "bench" / "results" / f"{started:%Y-%m-%d}-{cores}c.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
