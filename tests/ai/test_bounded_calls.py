"""Every API call is bounded: one deadline per request, one budget per build, a circuit breaker.

Through the real SDK on an injected transport: an endpoint that never answers, one that trickles
a byte at a time (httpx's per-read timeout never fires), and 429/500 storms.
"""

from __future__ import annotations

import time
from dataclasses import replace

import anthropic  # noqa: F401 - imported here: its seconds are not what these tests time
import httpx2
import pytest
from fake_anthropic import FakeApi, error_reply
from test_narratives import MOVEMENTS

from jobmetrics.ai import narratives


def hang(request: httpx2.Request) -> httpx2.Response:
    time.sleep(30)  # accepts the request, never answers (the thread is abandoned)
    raise AssertionError("unreachable in the test's time")


def trickle(request: httpx2.Request) -> httpx2.Response:
    def body():
        for _ in range(1000):
            time.sleep(0.2)
            yield b" "  # every read succeeds, so no per-read timeout ever fires

    return httpx2.Response(200, headers={"content-type": "application/json"}, content=body())


def _pages(count: int) -> list[tuple[str, dict]]:
    """`count` narratives with different facts (so none is served from the cache)."""
    return [(f"Page {n}", {"movements": MOVEMENTS[: 2 + n % 2]}) for n in range(count)]


@pytest.mark.parametrize("endpoint", [hang, trickle], ids=["hang", "trickle"])
def test_one_request_ends_at_its_deadline_with_the_offline_summary(ai_settings, endpoint):
    settings = replace(ai_settings, ai_timeout_s=1.0, ai_max_retries=0)
    started = time.monotonic()
    narrative = narratives.Narrator(
        settings, http_client_factory=FakeApi([endpoint]).factory
    ).write("MRR", {"movements": MOVEMENTS})
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 2.0
    assert narrative.source == "offline"
    assert (
        narrative.label == "Automatic summary — Claude unavailable (no complete reply within 1 s)"
    )


@pytest.mark.parametrize("endpoint", [hang, trickle], ids=["hang", "trickle"])
def test_a_build_ends_within_its_budget(ai_settings, endpoint):
    """8 narratives against a dead endpoint: 2.5 s of budget, then automatic summaries."""
    settings = replace(
        ai_settings, ai_timeout_s=1.0, ai_budget_s=2.5, ai_breaker_failures=100, ai_max_retries=0
    )
    api = FakeApi([endpoint])
    narrator = narratives.Narrator(settings, http_client_factory=api.factory)
    started = time.monotonic()
    blocks = [narrator.write(topic, results) for topic, results in _pages(8)]
    elapsed = time.monotonic() - started
    assert elapsed < 2.5 + 1.0
    assert len(api.requests) == 3  # 1 s, 1 s, then the last 0.5 s of the budget
    assert all(block.source == "offline" for block in blocks)
    spent = (
        "Automatic summary — Claude unavailable (the AI time budget of 2.5 s for this run is spent)"
    )
    assert [block.label for block in blocks[3:]] == [spent] * 5


def test_the_budget_counts_the_calls_not_the_report_around_them(ai_settings):
    """A report that spends longer on its own queries than the whole budget still asks."""
    settings = replace(
        ai_settings, ai_timeout_s=1.0, ai_budget_s=1.5, ai_breaker_failures=100, ai_max_retries=0
    )
    api = FakeApi([hang])
    narrator = narratives.Narrator(settings, http_client_factory=api.factory)
    blocks = []
    for topic, results in _pages(3):
        time.sleep(1.6)  # the pages' queries and rendering before each narrative
        blocks.append(narrator.write(topic, results))
    assert len(api.requests) == 2  # 1 s, then the last 0.5 s of the budget
    unavailable = "Automatic summary — Claude unavailable"
    assert blocks[0].label == f"{unavailable} (no complete reply within 1 s)"
    assert blocks[1].label.startswith(f"{unavailable} (no complete reply within 0.")
    assert blocks[2].label == f"{unavailable} (the AI time budget of 1.5 s for this run is spent)"


def test_setting_up_the_client_counts_against_the_budget(ai_settings):
    """Importing the SDK and creating its client can take seconds on a busy machine: the
    request after it gets only what is left of the run's budget."""
    settings = replace(
        ai_settings, ai_timeout_s=3.0, ai_budget_s=2.5, ai_breaker_failures=100, ai_max_retries=0
    )
    api = FakeApi([hang])

    def slow_setup() -> httpx2.Client:
        time.sleep(2.0)
        return api.factory()

    narrator = narratives.Narrator(settings, http_client_factory=slow_setup)
    started = time.monotonic()
    blocks = [narrator.write(topic, results) for topic, results in _pages(3)]
    elapsed = time.monotonic() - started
    # 2 s of setup, then what is left of the 2.5 s budget; counted from after the setup, the
    # request would have had the whole 2.5 s.
    assert 2.5 <= elapsed < 3.5
    assert len(api.requests) == 1
    assert blocks[0].label.startswith("Automatic summary — Claude unavailable (no complete reply")
    assert all(block.source == "offline" for block in blocks)


@pytest.mark.parametrize(
    "storm",
    [
        error_reply(429, "rate_limit_error", "Number of request tokens has exceeded your limit"),
        error_reply(500, "api_error", "Internal server error"),
        error_reply(529, "overloaded_error", "Overloaded"),
    ],
    ids=["429", "500", "529"],
)
def test_the_circuit_breaker_stops_calling_after_consecutive_failures(ai_settings, storm):
    settings = replace(ai_settings, ai_breaker_failures=3, ai_max_retries=1)
    api = FakeApi([storm])
    narrator = narratives.Narrator(settings, http_client_factory=api.factory)
    blocks = [narrator.write(topic, results) for topic, results in _pages(8)]
    assert len(api.requests) == 3 * 2  # three failed calls (each retried once by the SDK)
    assert narrator.summary().usage.failed_calls == 3
    stopped = (
        "Automatic summary — Claude unavailable "
        "(not called after 3 consecutive failed calls in this run)"
    )
    assert [block.label for block in blocks[3:]] == [stopped] * 5
    assert "5 offline" not in narrator.summary().line() and "8 offline" in narrator.summary().line()


def test_prompt_cache_tokens_are_counted_and_priced(ai_settings):
    from fake_anthropic import message
    from test_narratives import GOOD

    body = message([{"type": "tool_use", "id": "t", "name": "write_narrative", "input": GOOD}])
    body["usage"].update(input_tokens=200, cache_read_input_tokens=1000, output_tokens=100)
    api = FakeApi([httpx2.Response(200, json=body)])
    narrator = narratives.Narrator(ai_settings, http_client_factory=api.factory)
    narrator.write("Monthly MRR movements", {"movements": MOVEMENTS})
    usage = narrator.summary().usage
    assert (usage.input_tokens, usage.cache_read_tokens, usage.prompt_tokens) == (200, 1000, 1200)
    with_cache = (200 * 3.0 + 1000 * 3.0 * 0.1 + 100 * 15.0) / 1e6
    without = (1200 * 3.0 + 100 * 15.0) / 1e6
    assert usage.cost_usd(ai_settings) == pytest.approx(with_cache)
    assert usage.cost_without_cache_usd(ai_settings) == pytest.approx(without)
    assert "1,000 read from the prompt cache" in narrator.summary().line()
