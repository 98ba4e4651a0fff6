"""Every command stopped by SIGTERM or Ctrl-C prints one `error: interrupted by ...` line, exits
130 and leaves what it would have replaced as it was (builds: tests/ops/test_safe_rebuild.py and
test_rebuild_inputs.py)."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
from ops_helpers import cli_env, finish, one_error_line, start_cli, start_cli_with

from jobmetrics.cli import INTERRUPTED

pytestmark = pytest.mark.slow

# A report whose only page runs a query that takes minutes.
SLOW_PAGE = """---
title: Slow
---
# Slow

```sql slow_rows
select sum(range % 7) as total from range(100000000000)
```

<DataTable data="slow_rows" />
"""
SLOW_PAGES = """
import os
from pathlib import Path
import jobmetrics.reports.build
jobmetrics.reports.build.DEFAULT_PAGES = Path(os.environ["PAGES"])
"""


def wait_for(path_glob: str, folder: Path, process: subprocess.Popen, timeout: float = 60) -> None:
    """Block until a file matching path_glob appears in folder (the command is mid-way)."""
    deadline = time.monotonic() + timeout
    while not any(folder.glob(path_glob)):
        assert process.poll() is None, finish(process).stderr
        assert time.monotonic() < deadline, f"nothing matching {path_glob} in {folder}"
        time.sleep(0.05)


def previous_output(folder: Path, name: str) -> Path:
    """Stands for a site or raw folder an earlier run left: one file saying "previous"."""
    folder.mkdir(parents=True)
    (folder / name).write_text("previous")
    return folder


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT], ids=lambda how: how.name)
def test_interrupted_report_query_is_one_line_and_keeps_the_site(
    how: signal.Signals, warehouse: Path, raw_dir: Path, tmp_path: Path
) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "index.md").write_text(SLOW_PAGE)
    env = cli_env(
        raw_dir,
        warehouse,
        JOBMETRICS_SITE_DIR=str(tmp_path / "site"),
        DBT_TARGET_PATH=str(tmp_path / "target"),
        PAGES=str(pages),
    )
    site = previous_output(tmp_path / "site", "index.html")
    report = start_cli_with(SLOW_PAGES, "report", "--quiet", env=env)
    wait_for(".site.*", tmp_path, report)
    time.sleep(1.5)  # into the query

    report.send_signal(how)
    result = finish(report, timeout=60)

    assert result.returncode == INTERRUPTED, result.stderr
    assert f"interrupted by {how.name}" in one_error_line(result)
    assert (site / "index.html").read_text() == "previous"
    assert sorted(path.name for path in tmp_path.iterdir()) == [".site.versions", "pages", "site"]
    assert list((tmp_path / ".site.versions").iterdir()) == []  # the unfinished version is gone


def test_sigterm_during_generate_is_one_line_and_keeps_the_raw_folder(
    warehouse: Path, tmp_path: Path
) -> None:
    raw = previous_output(tmp_path / "raw", "_manifest.json")
    env = cli_env(raw, warehouse)
    generate = start_cli("generate", "--users", "100000", "--days", "365", env=env)
    wait_for(".raw.tmp-*", tmp_path, generate)

    generate.send_signal(signal.SIGTERM)
    result = finish(generate, timeout=60)

    assert result.returncode == INTERRUPTED, result.stderr
    assert "interrupted by SIGTERM" in one_error_line(result)
    assert (raw / "_manifest.json").read_text() == "previous"
    assert sorted(path.name for path in tmp_path.iterdir()) == [".raw.lock", "raw"]
