"""run_dbt compiles each Jinja template once and keeps its code in dbt's target folder.

`_templates_compiled_once` (jobmetrics/warehouse/dbt_invoke.py) looks compiled code up by the
source and everything in the environment the code depends on. The expectations come from Jinja
compiling the same source with no cache, and from counting Jinja's own compile calls.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest
from dbt_common.clients import jinja as dbt_jinja

from jobmetrics.warehouse.dbt_invoke import JINJA_CACHE, _target_folder, _templates_compiled_once

MACRO = """
{%- set digits = 2 -%}
select round(cast(amount_usd as decimal(18, {{ digits }})), {{ digits }}) as amount_usd,
    {{ 'paid' | upper }} as status
{%- for month in months %}, {{ month | as_text }} as m{{ loop.index }}{% endfor %}
"""
CONTEXT = {"months": ["2025-01", "2025-02"]}


@pytest.fixture()
def compiles(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The sources Jinja itself compiled (the cache's misses)."""
    seen: list[str] = []
    original = jinja2.Environment.compile

    def counted(env, source, *args, **kwargs):
        seen.append(source if isinstance(source, str) else "<ast>")
        return original(env, source, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counted)
    yield seen


def render(source: str = MACRO, *, native: bool = False) -> str:
    """Through dbt's own template function, as dbt compiles a macro or a model."""
    return str(dbt_jinja.get_template(source, dict(CONTEXT), native=native).render(CONTEXT))


def test_a_template_is_compiled_once_and_renders_the_same(tmp_path: Path, compiles) -> None:
    uncached = render()
    assert len(compiles) == 1
    with _templates_compiled_once(tmp_path):
        first = render()
    assert len(compiles) == 2 and len(list(tmp_path.glob("*.bin"))) == 1
    with _templates_compiled_once(tmp_path):  # a later process: read, not compiled
        second = render()
    assert len(compiles) == 2
    assert first == second == uncached
    assert "decimal(18, 2)), 2) as amount_usd,\n    PAID as status" in second
    assert jinja2.Environment.compile.__name__ == "counted"  # Jinja's own again after the run


def test_what_the_code_depends_on_is_part_of_the_key(tmp_path: Path, compiles) -> None:
    """Another source, dbt's native environment, another filter: compiled on their own."""
    with _templates_compiled_once(tmp_path):
        render()
        render(MACRO.replace("digits = 2", "digits = 4"))
        render(native=True)
        render()
    assert len(compiles) == 3

    # Jinja folds constant filter calls into the code at compile time ('paid' | upper): an
    # environment whose `upper` differs must not get the other's code.
    def shout(text: str) -> str:
        return text.upper() + "!"

    plain, loud = jinja2.Environment(), jinja2.Environment()
    loud.filters["upper"] = shout
    source = "{{ 'paid' | upper }}"
    with _templates_compiled_once(tmp_path):
        assert plain.from_string(source).render() == "PAID"
        assert loud.from_string(source).render() == "PAID!"
        assert plain.from_string(source).render() == "PAID"
    assert len(compiles) == 5


def test_an_unreadable_file_is_compiled_again_and_replaced(tmp_path: Path, compiles) -> None:
    with _templates_compiled_once(tmp_path):
        expected = render()
    (stored,) = tmp_path.glob("*.bin")
    for damage in (b"", b"j2 not a template", stored.read_bytes()[:40]):
        stored.write_bytes(damage)
        with _templates_compiled_once(tmp_path):
            assert render() == expected
        assert stored.stat().st_size > 100  # written whole again
    assert len(compiles) == 4


def test_a_syntax_error_is_reported_as_without_the_cache(tmp_path: Path) -> None:
    broken = "select {{ round('amount_usd' }}"
    with pytest.raises(Exception) as uncached:
        render(broken)
    with _templates_compiled_once(tmp_path), pytest.raises(Exception) as cached:
        render(broken)
    assert type(cached.value) is type(uncached.value)
    assert str(cached.value) == str(uncached.value)
    assert not list(tmp_path.glob("*.bin"))


def test_the_folder_is_in_dbts_target_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    from jobmetrics.core.settings import PROJECT_ROOT

    monkeypatch.delenv("DBT_TARGET_PATH", raising=False)
    assert _target_folder(["build"]) == PROJECT_ROOT / "target"
    monkeypatch.setenv("DBT_TARGET_PATH", "/somewhere/target")
    assert _target_folder(["build"]) == Path("/somewhere/target")
    assert _target_folder(["build", "--target-path", "other"]) == PROJECT_ROOT / "other"
    assert JINJA_CACHE == "jinja"


def test_a_build_leaves_the_compiled_templates_for_the_next(built_settings) -> None:
    """The session's build (tests/conftest.py) ran through run_dbt: its target folder holds
    the templates of every macro and model it compiled."""
    folder = Path(os.environ["DBT_TARGET_PATH"]) / JINJA_CACHE
    assert len(list(folder.glob("*.bin"))) > 100


def test_the_folder_is_pruned_oldest_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from jobmetrics.warehouse import dbt_invoke

    monkeypatch.setattr(dbt_invoke, "JINJA_CACHE_FILES", 10)
    for age in range(12):  # file 0 is the newest
        path = tmp_path / f"{age:02d}.bin"
        path.write_bytes(b"x")
        os.utime(path, (1_700_000_000 - age, 1_700_000_000 - age))
    stale, fresh = tmp_path / "a.1.2.tmp", tmp_path / "b.1.2.tmp"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"x")
    os.utime(stale, (1_700_000_000, 1_700_000_000))
    dbt_invoke._prune(tmp_path)
    kept = sorted(path.name for path in tmp_path.glob("*.bin"))
    assert kept == [f"{age:02d}.bin" for age in range(6)]  # the newest half
    assert not stale.exists() and fresh.exists()
    dbt_invoke._prune(tmp_path)  # under the limit: nothing more removed
    assert len(list(tmp_path.glob("*.bin"))) == 6
