"""Narratives through the real SDK against recorded-shape fake API replies (no network)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx2
import pytest
from fake_anthropic import FakeApi, error_reply, text_reply, timeout, tool_reply

from jobmetrics import settings as settings_module
from jobmetrics.ai import narratives
from jobmetrics.ai.facts import build_facts
from jobmetrics.ai.grounding import check
from jobmetrics.ai.offline import offline_summary
from jobmetrics.ai.registry import Registry

MOVEMENTS = [
    {
        "month": date(2025, 8, 1),
        "ending_mrr": Decimal("11000.10"),
        "new_customers": 40,
        "logo_churn_rate": 0.051,
    },
    {
        "month": date(2025, 9, 1),
        "ending_mrr": Decimal("12000.00"),
        "new_customers": 44,
        "logo_churn_rate": 0.048,
    },
    {
        "month": date(2025, 10, 1),
        "ending_mrr": Decimal("12345.67"),
        "new_customers": 52,
        "logo_churn_rate": 0.0523,
    },
]
RESULTS = {"movements": MOVEMENTS}

GOOD = {
    "summary": "MRR reached $12.3k in October, up 2.9% on September, with 52 new customers.",
    "drivers": ["Likely stronger acquisition: new customers rose from 44 to 52."],
    "actions": ["Watch logo churn, which rose 0.4 pts to 5.2%."],
}
INVENTED = {
    "summary": "MRR reached $12.3k, and we expect $15,000 by year end.",
    "drivers": ["Likely a 37% jump in trials."],
    "actions": ["Keep going."],
}


@pytest.fixture
def ai_settings(tmp_path: Path) -> settings_module.Settings:
    """A key, a warehouse folder of our own (the cache lives there), fast retries."""
    return replace(
        settings_module.load(),
        anthropic_api_key="sk-ant-test",
        warehouse=tmp_path / "data" / "jobmetrics.duckdb",
        dbt_target_dir=tmp_path / "no-target",
        ai_model="claude-sonnet-5-5",
        ai_max_retries=1,
        ai_timeout_s=2.0,
    )


def _write(settings, *, refresh: bool = False) -> narratives.Narrative:
    return narratives.write_narrative(
        "Monthly MRR movements", RESULTS, refresh=refresh, settings=settings
    )


def test_good_narrative_is_shown_with_its_source_and_usage_is_counted(ai_settings):
    api = FakeApi([tool_reply("write_narrative", GOOD)])
    with api.install():
        narrative = _write(ai_settings)
    assert narrative.source == "claude"
    assert "$12.3k" in narrative.text and "**Recommended actions**" in narrative.text
    request = api.requests[0]
    assert request["model"] == "claude-sonnet-5-5"
    assert request["tool_choice"] == {"type": "tool", "name": "write_narrative"}
    assert "no invented numbers" in request["system"].lower() or "ONLY numbers" in request["system"]
    assert '"ending_mrr"' in request["messages"][0]["content"]
    summary = narratives.usage_summary(ai_settings)
    assert (summary.calls, summary.input_tokens, summary.output_tokens) == (1, 1200, 180)
    assert summary.cost_usd == pytest.approx((1200 * 3.0 + 180 * 15.0) / 1e6)
    assert "1 claude" in summary.line()


def test_rebuild_with_same_figures_uses_the_cache_and_makes_no_call(ai_settings):
    with FakeApi([tool_reply("write_narrative", GOOD)]).install():
        first = _write(ai_settings)
    silent = FakeApi([error_reply(500, "api_error", "must not be called")])
    with silent.install():
        second = _write(ai_settings)
    assert second.source == "cache" and second.text == first.text
    assert silent.requests == []
    assert (ai_settings.data_dir / narratives.CACHE_FILE).exists()


def test_refresh_narratives_bypasses_the_cache(ai_settings):
    with FakeApi([tool_reply("write_narrative", GOOD)]).install():
        _write(ai_settings)
    again = FakeApi([tool_reply("write_narrative", GOOD)])
    with again.install():
        refreshed = _write(ai_settings, refresh=True)
    assert refreshed.source == "claude" and len(again.requests) == 1


def test_invented_number_is_retried_once_naming_it_then_withheld(ai_settings):
    api = FakeApi(
        [tool_reply("write_narrative", INVENTED), tool_reply("write_narrative", INVENTED)]
    )
    with api.install():
        narrative = _write(ai_settings)
    assert len(api.requests) == 2
    retry_turn = api.requests[1]["messages"][-1]["content"][0]
    assert retry_turn["type"] == "tool_result" and "$15,000" in retry_turn["content"]
    assert "37%" in retry_turn["content"]
    assert narrative.source == "withheld"
    assert narrative.label.startswith("AI narrative withheld: unverified figures")
    assert "$15,000" not in narrative.text and "$12,345.67" in narrative.text  # offline text


def test_invented_number_fixed_on_retry_is_shown(ai_settings):
    api = FakeApi([tool_reply("write_narrative", INVENTED), tool_reply("write_narrative", GOOD)])
    with api.install():
        narrative = _write(ai_settings)
    assert narrative.source == "claude" and "$15,000" not in narrative.text


def test_rate_limit_then_success_is_retried_by_the_sdk(ai_settings):
    api = FakeApi(
        [
            error_reply(
                429, "rate_limit_error", "Number of request tokens has exceeded your rate limit"
            ),
            tool_reply("write_narrative", GOOD),
        ]
    )
    with api.install():
        narrative = _write(ai_settings)
    assert narrative.source == "claude" and len(api.requests) == 2


def test_server_error_gives_the_labelled_offline_summary(ai_settings):
    api = FakeApi([error_reply(500, "api_error", "Internal server error")])
    with api.install():
        narrative = _write(ai_settings)
    assert narrative.source == "offline"
    assert narrative.label == "Automatic summary — Claude unavailable (HTTP 500 from the API)"
    assert narrative.text == offline_summary(
        build_facts("Monthly MRR movements", RESULTS, Registry())
    )
    assert len(api.requests) == 1 + ai_settings.ai_max_retries
    assert narratives.usage_summary(ai_settings).failed_calls == 1


def test_timeout_gives_the_offline_summary(ai_settings):
    api = FakeApi([timeout])
    with api.install():
        narrative = _write(replace(ai_settings, ai_max_retries=0))
    assert narrative.source == "offline" and "timed out" in narrative.label
    assert narrative.text.strip()


@pytest.mark.parametrize(
    "reply",
    [
        text_reply("Here is a summary without the tool."),
        tool_reply("write_narrative", {"summary": "", "drivers": [], "actions": []}),
        tool_reply("write_narrative", {"summary": "MRR grew.", "drivers": "x", "actions": ["a"]}),
        httpx2.Response(200, text="<html>bad gateway page</html>"),
    ],
    ids=["no-tool-call", "empty-fields", "wrong-types", "not-json"],
)
def test_malformed_reply_gives_the_offline_summary(ai_settings, reply):
    with FakeApi([reply]).install():
        narrative = _write(ai_settings)
    assert narrative.source == "offline" and narrative.text.strip()


def test_no_key_gives_the_offline_summary_without_any_request(ai_settings):
    api = FakeApi([error_reply(500, "api_error", "must not be called")])
    with api.install():
        narrative = _write(replace(ai_settings, anthropic_api_key=""))
    assert api.requests == []
    assert narrative.source == "offline" and "ANTHROPIC_API_KEY" in narrative.label


def test_base_url_setting_is_honoured(ai_settings, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://fake-claude.local:8080")
    api = FakeApi([tool_reply("write_narrative", GOOD)])
    with api.install():
        _write(ai_settings)
    assert api.urls[0] == "http://fake-claude.local:8080/v1/messages"


def test_offline_summary_is_deterministic_and_grounded():
    facts = build_facts("Monthly MRR movements", RESULTS, Registry())
    text = offline_summary(facts)
    assert text == offline_summary(build_facts("Monthly MRR movements", RESULTS, Registry()))
    assert "$12,345.67" in text and "up 2.9%" in text and "5.2%" in text
    assert check(text, facts).ok


def test_empty_results_still_give_a_block():
    narrative = narratives.write_narrative(
        "Nothing", {"movements": []}, settings=replace(settings_module.load(), anthropic_api_key="")
    )
    assert narrative.text.strip() and narrative.source == "offline"


def test_a_local_fake_server_at_anthropic_base_url_is_used(ai_settings, monkeypatch):
    """No injected transport: the SDK's own HTTP client talks to a server on localhost."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from fake_anthropic import message

    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            seen.append(self.path)
            self.rfile.read(int(self.headers["content-length"]))
            block = {"type": "tool_use", "id": "toolu_9", "name": "write_narrative", "input": GOOD}
            body = json.dumps(message([block])).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", f"http://127.0.0.1:{server.server_port}")
        narrative = _write(ai_settings)
    finally:
        server.shutdown()
        server.server_close()
    assert seen == ["/v1/messages"] and narrative.source == "claude"


