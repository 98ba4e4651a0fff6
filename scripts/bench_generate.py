"""Benchmark the data generator: rows per second and peak memory at several sizes.

Each size runs in its own child process, so the peak resident memory reported is that run's
alone (resource.getrusage(RUSAGE_CHILDREN) after the child exits, sizes in ascending order);
with --append-days the peak covers the append too.

    .venv/bin/python scripts/bench_generate.py                     # 10k, 100k and 1M users
    .venv/bin/python scripts/bench_generate.py --users 1000000 --days 365
    .venv/bin/python scripts/bench_generate.py --users 100000 --append-days 1
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 60.0
TARGET_PEAK_GIB = 4.0


def _worker(out: Path, users: int, days: int, seed: int, start: str, append: int) -> None:
    """Child process: generate once (then append days) and print the timings as JSON."""
    from jobmetrics.generator import append_days, generate

    begin, cpu = time.perf_counter(), time.process_time()
    manifest = generate(out, users=users, days=days, start_date=start, seed=seed)
    seconds, cpu = time.perf_counter() - begin, time.process_time() - cpu
    result = {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "row_counts": manifest["row_counts"],
        "bytes": sum(p.stat().st_size for p in out.iterdir()),
    }
    if append:
        begin = time.perf_counter()
        append_days(out, append)
        result["append_seconds"] = time.perf_counter() - begin
    print(json.dumps(result))


def _run_one(users: int, days: int, seed: int, start: str, append: int, folder: Path) -> dict:
    out = folder / f"raw_{users}"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    child = subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            str(out),
            "--users",
            str(users),
            "--days",
            str(days),
            "--seed",
            str(seed),
            "--start-date",
            start,
            "--append-days",
            str(append),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        sys.exit(f"generation of {users:,} users failed:\n{child.stderr}")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = json.loads(child.stdout.strip().splitlines()[-1])
    rows = sum(result["row_counts"].values())
    return {
        "users": users,
        "days": days,
        "rows": rows,
        "row_counts": result["row_counts"],
        "seconds": round(result["seconds"], 2),
        # CPU time of generate() (all threads): unlike wall time it does not grow when other
        # processes compete for the cores.
        "cpu_seconds": round(result["cpu_seconds"], 2),
        "rows_per_second": round(rows / result["seconds"]),
        # ru_maxrss of children is the largest child so far: exact when sizes ascend.
        "peak_memory_mib": round(max(peak_kib, before) / 1024),
        "peak_is_this_run": peak_kib > before,
        "parquet_mib": round(result["bytes"] / 2**20, 1),
        "append_days": append,
        "append_seconds": round(result.get("append_seconds", 0.0), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--users", type=int, nargs="+", default=[10_000, 100_000, 1_000_000], help="sizes to run"
    )
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--start-date", default="2025-07-01")
    parser.add_argument("--out-dir", type=Path, help="where to write (default: a temp folder)")
    parser.add_argument(
        "--append-days", type=int, default=0, help="also time extending each data set by N days"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object per size")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args.worker, args.users[0], args.days, args.seed, args.start_date, args.append_days)
        return 0

    with tempfile.TemporaryDirectory(prefix="bench-generate-", dir=args.out_dir) as tmp:
        if not args.json:
            print(
                f"{'users':>10} {'days':>5} {'rows':>12} {'seconds':>8} {'cpu s':>7} "
                f"{'rows/s':>11} {'peak MiB':>9} {'parquet MiB':>12}"
            )
        for users in sorted(args.users):
            result = _run_one(
                users, args.days, args.seed, args.start_date, args.append_days, Path(tmp)
            )
            if args.json:
                print(json.dumps(result))
                continue
            print(
                f"{users:>10,} {args.days:>5} {result['rows']:>12,} {result['seconds']:>8.1f} "
                f"{result['cpu_seconds']:>7.1f} "
                f"{result['rows_per_second']:>11,} {result['peak_memory_mib']:>9,} "
                f"{result['parquet_mib']:>12,}"
            )
            if args.append_days:
                print(
                    f"{'':>10} append {args.append_days} day(s): {result['append_seconds']:.1f} s"
                )
            if users >= 1_000_000 and args.days >= 365:
                ok = (
                    result["seconds"] < TARGET_SECONDS
                    and result["peak_memory_mib"] < TARGET_PEAK_GIB * 1024
                )
                verdict = "meets" if ok else "MISSES"
                print(
                    f"{'':>10} {verdict} the target of < {TARGET_SECONDS:.0f} s "
                    f"and < {TARGET_PEAK_GIB:.0f} GiB"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
