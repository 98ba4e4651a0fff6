"""Dependencies point one way, down: every import of the project's own modules, at module level
or inside a function, goes to the same layer or one below it (and never from a layer into the
CLI). The layers, bottom to top, are the folders of jobmetrics/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "jobmetrics"

LAYERS = [
    ("jobmetrics.core", 0),  # errors, settings, formats and labels, the raw data contract, locks
    ("jobmetrics.generator", 1),
    ("jobmetrics.importers", 1),  # a team's own data into the raw contract (beside the generator)
    ("jobmetrics.warehouse", 2),
    ("jobmetrics.ai", 3),
    ("jobmetrics.reports", 4),  # pages, components, the site build (its narratives come from ai)
    ("jobmetrics", 5),  # the CLI and its progress display
]


def layer_of(module: str) -> int:
    for prefix, layer in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return layer
    raise AssertionError(f"{module} is in no layer")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of a jobmetrics module in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else None
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative imports: resolve against the file's package
                base = (package or module_name(path)).split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            # `from jobmetrics.warehouse import build` imports the module jobmetrics.warehouse.build
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
            found.append((node.lineno, target))
    return [(line, name) for line, name in found if name.split(".")[0] == "jobmetrics"]


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[module_name(path) for path in MODULES])
def test_imports_point_down(path: Path) -> None:
    own = layer_of(module_name(path))
    upward = []
    for line, target in project_imports(path):
        if target == "jobmetrics":
            continue  # the package itself (its __init__ imports nothing)
        try:
            layer = layer_of(target)
        except AssertionError:
            continue  # `from jobmetrics.x import name`: the name is not a module
        if layer > own:
            upward.append(f"line {line}: {target}")
    assert not upward, f"{module_name(path)} imports from a layer above it: {upward}"


def test_every_module_is_in_a_layer() -> None:
    for path in MODULES:
        layer_of(module_name(path))


def test_the_generator_imports_only_the_shared_basics() -> None:
    for path in (PACKAGE / "generator").rglob("*.py"):
        for line, target in project_imports(path):
            assert target.startswith(("jobmetrics.core", "jobmetrics.generator")), (
                f"{path.name}:{line} imports {target}"
            )


def test_the_check_finds_an_upward_import(tmp_path: Path) -> None:
    """The walker sees imports inside functions too (the way cycles used to be dodged)."""
    probe = PACKAGE / "core" / "_probe_upward.py"
    probe.write_text("def f():\n    from jobmetrics.reports import build_site\n")
    try:
        with pytest.raises(AssertionError, match="imports from a layer above it"):
            test_imports_point_down(probe)
    finally:
        probe.unlink()
