"""Hand-edited reference data shared with the warehouse: the dbt seeds plans and channels."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from jobmetrics.generator.errors import GeneratorError

SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds"
BILLING_CYCLES = ("monthly", "annual")
MONTHS_PER_PERIOD = {"monthly": 1, "annual": 12}
MODELLED_PLANS = 3  # generator.assumptions has per-plan behaviour for three ranks
MAX_CHANNELS = 100  # channel codes are packed into 7 bits while sessions are sorted


@dataclass(frozen=True)
class PlanCatalogue:
    """Plans ordered by rank; list prices in cents per billing period, by [plan][cycle]."""

    plans: tuple[str, ...]
    list_price_cents: tuple[tuple[int, int], ...]

    def price_cents(self, plan_index: int, cycle_index: int) -> int:
        return self.list_price_cents[plan_index][cycle_index]


@dataclass(frozen=True)
class Channels:
    """Acquisition channels in seed order, with their paid flag."""

    names: tuple[str, ...]
    is_paid: tuple[bool, ...]


def _read_csv(name: str, seeds_dir: Path | None) -> list[dict[str, str]]:
    path = (seeds_dir or SEEDS_DIR) / name
    try:
        with path.open(newline="") as handle:
            return list(csv.DictReader(handle))
    except OSError as error:
        raise GeneratorError(f"cannot read the seed {path}: {error.strerror}") from error


def load_plans(seeds_dir: Path | None = None) -> PlanCatalogue:
    """The plan catalogue of seeds/plans.csv; every plan needs a monthly and an annual price."""
    rows = _read_csv("plans.csv", seeds_dir)
    ranks: dict[str, int] = {}
    prices: dict[tuple[str, str], int] = {}
    for row in rows:
        ranks[row["plan"]] = int(row["plan_rank"])
        cents = Decimal(row["list_price_usd"]) * 100
        prices[(row["plan"], row["billing_cycle"])] = int(cents)
    plans = tuple(sorted(ranks, key=ranks.__getitem__))
    missing = [f"{p}/{c}" for p in plans for c in BILLING_CYCLES if (p, c) not in prices]
    if missing:
        raise GeneratorError(f"seeds/plans.csv has no price for {', '.join(missing)}")
    if len(plans) != MODELLED_PLANS:
        raise GeneratorError(
            f"seeds/plans.csv lists {len(plans)} plans; the generator models {MODELLED_PLANS} "
            "(ranks 1 to 3): edit prices freely, but add a plan in "
            "jobmetrics/generator/assumptions.py too"
        )
    table = tuple(tuple(prices[(p, c)] for c in BILLING_CYCLES) for p in plans)
    return PlanCatalogue(plans=plans, list_price_cents=table)


def load_channels(seeds_dir: Path | None = None) -> Channels:
    """The channel list of seeds/channels.csv."""
    rows = _read_csv("channels.csv", seeds_dir)
    names = tuple(row["channel"] for row in rows)
    paid = tuple(row["is_paid"].strip().lower() in {"true", "1", "yes"} for row in rows)
    if not names or len(names) > MAX_CHANNELS:
        raise GeneratorError(f"seeds/channels.csv must list 1 to {MAX_CHANNELS} channels")
    return Channels(names=names, is_paid=paid)
