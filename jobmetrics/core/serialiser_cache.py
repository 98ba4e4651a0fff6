"""mashumaro's serialisers written once and replayed, instead of written again in every process.

mashumaro (dbt's serialisation library) writes each dataclass's `to_dict` and `from_dict` as
Python source: it walks the class's fields and their types, writes lines, then `exec`s them
into a namespace of the objects the lines name, and the code sets the functions on the class.
Writing the lines is the cost, not compiling them (jobmetrics.core.code_cache keeps the compiled
code): about 0.4 s of each dbt process, for the same classes every time.

`serialisers_kept(path)` records what one `CodeBuilder.add_pack_method()` or
`add_unpack_method()` call executes: the code objects, and the names its namespace adds, each as
a module or an object found again by module and qualified name (or the class itself), and the
attributes the builder sets on the class for fields whose type has a serialisation strategy in
the class's config (dbt's for bool and datetime), each as that type and the strategy's method.
The next process with the same libraries installed (the file's header holds the installed
distributions and the Python version) sets those attributes again from its config, executes the
recorded code in a namespace built from those names, and the class gets the same methods.

A call is not recorded, and runs as before every time, when it does anything the replay would
not repeat: a nested builder, an `exec` into another namespace, any other attribute set on the
class that the recorded code did not define (a field's own serialisation strategy), a name
that is not found again by module and qualified name (a class being defined), or a class
defined inside a function.
"""

from __future__ import annotations

import builtins
import hashlib
import importlib.util
import os
import sys
import sysconfig
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jobmetrics.core.code_cache import (
    FUTURE_FLAGS,
    exec_replaced,
    passes_exec_on,
    read_kept,
    write_kept,
)

# Past this many recordings the file starts again from one run's (a library upgrade changes
# the header, which starts it again anyway). A dbt build keeps about 1,400.
MAX_ENTRIES = 8_000
_CONSTANTS = (type(None), bool, int, float, str, bytes)
_METHODS = ("add_pack_method", "add_unpack_method")


def cache_file(folder: Path) -> Path:
    """Where serialisers_kept keeps this Python's recordings inside `folder`."""
    return folder / f"serialisers.{sys.implementation.cache_tag}.bin"


def _installed() -> bytes:
    """The Python build and every distribution installed in its site-packages, with versions."""
    paths = sysconfig.get_paths()
    names = []
    for folder in {paths["purelib"], paths["platlib"]}:
        try:
            names += [n for n in os.listdir(folder) if n.endswith((".dist-info", ".egg-info"))]
        except OSError:
            continue
    fingerprint = repr((sys.version, sys.flags.optimize, sorted(names))).encode()
    return hashlib.blake2b(fingerprint, digest_size=16, usedforsecurity=False).hexdigest().encode()


def installed_header(kind: str) -> bytes:
    """The header of a file of `kind` that holds only what these libraries produce."""
    return importlib.util.MAGIC_NUMBER + kind.encode() + b" " + _installed() + b"\n"


def _find(module: str, qualname: str) -> Any:
    """The object `module.qualname` among the modules already imported (never imports)."""
    value: Any = sys.modules[module]
    for part in qualname.split("."):
        value = getattr(value, part)
    return value


def _as_name(value: Any, builder: Any, defaults: dict[str, Any], name: str) -> tuple | None:
    """How to find `value` again in another process, or None."""
    if defaults.get(name, defaults) is value:
        return ("default",)
    if value is builder.cls:
        return ("class",)
    if isinstance(value, types.ModuleType):
        return ("module", value.__name__) if sys.modules.get(value.__name__) is value else None
    if type(value) in _CONSTANTS:
        return ("constant", value)
    module, qualname = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or "<" in qualname:
        return None
    try:
        return ("object", module, qualname) if _find(module, qualname) is value else None
    except (KeyError, AttributeError):
        return None


def _namespace(names: tuple, builder: Any, defaults: dict[str, Any]) -> dict[str, Any] | None:
    namespace = dict(defaults)
    try:
        for name, how in names:
            if how[0] == "class":
                namespace[name] = builder.cls
            elif how[0] == "module":
                namespace[name] = sys.modules[how[1]]
            elif how[0] == "constant":
                namespace[name] = how[1]
            elif how[0] == "object":
                namespace[name] = _find(how[1], how[2])
            elif how[0] != "default":
                return None
    except (KeyError, AttributeError):
        return None  # not imported yet in this process: written as before
    except (TypeError, ValueError, IndexError):
        return None  # damaged: written again
    return namespace


