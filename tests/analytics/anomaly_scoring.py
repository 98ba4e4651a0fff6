"""Score the warehouse's anomaly flags against the generator's ground truth (the manifest)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb


@dataclass
class DetectionScore:
    """Recall on the injected anomalies and the false alerts around them."""

    injected: list[tuple[str, date, str]]
    detected: list[tuple[str, date, str]]
    missed: list[tuple[str, date, str]]
    false_alerts: dict[str, list[date]] = field(default_factory=dict)
    scored_days: dict[str, int] = field(default_factory=dict)
    true_alerts: int = 0

    @property
    def recall(self) -> float:
        return len(self.detected) / len(self.injected) if self.injected else 1.0

    @property
    def precision(self) -> float:
        flagged = self.true_alerts + sum(len(days) for days in self.false_alerts.values())
        return self.true_alerts / flagged if flagged else 1.0

    def false_alerts_per_30_days(self, metric: str) -> float:
        days = self.scored_days.get(metric, 0)
        return 30 * len(self.false_alerts.get(metric, [])) / days if days else 0.0

    def summary(self) -> str:
        worst = max(self.scored_days, key=self.false_alerts_per_30_days, default="-")
        return (
            f"recall {self.recall:.0%} ({len(self.detected)}/{len(self.injected)}), "
            f"precision {self.precision:.0%}, "
            f"false alerts {sum(len(d) for d in self.false_alerts.values())} in total, "
            f"worst metric {worst} at {self.false_alerts_per_30_days(worst):.2f} per 30 days"
        )


def _explained(manifest: dict) -> set[tuple[str, date]]:
    """(metric, day) pairs an injected anomaly moves: its metric and the metrics it also affects.

    A drop in one channel's signups also moves total signups the same day.
    """
    pairs: set[tuple[str, date]] = set()
    for anomaly in manifest["anomalies"]:
        day = date.fromisoformat(anomaly["date"])
        pairs.add((anomaly["metric"], day))
        for metric in anomaly.get("also_affects") or []:
            pairs.add((metric, day))
        if anomaly["metric"].startswith("signups__"):
            pairs.add(("signups", day))
    return pairs


def score_detection(warehouse: Path, manifest: dict) -> DetectionScore:
    """Compare fct_metric_anomalies of a built warehouse with the manifest's anomalies."""
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        flags = connection.execute(
            "select metric, metric_date, direction from fct_metric_anomalies where is_anomaly"
        ).fetchall()
        scored = connection.execute(
            "select metric, count(*) from fct_metric_anomalies "
            "where score is not null group by metric"
        ).fetchall()
    finally:
        connection.close()
    flagged = {(metric, day): direction for metric, day, direction in flags}
    injected = [
        (a["metric"], date.fromisoformat(a["date"]), a["direction"]) for a in manifest["anomalies"]
    ]
    detected = [item for item in injected if flagged.get(item[:2]) == item[2]]
    missed = [item for item in injected if item not in detected]
    explained = _explained(manifest)
    false_alerts: dict[str, list[date]] = {}
    for metric, day in sorted(flagged):
        if (metric, day) not in explained:
            false_alerts.setdefault(metric, []).append(day)
    true_alerts = sum(1 for key in flagged if key in explained)
    return DetectionScore(
        injected=injected,
        detected=detected,
        missed=missed,
        false_alerts=false_alerts,
        scored_days=dict(scored),
        true_alerts=true_alerts,
    )
