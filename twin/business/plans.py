"""Business plans, declared in :file:`plans.toml` (or ``TWIN_BUSINESS_PLANS``): per plan its
daily and monthly quota in units, the most candidate rows a batch may send, and which
analyses it unlocks; per analysis its weight in units.

Declared as data rather than code so that an operator changes prices and quotas without a
release, as :mod:`layers` declares the city's layers; the file is checked when it is read
(unknown analyses, non-positive quotas, a plan without a title) so a typo stops the server
at start rather than billing wrongly.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from twin.core.errors import BadInput

PLANS_FILE = Path(__file__).with_name("plans.toml")
#: every analysis a plan may name (the metered routes)
ANALYSES = ("site", "niches", "catchments", "report", "batch", "custom", "dynamics", "footfall")


@dataclass(frozen=True)
class Plan:
    """One plan: its quotas in units and what it unlocks."""

    name: str
    title: dict[str, str]
    day: int
    month: int
    batch_rows: int
    analyses: tuple[str, ...]

    def summary(self, weights: dict[str, int]) -> dict[str, object]:
        """Return the plan as the API shows it."""
        return {
            "name": self.name,
            "title": self.title,
            "day": self.day,
            "month": self.month,
            "batch_rows": self.batch_rows,
            "analyses": {a: weights[a] for a in self.analyses},
        }


@dataclass(frozen=True)
class Plans:
    """Every plan and the weight of every analysis."""

    plans: dict[str, Plan]
    weights: dict[str, int]

    def get(self, name: str) -> Plan:
        """Return plan ``name``, or raise :class:`BadInput` naming the plans there are."""
        try:
            return self.plans[name]
        except KeyError:
            raise BadInput(
                f"unknown plan {name!r}; the plans are {', '.join(self.plans)}"
            ) from None

    def unlocking(self, analysis: str) -> list[str]:
        """Return the plans that include ``analysis``."""
        return [p.name for p in self.plans.values() if analysis in p.analyses]


def load_plans(path: str | Path | None = None) -> Plans:
    """Read and check the plans file (the bundled one by default)."""
    source = Path(path) if path else PLANS_FILE
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BadInput(f"plans file {source}: {exc}") from exc
    weights = {str(k): int(v) for k, v in data.get("weights", {}).items()}
    missing = [a for a in ANALYSES if a not in weights]
    unknown = [a for a in weights if a not in ANALYSES]
    if missing or unknown or any(w < 1 for w in weights.values()):
        raise BadInput(
            f"plans file {source}: [weights] must give each of {', '.join(ANALYSES)} a "
            f"weight >= 1 (missing: {missing}, unknown: {unknown})"
        )
    plans: dict[str, Plan] = {}
    for name, spec in data.get("plans", {}).items():
        try:
            plan = Plan(
                name=name,
                title={str(k): str(v) for k, v in spec["title"].items()},
                day=int(spec["day"]),
                month=int(spec["month"]),
                batch_rows=int(spec["batch_rows"]),
                analyses=tuple(str(a) for a in spec["analyses"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BadInput(f"plans file {source}: plan {name!r}: {exc!r}") from exc
        bad = [a for a in plan.analyses if a not in ANALYSES]
        if bad or min(plan.day, plan.month, plan.batch_rows) < 1 or plan.day > plan.month:
            raise BadInput(
                f"plans file {source}: plan {name!r} needs day <= month, quotas >= 1 and "
                f"known analyses (unknown: {bad})"
            )
        plans[name] = plan
    if "free" not in plans:
        raise BadInput(f"plans file {source}: a 'free' plan (a new organisation's) is needed")
    return Plans(plans, weights)
