"""dbt's saved parse, JSON artifacts and behaviour flags as run_dbt has dbt read and write them.

`run_dbt` keeps the objects dbt's saved parse decodes to (a pickle beside it), writes dbt's JSON
artifacts with the C encoder, and finds a behaviour flag's module from the calling frames. Each
is checked here against dbt doing the same thing itself.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from dbt.contracts.graph.manifest import Manifest
from dbt.parser.manifest import (
    ManifestLoader,
    extended_mashumaro_encoder,
    extended_mashumuro_decoder,
)
from dbt_common import behavior_flags
from dbt_common.clients import system

from jobmetrics.core.code_cache import read_kept, write_kept
from jobmetrics.core.serialiser_cache import installed_header
from jobmetrics.warehouse import dbt_invoke

HEADER = installed_header("saved-parse")


@pytest.fixture(scope="module")
def saved_parse(built_settings) -> bytes:
    """The saved parse (partial_parse.msgpack) of this session's build of the project."""
    return (Path(os.environ["DBT_TARGET_PATH"]) / "partial_parse.msgpack").read_bytes()


def _decoded(data: bytes) -> Manifest:
    return Manifest.from_msgpack(data, decoder=extended_mashumuro_decoder)


def _encoded(manifest: Manifest) -> bytes:
    return manifest.to_msgpack(extended_mashumaro_encoder)


def test_the_saved_parse_is_decoded_once_then_read_back_as_the_same_objects(
    saved_parse: bytes, tmp_path: Path, monkeypatch
) -> None:
    kept = tmp_path / dbt_invoke.SAVED_PARSE_OBJECTS
    expected = _decoded(saved_parse)  # mashumaro, no pickle
    assert expected.unit_tests

    with dbt_invoke._saved_parse_unpickled(kept):
        first = _decoded(saved_parse)
    assert kept.is_file()
    # every field dbt saves, `fixtures` among them (dbt's own Manifest.__reduce_ex__ makes it None)
    assert _encoded(first) == _encoded(expected)

    # another process: the pickle is read, the decoder never called
    decode = Manifest.__dict__["from_msgpack"]
    monkeypatch.setattr(Manifest, "from_msgpack", classmethod(lambda cls, *a, **k: 1 / 0))
    with dbt_invoke._saved_parse_unpickled(kept):
        second = _decoded(saved_parse)
    monkeypatch.setattr(Manifest, "from_msgpack", decode)
    assert second is not first
    assert _encoded(second) == _encoded(expected)
    assert second.unit_tests.keys() == expected.unit_tests.keys()
    assert second.nodes.keys() == expected.nodes.keys()
    # a lock of its own that works, as a decoded manifest's
    assert second._lock is not first._lock
    with second._lock:
        pass


def test_other_saved_parse_bytes_are_decoded_not_served_from_the_pickle(
    saved_parse: bytes, tmp_path: Path
) -> None:
    kept = tmp_path / dbt_invoke.SAVED_PARSE_OBJECTS
    with dbt_invoke._saved_parse_unpickled(kept):
        _decoded(saved_parse)
    changed = _decoded(saved_parse)
    node = next(iter(changed.nodes.values()))
    node.description = "a description edited since the pickle was kept"
    other = _encoded(changed)
    with dbt_invoke._saved_parse_unpickled(kept):
        read = _decoded(other)
    assert read.nodes[node.unique_id].description == node.description
    with dbt_invoke._saved_parse_unpickled(kept):  # and the pickle now holds the new one
        assert _encoded(_decoded(other)) == other