def _described(value: Any, depth: int = 0) -> str:
    """A function or class by module and qualified name (its repr may hold its address); an
    object whose repr holds its address (a serialisation strategy in a config) by its class and
    attributes; containers by their items. Past a few levels, its repr (an address in it makes
    _key keep nothing)."""
    if isinstance(value, type | types.FunctionType):
        return f"{value.__module__}.{value.__qualname__}"
    if depth > 4:
        return repr(value)
    inner = depth + 1
    if isinstance(value, dict):
        items = (f"{_described(k, inner)}: {_described(v, inner)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_described(item, inner) for item in value) + "]"
    text = repr(value)
    if " at 0x" in text and hasattr(value, "__dict__"):
        return f"{_described(type(value))}({_described(vars(value), inner)})"
    return text


def _key(method: str, builder: Any) -> bytes | None:
    cls = builder.cls
    qualname = getattr(cls, "__qualname__", "<")
    if "<" in qualname:
        return None  # a class defined inside a function: its name may stand for many classes
    config = builder.get_config()
    described = repr(
        (
            method,
            cls.__module__,
            qualname,
            [(k.__module__, k.__qualname__, vars(k).get("__annotations__")) for k in cls.__mro__],
            sorted((k, _described(v)) for k, v in vars(config).items() if not k.startswith("__")),
            builder.initial_type_args,
            [_described(builder.dialect), _described(builder.default_dialect)],
            builder.allow_postponed_evaluation,
            builder.format_name,
            [_described(builder.decoder), _described(builder.encoder)],
            builder.encoder_kwargs,
            builder.attrs is cls,
            len(builder.attrs_registry),
        )
    )
    if " at 0x" in described:
        return None  # names an object by its address: never the same twice
    return hashlib.blake2b(described.encode(), digest_size=16, usedforsecurity=False).digest()


@contextmanager
def serialisers_kept(path: Path) -> Iterator[dict[str, int]]:
    """While inside, mashumaro's CodeBuilder replays what it wrote before from `path`.

    Yields counts: `written` (and kept), `replayed`, `not_kept` (written each time).
    """
    from mashumaro.core.meta.code import builder as builder_module
    from mashumaro.core.meta.types import common, pack, unpack

    header = installed_header("serialisers.2")  # .2: with the strategies' attributes
    recordings = read_kept(path, header)
    if not isinstance(recordings, dict):
        recordings = {}  # missing, damaged, or from other libraries: written again
    used: dict[bytes, tuple] = {}
    counts = {"written": 0, "replayed": 0, "not_kept": 0}
    local = threading.local()
    modules = [builder_module, common, pack, unpack]
    previous_exec = {m: m.__dict__.get("exec") for m in modules}
    CodeBuilder = builder_module.CodeBuilder
    originals = {name: getattr(CodeBuilder, name) for name in _METHODS}

    def exec_for(module: types.ModuleType) -> Any:
        passed_on = previous_exec[module] or builtins.exec

        @passes_exec_on
        def recording_exec(source: Any, globals_: Any = None, locals_: Any = None, /) -> None:
            caller = sys._getframe(1)
            recording = getattr(local, "recording", None)
            if recording is not None and not isinstance(source, str):
                recording["kept"] = False
            if recording is None or not recording["kept"]:
                if passed_on is not builtins.exec:
                    return passed_on(source, globals_, locals_)  # the code cache's exec
            elif (
                globals_ is not recording["builder"].globals
                or locals_ is not recording["builder"].__dict__
            ):
                recording["kept"] = False
            if globals_ is None:  # exec(source): the caller's namespaces, as the builtin does
                globals_, locals_ = caller.f_globals, caller.f_locals
            if isinstance(source, str):  # compiled as the caller's own `exec` would
                flags = caller.f_code.co_flags & FUTURE_FLAGS
                source = compile(source, "<string>", "exec", flags=flags, dont_inherit=True)
                if recording is not None and recording["kept"]:
                    recording["codes"].append(source)
            return builtins.exec(source, globals_, locals_)

        return recording_exec

    def replaying(name: str) -> Any:
        original = originals[name]

        def method(self: Any) -> None:
            outer = getattr(local, "recording", None)
            if outer is not None:  # a builder inside another's call: the outer is not kept
                outer["kept"] = False
                return original(self)
            key = _key(name, self)
            entry = recordings.get(key) if key is not None else None
            if _well_formed(entry):  # else missing or damaged: written (again)
                codes, names, attributes = entry
                namespace = _namespace(names, self, vars(builder_module))
                strategies = _strategy_attributes(attributes, self)
                if namespace is not None and strategies is not None:
                    for attribute, value in strategies.items():
                        setattr(self.cls, attribute, value)
                    self.globals = namespace
                    for code in codes:
                        builtins.exec(code, namespace, self.__dict__)
                    used[key] = recordings[key]
                    counts["replayed"] += 1
                    return
            before = dict(vars(self.cls))
            local.recording = {
                "builder": self,
                "codes": [],
                "kept": key is not None,
                "registry": len(self.attrs_registry),
            }
            try:
                original(self)
            finally:
                recording, local.recording = local.recording, None
            entry = _recorded(recording, self, before, vars(builder_module))
            if entry is None:
                counts["not_kept"] += 1
            else:
                recordings[key] = used[key] = entry
                counts["written"] += 1

        method.__wrapped__ = original
        return method

    for name in _METHODS:
        setattr(CodeBuilder, name, replaying(name))
    try:
        with exec_replaced({module: exec_for(module) for module in modules}):
            yield counts
    finally:
        for name, original in originals.items():
            setattr(CodeBuilder, name, original)
        if counts["written"]:
            write_kept(path, header, recordings if len(recordings) <= MAX_ENTRIES else used)


