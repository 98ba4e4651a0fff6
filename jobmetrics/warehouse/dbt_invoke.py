"""Run dbt in-process (dbtRunner): one function serves build, compile, docs and freshness."""

from __future__ import annotations

import gc
import json
import os
import pickle
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobmetrics.core.atomic import remove_partials, write_file
from jobmetrics.core.code_cache import cache_file, generated_code_kept, read_kept, write_kept
from jobmetrics.core.serialiser_cache import cache_file as serialisers_file
from jobmetrics.core.serialiser_cache import installed_header, serialisers_kept
from jobmetrics.core.settings import PROJECT_ROOT, dbt_target_path

NodeCallback = Callable[[str, str], None]
"""Called with (event, node name) as nodes start ("start") and finish (their status)."""


@dataclass
class DbtOutcome:
    """What a dbt command did: success, failing nodes with their messages, warnings."""

    success: bool
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    result: Any = None
    exception: BaseException | None = None

    def first_error(self) -> str:
        """One line naming what failed, for the CLI."""
        if self.failures:
            more = f" (+{len(self.failures) - 1} more)" if len(self.failures) > 1 else ""
            return self.failures[0] + more
        if self.exception is not None:
            return _one_line(str(self.exception))
        return "dbt reported a failure without a message"


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines)[:600] if lines else text