@pytest.mark.parametrize("damage", ["truncated", "not a pickle", "another header", "garbage"])
def test_a_damaged_or_foreign_pickle_is_decoded_again_and_replaced(
    saved_parse: bytes, tmp_path: Path, damage: str
) -> None:
    kept = tmp_path / dbt_invoke.SAVED_PARSE_OBJECTS
    with dbt_invoke._saved_parse_unpickled(kept):
        _decoded(saved_parse)
    digest, pickled = read_kept(kept, HEADER)
    if damage == "truncated":
        write_kept(kept, HEADER, (digest, pickled[: len(pickled) // 2]))
    elif damage == "not a pickle":
        write_kept(kept, HEADER, (digest, b"not a pickle"))
    elif damage == "another header":
        write_kept(kept, b"other libraries\n", (digest, pickled))
    else:
        kept.write_bytes(b"garbage")
    with dbt_invoke._saved_parse_unpickled(kept):
        read = _decoded(saved_parse)
    assert _encoded(read) == _encoded(_decoded(saved_parse))
    assert read_kept(kept, HEADER)[1] == pickled  # replaced by a good one


def test_the_process_that_writes_the_saved_parse_keeps_its_objects(
    saved_parse: bytes, tmp_path: Path, monkeypatch
) -> None:
    """The next process reads the pickle, not only the one after it."""
    kept = tmp_path / "target" / dbt_invoke.SAVED_PARSE_OBJECTS
    loader = SimpleNamespace(  # what ManifestLoader.write_manifest_for_partial_parse reads
        root_project=SimpleNamespace(project_target_path=str(tmp_path / "target")),
        manifest=_decoded(saved_parse),
    )
    with dbt_invoke._saved_parse_unpickled(kept):
        ManifestLoader.write_manifest_for_partial_parse(loader)
    written = (tmp_path / "target" / "partial_parse.msgpack").read_bytes()
    assert read_kept(kept, HEADER)[0] == hashlib.blake2b(written, digest_size=32).digest()
    monkeypatch.setattr(Manifest, "from_msgpack", classmethod(lambda cls, *a, **k: 1 / 0))
    with dbt_invoke._saved_parse_unpickled(kept):
        read = _decoded(written)
    monkeypatch.undo()
    assert _encoded(read) == _encoded(_decoded(written))


def test_the_decoder_and_the_writer_are_put_back(saved_parse: bytes, tmp_path: Path) -> None:
    decode = Manifest.__dict__["from_msgpack"]
    write = ManifestLoader.__dict__["write_manifest_for_partial_parse"]
    with dbt_invoke._saved_parse_unpickled(tmp_path / dbt_invoke.SAVED_PARSE_OBJECTS):
        assert Manifest.__dict__["from_msgpack"] is not decode
        assert ManifestLoader.__dict__["write_manifest_for_partial_parse"] is not write
    assert Manifest.__dict__["from_msgpack"] is decode
    assert ManifestLoader.__dict__["write_manifest_for_partial_parse"] is write


def test_artifacts_are_written_as_the_same_text_as_dbt_writes(
    built_settings, tmp_path: Path
) -> None:
    from datetime import datetime
    from decimal import Decimal

    target = Path(os.environ["DBT_TARGET_PATH"])
    streamed_write = system.write_json
    for artifact in ("manifest.json", "run_results.json"):
        data = json.loads((target / artifact).read_text())
        # values only dbt's encoder turns into JSON, and text the C encoder escapes
        data["extra"] = [datetime(2026, 12, 4, 10, 30), Decimal("1.10"), "é \u2028 \x00", 1e-7]
        system.write_json(str(tmp_path / "streamed" / artifact), data)  # dbt's own
        with dbt_invoke._artifacts_encoded_at_once():
            assert system.write_json is not streamed_write
            system.write_json(str(tmp_path / "at-once" / artifact), data)
        streamed = (tmp_path / "streamed" / artifact).read_bytes()
        assert (tmp_path / "at-once" / artifact).read_bytes() == streamed
    assert system.write_json is streamed_write


def _flag_source() -> str:
    flag = {"name": "a_flag", "default": False, "description": "what it changes"}
    return behavior_flags.Behavior([flag], {}).a_flag._behavior_change_event.flag_source


def test_a_behaviour_flag_is_named_after_the_same_module_as_dbt_names_it() -> None:
    by_stack = _flag_source()
    with dbt_invoke._flag_sources_found_by_frame():
        by_frame = _flag_source()
    assert by_frame == by_stack == __name__
    assert _flag_source() == by_stack
