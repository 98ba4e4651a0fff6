"""The AI layer: metric registry, Claude narratives with figures written from the data, `ask`
and `explain`.

Modules: registry (metrics from the dbt manifest), facts (the deterministic payload), claims
(facts by id; typed figures, change words, metric names and months checked), sanitize (what a
reply may contain), offline (rule-based summary), client (the Anthropic SDK client, one bounded
Session per run), narratives (report blocks), sql_guard and ask (questions).
"""
