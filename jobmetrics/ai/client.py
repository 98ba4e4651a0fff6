"""The Anthropic client: one factory, one bounded call wrapper, and a Session per run that holds
its token usage, its time budget and its circuit breaker (no process-wide counters).

The SDK reads ANTHROPIC_BASE_URL itself, so the client can be pointed at any compatible endpoint.
Tests pass `Session(settings, http_client_factory=lambda: httpx2.Client(transport=...))`; nothing
else changes, so they drive the real SDK (retries, error mapping, response parsing).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jobmetrics.core.settings import Settings

if TYPE_CHECKING:
    # The SDK is imported when a call is made, not with this module: importing it takes about
    # 1.4 s, which every `jobmetrics report` without an API key (offline narratives) would pay.
    import anthropic
    import httpx2

HttpClientFactory = Callable[[], "httpx2.Client"]
ANY_TOOL = "*"
"""`send(..., tool_name=ANY_TOOL)` lets the model pick any of the tools (tool_choice any)."""


class AIUnavailable(Exception):
    """The API could not give an answer: no key, rate limit, timeout, server or reply error."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NoApiKey(AIUnavailable):
    """ANTHROPIC_API_KEY is not set."""

    def __init__(self) -> None:
        super().__init__("no ANTHROPIC_API_KEY set")


def create_client(
    settings: Settings, http_client_factory: HttpClientFactory | None = None
) -> anthropic.Anthropic:
    """An SDK client with the configured key, timeout and retries (NoApiKey without a key);
    `http_client_factory` gives its HTTP client (tests pass one with a mock transport)."""
    if not settings.anthropic_api_key:
        raise NoApiKey()
    import anthropic

    http_client = http_client_factory() if http_client_factory is not None else None
    return anthropic.Anthropic(
        api_key=settings.anthropic_api_key,
        max_retries=settings.ai_max_retries,
        timeout=settings.ai_timeout_s,
        http_client=http_client,
    )


CACHE_WRITE_PRICE = 1.25
"""Prompt-cache writes cost 1.25 × the input price (5-minute cache)."""
CACHE_READ_PRICE = 0.10
"""Prompt-cache reads cost 0.1 × the input price."""


@dataclass
class Usage:
    """Calls and tokens of one build or one question, for the cost line."""

    calls: int = 0
    failed_calls: int = 0
    input_tokens: int = 0
    """Uncached input tokens."""
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    output_tokens: int = 0

    @property
    def prompt_tokens(self) -> int:
        """Every input token, cached or not."""
        return self.input_tokens + self.cache_write_tokens + self.cache_read_tokens

    def cost_usd(self, settings: Settings) -> float:
        """The estimated cost with prompt caching as billed."""
        return (
            (
                self.input_tokens
                + self.cache_write_tokens * CACHE_WRITE_PRICE
                + self.cache_read_tokens * CACHE_READ_PRICE
            )
            * settings.ai_input_usd_per_mtok
            + self.output_tokens * settings.ai_output_usd_per_mtok
        ) / 1_000_000

    def cost_without_cache_usd(self, settings: Settings) -> float:
        """What the same calls would cost with every input token at the full price."""
        return (
            self.prompt_tokens * settings.ai_input_usd_per_mtok
            + self.output_tokens * settings.ai_output_usd_per_mtok
        ) / 1_000_000

    def as_dict(self, settings: Settings) -> dict[str, Any]:
        return {
            "model": settings.ai_model,
            "calls": self.calls,
            "failed_calls": self.failed_calls,
            "input_tokens": self.input_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.cost_usd(settings), 6),
            "cost_without_cache_usd": round(self.cost_without_cache_usd(settings), 6),
        }

    def line(self, settings: Settings) -> str:
        """One line: calls, tokens (cached share) and the cost with and without the cache."""
        failed = f" ({self.failed_calls} failed)" if self.failed_calls else ""
        cached = (
            f", {self.cache_read_tokens:,} read from the prompt cache"
            f" and {self.cache_write_tokens:,} written to it"
            if self.cache_read_tokens or self.cache_write_tokens
            else ""
        )
        return (
            f"Claude ({settings.ai_model}): {self.calls} calls{failed}, "
            f"{self.prompt_tokens:,} input tokens{cached} + {self.output_tokens:,} output tokens, "
            f"estimated ${self.cost_usd(settings):.4f} "
            f"(${self.cost_without_cache_usd(settings):.4f} without the prompt cache)"
        )


