"""The Anthropic client: one factory, one call wrapper, and token accounting for the whole run.

The SDK reads ANTHROPIC_BASE_URL itself, so the client can be pointed at any compatible endpoint.
Tests replace the HTTP layer with `use_http_client(lambda: httpx2.Client(transport=...))`; nothing
else changes, so they drive the real SDK (retries, error mapping, response parsing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx2

from jobmetrics.settings import Settings

HttpClientFactory = Callable[[], httpx2.Client]
ANY_TOOL = "*"
"""`send(..., tool_name=ANY_TOOL)` lets the model pick any of the tools (tool_choice any)."""
_http_client_factory: HttpClientFactory | None = None


class AIUnavailable(Exception):
    """The API could not give an answer: no key, rate limit, timeout, server or reply error."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NoApiKey(AIUnavailable):
    """ANTHROPIC_API_KEY is not set."""

    def __init__(self) -> None:
        super().__init__("no ANTHROPIC_API_KEY set")


@contextmanager
def use_http_client(factory: HttpClientFactory | None) -> Iterator[None]:
    """Make every client created inside the block use `factory()` as its HTTP client."""
    global _http_client_factory
    saved = _http_client_factory
    _http_client_factory = factory
    try:
        yield
    finally:
        _http_client_factory = saved


def create_client(settings: Settings) -> anthropic.Anthropic:
    """An SDK client with the configured key, timeout and retries (NoApiKey without a key)."""
    if not settings.anthropic_api_key:
        raise NoApiKey()
    http_client = _http_client_factory() if _http_client_factory is not None else None
    return anthropic.Anthropic(
        api_key=settings.anthropic_api_key,
        max_retries=settings.ai_max_retries,
        timeout=settings.ai_timeout_s,
        http_client=http_client,
    )


@dataclass
class Usage:
    """Tokens and calls of this process, for the per-build cost line."""

    calls: int = 0
    failed_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    models: set[str] = field(default_factory=set)

    def cost_usd(self, settings: Settings) -> float:
        return (
            self.input_tokens * settings.ai_input_usd_per_mtok
            + self.output_tokens * settings.ai_output_usd_per_mtok
        ) / 1_000_000


USAGE = Usage()


def reset_usage() -> None:
    global USAGE
    USAGE = Usage()


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class Reply:
    """What one Messages API call returned."""

    text: str
    tool_calls: list[ToolCall]
    content: list[dict[str, Any]]
    """The assistant content blocks as request params, to continue the conversation."""
    stop_reason: str | None


def _reason(error: anthropic.APIError) -> str:
    if isinstance(error, anthropic.APITimeoutError):
        return "the request timed out"
    if isinstance(error, anthropic.RateLimitError):
        return "rate limited (HTTP 429)"
    if isinstance(error, anthropic.APIStatusError):
        return f"HTTP {error.status_code} from the API"
    if isinstance(error, anthropic.APIConnectionError):
        return "could not connect to the API"
    return f"API error ({type(error).__name__})"


def _block_param(block: Any) -> dict[str, Any]:
    kind = getattr(block, "type", None)
    if kind == "text":
        return {"type": "text", "text": block.text}
    if kind == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    return block.model_dump(exclude_none=True) if hasattr(block, "model_dump") else dict(block)


def send(
    client: anthropic.Anthropic,
    settings: Settings,
    *,
    system: str,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None = None,
    tool_name: str | None = None,
) -> Reply:
    """One Messages API call; AIUnavailable on any API error or a reply that cannot be read."""
    extra: dict[str, Any] = {}
    if tools:
        extra["tools"] = tools
    if tool_name == ANY_TOOL:
        extra["tool_choice"] = {"type": "any"}
    elif tool_name:
        extra["tool_choice"] = {"type": "tool", "name": tool_name}
    try:
        message = client.messages.create(
            model=settings.ai_model,
            max_tokens=settings.ai_max_tokens,
            system=system,
            messages=messages,
            **extra,
        )
    except anthropic.APIError as error:
        USAGE.failed_calls += 1
        raise AIUnavailable(_reason(error)) from error
    USAGE.calls += 1
    USAGE.models.add(settings.ai_model)
    try:
        usage = message.usage
        USAGE.input_tokens += (
            int(usage.input_tokens or 0)
            + int(getattr(usage, "cache_creation_input_tokens", 0) or 0)
            + int(getattr(usage, "cache_read_input_tokens", 0) or 0)
        )
        USAGE.output_tokens += int(usage.output_tokens or 0)
    except (AttributeError, TypeError, ValueError):
        pass  # a reply without usage still counts as a call
    try:
        blocks = list(message.content or [])
        text = "".join(block.text for block in blocks if getattr(block, "type", None) == "text")
        calls = [
            ToolCall(id=str(block.id), name=str(block.name), input=block.input)
            for block in blocks
            if getattr(block, "type", None) == "tool_use"
        ]
        content = [_block_param(block) for block in blocks]
    except (AttributeError, TypeError, ValueError) as error:
        raise AIUnavailable(f"unreadable reply ({error})") from error
    for call in calls:
        if not isinstance(call.input, dict):
            raise AIUnavailable(f"malformed tool reply: {call.name} input is not an object")
    return Reply(text=text, tool_calls=calls, content=content, stop_reason=message.stop_reason)


def tool_input(reply: Reply, name: str) -> dict[str, Any]:
    """The input of the reply's call to tool `name`; AIUnavailable when there is none."""
    for call in reply.tool_calls:
        if call.name == name:
            return call.input
    raise AIUnavailable(f"malformed tool reply: no call to {name}")


def tool_result(
    reply: Reply, name: str, text: str, *, is_error: bool = True
) -> list[dict[str, Any]]:
    """The assistant turn plus a user turn answering its tool call with `text`."""
    call_id = next((call.id for call in reply.tool_calls if call.name == name), None)
    if call_id is None:
        return [{"role": "user", "content": text}]
    return [
        {"role": "assistant", "content": reply.content},
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": call_id,
                    "content": text,
                    "is_error": is_error,
                }
            ],
        },
    ]
