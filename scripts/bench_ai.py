"""Benchmark the narrative build against local stand-ins for the Messages API.

    .venv/bin/python scripts/bench_ai.py            # needs a built warehouse (make run)
    .venv/bin/python scripts/bench_ai.py --budget 20  # the AI budget of the dead-endpoint runs

Runs `jobmetrics report --json` on a copy of the warehouse (so the real narrative cache is left
alone) with ANTHROPIC_BASE_URL pointed at a server on 127.0.0.1 that:
- never answers (accepts the connection and reads the request, then nothing);
- trickles one byte every 2 s (every read succeeds, so per-read timeouts never fire);
- answers like the API, as a fake model writing from the facts it is sent (figures only by
  reference). It reports usage the way the API does, prompt caching included: a cached prefix
  (system prompt and tools, marked with cache_control) of at least MIN_CACHEABLE_TOKENS is written
  on first use and read afterwards; tokens are estimated as characters / 4.
and, with the healthy one, a rebuild (narrative cache) and a --refresh-narratives rebuild (every
call made again: prompt-cache reads), then two `jobmetrics ask` questions (the ~13k-token schema
prompt cached). Prints one table: wall seconds, narratives by source, calls, tokens and cost.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from jobmetrics.core import settings as settings_module  # noqa: E402

MIN_CACHEABLE_TOKENS = 1024
"""The Messages API caches a prefix of at least this many tokens (Sonnet models)."""
TRICKLE_EVERY_S = 2.0


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _narrative(facts: list[dict[str, Any]]) -> dict[str, Any]:
    """A narrative from the facts, every figure by reference (what a compliant model writes)."""
    values = [fact for fact in facts if fact.get("kind") == "value" and fact.get("label")]
    if not values:
        return {"summary": "The page has no headline figure.", "drivers": [], "actions": ["Act."]}
    lead = values[0]
    sentence = f"{lead['label']} was {{{{{lead['id']}}}}}"
    change = next(
        (f for f in facts if f.get("kind") == "change_pct" and f.get("label") == lead["label"]),
        None,
    )
    if change is not None and change.get("direction") in ("up", "down"):
        sentence += f", {change['direction']} {{{{{change['id']}}}}}"
    return {
        "summary": sentence + ".",
        "drivers": [],
        "actions": ["Review the figures on this page with the team."],
    }


def _answer(request: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """`ask`: a query first, then an answer by cell reference."""
    last = request["messages"][-1]["content"]
    if isinstance(last, list) and last and last[0].get("type") == "tool_result":
        return "answer", {"answer": "MRR was {{r1.ending_mrr}} in {{r1.month}}."}
    sql = (
        "select month, ending_mrr from fct_mrr_monthly where is_complete_month "
        "order by month desc limit 3"
    )
    return "run_sql", {"sql": sql, "explanation": "MRR of the last complete months."}


class FakeModel:
    """Replies like the Messages API; remembers cached prefixes like its prompt cache."""

    def __init__(self) -> None:
        self.prefixes: set[str] = set()
        self.lock = threading.Lock()

    def reply(self, request: dict[str, Any]) -> dict[str, Any]:
        tool_names = [tool["name"] for tool in request.get("tools", [])]
        if "write_narrative" in tool_names:
            text = request["messages"][0]["content"]
            facts = json.loads(text.split("Facts (JSON):\n", 1)[1])
            name, tool_input = "write_narrative", _narrative(facts)
        else:
            name, tool_input = _answer(request)
        prefix = json.dumps([request.get("system"), request.get("tools")], sort_keys=True)
        prefix_tokens = _tokens(prefix)
        rest_tokens = _tokens(json.dumps(request["messages"]))
        usage = {"input_tokens": rest_tokens, "output_tokens": _tokens(json.dumps(tool_input))}
        usage["cache_creation_input_tokens"] = usage["cache_read_input_tokens"] = 0
        if prefix_tokens >= MIN_CACHEABLE_TOKENS:
            key = hashlib.sha256(prefix.encode()).hexdigest()
            with self.lock:
                hit = key in self.prefixes
                self.prefixes.add(key)
            usage["cache_read_input_tokens" if hit else "cache_creation_input_tokens"] = (
                prefix_tokens
            )
        else:
            usage["input_tokens"] += prefix_tokens
        block = {"type": "tool_use", "id": "toolu_bench", "name": name, "input": tool_input}
        return {
            "id": "msg_bench",
            "type": "message",
            "role": "assistant",
            "model": request.get("model"),
            "content": [block],
            "stop_reason": "tool_use",
            "stop_sequence": None,
            "usage": usage,
        }


def serve(kind: str, model: FakeModel) -> ThreadingHTTPServer:
    """A server on 127.0.0.1 that hangs, trickles or answers; stopped with .shutdown()."""
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            if kind == "hang":
                stop.wait()
                return
            if kind == "trickle":
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", "100000")
                self.end_headers()
                while not stop.wait(TRICKLE_EVERY_S):
                    try:
                        self.wfile.write(b" ")
                        self.wfile.flush()
                    except OSError:
                        return
                return
            payload = json.dumps(model.reply(json.loads(body))).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    original = server.shutdown

    def shutdown() -> None:
        stop.set()
        original()
        server.server_close()

    server.shutdown = shutdown  # type: ignore[method-assign]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run(args: list[str], env: dict[str, str]) -> tuple[float, dict[str, Any]]:
    """Run the jobmetrics CLI with --json; (wall seconds, its JSON)."""
    started = time.perf_counter()
    done = subprocess.run(
        [str(PROJECT_ROOT / ".venv" / "bin" / "jobmetrics"), *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"error: jobmetrics {' '.join(args)} failed: {done.stderr.strip()}")
    return elapsed, json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--budget",
        type=float,
        default=None,
        help="JOBMETRICS_AI_BUDGET_S for the runs against dead endpoints (default: as configured)",
    )
    parser.add_argument("--out", type=Path, default=None, help="also write the rows as JSON")
    options = parser.parse_args()
    settings = settings_module.load()
    if not settings.warehouse.is_file():
        print(f"error: no warehouse at {settings.warehouse}; run `make run` first", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="jobmetrics-bench-ai-"))
    model = FakeModel()
    rows: list[dict[str, Any]] = []
    try:
        shutil.copy2(settings.warehouse, work / "jobmetrics.duckdb")
        base_env = {
            **os.environ,
            "JOBMETRICS_WAREHOUSE": str(work / "jobmetrics.duckdb"),
            "JOBMETRICS_SITE_DIR": str(work / "site"),
            "ANTHROPIC_API_KEY": "sk-ant-bench",
        }
        budget = settings_module.load().ai_budget_s if options.budget is None else options.budget
        offline_env = {**base_env, "ANTHROPIC_API_KEY": ""}
        dead_env = {**base_env, "JOBMETRICS_AI_BUDGET_S": str(budget)}
        scenarios = [
            ("no API key (offline)", "healthy", ["report"], offline_env),
            ("endpoint never answers", "hang", ["report"], dead_env),
            ("endpoint trickles 1 byte / 2 s", "trickle", ["report"], dead_env),
            ("healthy, first build", "healthy", ["report"], None),
            ("healthy, rebuild (narrative cache)", "healthy", ["report"], None),
            ("healthy, --refresh-narratives", "healthy", ["report", "--refresh-narratives"], None),
            ("ask, first question", "healthy", ["ask", "What was MRR last month?"], None),
            ("ask, second question", "healthy", ["ask", "And the month before?"], None),
        ]
        for name, kind, args, env in scenarios:
            server = serve(kind, model)
            try:
                url = f"http://127.0.0.1:{server.server_port}"
                seconds, payload = run(args, {**(env or base_env), "ANTHROPIC_BASE_URL": url})
            finally:
                server.shutdown()
            usage = payload.get("narratives") or payload.get("usage") or {}
            rows.append({"scenario": name, "seconds": round(seconds, 1), **usage})
            print(f"  {name}: {seconds:.1f} s", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _print(rows, budget)
    if options.out:
        options.out.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


def _print(rows: list[dict[str, Any]], budget: float) -> None:
    header = (
        f"{'scenario':36} {'wall s':>7}  {'narratives':30} {'calls':>5} {'failed':>6} {'input':>7} "
        f"{'cache w':>7} {'cache r':>7} {'output':>6} {'cost $':>8} {'no cache $':>10}"
    )
    print(
        "\nNarrative build and ask against local API stand-ins "
        f"(AI budget {budget:g} s with the dead endpoints)"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        counts = row.get("narratives") or {}
        shown = ", ".join(f"{n} {source}" for source, n in counts.items() if n) or "-"
        hits = counts.get("cache", 0)
        total = sum(counts.values())
        if hits and total:
            shown += f" ({hits / total:.0%} hit)"
        print(
            f"{row['scenario']:36} {row['seconds']:>7.1f}  {shown:30} {row.get('calls', 0):>5} "
            f"{row.get('failed_calls', 0):>6} "
            f"{row.get('input_tokens', 0):>7,} {row.get('cache_write_tokens', 0):>7,} "
            f"{row.get('cache_read_tokens', 0):>7,} {row.get('output_tokens', 0):>6,} "
            f"{row.get('cost_usd', 0):>8.4f} {row.get('cost_without_cache_usd', 0):>10.4f}"
        )


if __name__ == "__main__":
    sys.exit(main())
