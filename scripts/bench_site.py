"""Benchmark the report site a reader opens: page sizes, time to the first chart, and how fast
an input change redraws.

    .venv/bin/python scripts/bench_site.py                          # the default warehouse
    .venv/bin/python scripts/bench_site.py --warehouse big.duckdb   # e.g. a 1M-user build

Builds the site from the warehouse (offline narratives), then prints, per page: its size on disk
(HTML with everything embedded), how many views its inputs make and the packed size of the
non-default ones. In headless Chromium (/usr/bin/chromium), opening each page from disk: the time
from navigation start to the first chart drawn and to every chart drawn, and for up to six
changes of every input of the page the time from the change to the frame after the redraw of
what is on screen (layout and paint included; charts further down are drawn one per frame
afterwards): median and worst. Budgets (issue 13): a page under 1 MB, the first chart within
1 s, an input change under 200 ms. Writes bench/results/<date>-site-<cores>c.json (or --out).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

PAGE_BUDGET_BYTES = 1_000_000
REDRAW_BUDGET_MS = 200.0
FIRST_CHART_BUDGET_MS = 1000.0
CHANGES_PER_INPUT = 6
CHROMIUM = "/usr/bin/chromium"
PACKED = re.compile(r'id="jm-page-views"[^>]*>(.*?)</script>', re.S)

DRAWN_TIMES = """window.__jmDrawn = [];
new MutationObserver((changes) => {
    for (const change of changes) {
        if (change.target.getAttribute('data-rendered') === 'true') {
            window.__jmDrawn.push(performance.now());
        }
    }
}).observe(document, {attributes: true, subtree: true, attributeFilter: ['data-rendered']});"""

# Time from a change to the frame after the page redrew what is on screen (charts further down
# are drawn one per frame afterwards).
MEASURE = """async ([selector, action, value]) => {
    const root = document.documentElement;
    // Start from a settled page: every chart further down drawn after the last change.
    await new Promise((resolve) => {
        const idle = () => (Array.from(document.querySelectorAll('#jm-view .jm-chart'))
            .every((chart) => chart.getAttribute('data-rendered') === 'true')
            ? setTimeout(resolve, 50) : setTimeout(idle, 10));
        idle();
    });
    const applied = root.getAttribute('data-jm-applied');
    const started = performance.now();
    const node = document.querySelector(selector);
    if (action === 'select') {
        node.value = value;
        node.dispatchEvent(new Event('change', {bubbles: true}));
    } else {
        node.click();
    }
    // inputs.js counts a change as applied in the frame after the charts on screen are drawn.
    await new Promise((resolve) => {
        const wait = () => (root.getAttribute('data-jm-applied') !== applied
            ? resolve() : setTimeout(wait, 0));
        wait();
    });
    return performance.now() - started;
}"""


def _changes(page: Any, spec: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(selector, action, value) of up to CHANGES_PER_INPUT changes of one input."""
    base = f'[data-input="{spec["name"]}"]'
    if spec["kind"] == "DateRange":
        keys = [preset["key"] for preset in spec["presets"]][1:] + ["all"]
        return [(f'{base} [data-role="preset"]', "select", key) for key in keys][:CHANGES_PER_INPUT]
    if spec["kind"] == "ButtonGroup":
        values = spec["values"][1:] + spec["values"][:1]
        return [(f'{base} button[data-value="{value}"]', "click", "") for value in values][
            :CHANGES_PER_INPUT
        ]
    if spec["view"]:
        values = spec["values"][1:CHANGES_PER_INPUT] + spec["values"][:1]
        return [(f"{base} select", "select", value) for value in values]
    # A multiple dropdown: untick then tick one value at a time.
    boxes = [f'{base} input[value="{value}"]' for value in spec["values"][: CHANGES_PER_INPUT // 2]]
    return [(box, "click", "") for box in boxes for _ in range(2)]


def measure(site: Path) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            for path in sorted(site.rglob("*.html")):
                if "docs" in path.relative_to(site).parts:
                    continue
                html = path.read_text(encoding="utf-8")
                packed = PACKED.search(html)
                row: dict[str, Any] = {
                    "page": str(path.relative_to(site)),
                    "bytes": path.stat().st_size,
                    "packed_views_bytes": len(packed.group(1)) if packed else 0,
                }
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                # From navigation start (the page's time origin) to the first chart drawn, and
                # to every chart drawn, recorded in the page as each chart is marked drawn.
                page.add_init_script(DRAWN_TIMES)
                page.goto(path.resolve().as_uri())
                page.wait_for_function(
                    "Array.from(document.querySelectorAll('.jm-chart'))"
                    ".every(n => n.getAttribute('data-rendered') === 'true')",
                    timeout=30_000,
                )
                drawn = page.evaluate("window.__jmDrawn")
                # a page of tables only (customers) has no chart to time
                row["first_chart_ms"] = round(min(drawn)) if drawn else None
                row["all_charts_ms"] = round(max(drawn)) if drawn else None
                specs = page.evaluate("window.jmSite.page.inputs || []")
                row["views"] = len(page.evaluate("window.jmSite.page.views || {}")) or 1
                timings = []
                for spec in specs:
                    if not spec["view"] and spec["kind"] == "Dropdown":
                        page.click(f'[data-input="{spec["name"]}"] summary')
                    for change in _changes(page, spec):
                        timings.append(page.evaluate(MEASURE, list(change)))
                    if not spec["view"] and spec["kind"] == "Dropdown":
                        page.click(f'[data-input="{spec["name"]}"] summary')
                if timings:
                    row["changes"] = len(timings)
                    row["redraw_median_ms"] = round(statistics.median(timings), 1)
                    row["redraw_max_ms"] = round(max(timings), 1)
                page.close()
                rows.append(row)
        finally:
            browser.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, help="a built warehouse (default the project's)")
    parser.add_argument("--out", type=Path, help="results JSON (default bench/results/...)")
    args = parser.parse_args(argv)

    from jobmetrics.core import settings as settings_module
    from jobmetrics.reports import build_site
    from jobmetrics.reports.narratives import Narrator

    os.environ.pop("ANTHROPIC_API_KEY", None)  # offline narratives: the site, not the API
    settings = settings_module.load()
    warehouse = (args.warehouse or settings.warehouse).resolve()
    with tempfile.TemporaryDirectory(prefix="bench-site-") as folder:
        started = time.perf_counter()
        result = build_site(warehouse, Path(folder) / "site", narrator=Narrator(settings))
        build_s = time.perf_counter() - started
        rows = measure(result.out_dir.resolve())

    print(f"Report site from {warehouse} (built in {build_s:.1f} s)")
    print(
        f"{'page':30} {'KiB':>5} {'views':>5} {'packed KiB':>10} {'first chart':>11} "
        f"{'all charts':>10} {'changes':>7} {'median ms':>9} {'max ms':>7}"
    )

    def ms(value: int | None, width: int) -> str:
        return f"{value:{width}d} ms" if value is not None else f"{'-':>{width}}   "

    for row in rows:
        print(
            f"{row['page']:30} {row['bytes'] / 1024:5.0f} {row['views']:5d} "
            f"{row['packed_views_bytes'] / 1024:10.0f} {ms(row['first_chart_ms'], 8)} "
            f"{ms(row['all_charts_ms'], 7)} "
            f"{row.get('changes', 0):7d} {row.get('redraw_median_ms', 0):9.1f} "
            f"{row.get('redraw_max_ms', 0):7.1f}"
        )
    largest = max(rows, key=lambda row: row["bytes"])
    slowest = max(rows, key=lambda row: row.get("redraw_max_ms", 0))
    latest = max(
        (row for row in rows if row["first_chart_ms"] is not None),
        key=lambda row: row["first_chart_ms"],
    )
    summary = {
        "largest_page": largest["page"],
        "largest_page_bytes": largest["bytes"],
        "page_budget_bytes": PAGE_BUDGET_BYTES,
        "slowest_redraw_page": slowest["page"],
        "slowest_redraw_ms": slowest.get("redraw_max_ms", 0),
        "redraw_budget_ms": REDRAW_BUDGET_MS,
        "slowest_first_chart_page": latest["page"],
        "slowest_first_chart_ms": latest["first_chart_ms"],
        "first_chart_budget_ms": FIRST_CHART_BUDGET_MS,
    }
    print(
        f"largest page {largest['page']}: {largest['bytes'] / 1024:.0f} KiB "
        f"(budget {PAGE_BUDGET_BYTES / 1000:.0f} kB); slowest input change "
        f"{summary['slowest_redraw_ms']} ms on {slowest['page']} "
        f"(budget {REDRAW_BUDGET_MS:.0f} ms); "
        f"first chart at the latest after {latest['first_chart_ms']} ms on {latest['page']} "
        f"(budget {FIRST_CHART_BUDGET_MS:.0f} ms)"
    )
    cores = os.cpu_count() or 0
    out = args.out or (
        PROJECT_ROOT / "bench" / "results" / f"{datetime.now(UTC):%Y-%m-%d}-site-{cores}c.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "warehouse": str(warehouse),
        "build_s": round(build_s, 2),
        "pages": rows,
        "summary": summary,
    }
    out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