class Session:
    """The API calls of one build (all its narratives) or one question.

    Bounds them: each request has one deadline for connect plus the whole response (including
    the SDK's retries), the session has one time budget for all its calls together (setting up
    the SDK included; the report's own work between calls is not counted), and a circuit
    breaker stops calling after `breaker` consecutive failures. Counts their tokens.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        budget_s: float | None = None,
        http_client_factory: HttpClientFactory | None = None,
    ) -> None:
        self.settings = settings
        self.http_client_factory = http_client_factory
        self.usage = Usage()
        self.budget_s = settings.ai_budget_s if budget_s is None else budget_s
        self.spent_s = 0.0
        """Seconds spent in calls (their setup included) that have ended."""
        self._call_started: float | None = None
        self.consecutive_failures = 0
        self._client: anthropic.Anthropic | None = None

    def remaining_s(self) -> float:
        running = 0.0 if self._call_started is None else time.monotonic() - self._call_started
        return self.budget_s - self.spent_s - running

    @contextmanager
    def calling(self) -> Iterator[None]:
        """Count the time inside against the budget."""
        self._call_started = time.monotonic()
        try:
            yield
        finally:
            self.spent_s += time.monotonic() - self._call_started
            self._call_started = None

    def refusal(self) -> str:
        """Why no further call is made ('' while calls are allowed)."""
        if self.consecutive_failures >= self.settings.ai_breaker_failures:
            return (
                f"not called after {self.consecutive_failures} consecutive failed calls in this run"
            )
        if self.remaining_s() <= 0:
            return f"the AI time budget of {self.budget_s:g} s for this run is spent"
        return ""

    def client(self) -> anthropic.Anthropic:
        if self._client is None:
            self._client = create_client(self.settings, self.http_client_factory)
        return self._client

    def record_failure(self) -> None:
        self.usage.failed_calls += 1
        self.consecutive_failures += 1
        self._client = None  # a timed-out request may still hold the old client's connection


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
    import anthropic

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


def _within(deadline_s: float, call: Callable[[], Any]) -> Any:
    """`call()` in a daemon thread, abandoned (TimeoutError) when it has not returned in time.

    httpx's timeouts are per read, so an endpoint that trickles a byte every few seconds never
    times out; the thread bounds the whole request. An abandoned thread dies with the process.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # noqa: BLE001 - handed to the caller's thread
            outcome["error"] = error

    worker = threading.Thread(target=run, name="claude-request", daemon=True)
    worker.start()
    worker.join(deadline_s)
    if worker.is_alive():
        raise TimeoutError
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def send(
    session: Session,
    *,
    system: str,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None = None,
    tool_name: str | None = None,
) -> Reply:
    """One Messages API call within the session's bounds; AIUnavailable on any failure.

    The system prompt and the tool definitions are marked for prompt caching (they are the
    long, stable part of every request).
    """
    settings = session.settings
    refusal = session.refusal()
    if refusal:
        raise AIUnavailable(refusal)
    extra: dict[str, Any] = {}
    if tools:
        extra["tools"] = [dict(tool) for tool in tools]
        extra["tools"][-1]["cache_control"] = {"type": "ephemeral"}
    if tool_name == ANY_TOOL:
        extra["tool_choice"] = {"type": "any"}
    elif tool_name:
        extra["tool_choice"] = {"type": "tool", "name": tool_name}
    with session.calling():
        client = session.client()  # NoApiKey without a key; imports the SDK
        # After the client: importing the SDK takes seconds on a busy machine, and it is part
        # of the budget like the requests.
        deadline_s = max(0.1, min(settings.ai_timeout_s, session.remaining_s()))
        import anthropic

        try:
            message = _within(
                deadline_s,
                lambda: client.messages.create(
                    model=settings.ai_model,
                    max_tokens=settings.ai_max_tokens,
                    system=[
                        {"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}
                    ],
                    messages=messages,
                    timeout=deadline_s,
                    **extra,
                ),
            )
        except TimeoutError:
            session.record_failure()
            raise AIUnavailable(f"no complete reply within {round(deadline_s, 1):g} s") from None
        except anthropic.APIError as error:
            session.record_failure()
            raise AIUnavailable(_reason(error)) from error
    session.usage.calls += 1
    session.consecutive_failures = 0
    try:
        usage = message.usage
        session.usage.input_tokens += int(usage.input_tokens or 0)
        session.usage.cache_write_tokens += int(
            getattr(usage, "cache_creation_input_tokens", 0) or 0
        )
        session.usage.cache_read_tokens += int(getattr(usage, "cache_read_input_tokens", 0) or 0)
        session.usage.output_tokens += int(usage.output_tokens or 0)
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
