"""Python code generated at run time, compiled once and kept on disk.

`dataclasses` writes the source of each dataclass's `__init__`, `__repr__`, `__eq__`, ... and
`exec`s it; mashumaro (dbt's serialisation library) does the same for each class's `to_dict`
and `from_dict`. Compiling that source is most of the cost: importing dbt and running a
nightly build compile about 4,500 such snippets, 0.3-0.5 s of every dbt process, the same
snippets every time. `generated_code_kept(path, modules)` gives those modules an `exec` that
looks the code object up by a digest of the source (and of the compiler flags the module's own
`exec` would have used) and compiles only what it has not seen; the code objects are kept in
one `marshal` file per Python version, as Python keeps a module's bytecode in `__pycache__`.
A snippet that names a helper after a random UUID (mashumaro does, for about 150 of them per
dbt process) never recurs: it is compiled every time and not kept.
"""

from __future__ import annotations
import __future__

import builtins
import hashlib
import importlib.util
import marshal
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

from jobmetrics.core.atomic import remove_partials, write_file

# Past this many snippets the file starts again from one run's: each library upgrade leaves
# its old snippets behind. A dbt build keeps about 1,500 (1.5 MB, read in 0.015 s).
MAX_ENTRIES = 8_000
# The flags a module's `exec` passes on to the compiler: its `from __future__` imports (not
# nested_scopes, whose flag is the code flag of every nested function and is not passed on).
FUTURE_FLAGS = 0
for _feature in __future__.all_feature_names:
    if _feature != "nested_scopes":
        FUTURE_FLAGS |= getattr(__future__, _feature).compiler_flag
_ABSENT = object()
_RANDOM_NAME = re.compile(r"[0-9a-f]{32}")  # uuid4().hex
# Code objects in marshal form are only read back by the same Python build.
_HEADER = importlib.util.MAGIC_NUMBER + repr((sys.version, sys.flags.optimize)).encode() + b"\n"


_WRAPPERS: set[CodeType] = set()


def passes_exec_on(function: Any) -> Any:
    """Mark `function` as an `exec` that calls this one for its caller (a decorator): its
    frame is skipped when finding the calling code's namespaces and future flags."""
    _WRAPPERS.add(function.__code__)
    return function


def cache_file(folder: Path) -> Path:
    """Where generated_code_kept keeps this Python's code objects inside `folder`."""
    return folder / f"generated-code.{sys.implementation.cache_tag}.bin"


def read_kept(path: Path, header: bytes) -> Any:
    """What write_kept stored in `path` under `header`; None if missing, damaged or written
    under another header (another Python, other libraries)."""
    try:
        data = path.read_bytes()
        if not data.startswith(header):
            return None
        return marshal.loads(data[len(header) :])
    except (OSError, ValueError, EOFError, TypeError):
        return None


def write_kept(path: Path, header: bytes, value: Any) -> None:
    """Store `value` (what `marshal` stores: code objects, tuples, dicts, constants) atomically;
    a read-only or full disk only means it is made again next time."""
    try:
        data = header + marshal.dumps(value)
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_partials(path.parent, f"{path.name}.*.tmp")  # of killed runs
        write_file(path, data)
    except (OSError, ValueError):  # ValueError: something marshal cannot store
        pass


def _load(path: Path) -> dict[bytes, CodeType]:
    stored = read_kept(path, _HEADER)
    if not isinstance(stored, dict):
        return {}  # missing, damaged or another format: compiled again and rewritten
    return {key: code for key, code in stored.items() if isinstance(code, CodeType)}


@contextmanager
def exec_replaced(execs: dict[ModuleType, Any]) -> Iterator[None]:
    """Give each module its own `exec` (found before the builtin by the module's own calls),
    and put back what the module had."""
    before = {module: module.__dict__.get("exec", _ABSENT) for module in execs}
    for module, function in execs.items():
        module.exec = function
    try:
        yield
    finally:
        for module, previous in before.items():
            if previous is _ABSENT:
                module.__dict__.pop("exec", None)
            else:
                module.exec = previous


@contextmanager
def generated_code_kept(path: Path, modules: list[ModuleType]) -> Iterator[dict[str, int]]:
    """While inside, `exec(source, ...)` in each of `modules` reuses the code kept in `path`.

    Yields counts: `compiled` (and kept), `reused`, `single_use` (compiled, not kept). The code
    is what the module's own `exec` compiles: the same file name ("<string>"), the future
    flags of the calling code, the interpreter's optimisation level; anything but a string
    (a code object) is passed through.
    """
    codes = _load(path)
    used: dict[bytes, CodeType] = {}
    counts = {"compiled": 0, "reused": 0, "single_use": 0}

    def cached_exec(source: Any, globals_: Any = None, locals_: Any = None, /, **kw: Any) -> None:
        caller = sys._getframe(1)
        while caller.f_code in _WRAPPERS:
            caller = caller.f_back
        if globals_ is None:  # exec(source): the caller's namespaces, as the builtin does
            globals_, locals_ = caller.f_globals, caller.f_locals
        if isinstance(source, str):
            flags = caller.f_code.co_flags & FUTURE_FLAGS
            if _RANDOM_NAME.search(source):
                counts["single_use"] += 1
                code = compile(source, "<string>", "exec", flags=flags, dont_inherit=True)
                builtins.exec(code, globals_, locals_, **kw)
                return
            key = hashlib.blake2b(
                repr((flags, source)).encode(), digest_size=16, usedforsecurity=False
            ).digest()
            code = codes.get(key)
            if code is None:
                code = compile(source, "<string>", "exec", flags=flags, dont_inherit=True)
                codes[key] = code
                counts["compiled"] += 1
            else:
                counts["reused"] += 1
            used[key] = code
            source = code
        builtins.exec(source, globals_, locals_, **kw)

    try:
        with exec_replaced({module: cached_exec for module in modules}):
            yield counts
    finally:
        if counts["compiled"]:
            write_kept(path, _HEADER, codes if len(codes) <= MAX_ENTRIES else used)
