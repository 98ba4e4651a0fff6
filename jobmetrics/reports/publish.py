"""Publishing the report site in one atomic step, so `site/` is the old or the new site at every
instant, never missing or half-written.

Each build writes a new folder under `.<site>.versions/`; `<site>` itself is a symbolic link to
the current one, replaced with one rename(2) of a new link over it. A real folder left by an
older version of JobMetrics is swapped for the link with renameat2(RENAME_EXCHANGE), also one
step. Versions no longer linked and files left by killed builds are removed by the next build.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from jobmetrics.core.atomic import replace_file, replace_folder
from jobmetrics.warehouse.docs_site import DOCS_FOLDER


def versions_folder(site: Path) -> Path:
    return site.parent / f".{site.name}.versions"


def _link_name(site: Path) -> Path:
    return site.parent / f".{site.name}.link-{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _version_pid(name: str) -> int | None:
    """The pid that made a version folder (`PID-NANOSECONDS`)."""
    digits = name.split("-", 1)[0]
    return int(digits) if digits.isdigit() else None


def _suffix_pid(name: str) -> int | None:
    """The pid at the end of a temporary name (`.site.link-PID`, `.site.previous-PID`)."""
    digits = name.rsplit("-", 1)[-1]
    return int(digits) if digits.isdigit() else None


def _another_live_process(pid: int | None) -> bool:
    return pid is not None and pid != os.getpid() and _pid_alive(pid)


def current_version(site: Path) -> Path | None:
    """The version folder `site` links to, or None when it is not a link (yet)."""
    if not site.is_symlink():
        return None
    return (site.parent / os.readlink(site)).resolve()


def remove_leftovers(site: Path) -> None:
    """Delete versions no longer linked and what killed builds left, except a live build's."""
    current = current_version(site)
    versions = versions_folder(site)
    if versions.is_dir():
        for version in versions.iterdir():
            if version.resolve() == current or _another_live_process(_version_pid(version.name)):
                continue
            shutil.rmtree(version, ignore_errors=True)
    # .site.link-PID (killed before its rename), and .site.previous-PID / .site.building-PID
    # from the two-rename swap of older versions
    for prefix in (".link-", ".previous-", ".building-"):
        for stale in site.parent.glob(f".{site.name}{prefix}*"):
            if _another_live_process(_suffix_pid(stale.name)):
                continue
            if stale.is_symlink() or stale.is_file():
                stale.unlink(missing_ok=True)
            else:
                shutil.rmtree(stale, ignore_errors=True)


def new_version(site: Path) -> Path:
    """A fresh, empty folder for the next site, beside the published versions."""
    remove_leftovers(site)
    folder = versions_folder(site) / f"{os.getpid()}-{time.time_ns()}"
    folder.mkdir(parents=True)
    return folder


def _carry_docs(site: Path, version: Path) -> None:
    """dbt's docs page is written by another step: the new site keeps the current one
    (hard links, so the published site is not touched)."""
    docs = site / DOCS_FOLDER
    if docs.is_dir() and not (version / DOCS_FOLDER).exists():
        try:
            shutil.copytree(docs, version / DOCS_FOLDER, copy_function=os.link)
        except OSError:
            shutil.rmtree(version / DOCS_FOLDER, ignore_errors=True)
            shutil.copytree(docs, version / DOCS_FOLDER)


def publish(version: Path, site: Path) -> None:
    """Make `site` show `version` in one step; the version it showed before is removed."""
    _carry_docs(site, version)
    link = _link_name(site)
    link.unlink(missing_ok=True)
    os.symlink(os.path.relpath(version, site.parent), link)
    try:
        if site.is_dir() and not site.is_symlink():
            replace_folder(link, site)  # the first publish over an older JobMetrics' real folder
        else:
            replace_file(link, site)
    except BaseException:
        link.unlink(missing_ok=True)
        raise
    remove_leftovers(site)
