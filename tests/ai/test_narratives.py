"""Narratives through the real SDK against recorded-shape fake API replies (no network)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import httpx2
import pytest
from fake_anthropic import FakeApi, error_reply, text_reply, timeout, tool_reply
from number_trace import check

from jobmetrics.ai import narratives
from jobmetrics.ai.facts import build_facts
from jobmetrics.ai.offline import offline_summary
from jobmetrics.ai.registry import Metric, Registry
from jobmetrics.core import settings as settings_module

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

# The facts of RESULTS, as the model sees them (ids in payload order): p1 Oct 2025, p2 Sep 2025;
# f1 ending MRR $12,345.67, f2 its previous $12,000.00, f3 change $345.67, f4 change 2.9%;
# f5 new customers 52, f6 previous 44, f7 change 8, f8 change 18.2%;
# f9 logo churn 5.2%, f10 previous 4.8%, f11 change 0.4 pts, f12 change 9.0%.
GOOD = {
    "summary": "MRR reached {{f1}} in {{p1}}, up {{f4}} on September, with {{f5}} new customers.",
    "drivers": ["Likely stronger acquisition: new customers rose from {{f6}} to {{f5}}."],
    "actions": ["Watch logo churn, which rose {{f11}} to {{f9}}."],
}
GOOD_TEXT = "MRR reached $12,345.67 in Oct 2025, up 2.9% on September, with 52 new customers."
INVENTED = {
    "summary": "MRR reached {{f1}}, and we expect $15,000 by year end.",
    "drivers": ["Likely a jump in trials."],
    "actions": ["Keep going."],
}
REGISTRY = Registry(
    {
        "logo_churn_rate": Metric(
            name="logo_churn_rate",
            label="Logo churn rate",
            description="",
            type="ratio",
            format="pct1",
            down_is_good=True,
            grain="month",
            mart_column="fct_mrr_monthly.logo_churn_rate",
            definition="",
        )
    }
)


def _narrator(settings, api=None, *, refresh: bool = False) -> narratives.Narrator:
    factory = api.factory if api is not None else None
    narrator = narratives.Narrator(settings, refresh=refresh, http_client_factory=factory)
    narrator.registry = REGISTRY
    return narrator


def _write(settings, api=None, *, refresh: bool = False, narrator=None) -> narratives.Narrative:
    narrator = narrator or _narrator(settings, api, refresh=refresh)
    return narrator.write("Monthly MRR movements", RESULTS)


def _offline() -> str:
    return offline_summary(build_facts("Monthly MRR movements", RESULTS, REGISTRY))


def test_good_narrative_is_written_from_the_data_and_says_what_was_checked(ai_settings):
    api = FakeApi([tool_reply("write_narrative", GOOD)])
    narrator = _narrator(ai_settings, api)
    narrative = _write(ai_settings, narrator=narrator)
    assert narrative.source == "claude"
    assert narrative.text.splitlines()[0] == GOOD_TEXT
    assert "- Likely stronger acquisition: new customers rose from 44 to 52." in narrative.text
    assert "- Watch logo churn, which rose 0.4 pts to 5.2%." in narrative.text
    # f1 f4 f5 f6 f11 f9 and p1; "up", "rose", "rose"; "MRR" and "new customers" twice
    # (logo churn is in the clause before the one with its figure); "September" for f4
    assert narrative.label == (
        "Claude narrative — 6 figures and 1 period written from the data; 3 change words, "
        "3 metric names, 1 month checked against them"
    )
    request = api.requests[0]
    assert request["model"] == "claude-sonnet-5-5"
    assert request["tool_choice"] == {"type": "tool", "name": "write_narrative"}
    assert "NEVER type a number" in request["system"][0]["text"]
    assert request["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert request["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    facts = request["messages"][0]["content"]
    assert '"id":"f1","kind":"value","shows":"$12,345.67","label":"Ending MRR"' in facts
    summary = narrator.summary()
    assert (summary.usage.calls, summary.usage.prompt_tokens) == (1, 1200)
    assert summary.usage.cost_usd(ai_settings) == pytest.approx((1200 * 3.0 + 180 * 15.0) / 1e6)
    assert "1 claude" in summary.line()


def test_rebuild_with_same_figures_uses_the_cache_and_makes_no_call(ai_settings):
    first = _write(ai_settings, FakeApi([tool_reply("write_narrative", GOOD)]))
    silent = FakeApi([error_reply(500, "api_error", "must not be called")])
    second = _write(ai_settings, silent)
    assert second.source == "cache" and second.text == first.text
    assert silent.requests == []
    assert (ai_settings.data_dir / narratives.CACHE_FILE).exists()


def test_refresh_narratives_bypasses_the_cache(ai_settings):
    _write(ai_settings, FakeApi([tool_reply("write_narrative", GOOD)]))
    again = FakeApi([tool_reply("write_narrative", GOOD)])
    refreshed = _write(ai_settings, again, refresh=True)
    assert refreshed.source == "claude" and len(again.requests) == 1


def test_typed_figure_is_retried_once_naming_it_then_withheld(ai_settings):
    api = FakeApi(
        [tool_reply("write_narrative", INVENTED), tool_reply("write_narrative", INVENTED)]
    )
    narrative = _write(ai_settings, api)
    assert len(api.requests) == 2
    retry_turn = api.requests[1]["messages"][-1]["content"][0]
    assert retry_turn["type"] == "tool_result"
    assert "typed figures itself: 1 5 0" in retry_turn["content"]
    assert narrative.source == "withheld"
    assert narrative.label == (
        "Claude narrative withheld (a figure typed by the model) — automatic summary shown"
    )
    assert narrative.text == _offline() and narrative.detail == "a figure typed by the model"


def test_invented_number_fixed_on_retry_is_shown(ai_settings):
    api = FakeApi([tool_reply("write_narrative", INVENTED), tool_reply("write_narrative", GOOD)])
    narrative = _write(ai_settings, api)
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
    narrative = _write(ai_settings, api)
    assert narrative.source == "claude" and len(api.requests) == 2


def test_server_error_gives_the_labelled_offline_summary(ai_settings):
    api = FakeApi([error_reply(500, "api_error", "Internal server error")])
    narrator = _narrator(ai_settings, api)
    narrative = _write(ai_settings, narrator=narrator)
    assert narrative.source == "offline"
    assert narrative.label == "Automatic summary — Claude unavailable (HTTP 500 from the API)"
    assert narrative.text == _offline()
    assert len(api.requests) == 1 + ai_settings.ai_max_retries
    assert narrator.summary().usage.failed_calls == 1


def test_timeout_gives_the_offline_summary(ai_settings):
    api = FakeApi([timeout])
    narrative = _write(replace(ai_settings, ai_max_retries=0), api)
    assert narrative.source == "offline" and "timed out" in narrative.label, narrative.label
    assert narrative.text.strip()


@pytest.mark.parametrize(
    "reply",
    [
        text_reply("Here is a summary without the tool."),
        tool_reply("write_narrative", {"summary": "", "drivers": [], "actions": []}),
        tool_reply(
            "write_narrative", {"summary": "MRR is {{f1}}.", "drivers": "x", "actions": ["a"]}
        ),
        httpx2.Response(200, text="<html>bad gateway page</html>"),
    ],
    ids=["no-tool-call", "empty-fields", "wrong-types", "not-json"],
)
def test_malformed_reply_gives_the_offline_summary(ai_settings, reply):
    narrative = _write(ai_settings, FakeApi([reply]))
    assert narrative.source == "offline" and narrative.text.strip()


def test_no_key_gives_the_offline_summary_without_any_request(ai_settings):
    api = FakeApi([error_reply(500, "api_error", "must not be called")])
    narrative = _write(replace(ai_settings, anthropic_api_key=""), api)
    assert api.requests == []
    assert narrative.source == "offline" and "ANTHROPIC_API_KEY" in narrative.label


def test_base_url_setting_is_honoured(ai_settings, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://fake-claude.local:8080")
    api = FakeApi([tool_reply("write_narrative", GOOD)])
    _write(ai_settings, api)
    assert api.urls[0] == "http://fake-claude.local:8080/v1/messages"


def test_offline_summary_is_deterministic_and_grounded():
    facts = build_facts("Monthly MRR movements", RESULTS, Registry())
    text = offline_summary(facts)
    assert text == offline_summary(build_facts("Monthly MRR movements", RESULTS, Registry()))
    assert "$12,345.67" in text and "up 2.9%" in text and "5.2%" in text
    assert check(text, facts).ok


def test_empty_results_still_give_a_block():
    narrator = narratives.Narrator(replace(settings_module.load(), anthropic_api_key=""))
    narrative = narrator.write("Nothing", {"movements": []})
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

    narrative = _write(ai_settings, FakeApi([explode]))
    assert narrative.source == "offline" and narrative.text.strip()


def test_changed_figures_miss_the_cache(ai_settings):
    _write(ai_settings, FakeApi([tool_reply("write_narrative", GOOD)]))
    changed = [dict(row) for row in MOVEMENTS]
    changed[-1]["ending_mrr"] = Decimal("12345.68")  # one cent
    api = FakeApi([tool_reply("write_narrative", GOOD)])
    narrative = _narrator(ai_settings, api).write("Monthly MRR movements", {"movements": changed})
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


def test_a_filtered_view_never_calls_and_reuses_a_narrative_of_the_same_facts(ai_settings):
    """A page's other views (inputs) write with ai=False: the same facts as the unfiltered view
    get its checked narrative from the cache, other facts the labelled automatic summary."""
    silent = FakeApi([error_reply(500, "api_error", "must not be called")])
    narrator = _narrator(ai_settings, silent)
    changed = [dict(row) for row in MOVEMENTS]
    changed[-1]["ending_mrr"] = Decimal("99.00")
    before = narrator.write("Monthly MRR movements", RESULTS, ai=False)
    assert before.source == "filtered" and "filtered view" in before.label
    _write(ai_settings, FakeApi([tool_reply("write_narrative", GOOD)]))
    narrator = _narrator(ai_settings, silent)
    same = narrator.write("Monthly MRR movements", RESULTS, ai=False)
    other = narrator.write("Monthly MRR movements", {"movements": changed}, ai=False)
    assert same.source == "cache" and same.text.startswith(GOOD_TEXT)
    assert other.source == "filtered" and "$99.00" in other.text
    assert silent.requests == []
