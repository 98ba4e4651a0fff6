"""The AI layer: metric registry, grounded Claude narratives, `ask` and `explain`.

Modules: registry (metrics from the dbt manifest), facts (the deterministic payload), grounding
(every number checked against the facts), offline (rule-based summary), client (the Anthropic
SDK client and token accounting), narratives (report blocks), sql_guard and ask (questions).
"""
