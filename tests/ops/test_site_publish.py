"""The report site is published in one step: a kill at any point leaves `site/` showing the old
or the new site, and the next build removes what the killed one left."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from ops_helpers import cli_env, finish, run_cli, start_cli_with

from jobmetrics.reports.publish import versions_folder
from jobmetrics.warehouse.docs_site import STATIC_PAGE

pytestmark = pytest.mark.slow

# SIGKILLs the report right before or right after the rename that publishes the site (KILL_AT).
KILL_AT_PUBLISH = """
import os, signal
import jobmetrics.core.atomic as atomic
site, point = os.environ["JOBMETRICS_SITE_DIR"], os.environ["KILL_AT"]
def killing(step, rename):
    def call(source, target, *args):
        if os.fspath(target) == site and point == f"before {step}":
            os.kill(os.getpid(), signal.SIGKILL)
        rename(source, target, *args)
        if os.fspath(target) == site and point == f"after {step}":
            os.kill(os.getpid(), signal.SIGKILL)
    return call
os.replace = killing("rename", os.replace)
atomic.exchange = killing("exchange", atomic.exchange)
"""


def is_report_site(site: Path) -> bool:
    index = site / "index.html"
    return index.is_file() and "jm-" in index.read_text() and (site / "assets/site.js").is_file()


def left_beside(site: Path) -> list[str]:
    """Everything in the site's folder besides `site`, its versions folder and the current
    version."""
    found = [path.name for path in site.parent.iterdir() if path.name.startswith(".site")]
    versions = versions_folder(site)
    if versions.is_dir():
        found.remove(versions.name)
        found += [f"{versions.name}/{path.name}" for path in versions.iterdir()]
        if site.is_symlink():
            found.remove(f"{versions.name}/{site.resolve().name}")
    return sorted(found)


@pytest.mark.parametrize(
    ("previous", "point"),
    [
        ("published site", "before rename"),
        ("published site", "after rename"),
        ("folder from an older version", "before exchange"),
        ("folder from an older version", "after exchange"),
    ],
)
def test_kill_at_the_publish_step_leaves_a_whole_site(
    previous: str, point: str, warehouse: Path, raw_dir: Path, tmp_path: Path
) -> None:
    site, target = tmp_path / "site", tmp_path / "target"
    env = cli_env(
        raw_dir,
        warehouse,
        JOBMETRICS_SITE_DIR=str(site),
        DBT_TARGET_PATH=str(target),
        KILL_AT=point,
    )
    # a docs page as `jobmetrics build` leaves it, so the report does not run dbt again
    target.mkdir()
    (target / STATIC_PAGE).write_text("<html><body>dbt docs</body></html>")
    if previous == "published site":
        assert run_cli("report", "--quiet", env=env).returncode == 0
        before = site.resolve()
    else:
        site.mkdir()
        (site / "index.html").write_text("previous")
        before = None

    killed = finish(start_cli_with(KILL_AT_PUBLISH, "report", "--quiet", env=env), timeout=300)

    assert killed.returncode == -9, killed.stderr
    if point.startswith("before"):
        # the old site, untouched
        if before is None:
            assert not site.is_symlink() and (site / "index.html").read_text() == "previous"
        else:
            assert site.resolve() == before and is_report_site(site)
    else:
        assert site.is_symlink() and site.resolve() != before and is_report_site(site)
    assert left_beside(site), "the killed build left its files"

    # what the two-rename swap of older versions left when killed between its renames (the
    # pid is above Linux's highest, so no such process runs)
    stale = tmp_path / ".site.previous-99999999"
    shutil.copytree(site, stale)
    rebuilt = run_cli("report", "--quiet", env=env)

    assert rebuilt.returncode == 0, rebuilt.stderr
    assert site.is_symlink() and is_report_site(site)
    assert left_beside(site) == []
