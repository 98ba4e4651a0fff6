"""Benchmark the report site: seconds to build every page from a built warehouse, page sizes.

Targets (issue 5): the whole site in under 5 s from the default data set (10,000 users × 365
days), and no page over 300 KB apart from the shared chart library
(assets/plotly-jobmetrics.min.js).

    .venv/bin/python scripts/bench_report.py                 # the warehouse of JOBMETRICS_WAREHOUSE
    .venv/bin/python scripts/bench_report.py --warehouse /tmp/wh.duckdb --runs 5 --json

The site is written to a temporary folder, never to JOBMETRICS_SITE_DIR. Exit code 1 when a
target is missed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from jobmetrics.core import settings as settings_module
from jobmetrics.reports import build_site

TARGET_SECONDS = 5.0
TARGET_PAGE_BYTES = 300_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=settings_module.load().warehouse)
    parser.add_argument("--runs", type=int, default=3, help="builds to time (median reported)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    seconds: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-report-") as folder:
        for _ in range(args.runs):
            result = build_site(args.warehouse, Path(folder) / "site")
            seconds.append(result.seconds)
        sizes = {
            str(path.relative_to(result.out_dir)): path.stat().st_size for path in result.pages
        }
    largest = max(sizes, key=sizes.__getitem__)
    figures = {
        "warehouse": str(args.warehouse),
        "pages": len(sizes),
        "runs": args.runs,
        "median_seconds": round(statistics.median(seconds), 3),
        "min_seconds": round(min(seconds), 3),
        "largest_page": largest,
        "largest_page_bytes": sizes[largest],
        "total_page_bytes": sum(sizes.values()),
    }
    ok = (
        figures["median_seconds"] < TARGET_SECONDS
        and figures["largest_page_bytes"] <= TARGET_PAGE_BYTES
    )
    if args.json:
        print(json.dumps({**figures, "ok": ok}))
    else:
        print(
            f"report site: {figures['pages']} pages, median {figures['median_seconds']:.2f} s "
            f"(min {figures['min_seconds']:.2f} s, {args.runs} runs; target < {TARGET_SECONDS} s)"
        )
        print(
            f"largest page: {largest} {sizes[largest] / 1000:.0f} KB "
            f"(target ≤ {TARGET_PAGE_BYTES / 1000:.0f} KB); all pages "
            f"{figures['total_page_bytes'] / 1000:.0f} KB"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
