"""mashumaro's serialisers are written once and replayed in later processes, and dbt's JSON
schemas built once and read back.

`serialisers_kept` (jobmetrics/core/serialiser_cache.py), which run_dbt applies before dbt is
imported. Each process here imports a module of mashumaro classes, as dbt's classes are built
at import; the expectation is the same module imported without the cache. The JSON schemas
(`_json_schemas_built_once` in jobmetrics/warehouse/dbt_invoke.py) are compared with
mashumaro's own and checked by validating good and bad data.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import marshal
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from dbt_common.dataclass_schema import StrEnum, ValidationError, dbtClassMixin

from jobmetrics.core.code_cache import read_kept, write_kept
from jobmetrics.core.serialiser_cache import cache_file, installed_header
from jobmetrics.core.settings import PROJECT_ROOT
from jobmetrics.warehouse import dbt_invoke

MODELS = """
import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from mashumaro import DataClassDictMixin
from mashumaro.config import BaseConfig
from mashumaro.types import SerializationStrategy


class Plan(enum.Enum):
    FREE = "free"
    PRO = "pro"


class Cents(SerializationStrategy):
    def serialize(self, value):
        return round(value * 100)

    def deserialize(self, value):
        return value / 100


@dataclass
class Invoice(DataClassDictMixin):
    number: str
    issued_at: datetime
    amount: float = field(metadata={"serialization_strategy": Cents()})


@dataclass
class Customer(DataClassDictMixin):
    name: str
    plan: Plan
    invoices: list[Invoice] = field(default_factory=list)
    tags: dict[str, int] = field(default_factory=dict)
    referrer: Optional["Customer"] = None
    note: Optional[str] = None


class YesNo(SerializationStrategy):
    def serialize(self, value):
        return "yes" if value else "no"

    def deserialize(self, value):
        return value == "yes"


@dataclass
class Seat(DataClassDictMixin):
    holder: str
    active: bool
    admin: bool = False

    class Config(BaseConfig):
        # a strategy for a type in the class's config, as dbt's for bool and datetime
        serialization_strategy = {bool: YesNo()}


@dataclass
class Account(DataClassDictMixin):
    owner: Customer
    seats: int = 1
    seat_list: list[Seat] = field(default_factory=list)
"""

IMPORT = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
mode, path = sys.argv[2], Path(sys.argv[3])
if mode == "cache":
    from jobmetrics.core.serialiser_cache import serialisers_kept
    context = serialisers_kept(path)
else:
    import contextlib
    context = contextlib.nullcontext({})
with context as counts:
    import models
    from datetime import datetime
    invoice = models.Invoice("A-1", datetime(2026, 1, 2, 3, 4, 5), 12.34)
    owner = models.Customer("Ada", models.Plan.PRO, [invoice], {"seats": 3},
                            models.Customer("Bob", models.Plan.FREE))
    account = models.Account(owner, seats=4, seat_list=[models.Seat("Ada", True)])
    packed = account.to_dict()
    back = models.Account.from_dict(packed)
    print(json.dumps({"packed": packed, "equal": back == account,
                      "back": back.to_dict(), "counts": counts}, default=str))
"""


