"""run_dbt builds dbt's log events only as far as something reads them, and builds them right.

`_events_built_only_when_read` (jobmetrics/warehouse/dbt_invoke.py) makes each event's protobuf
with its constructor instead of dbt's field-by-field `ParseDict`, and in quiet runs drops events
no logger or callback reads. The expectations here come from dbt's own `ParseDict` and from
dbt's event manager with the patch undone.
"""

from __future__ import annotations

from typing import Any

import pytest
from dbt.adapters.events.types import SQLQuery
from dbt.events.types import LogModelResult, NodeFinished, NodeStart
from dbt_common.events.base_types import EventLevel
from dbt_common.events.event_manager import EventManager
from dbt_common.events.types import Note
from google.protobuf.json_format import ParseDict

from jobmetrics.warehouse.dbt_invoke import _events_built_only_when_read

NODE_INFO = {
    "node_path": "marts/fct_mrr_monthly.sql",
    "node_name": "fct_mrr_monthly",
    "unique_id": "model.jobmetrics.fct_mrr_monthly",
    "resource_type": "model",
    "materialized": "table",
    "node_status": "started",
    "node_started_at": "2026-12-03T18:00:00.123456",
    "node_finished_at": "",
    "meta": {"owner": "finance", "tier": 1, "tags": ["mrr", "daily"], "more": {"x": None}},
    "node_relation": {
        "database": "jobmetrics",
        "schema": "main",
        "alias": "fct_mrr_monthly",
        "relation_name": '"jobmetrics"."main"."fct_mrr_monthly"',
    },
}

EVENTS = [
    (NodeStart, {"node_info": NODE_INFO}),
    (
        SQLQuery,
        {"conn_name": "model.jobmetrics.x", "sql": "select 'it''s' as a", "node_info": NODE_INFO},
    ),
    (
        LogModelResult,
        {
            "description": "sql table model main.fct_mrr_monthly",
            "status": "OK",
            "index": 3,
            "total": 94,
            "execution_time": 0.25,
            "node_info": NODE_INFO,
        },
    ),
    (Note, {"msg": "a note"}),
    # JSON field names: the constructor refuses them, ParseDict takes them as before.
    (NodeFinished, {"nodeInfo": NODE_INFO, "runResult": {"status": "success"}}),
]


@pytest.mark.parametrize(("event_type", "values"), EVENTS, ids=[e[0].__name__ for e in EVENTS])
def test_each_event_holds_what_dbts_parse_gives(event_type: type, values: dict) -> None:
    expected = ParseDict(values, getattr(event_type.PROTO_TYPES_MODULE, event_type.__name__)())
    with _events_built_only_when_read(None):
        event = event_type(**values)
    assert event.pb_msg == expected


def test_a_value_of_the_wrong_type_is_still_refused() -> None:
    """dbt raises in tests (PYTEST_CURRENT_TEST) when an event's values do not parse."""
    with _events_built_only_when_read(None), pytest.raises(Exception, match="Unable to parse"):
        SQLQuery(conn_name="x", sql="select 1", node_info={"node_name": ["not", "text"]})


class _Logger:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def filter(self, msg: Any) -> bool:
        return True

    def write_line(self, msg: Any) -> None:
        self.lines.append(msg.info.name)


def test_quiet_run_drops_only_events_nobody_reads() -> None:
    manager = EventManager()
    seen: list[str] = []

    def on_event(msg: Any) -> None:
        seen.append(msg.info.name)

    manager.add_callback(on_event)
    query = {"conn_name": "c", "sql": "select 1", "node_info": NODE_INFO}
    with _events_built_only_when_read([on_event]):
        manager.fire_event(NodeStart(node_info=NODE_INFO))
        manager.fire_event(SQLQuery(**query))  # debug, read by nobody: dropped
        manager.fire_event(Note(msg="careful"), level=EventLevel.WARN)
        manager.fire_event(NodeFinished(node_info=NODE_INFO, run_result={"status": "success"}))
    assert seen == ["NodeStart", "Note", "NodeFinished"]

    # Another callback, or a logger: every event reaches them, as without the patch.
    seen.clear()
    other: list[str] = []
    manager.add_callback(lambda msg: other.append(msg.info.name))
    with _events_built_only_when_read([on_event]):
        manager.fire_event(SQLQuery(**query))
    assert seen == other == ["SQLQuery"]
    logged = EventManager()
    logger = _Logger()
    logged.loggers.append(logger)  # what add_logger stores
    with _events_built_only_when_read([on_event]):
        logged.fire_event(SQLQuery(**query))
    assert logger.lines == ["SQLQuery"]

    # The patch ends with the run.
    seen.clear()
    single = EventManager()
    single.add_callback(on_event)
    single.fire_event(SQLQuery(**query))
    assert seen == ["SQLQuery"]