def _recorded(recording: dict, builder: Any, before: dict, defaults: dict) -> tuple | None:
    """(code objects, names, strategy attributes) to replay this call, or None when a replay
    would differ."""
    if not recording["kept"] or not recording["codes"] or builder.attrs is not builder.cls:
        return None
    if len(builder.attrs_registry) != recording["registry"]:
        return None
    attributes = []
    for attribute, value in vars(builder.cls).items():
        if before.get(attribute, before) is value:
            continue
        function = getattr(value, "__func__", value)
        if isinstance(function, types.FunctionType) and function.__globals__ is builder.globals:
            continue  # defined by the recorded code
        # set by the builder itself: replayed only when it is a strategy from the class's config
        strategy = _strategy_attribute(value, builder)
        if strategy is None:
            return None
        attributes.append((attribute, *strategy))
    names = []
    for name, value in builder.globals.items():
        how = _as_name(value, builder, defaults, name)
        if how is None:
            return None
        if how[0] != "default":
            names.append((name, how))
    return tuple(recording["codes"]), tuple(names), tuple(attributes)


def _well_formed(entry: Any) -> bool:
    """Whether a recording read from the file has the shape _recorded gives it."""
    return (
        isinstance(entry, tuple)
        and len(entry) == 3
        and all(isinstance(part, tuple) for part in entry)
        and all(isinstance(code, types.CodeType) for code in entry[0])
    )


def _strategy_attribute(value: Any, builder: Any) -> tuple[str, str, bool] | None:
    """How to set again an attribute the builder set on the class for a field whose type has
    a serialisation strategy in the class's config (`staticmethod(strategy.serialize)`, or
    `strategy.deserialize` itself): the type the strategy serves, the method's name and
    whether it is wrapped in a staticmethod; or None."""
    wrapped = isinstance(value, staticmethod)
    method = value.__func__ if wrapped else value
    if not isinstance(method, types.MethodType):
        return None
    for served, strategy in _config_strategies(builder).items():
        if strategy is method.__self__ and getattr(strategy, method.__name__, None) == method:
            return _described(served), method.__name__, wrapped
    return None


def _strategy_attributes(attributes: tuple, builder: Any) -> dict[str, Any] | None:
    """The class attributes _strategy_attribute described, from this class's config; None when
    one is not found there."""
    if not attributes:
        return {}  # most calls: nothing to look up in the config
    strategies = {_described(served): s for served, s in _config_strategies(builder).items()}
    values = {}
    for attribute in attributes:
        if not (isinstance(attribute, tuple) and len(attribute) == 4):
            return None  # damaged
        name, served, method, wrapped = attribute
        strategy = strategies.get(served)
        if strategy is None or not callable(getattr(strategy, method, None)):
            return None
        bound = getattr(strategy, method)
        values[name] = staticmethod(bound) if wrapped else bound
    return values


def _config_strategies(builder: Any) -> dict[Any, Any]:
    strategies = getattr(builder.get_config(), "serialization_strategy", None)
    return strategies if isinstance(strategies, dict) else {}