def run(folder: Path, mode: str, path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(IMPORT), str(folder), mode, str(path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def models(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "models.py").write_text(MODELS)
    return folder


def test_replayed_serialisers_pack_and_unpack_as_written_ones(models: Path, tmp_path: Path):
    path = cache_file(tmp_path / "target")
    plain = run(models, "plain", path)
    first, second = run(models, "cache", path), run(models, "cache", path)
    assert plain["equal"] and plain["packed"]["owner"]["invoices"][0]["amount"] == 1234
    assert plain["packed"]["seat_list"] == [{"holder": "Ada", "active": "yes", "admin": "no"}]
    for result in (first, second):
        assert result["packed"] == plain["packed"] and result["back"] == plain["back"]
        assert result["equal"]
    # Customer, Seat and Account: from_dict and to_dict each (Seat's bool fields with the
    # strategy of its config, which the replay takes from the config again). Invoice's amount
    # has its own strategy, set on the class by the builder, not by the code: written every
    # time.
    assert first["counts"]["written"] >= 6 and first["counts"]["replayed"] == 0
    assert second["counts"] == {
        "written": 0,
        "replayed": first["counts"]["written"],
        "not_kept": first["counts"]["not_kept"],
    }
    assert second["counts"]["not_kept"] == 2


@pytest.mark.parametrize(
    "damage",
    ["garbage", "truncated", "other libraries", "empty", "entries of another shape"],
)
def test_a_damaged_or_foreign_file_is_written_again(models: Path, tmp_path: Path, damage: str):
    path = cache_file(tmp_path / "target")
    plain = run(models, "plain", path)
    written = run(models, "cache", path)["counts"]["written"]
    data = path.read_bytes()
    header_end = data.index(b"\n", len(importlib.util.MAGIC_NUMBER)) + 1
    if damage == "entries of another shape":  # (codes, names): the format before strategies
        entries = marshal.loads(data[header_end:])
        reshaped = {key: entry[:2] for key, entry in entries.items()}
        path.write_bytes(data[:header_end] + marshal.dumps(reshaped))
    else:
        path.write_bytes(
            {
                "garbage": os.urandom(len(data)),
                "truncated": data[: header_end + (len(data) - header_end) // 2],
                "other libraries": data[: header_end - 9] + b"00000000\n" + data[header_end:],
                "empty": b"",
            }[damage]
        )
    again = run(models, "cache", path)
    assert again["packed"] == plain["packed"] and again["equal"]
    assert again["counts"]["written"] == written and again["counts"]["replayed"] == 0
    assert run(models, "cache", path)["counts"]["replayed"] == written


# dbt's JSON schemas (run_dbt's _json_schemas_built_once): built once, kept in the target folder


class Materialization(StrEnum):
    TABLE = "table"
    VIEW = "view"


@dataclasses.dataclass
class ProjectSettings(dbtClassMixin):
    name: str
    threads: int = 1
    tags: list[str] = dataclasses.field(default_factory=list)
    # a str subclass in the schema (its default), as in dbt's own: kept as JSON text
    materialized: Materialization = Materialization.VIEW


def test_json_schemas_are_built_once_and_read_back(tmp_path: Path, monkeypatch) -> None:
    from mashumaro.jsonschema import build_json_schema

    path = tmp_path / "target" / dbt_invoke.JSON_SCHEMAS
    expected = build_json_schema(ProjectSettings).to_dict()  # mashumaro itself, no cache
    monkeypatch.setattr(dbt_invoke, "_JSON_SCHEMAS", {})
    own = dbtClassMixin.__dict__["json_schema"]
    with dbt_invoke._json_schemas_built_once(path):
        ProjectSettings.validate({"name": "demo", "threads": 2})
        with pytest.raises(ValidationError, match="threads"):
            ProjectSettings.validate({"name": "demo", "threads": "two"})
        assert ProjectSettings.json_schema() is ProjectSettings.json_schema()
    assert dbtClassMixin.__dict__["json_schema"] is own  # put back
    name = f"{__name__}.ProjectSettings"
    assert json.loads(read_kept(path, installed_header("json-schemas"))[name]) == expected

    # a new process: the schema comes from the file, mashumaro is not asked
    monkeypatch.setattr(dbt_invoke, "_JSON_SCHEMAS", {})
    monkeypatch.setattr(dbtClassMixin, "json_schema", classmethod(lambda cls: 1 / 0))
    with dbt_invoke._json_schemas_built_once(path):
        assert ProjectSettings.json_schema() == expected
        with pytest.raises(ValidationError, match="name"):
            ProjectSettings.validate({"threads": 2})
        with pytest.raises(ValidationError, match="ephemeral"):
            ProjectSettings.validate({"name": "demo", "materialized": "ephemeral"})


@pytest.mark.parametrize("damage", [b"", b"garbage", None])
def test_json_schemas_are_built_again_from_a_damaged_or_foreign_file(
    tmp_path: Path, monkeypatch, damage: bytes | None
) -> None:
    path = tmp_path / dbt_invoke.JSON_SCHEMAS
    name = f"{__name__}.ProjectSettings"
    if damage is None:  # another set of libraries installed: another header
        write_kept(path, b"other libraries\n", {name: json.dumps({"type": "null"})})
    else:
        path.write_bytes(damage)
    monkeypatch.setattr(dbt_invoke, "_JSON_SCHEMAS", {})
    with dbt_invoke._json_schemas_built_once(path):
        ProjectSettings.validate({"name": "demo"})
        with pytest.raises(ValidationError):
            ProjectSettings.validate({"name": None})
    assert json.loads(read_kept(path, installed_header("json-schemas"))[name])["type"] == "object"


def test_a_class_defined_in_a_function_is_not_kept(tmp_path: Path, monkeypatch) -> None:
    def local_class(text: bool) -> type:
        if text:

            @dataclasses.dataclass
            class Local(dbtClassMixin):
                value: str

        else:

            @dataclasses.dataclass
            class Local(dbtClassMixin):
                value: int

        return Local

    monkeypatch.setattr(dbt_invoke, "_JSON_SCHEMAS", {})
    with dbt_invoke._json_schemas_built_once(tmp_path / dbt_invoke.JSON_SCHEMAS):
        local_class(False).validate({"value": 1})
        # the same qualified name, another class: its own schema
        with pytest.raises(ValidationError):
            local_class(True).validate({"value": 1})
    assert dbt_invoke._JSON_SCHEMAS == {}