@contextmanager
def _environment(overrides: Mapping[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_dbt(
    args: list[str],
    *,
    env: Mapping[str, str] | None = None,
    on_node: NodeCallback | None = None,
    quiet: bool = True,
    manifest: Any = None,
) -> DbtOutcome:
    """Invoke `dbt <args>` in this process against the project at the repository root.

    `manifest`: the project as an earlier `parse` of the same environment returned it
    (DbtOutcome.result); dbt then skips loading it again (about a second per command).
    """
    callbacks = []
    if on_node is not None:

        def _callback(event: Any) -> None:
            name = event.info.name
            if name == "NodeStart":
                on_node("start", event.data.node_info.node_name)
            elif name == "NodeFinished":
                on_node(event.data.node_info.node_status, event.data.node_info.node_name)

        callbacks.append(_callback)

    full_args = [
        *args,
        "--project-dir",
        str(PROJECT_ROOT),
        "--profiles-dir",
        str(PROJECT_ROOT),
    ]
    if quiet:
        # --quiet alone still prints error logs (and tracebacks on Ctrl-C) to stdout; the
        # failing nodes reach the caller through DbtOutcome instead.
        full_args = ["--quiet", "--log-level", "none", "--no-use-colors", *full_args]
    with (
        _environment(env or {}),
        _fewer_collections(),
        _generated_code_compiled_once(_target_folder(args)),
        serialisers_kept(serialisers_file(_target_folder(args))),
        _parse_kept_across_folders(),
        _events_built_only_when_read(callbacks if quiet else None),
        _templates_compiled_once(_target_folder(args) / JINJA_CACHE),
        _type_testers_shared(),
        _manifest_written_once(args),
        _json_schemas_built_once(_target_folder(args) / JSON_SCHEMAS),
        _saved_parse_unpickled(_target_folder(args) / SAVED_PARSE_OBJECTS),
        _artifacts_encoded_at_once(),
        _flag_sources_found_by_frame(),
        _macro_namespaces_laid_out_once(),
    ):
        from dbt.cli.main import dbtRunner

        try:
            outcome = dbtRunner(manifest=manifest, callbacks=callbacks).invoke(full_args)
        finally:
            _close_duckdb()
    interrupt = _interruption(outcome.exception)
    if interrupt is not None:
        # dbt catches Ctrl-C / SIGTERM and reports it as a failed run; every caller must
        # stop instead (a failed `docs generate` would otherwise be only a warning).
        raise interrupt
    return _summarise(outcome)


def _generated_code_compiled_once(target: Path) -> Any:
    """dbt's dataclasses and their mashumaro serialisers: their generated Python compiled once
    and kept in dbt's target folder (jobmetrics/core/code_cache.py), from the first import of
    dbt on."""
    import dataclasses

    from mashumaro.core.meta.code import builder

    return generated_code_kept(cache_file(target), [dataclasses, builder])


def _target_folder(args: list[str]) -> Path:
    """dbt's target folder for these arguments in the current environment."""
    if "--target-path" in args[:-1]:
        return PROJECT_ROOT / args[args.index("--target-path") + 1]  # absolute stays absolute
    return dbt_target_path()


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the garbage collector less often while dbt runs.

    dbt allocates millions of short-lived objects: at CPython's default thresholds (700, 10, 10)
    a 10k nightly build runs about 1,250 collections (1.4 s of CPU), a first build with its full
    parse about 1,640 (1.7 s); at these thresholds about 40 and 50 (0.6-0.9 s).
    """
    saved = gc.get_threshold()
    gc.set_threshold(20_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*saved)


@contextmanager
def _parse_kept_across_folders() -> Iterator[None]:
    """Let dbt reuse its saved parse when only the folder of the DuckDB file changed.

    dbt keys its saved parse (target/partial_parse.msgpack) on every connection setting and
    parses the whole project again (279 files, about 5 s against about 1.2 s) when one differs,
    the DuckDB file's path included: a build into another folder, or a test's warehouse in its
    own temporary folder, paid a full parse. What a parse produces depends on the path only
    through `target.path` in Jinja, which this project never reads
    (tests/warehouse/test_partial_parse.py checks); the database name, which every node
    carries, is derived from the file name and stays in the key.
    """
    import pprint

    from dbt.contracts.files import FileHash
    from dbt.parser.manifest import ManifestLoader

    original = ManifestLoader.build_manifest_state_check

    def state_check(loader: ManifestLoader) -> Any:
        check = original(loader)
        keys = sorted(
            (key, value)
            for key, value in loader.root_project.credentials.connection_info()
            if key != "path"
        )
        check.profile_hash = FileHash.from_contents(pprint.pformat(keys))
        return check

    ManifestLoader.build_manifest_state_check = state_check
    try:
        yield
    finally:
        ManifestLoader.build_manifest_state_check = original


WRITE_MANIFEST_WHEN_DONE = frozenset({"build", "run", "test", "seed", "snapshot", "compile"})
"""Commands whose task writes manifest.json and semantic_manifest.json when it ends, failed
nodes or not (GraphRunnableTask.run)."""


@contextmanager
def _manifest_written_once(args: list[str]) -> Iterator[None]:
    """Write dbt's manifest once per command, when the command ends, not also after parsing.

    A `build` that loads the project itself writes manifest.json and semantic_manifest.json
    twice: after parsing (requires.parse_manifest) and again when it ends, with the compiled
    SQL. The first is overwritten before anything reads it, and costs about 0.2 s at 10k.
    Only a process killed between the two writes notices: it leaves the previous command's
    files, as a kill during parsing does. `parse`, `docs` and the other commands keep theirs.
    """
    if not args or args[0] not in WRITE_MANIFEST_WHEN_DONE:
        yield
        return
    from dbt.cli import requires

    parse_manifest = requires.parse_manifest

    def parse_without_writing(
        runtime_config: Any,
        write_perf_info: bool,
        write: bool,
        write_json: bool,
        active_integrations: Any,
    ) -> Any:
        return parse_manifest(
            runtime_config, write_perf_info, False, write_json, active_integrations
        )

    requires.parse_manifest = parse_without_writing
    try:
        yield
    finally:
        requires.parse_manifest = parse_manifest


SAVED_PARSE_OBJECTS = "partial_parse.pickle"
"""The file in dbt's target folder where its saved parse is kept as the objects it decodes to."""


@contextmanager
def _saved_parse_unpickled(path: Path) -> Iterator[None]:
    """dbt's saved parse kept in `path` as the objects it decodes to, and read back from there.

    Every dbt process that reuses the project's saved parse (target/partial_parse.msgpack)
    decodes it through mashumaro, one Python call per field of 600 nodes: 0.1-0.35 s of a 10k
    build, first calls included. The objects it decodes to, pickled, load in about 0.015 s.
    The process that writes the saved parse decodes it once and keeps the pickle (so the next
    process, not only the one after, reads it); the pickle is served only for the same msgpack
    bytes (a BLAKE2 digest of them) and the same installed libraries (the header); anything
    else, or a damaged file, is decoded as before and kept again. The file is trusted as dbt's
    own target folder is: these builds write it, as they write the kept compiled code.
    """
    import hashlib
    import io

    from dbt.contracts.graph.manifest import Manifest
    from dbt.parser.manifest import (
        PARTIAL_PARSE_FILE_NAME,
        ManifestLoader,
        extended_mashumuro_decoder,
    )

    header = installed_header("saved-parse")
    decode = Manifest.__dict__["from_msgpack"]
    write_saved_parse = ManifestLoader.write_manifest_for_partial_parse

    def from_msgpack(data: bytes, *args: Any, **kwargs: Any) -> Manifest:
        digest = hashlib.blake2b(data, digest_size=32).digest()
        kept = read_kept(path, header)  # (digest, pickled manifest)
        if isinstance(kept, tuple) and len(kept) == 2 and kept[0] == digest:
            try:
                manifest = pickle.loads(kept[1])
            except Exception:  # noqa: BLE001  any damage: decoded again below
                manifest = None
            if type(manifest) is Manifest:
                return manifest
        manifest = decode.__func__(Manifest, data, *args, **kwargs)
        pickled = io.BytesIO()
        with suppress(Exception):  # an object pickle cannot store: not kept, decoded next time
            _ManifestPickler(pickled, Manifest).dump(manifest)
            write_kept(path, header, (digest, pickled.getvalue()))
        return manifest

    def write_and_keep(loader: ManifestLoader) -> None:
        write_saved_parse(loader)
        saved = Path(loader.root_project.project_target_path) / PARTIAL_PARSE_FILE_NAME
        with suppress(Exception):  # a cache never fails the build: the next process decodes
            from_msgpack(saved.read_bytes(), decoder=extended_mashumuro_decoder)

    Manifest.from_msgpack = staticmethod(from_msgpack)
    ManifestLoader.write_manifest_for_partial_parse = write_and_keep
    try:
        yield
    finally:
        Manifest.from_msgpack = decode
        ManifestLoader.write_manifest_for_partial_parse = write_saved_parse


class _ManifestPickler(pickle.Pickler):
    """Pickles a Manifest by its attributes: dbt's own `Manifest.__reduce_ex__` (meant for
    processes started by fork) passes its fields positionally and drops `fixtures`."""

    def __init__(self, file: Any, manifest_class: type) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.manifest_class = manifest_class

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is not self.manifest_class:
            return NotImplemented
        # its lock is made anew, as Manifest.__post_deserialize__ does
        return _manifest_with, ({k: v for k, v in obj.__dict__.items() if k != "_lock"},)


def _manifest_with(attributes: dict[str, Any]) -> Any:
    """The Manifest with these attributes and a new lock (unpickling _ManifestPickler's)."""
    from dbt.contracts.graph.manifest import Manifest
    from dbt.mp_context import get_mp_context

    manifest = Manifest.__new__(Manifest)
    manifest.__dict__.update(attributes)
    manifest._lock = get_mp_context().Lock()
    return manifest


@contextmanager
def _artifacts_encoded_at_once() -> Iterator[None]:
    """dbt's JSON artifacts (manifest.json, run_results.json) encoded by the json module's C
    encoder, the same text.

    dbt writes them with `json.dump`, which streams through the json module's pure-Python
    encoder (its C encoder serves only `json.dumps`): about 0.07 s of each 10k build.
    """
    from dbt.artifacts.schemas import base
    from dbt.artifacts.schemas.run.v5 import run
    from dbt_common.clients import system
    from dbt_common.utils.encoding import JSONEncoder

    streamed = system.write_json

    def write_json(path: str, data: dict[str, Any]) -> bool:
        path = system.convert_path(path)
        system.make_directory(os.path.dirname(path))
        text = json.dumps(data, cls=JSONEncoder)
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
        return True

    modules = (system, base, run)
    for module in modules:
        module.write_json = write_json
    try:
        yield
    finally:
        for module in modules:
            module.write_json = streamed


@contextmanager
def _flag_sources_found_by_frame() -> Iterator[None]:
    """The module a behaviour flag comes from, found from the calling frames' globals.

    dbt names, for each of the adapter's behaviour flags, the first calling module other than
    its own through `inspect.stack()`, which reads the source lines of every frame on the
    stack: 0.03-0.06 s of each process. The frames' `__name__` is the same module.
    """
    from dbt_common import behavior_flags

    rendered = behavior_flags.BehaviorFlagRendered
    by_stack = rendered.__dict__["_default_source"]

    def default_source() -> str:
        frame = sys._getframe(1)
        while frame is not None:
            name = frame.f_globals.get("__name__")
            if isinstance(name, str) and name != behavior_flags.__name__:
                return name
            frame = frame.f_back
        return "Unknown"

    rendered._default_source = staticmethod(default_source)
    try:
        yield
    finally:
        rendered._default_source = by_stack


@contextmanager
def _macro_namespaces_laid_out_once() -> Iterator[None]:
    """Each node's macro namespace laid out from the first one, not sorted macro by macro.

    dbt gives every node it compiles or runs, and every adapter macro it calls, a namespace of
    all the project's macros (about 580): a new callable per macro, sorted one by one into the
    node's package, the root package and dbt's internal packages, then copied into the Jinja
    context key by key through a five-dict search: 0.36 ms and 0.35 ms per namespace, 164 of
    them in a 10k build of the models; laid out, 0.19 ms and 0.05 ms. The first namespace for a
    set of macros and a package is built by dbt (its duplicate-name checks included), and its
    layout kept: which macro lands under which name in which dict. A later one with the very
    same Macro objects, in the same order, gets new callables with the same attributes placed by
    that layout, and the search order flattened into one dict once (the first dict that holds a
    name wins, as `MacroNamespace.__getitem__` searches). Anything else is built by dbt.
    """
    from itertools import chain

    from dbt.clients.jinja import MacroGenerator
    from dbt.context import macros

    build = macros.MacroNamespaceBuilder.build_namespace
    probe = MacroGenerator(None, {}, None, None)  # type: ignore[arg-type]
    if sorted(vars(probe)) != ["context", "macro", "node", "stack"]:
        yield  # another dbt: its callables hold something else
        return
    flat_namespace = _flat_macro_namespace_class()
    layouts: dict[tuple, tuple] = {}

    def laid_out(
        builder: macros.MacroNamespaceBuilder,
        macros_by_package: dict[str, dict[str, Any]],
        ctx: dict[str, Any],
    ) -> macros.MacroNamespace:
        if type(builder) is not macros.MacroNamespaceBuilder:
            return build(builder, macros_by_package, ctx)
        every = list(chain.from_iterable(map(dict.values, macros_by_package.values())))
        key = (
            id(macros_by_package),
            builder.root_package,
            builder.search_package,
            tuple(builder.internal_package_names_order),
        )
        layout = layouts.get(key)
        if layout is None or layout[0] != every:  # `!=` on identical objects: identity
            namespace = build(builder, macros_by_package, ctx)
            layouts[key] = layout = (every, _namespace_layout(namespace, every))
            return namespace
        new = MacroGenerator.__new__
        node, stack = builder.node, builder.thread_ctx
        made = []
        for macro in every:
            generator = new(MacroGenerator)
            generator.__dict__ = {"context": ctx, "macro": macro, "node": node, "stack": stack}
            made.append(generator)
        local, root, internal, packages = layout[1]
        return flat_namespace(
            global_namespace={name: made[at] for name, at in root},
            local_namespace={name: made[at] for name, at in local},
            global_project_namespace={name: made[at] for name, at in internal},
            packages={
                package: {name: made[at] for name, at in names} for package, names in packages
            },
        )

    macros.MacroNamespaceBuilder.build_namespace = laid_out
    try:
        yield
    finally:
        macros.MacroNamespaceBuilder.build_namespace = build


def _namespace_layout(namespace: Any, every: list) -> tuple:
    """Where each of `every`'s macros sits in a namespace dbt built: (name, position) pairs for
    its local, root-package and internal dicts, and per package."""
    position = {id(macro): at for at, macro in enumerate(every)}

    def places(flat: dict[str, Any]) -> tuple:
        return tuple((name, position[id(generator.macro)]) for name, generator in flat.items())

    return (
        places(namespace.local_namespace),
        places(namespace.global_namespace),
        places(namespace.global_project_namespace),
        tuple((package, places(flat)) for package, flat in namespace.packages.items()),
    )


def _flat_macro_namespace_class() -> type:
    from dbt.context.macros import MacroNamespace
    from dbt.include.global_project import PROJECT_NAME

    class FlatMacroNamespace(MacroNamespace):
        """A MacroNamespace whose search order is flattened into one dict when it is made:
        the same names and the same winners, read without searching five dicts per name."""

        def __init__(self, **namespaces: Any) -> None:
            super().__init__(**namespaces)
            flat = dict(self.global_project_namespace)
            flat[PROJECT_NAME] = self.global_project_namespace
            flat.update(self.packages)
            flat.update(self.global_namespace)
            flat.update(self.local_namespace)
            self.flat = flat

        def keys(self) -> Any:
            return self.flat.keys()

        def __iter__(self) -> Iterator[str]:
            return iter(self.flat)

        def __len__(self) -> int:
            return len(self.flat)

        def __contains__(self, key: object) -> bool:
            return key in self.flat

        def __getitem__(self, key: str) -> Any:
            return self.flat[key]

    return FlatMacroNamespace


JSON_SCHEMAS = "json-schemas.bin"
"""The file in dbt's target folder where the classes' JSON schemas are kept."""
_JSON_SCHEMAS: dict[str, dict] = {}
"""dbt classes' JSON schemas by module and qualified name, this process's and the file's."""


@contextmanager
def _json_schemas_built_once(path: Path) -> Iterator[None]:
    """dbt classes' JSON schemas built once and kept in `path`, not built in every process.

    dbt checks the project file, the profile and its credentials, the selectors and packages
    against their classes' JSON schemas. It builds each schema once per process (an lru_cache
    on `dbtClassMixin.json_schema`), but building them is 0.15-0.3 s of each process: mashumaro
    walks every field and writes a serialiser for each default value, about 540 of them. A
    schema depends only on its class, which the installed libraries define: the file is read
    only by a process with the same ones (jobmetrics.core.serialiser_cache.installed_header).
    The one caller, `dbtClassMixin.validate`, only reads the schema.
    """
    from dbt_common.dataclass_schema import dbtClassMixin

    header = installed_header("json-schemas")
    if not _JSON_SCHEMAS:
        kept = read_kept(path, header)  # {name: the schema as JSON text}
        with suppress(AttributeError, TypeError, ValueError):  # damaged: built again
            _JSON_SCHEMAS.update((name, json.loads(text)) for name, text in kept.items())
    built = dbtClassMixin.__dict__["json_schema"]
    new = 0

    def json_schema(cls: type) -> dict:
        nonlocal new
        name = f"{cls.__module__}.{cls.__qualname__}"
        schema = _JSON_SCHEMAS.get(name)
        if schema is None:
            schema = built.__func__(cls)
            if "<" not in name:  # a class defined in a function: its name is not its own
                _JSON_SCHEMAS[name] = schema
                new += 1
        return schema

    dbtClassMixin.json_schema = classmethod(json_schema)
    try:
        yield
    finally:
        dbtClassMixin.json_schema = built
        if new:
            with suppress(TypeError, ValueError):  # a default JSON cannot hold: not kept
                texts = {name: json.dumps(schema) for name, schema in _JSON_SCHEMAS.items()}
                write_kept(path, header, texts)


@contextmanager
def _type_testers_shared() -> Iterator[None]:
    """One agate type tester per set of text columns, as dbt already shares its default one.

    dbt turns every query result into an agate table (a test's failure count, each statement's
    empty result) and builds a new type tester for each; its date and datetime types each set
    up a parsedatetime calendar, reading locale tables: about 3 % of a nightly build's Python.
    A type tester holds only its settings, and dbt's dates are parsed with a fixed format
    (`strptime`), never by the calendar.
    """
    import agate
    from dbt_common.clients import agate_helper

    build_type_tester = agate_helper.build_type_tester
    empty_table = agate_helper.empty_table
    testers: dict[tuple, Any] = {}

    def shared_type_tester(
        text_columns: Any, string_null_values: Any = ("null", "")
    ) -> agate.TypeTester:
        key = (
            frozenset(text_columns),
            None if string_null_values is None else tuple(string_null_values),
        )
        if key not in testers:
            testers[key] = build_type_tester(text_columns, string_null_values)
        return testers[key]

    def shared_empty_table() -> agate.Table:
        return agate.Table(rows=[], column_types=agate_helper.DEFAULT_TYPE_TESTER)

    agate_helper.build_type_tester = shared_type_tester
    agate_helper.empty_table = shared_empty_table
    try:
        yield
    finally:
        agate_helper.build_type_tester = build_type_tester
        agate_helper.empty_table = empty_table


JINJA_CACHE = "jinja"
"""The folder in dbt's target folder where compiled templates are kept."""
JINJA_CACHE_FILES = 4_000
"""More files than this in the folder, and the older half is removed after a run."""


def _qualname(value: Any) -> str:
    kind = value if isinstance(value, type) else type(value)
    name = getattr(value, "__qualname__", None) or kind.__qualname__
    return f"{getattr(value, '__module__', kind.__module__)}.{name}"


def _environment_key(env: Any) -> str:
    """Everything about a Jinja environment that its compiled code depends on.

    The code generator reads the environment's class, extensions, delimiters, whitespace
    options, sandboxing, `finalize`, and each filter and test (whether it exists, what it is
    passed; constant arguments are even folded through it), besides the source.
    """

    def functions(table: Mapping[str, Any]) -> list[tuple[str, str, str]]:
        return sorted(
            (name, _qualname(function), str(getattr(function, "jinja_pass_arg", None)))
            for name, function in table.items()
        )

    return repr(
        (
            _qualname(type(env)),
            _qualname(env.code_generator_class),
            sorted((name, _qualname(type(ext))) for name, ext in env.extensions.items()),
            env.block_start_string, env.block_end_string,
            env.variable_start_string, env.variable_end_string,
            env.comment_start_string, env.comment_end_string,
            env.line_statement_prefix, env.line_comment_prefix,
            env.trim_blocks, env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline,
            env.optimized, env.is_async, env.sandboxed,
            sorted(getattr(env, "intercepted_binops", ())),
            sorted(getattr(env, "intercepted_unops", ())),
            _qualname(env.autoescape) if callable(env.autoescape) else env.autoescape,
            _qualname(env.finalize), str(getattr(env.finalize, "jinja_pass_arg", None)),
            functions(env.filters),
            functions(env.tests),
        )
    )  # fmt: skip


@contextmanager
def _templates_compiled_once(folder: Path) -> Iterator[None]:
    """Keep the Python code Jinja compiles dbt's macros and models to in `folder`.

    dbt compiles every macro it calls and every node's SQL from its Jinja source in every
    process: about 330 templates, a second of a nightly build. Here `Environment.compile` looks
    up the code by a digest of the source and of everything in the environment the code
    depends on (`_environment_key`; the versions of Python, Jinja, dbt and dbt-common) and
    compiles only what it has not seen, storing it as Jinja's own bytecode cache does
    (`jinja2.bccache`). A file that is unreadable or from another version is compiled again
    and replaced.
    """
    import hashlib
    import sys
    from importlib.metadata import version

    import jinja2
    from dbt.version import __version__ as dbt_version
    from dbt_common.clients import jinja as dbt_jinja
    from jinja2.bccache import Bucket

    compile_template = jinja2.Environment.compile
    versions = repr((sys.version, jinja2.__version__, dbt_version, version("dbt-common")))

    def compile_once(
        env: jinja2.Environment,
        source: Any,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        if raw or not isinstance(source, str) or dbt_jinja.MACRO_DEBUGGING:
            return compile_template(env, source, name, filename, raw, defer_init)
        digest = hashlib.sha256(
            repr((versions, _environment_key(env), name, filename, defer_init, source)).encode()
        ).hexdigest()
        path = folder / f"{digest}.bin"
        bucket = Bucket(env, digest, digest)
        try:
            with path.open("rb") as stored:
                bucket.load_bytecode(stored)
        except Exception:  # noqa: BLE001 - an unreadable file is compiled again
            bucket.reset()
        if bucket.code is not None:
            return bucket.code
        bucket.code = compile_template(env, source, name, filename, raw, defer_init)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write_file(path, bucket.bytecode_to_string())  # dbt's two threads may write at once
        except OSError:
            pass  # a read-only or full disk: compiled again next time
        return bucket.code

    jinja2.Environment.compile = compile_once
    try:
        yield
    finally:
        jinja2.Environment.compile = compile_template
        _prune(folder)


def _prune(folder: Path) -> None:
    """Remove the older half of the compiled templates once there are too many (each edit of a
    model or macro leaves its old compiled form behind), and files a killed run left half
    written."""
    try:
        remove_partials(folder, "*.tmp")
        files = list(folder.glob("*.bin"))
        if len(files) <= JINJA_CACHE_FILES:
            return
        files.sort(key=lambda path: path.stat().st_mtime)
        for path in files[: len(files) // 2]:
            path.unlink(missing_ok=True)
    except OSError:
        pass


# The events run_dbt's own callback reads, and the one dbt's tracking callback reads.
_READ_EVENTS = frozenset({"NodeStart", "NodeFinished", "BehaviorChangeEvent"})


@contextmanager
def _events_built_only_when_read(
    own_callbacks: list[Callable[[Any], None]] | None,
) -> Iterator[None]:
    """Build dbt's log events only as far as something reads them.

    dbt creates about 30 events per node (each SQL statement, connection and cache change),
    each converted to protobuf twice, field by field in pure Python (`ParseDict`), even when
    `--log-level none` leaves no logger to write them: about a tenth of a build's Python.
    With `own_callbacks` (quiet runs: no logger) an event that no logger, no callback and no
    warning handling would read is dropped before its message is built; warnings and errors
    always go through. In every run the event's protobuf is made by its constructor, and by
    `ParseDict` as before where the constructor refuses the values (timestamps given as text,
    JSON field names): for the values dbt passes, both give equal messages.
    """
    from dbt_common.events import base_types
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.event_manager import EventManager

    parse_dict = base_types.ParseDict
    fire_event = EventManager.fire_event

    def build_message(values: dict, message: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return type(message)(**values)
        except Exception:  # whatever the constructor refuses, ParseDict decides as before
            return parse_dict(values, message, *args, **kwargs)

    def fire_read_event(
        manager: Any,
        event: Any,
        level: Any = None,
        node: Any = None,
        force_warn_or_error_handling: bool = False,
    ) -> None:
        read = (
            manager.loggers
            or force_warn_or_error_handling
            or type(event).__name__ in _READ_EVENTS
            or (level or event.level_tag()) in (EventLevel.WARN, EventLevel.ERROR)
            or any(callback not in known for callback in manager.callbacks)
        )
        if read:
            fire_event(manager, event, level, node, force_warn_or_error_handling)

    base_types.ParseDict = build_message
    if own_callbacks is not None:
        from dbt.tracking import track_behavior_change_warn

        known = {track_behavior_change_warn, *own_callbacks}
        EventManager.fire_event = fire_read_event
    try:
        yield
    finally:
        base_types.ParseDict = parse_dict
        EventManager.fire_event = fire_event


def _interruption(error: BaseException | None) -> KeyboardInterrupt | None:
    """The KeyboardInterrupt behind an exception dbt returned, if it was one or wraps one."""
    seen = 0
    while error is not None and seen < 20:
        if isinstance(error, KeyboardInterrupt):
            return error
        error = error.__cause__ or error.__context__
        seen += 1
    return None


def _close_duckdb() -> None:
    """Close the database dbt-duckdb keeps open in this process after dbt returns.

    Otherwise recent writes can sit in the write-ahead log of a file we are about to copy or
    rename, and a later connect to the same path would reuse the stale open instance.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:
        return
    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
        DuckDBConnectionManager._ENV = None


def _summarise(outcome: Any) -> DbtOutcome:
    failures: list[str] = []
    warnings: list[str] = []
    results = getattr(outcome.result, "results", None) or []
    for item in results:
        status = str(getattr(item, "status", "")).lower()
        node = getattr(item, "node", None)
        name = getattr(node, "unique_id", None) or getattr(node, "name", "?")
        message = _one_line(str(getattr(item, "message", "") or ""))
        if status in {"error", "fail", "runtime error"}:
            failures.append(f"{name}: {message}")
        elif status == "warn":
            warnings.append(f"{name}: {message}")
    return DbtOutcome(
        success=bool(outcome.success),
        failures=failures,
        warnings=warnings,
        result=outcome.result,
        exception=outcome.exception,
    )
