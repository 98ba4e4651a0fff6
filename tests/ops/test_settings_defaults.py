"""profiles.yml (read by plain `dbt`) and jobmetrics/core/settings.py read the same environment
variables; where both give a default, it is the same one."""

from __future__ import annotations

import re

from jobmetrics.core.settings import PROJECT_ROOT

SETTINGS = PROJECT_ROOT / "jobmetrics" / "core" / "settings.py"
DBT_FILES = [PROJECT_ROOT / "profiles.yml", PROJECT_ROOT / "dbt_project.yml"]


def settings_defaults() -> dict[str, str]:
    """Variable → default as settings.py reads it (`_number("X", "2", ...)`, `_path(...)`)."""
    text = SETTINGS.read_text(encoding="utf-8")
    return dict(re.findall(r'_[a-z]+\(\s*"([A-Z_]+)",\s*"([^"]*)"', text))


def dbt_defaults() -> list[tuple[str, str, str]]:
    """(file, variable, default) of every env_var('X', 'default') in the dbt project files."""
    found = []
    for path in DBT_FILES:
        for name, default in re.findall(r"env_var\('([A-Z_]+)',\s*'([^']*)'\)", path.read_text()):
            found.append((path.name, name, default))
    return found


def test_dbt_files_and_settings_agree_on_every_default() -> None:
    ours = settings_defaults()
    theirs = dbt_defaults()
    assert len(ours) >= 20 and len(theirs) >= 8  # the patterns still find them
    disagree = [
        f"{file}: {name} defaults to {default!r}, settings.py to {ours[name]!r}"
        for file, name, default in theirs
        if name in ours and ours[name] != default
    ]
    unknown = [f"{file}: {name}" for file, name, _ in theirs if name not in ours]
    assert not disagree and not unknown, disagree + unknown