def test_default_model_is_one_the_sdk_knows_and_does_not_deprecate(monkeypatch):
    import typing

    from anthropic.resources.messages.messages import DEPRECATED_MODELS
    from anthropic.types.model_param import ModelParam

    monkeypatch.delenv("JOBMETRICS_AI_MODEL", raising=False)
    model = settings_module.load().ai_model
    known = typing.get_args(typing.get_args(ModelParam)[0])
    assert model in known and model not in DEPRECATED_MODELS


def test_unexpected_client_failure_still_gives_a_block(ai_settings):
    def explode(request):
        raise RuntimeError("transport bug")

    with FakeApi([explode]).install():
        narrative = _write(ai_settings)
    assert narrative.source == "offline" and narrative.text.strip()


def test_changed_figures_miss_the_cache(ai_settings):
    with FakeApi([tool_reply("write_narrative", GOOD)]).install():
        _write(ai_settings)
    changed = [dict(row) for row in MOVEMENTS]
    changed[-1]["ending_mrr"] = Decimal("12345.68")  # one cent
    api = FakeApi([tool_reply("write_narrative", GOOD)])
    with api.install():
        narrative = narratives.write_narrative(
            "Monthly MRR movements", {"movements": changed}, settings=ai_settings
        )
    assert len(api.requests) == 1 and narrative.source == "claude"


