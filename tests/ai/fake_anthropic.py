"""A scripted stand-in for the Messages API behind the real SDK (httpx2.MockTransport).

Each test queues the responses the API would send, in the recorded shapes of api.anthropic.com
(message bodies, error bodies, retry headers) or exceptions such as httpx2.ReadTimeout. Every
request the SDK makes is kept, so tests assert what was sent and how often.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx2

from jobmetrics.core import settings as settings_module

Step = httpx2.Response | Exception | Callable[[httpx2.Request], httpx2.Response]


def message(content: list[dict[str, Any]], *, stop_reason: str = "tool_use") -> dict[str, Any]:
    """A Messages API response body with the usage block the API sends."""
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-5-5",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": 1200,
            "output_tokens": 180,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "service_tier": "standard",
        },
    }


def tool_reply(
    name: str, tool_input: dict[str, Any], call_id: str = "toolu_01A"
) -> httpx2.Response:
    """A 200 response whose only content block calls tool `name`."""
    block = {"type": "tool_use", "id": call_id, "name": name, "input": tool_input}
    return httpx2.Response(200, json=message([block]), headers={"request-id": "req_01"})


def text_reply(text: str) -> httpx2.Response:
    block = {"type": "text", "text": text}
    return httpx2.Response(200, json=message([block], stop_reason="end_turn"))


def error_reply(status: int, kind: str, text: str, *, retry_after_ms: int = 5) -> httpx2.Response:
    """An API error body; retry-after-ms keeps the SDK's retry wait short in tests."""
    body = {"type": "error", "error": {"type": kind, "message": text}, "request_id": "req_02"}
    return httpx2.Response(status, json=body, headers={"retry-after-ms": str(retry_after_ms)})


@dataclass
class FakeApi:
    """Replays `steps` in order, one per HTTP request; the last step repeats."""

    steps: list[Step] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        self.urls.append(str(request.url))
        self.requests.append(json.loads(request.content or b"{}"))
        if not self.steps:
            raise AssertionError("the fake API got a request it had no response for")
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        if callable(step) and not isinstance(step, httpx2.Response):
            return step(request)
        return step

    def factory(self) -> httpx2.Client:
        """An HTTP client for the SDK whose transport is this fake (pass `api.factory` as the
        `http_client_factory` of a Narrator, a Session or `ask`)."""
        return httpx2.Client(transport=httpx2.MockTransport(self.handler))


def timeout(request: httpx2.Request) -> httpx2.Response:
    raise httpx2.ReadTimeout("timed out", request=request)


def fake_api_settings(folder: Path) -> settings_module.Settings:
    """Settings for calls to the fake API: a key, a warehouse folder of our own (the narrative
    cache lives there), no manifest, the default model, one fast retry, the default bounds."""
    return replace(
        settings_module.load(),
        anthropic_api_key="sk-ant-test",
        warehouse=folder / "data" / "jobmetrics.duckdb",
        dbt_target_dir=folder / "no-target",
        ai_model="claude-sonnet-5-5",
        ai_max_retries=1,
        ai_timeout_s=2.0,
        ai_budget_s=60.0,
        ai_breaker_failures=3,
    )
