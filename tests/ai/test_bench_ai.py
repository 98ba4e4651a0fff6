"""`scripts/bench_ai.py` end to end: real sockets on 127.0.0.1, `jobmetrics report` and `ask` in
child processes, an endpoint that hangs and one that trickles bounded by the AI budget."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BUDGET_S = 3.0


def test_report_ends_within_the_budget_and_the_cache_serves_the_rebuild(
    warehouse: Path, tmp_path: Path
):
    out = tmp_path / "ai.json"
    done = subprocess.run(
        [sys.executable, "scripts/bench_ai.py", "--budget", str(BUDGET_S), "--out", str(out)],
        cwd=ROOT,
        env={**os.environ, "JOBMETRICS_WAREHOUSE": str(warehouse)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Narrative build and ask against local API stand-ins" in done.stdout
    rows = {row["scenario"]: row for row in json.loads(out.read_text())}
    offline = rows["no API key (offline)"]
    blocks = sum(offline["narratives"].values())
    assert blocks >= 8 and offline["calls"] == 0
    for dead in ("endpoint never answers", "endpoint trickles 1 byte / 2 s"):
        row = rows[dead]
        # the budget, plus the offline build, plus a little for the slower child process
        assert row["seconds"] < BUDGET_S + offline["seconds"] + 3.0, row
        # Filtered views of pages with inputs never call the API: their automatic summaries
        # are labelled "filtered".
        assert row["narratives"]["offline"] + row["narratives"]["filtered"] == blocks
        assert row["failed_calls"] >= 1
    first = rows["healthy, first build"]
    assert first["narratives"]["claude"] >= 1 and first["calls"] == first["narratives"]["claude"]
    rebuild = rows["healthy, rebuild (narrative cache)"]
    cached = first["narratives"]["claude"] + first["narratives"]["cache"]
    assert rebuild["calls"] == 0 and rebuild["narratives"]["cache"] == cached
    second = rows["ask, second question"]
    assert second["cache_read_tokens"] > 0 and second["cache_write_tokens"] == 0
    assert second["cost_usd"] < second["cost_without_cache_usd"]
