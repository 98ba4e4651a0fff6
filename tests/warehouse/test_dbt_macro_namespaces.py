"""run_dbt lays each node's macro namespace out from the first one dbt built.

`_macro_namespaces_laid_out_once` (jobmetrics/warehouse/dbt_invoke.py) keeps where each macro
of the project sat in the first namespace dbt built for a package, and places new callables the
same way for the next node. The expectations are namespaces dbt's own builder makes, with the
patch undone, from the macros of this session's build of the project.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from dbt.clients.jinja import MacroGenerator, MacroStack
from dbt.context.macros import MacroNamespace, MacroNamespaceBuilder
from dbt.contracts.graph.manifest import Manifest
from dbt.exceptions import PackageNotFoundForMacroError
from dbt.parser.manifest import extended_mashumuro_decoder

from jobmetrics.warehouse.dbt_invoke import _macro_namespaces_laid_out_once

# (root package, the node's package, dbt's internal packages in dbt's order, the package whose
# table materialization wins: the project overrides dbt-duckdb's)
ARRANGEMENTS = [
    ("jobmetrics", "jobmetrics", ["dbt_duckdb", "dbt"], "jobmetrics"),
    # the node in another package than the root, which is then not internal: all three dicts
    # of project macros (local, root, per package) differ, and the node's own package wins
    ("jobmetrics", "dbt_duckdb", ["dbt"], "dbt_duckdb"),
]


@pytest.fixture(scope="module")
def macros_by_package(built_settings) -> dict:
    """The project's macros by package, from the saved parse of this session's build."""
    data = (Path(os.environ["DBT_TARGET_PATH"]) / "partial_parse.msgpack").read_bytes()
    manifest = Manifest.from_msgpack(data, decoder=extended_mashumuro_decoder)
    found = manifest.get_macros_by_package()
    assert {"jobmetrics", "dbt_duckdb", "dbt"} <= set(found) and len(found["dbt"]) > 300
    return found


def _built(arrangement: tuple, macros: dict, ctx: dict, node: object = None) -> MacroNamespace:
    root, package, internal, _ = arrangement
    builder = MacroNamespaceBuilder(root, package, MacroStack(), list(internal), node)
    return builder.build_namespace(macros, ctx)


def _described(namespace: MacroNamespace) -> dict:
    """What a node's Jinja context gets (dbt copies the namespace into it key by key): each
    name's macro, or a package's macros by name."""

    def macro_of(value: object) -> object:
        if isinstance(value, MacroGenerator):
            return value.macro.unique_id
        return {name: generator.macro.unique_id for name, generator in value.items()}

    return {name: macro_of(namespace[name]) for name in namespace}


def _parts(namespace: MacroNamespace) -> tuple:
    def ids(flat: dict) -> dict:
        return {name: generator.macro.unique_id for name, generator in flat.items()}

    return (
        ids(namespace.local_namespace),
        ids(namespace.global_namespace),
        ids(namespace.global_project_namespace),
        {package: ids(flat) for package, flat in namespace.packages.items()},
    )


@pytest.mark.parametrize("arrangement", ARRANGEMENTS)
def test_a_laid_out_namespace_resolves_every_name_as_dbt_does(
    arrangement: tuple, macros_by_package: dict
) -> None:
    expected = _built(arrangement, macros_by_package, {})
    node, ctx = object(), {"model": "a node's context"}
    with _macro_namespaces_laid_out_once():
        first = _built(arrangement, macros_by_package, {})
        laid_out = _built(arrangement, macros_by_package, ctx, node)
        again = _built(arrangement, macros_by_package, {}, node)
    assert type(first) is MacroNamespace and type(laid_out) is not MacroNamespace  # dbt, then us

    described = _described(expected)
    assert _described(laid_out) == _described(again) == described
    assert len(laid_out) == len(expected) and set(laid_out) == set(expected)
    assert dict(laid_out).keys() == described.keys()  # as dict.update copies it into a context
    assert _parts(laid_out) == _parts(expected)
    # the node's package overrides the root's, which overrides dbt's internal packages, of
    # which dbt-duckdb's overrides dbt's own
    winner = arrangement[3]
    assert described["materialization_table_duckdb"] == (
        f"macro.{winner}.materialization_table_duckdb"
    )
    assert described["create_table_as"] == "macro.dbt_duckdb.create_table_as"
    assert isinstance(described["dbt"], dict) and "run_query" in described["dbt"]
    for package, name in [
        (None, "run_query"),
        ("dbt", "run_query"),
        ("jobmetrics", "incremental_by_date_config"),
        ("dbt_duckdb", "duckdb__get_binding_char"),
    ]:
        if package in (None, "dbt") or package not in arrangement[2]:
            found = laid_out.get_from_package(package, name)
            assert found.macro is expected.get_from_package(package, name).macro
    with pytest.raises(PackageNotFoundForMacroError):
        laid_out.get_from_package("no_such_package", "run_query")
    assert "no_such_macro" not in laid_out and laid_out.get("no_such_macro") is None

    # new callables for this node: its context, node and macro stack, one per macro
    generators = [v for v in laid_out.values() if isinstance(v, MacroGenerator)]
    assert {id(g.context) for g in generators} == {id(ctx)}
    assert {id(g.node) for g in generators} == {id(node)}
    assert len({id(g.stack) for g in generators}) == 1
    assert generators[0].stack is not next(iter(first.values())).stack
    assert not {id(g) for g in generators} & {id(g) for g in again.values()}
    assert vars(generators[0]).keys() == vars(next(iter(expected.values()))).keys()


def test_other_macros_are_built_by_dbt_again_and_the_builder_restored(
    macros_by_package: dict,
) -> None:
    """A macro added or replaced (as partial parsing does, in place): dbt builds the namespace,
    duplicate checks included, and its layout is kept from then on."""
    arrangement = ARRANGEMENTS[0]
    macros = {package: dict(flat) for package, flat in macros_by_package.items()}
    original = MacroNamespaceBuilder.build_namespace
    with _macro_namespaces_laid_out_once():
        _built(arrangement, macros, {})
        assert type(_built(arrangement, macros, {})) is not MacroNamespace
        replaced = dataclasses.replace(
            macros["jobmetrics"]["incremental_by_date_config"], unique_id="macro.jobmetrics.new"
        )
        macros["jobmetrics"]["incremental_by_date_config"] = replaced  # same dict, in place
        rebuilt = _built(arrangement, macros, {})
        assert type(rebuilt) is MacroNamespace
        assert rebuilt["incremental_by_date_config"].macro is replaced
        assert _built(arrangement, macros, {})["incremental_by_date_config"].macro is replaced
    assert MacroNamespaceBuilder.build_namespace is original