def test_facts_hold_changes_movers_breakdowns_and_alerts():
    by_channel = [
        {"month": date(2025, 9, 1), "channel": "paid_search", "spend_usd": Decimal("500.00")},
        {"month": date(2025, 10, 1), "channel": "paid_search", "spend_usd": Decimal("650.00")},
        {"month": date(2025, 10, 1), "channel": "organic", "spend_usd": Decimal("0.00")},
    ]
    alerts = [{"metric": "signups", "severity": "critical", "message": "Signups fell 41%"}]
    results = {"movements": MOVEMENTS, "by_channel": by_channel, "alerts": alerts}
    facts = build_facts("Growth", results, Registry())
    movements, channels, _ = facts["results"]
    mrr = next(f for f in movements["figures"] if f["metric"] == "ending_mrr")
    assert (mrr["value"], mrr["previous"], mrr["change"]) == (12345.67, 12000, 345.67)
    assert mrr["change_pct"] == pytest.approx(0.028806) and mrr["format"] == "usd"
    assert movements["period"] == "2025-10-01" and movements["previous_period"] == "2025-09-01"
    assert [item["key"]["channel"] for item in channels["items"]] == ["paid_search", "organic"]
    assert channels["items"][0]["figures"][0]["change_pct"] == pytest.approx(0.3)
    assert facts["top_movers"][0]["metric"] == "spend_usd"
    assert facts["open_alerts"] == alerts
    assert build_facts("Growth", results, Registry()) == facts  # deterministic
